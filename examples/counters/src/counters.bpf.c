// SPDX-License-Identifier: GPL-2.0
/*
 * Counters with a ring buffer: a socket filter on a UDP socket counts every datagram the socket
 * receives (packets and bytes, per CPU: no atomics, no contention) and reports each one as an event
 * (ports, length, the first bytes of the payload) through a BPF ring buffer, which user space reads
 * in order with RingBuffer's async iterator. It accepts every datagram unchanged.
 */
#include <linux/bpf.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define PAYLOAD_LEN 16

enum counter {
	COUNTER_PACKETS = 0,
	COUNTER_BYTES = 1,
	COUNTER_DROPPED_EVENTS = 2, /* ring buffer full */
	COUNTER_MAX = 3,
};

struct event {
	__u16 sport;
	__u16 dport;
	__u32 len; /* UDP length: header and payload */
	char payload[PAYLOAD_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, COUNTER_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

static __always_inline void add(enum counter c, __u64 n)
{
	__u32 key = c;
	__u64 *value = bpf_map_lookup_elem(&counters, &key);
	if (value)
		*value += n;
}

SEC("socket")
int count_datagrams(struct __sk_buff *skb)
{
	struct udphdr udp;
	/* A socket filter on a UDP socket sees the datagram from its UDP header on. */
	if (bpf_skb_load_bytes(skb, 0, &udp, sizeof(udp)))
		return skb->len;
	add(COUNTER_PACKETS, 1);
	add(COUNTER_BYTES, bpf_ntohs(udp.len));

	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		add(COUNTER_DROPPED_EVENTS, 1);
		return skb->len;
	}
	e->sport = bpf_ntohs(udp.source);
	e->dport = bpf_ntohs(udp.dest);
	e->len = bpf_ntohs(udp.len);
	__builtin_memset(e->payload, 0, sizeof(e->payload));
	/* 64-bit arithmetic, so the verifier sees the bounds of the length it is given: 1..16 */
	__u64 n = skb->len;
	if (n > sizeof(udp)) {
		n -= sizeof(udp);
		if (n > PAYLOAD_LEN)
			n = PAYLOAD_LEN;
		bpf_skb_load_bytes(skb, sizeof(udp), e->payload, n);
	}
	bpf_ringbuf_submit(e, 0);
	return skb->len;
}

char _license[] SEC("license") = "GPL";
