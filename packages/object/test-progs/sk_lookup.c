#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} sockets SEC(".maps");

__u64 hits = 0;

SEC("sk_lookup")
int dispatch(struct bpf_sk_lookup *ctx)
{
	__u32 port = ctx->local_port;
	struct bpf_sock *sk = bpf_map_lookup_elem(&sockets, &port);
	if (!sk)
		return SK_PASS;
	long err = bpf_sk_assign(ctx, sk, 0);
	bpf_sk_release(sk);
	if (!err)
		__sync_fetch_and_add(&hits, 1);
	return err ? SK_DROP : SK_PASS;
}

char _license[] SEC("license") = "GPL";
