// A flow dissector: Ethernet -> IPv4/IPv6 -> TCP/UDP into struct bpf_flow_keys.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} dissected SEC(".maps");

// Direct packet access first (BPF_PROG_TEST_RUN has no skb, so bpf_skb_load_bytes fails there),
// bpf_skb_load_bytes for headers outside the linear data.
static __always_inline void *header(struct __sk_buff *skb, __u16 off, __u16 len, void *buf)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	__u8 *hdr;

	if (off > 0xffff - len)
		return NULL;
	hdr = data + off;
	if ((void *)(hdr + len) <= data_end)
		return hdr;
	if (bpf_skb_load_bytes(skb, off, buf, len))
		return NULL;
	return buf;
}

static __noinline int parse_l4(struct __sk_buff *skb, __u8 proto)
{
	struct bpf_flow_keys *keys = skb->flow_keys;
	keys->ip_proto = proto;
	if (proto == IPPROTO_TCP) {
		struct tcphdr _tcp, *tcp = header(skb, keys->thoff, sizeof(_tcp), &_tcp);
		if (!tcp || tcp->doff < 5)
			return BPF_DROP;
		keys->sport = tcp->source;
		keys->dport = tcp->dest;
		return BPF_OK;
	}
	if (proto == IPPROTO_UDP) {
		struct udphdr _udp, *udp = header(skb, keys->thoff, sizeof(_udp), &_udp);
		if (!udp)
			return BPF_DROP;
		keys->sport = udp->source;
		keys->dport = udp->dest;
		return BPF_OK;
	}
	return BPF_OK;
}

static __noinline int parse_ipv4(struct __sk_buff *skb)
{
	struct bpf_flow_keys *keys = skb->flow_keys;
	struct iphdr _ip, *ip = header(skb, keys->nhoff, sizeof(_ip), &_ip);
	if (!ip || ip->ihl < 5)
		return BPF_DROP;
	keys->addr_proto = ETH_P_IP;
	keys->ipv4_src = ip->saddr;
	keys->ipv4_dst = ip->daddr;
	keys->thoff = keys->nhoff + (ip->ihl << 2);
	if (ip->frag_off & bpf_htons(0x3fff)) {
		keys->is_frag = 1;
		return BPF_OK;
	}
	return parse_l4(skb, ip->protocol);
}

static __noinline int parse_ipv6(struct __sk_buff *skb)
{
	struct bpf_flow_keys *keys = skb->flow_keys;
	struct ipv6hdr _ip6, *ip6 = header(skb, keys->nhoff, sizeof(_ip6), &_ip6);
	if (!ip6)
		return BPF_DROP;
	keys->addr_proto = ETH_P_IPV6;
	__builtin_memcpy(&keys->ipv6_src, &ip6->saddr, 32);
	keys->thoff = keys->nhoff + sizeof(*ip6);
	return parse_l4(skb, ip6->nexthdr);
}

SEC("flow_dissector")
int dissect(struct __sk_buff *skb)
{
	struct bpf_flow_keys *keys = skb->flow_keys;
	__u32 key = 0;
	__u64 *count = bpf_map_lookup_elem(&dissected, &key);
	int ret;

	if (count)
		__sync_fetch_and_add(count, 1);
	if (keys->n_proto == bpf_htons(ETH_P_IP))
		ret = parse_ipv4(skb);
	else if (keys->n_proto == bpf_htons(ETH_P_IPV6))
		ret = parse_ipv6(skb);
	else
		ret = BPF_DROP;
	return ret;
}

char _license[] SEC("license") = "GPL";
