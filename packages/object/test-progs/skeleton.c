// Types for bpfjs gen skeleton: structs (nested, anonymous members, bit-fields), unions, enums,
// char arrays, per-CPU values, an fd-valued map and global data of every section.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

enum color { RED = 0, GREEN = 1, BLUE = 7 };
enum big { BIG_ONE = 1, BIG_HUGE = 0x100000000ULL };

struct addr {
	__u32 ip;
	__u16 port;
	__u8 proto;
	_Bool up;
};

struct flow {
	struct addr src;
	struct addr dst;
	__u64 bytes;
	__s16 delta;
	enum color color;
	char label[16];
	__u32 hist[4];
	union {
		__u32 as_u32;
		__u8 as_bytes[4];
	};
	__u32 flags : 3, kind : 5, : 0;
	union tagged {
		__u64 n;
		__u32 half[2];
	} tag;
	enum big big;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, struct addr);
	__type(value, struct flow);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} per_cpu SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, char[8]);
} names SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, 4);
	__type(key, __u16);
	__type(value, __u64);
} socks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

volatile const __u32 threshold = 10;
volatile const enum color default_color = GREEN;
__u64 packets = 0;
struct addr last = {};
char greeting[8] = "hi";

SEC("socket")
int count(struct __sk_buff *skb)
{
	__u32 k = 0;
	__u64 *n = bpf_map_lookup_elem(&per_cpu, &k);
	if (n)
		*n += 1;
	if (skb->len > threshold)
		__sync_fetch_and_add(&packets, 1);
	last.port = default_color;
	struct addr a = { .ip = skb->len };
	struct flow *f = bpf_map_lookup_elem(&flows, &a);
	if (f)
		f->bytes += skb->len;
	return 0;
}

char _license[] SEC("license") = "GPL";
