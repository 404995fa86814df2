// SPDX-License-Identifier: GPL-2.0
/*
 * Port steering with sk_lookup, in the style of Cloudflare's tubular: a connection (TCP) or
 * datagram (UDP) to a bound (protocol, port) goes to the socket registered for that binding's
 * label, whatever address or port that socket itself is bound to.
 *
 *   bindings:  LPM trie (protocol, port prefix) -> label    a port range is a few prefixes
 *   sockets:   SOCKHASH  label -> socket                     registered by the service
 *   metrics:   per-CPU counters (steered, no socket, refused by the socket)
 *
 * The three maps are pinned by name, so a new program (an upgrade) or a new process (a restart)
 * loaded with the same pin directory shares them: bindings and registered sockets survive both.
 */
#include <linux/bpf.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define LABEL_LEN 16

struct label {
	char name[LABEL_LEN];
};

/* LPM key: the first prefixlen bits of (protocol, pad, port) must match. A binding of one
 * protocol and port has prefixlen 32; a range is covered by shorter prefixes of the port. */
struct binding {
	__u32 prefixlen;
	__u8 protocol; /* IPPROTO_TCP or IPPROTO_UDP */
	__u8 pad;      /* always 0 */
	__be16 port;   /* network byte order: the trie matches from the most significant bit */
};

enum metric {
	METRIC_STEERED = 0,
	METRIC_NO_SOCKET = 1,
	METRIC_ASSIGN_FAILED = 2,
	METRIC_MAX = 3,
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 4096);
	__type(key, struct binding);
	__type(value, struct label);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bindings SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, 256);
	__type(key, struct label);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sockets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, METRIC_MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} metrics SEC(".maps");

/* Connections this program (this load of it) steered: not pinned, so an upgrade starts at 0. */
__u64 steered = 0;

static __always_inline void count(enum metric m)
{
	__u32 key = m;
	__u64 *value = bpf_map_lookup_elem(&metrics, &key);
	if (value)
		*value += 1;
}

SEC("sk_lookup")
int steer(struct bpf_sk_lookup *ctx)
{
	struct binding key = {
		.prefixlen = 32,
		.protocol = ctx->protocol,
		.port = bpf_htons(ctx->local_port),
	};
	struct label *label = bpf_map_lookup_elem(&bindings, &key);
	if (!label)
		return SK_PASS; /* not ours: the regular socket lookup decides */

	struct bpf_sock *sk = bpf_map_lookup_elem(&sockets, label);
	if (!sk) {
		count(METRIC_NO_SOCKET);
		return SK_PASS; /* bound, but no socket registered: regular lookup (usually a refusal) */
	}
	long err = bpf_sk_assign(ctx, sk, 0);
	bpf_sk_release(sk);
	if (err) {
		count(METRIC_ASSIGN_FAILED); /* e.g. a TCP socket registered for a UDP binding */
		return SK_DROP;
	}
	count(METRIC_STEERED);
	__sync_fetch_and_add(&steered, 1);
	return SK_PASS;
}

char _license[] SEC("license") = "GPL";
