// Global data, subprograms, callbacks (bpf_loop), a pinned-by-name map, map-in-map and a prog array.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} inner_a SEC(".maps"), inner_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct inner);
} outer SEC(".maps") = {
	.values = { [0] = &inner_a, [1] = &inner_b },
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} shared_counts SEC(".maps");

int tail_target(struct __sk_buff *skb);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, int(void *));
} jump SEC(".maps") = {
	.values = { [1] = (void *)&tail_target },
};

const volatile __u32 multiplier = 3;
const volatile char banner[8] = "bpfjs";
__u64 counter = 7;
__u64 zeroed;
static __u64 hidden_total;
__u32 table[4] SEC(".data.table") = { 1, 2, 3, 4 };

static __noinline __u64 scale(__u64 v)
{
	return v * multiplier + banner[0];
}

__noinline __u64 add_table(__u32 i)
{
	if (i >= 4)
		return 0;
	return table[i] + scale(i);
}

static long loop_body(__u32 index, void *ctx)
{
	__u64 *sum = ctx;
	*sum += add_table(index & 3);
	return 0;
}

SEC("socket")
int sum_loop(struct __sk_buff *skb)
{
	__u64 sum = 0;
	__u32 key = skb->len;
	bpf_loop(8, loop_body, &sum, 0);
	__sync_fetch_and_add(&counter, sum);
	zeroed = sum;
	hidden_total += sum;
	bpf_map_update_elem(&shared_counts, &key, &sum, BPF_ANY);
	return 0;
}

SEC("socket")
int lookup_inner(struct __sk_buff *skb)
{
	__u32 zero = 0, one = 1;
	void *m = bpf_map_lookup_elem(&outer, &one);
	if (!m)
		return 0;
	__u64 *v = bpf_map_lookup_elem(m, &zero);
	if (v)
		*v += scale(skb->len);
	bpf_tail_call(skb, &jump, 1);
	return 1;
}

SEC("socket")
int tail_target(struct __sk_buff *skb)
{
	return add_table(skb->len & 3) > 10;
}

char _license[] SEC("license") = "GPL";
