/**
 * Kernel helper function ids (`enum bpf_func_id`, the `BPF_FUNC_*` numbering of
 * `__BPF_FUNC_MAPPER` in `linux/bpf.h`) for the helpers small programs use. The numbering is ABI:
 * the kernel never renumbers a helper.
 *
 * @module
 */

/** Helper ids by their short name (`call(Helper.map_lookup_elem)`); the minimum kernel in each comment. */
export const Helper = {
  /** `void *bpf_map_lookup_elem(map, key)` (3.19). */
  map_lookup_elem: 1,
  /** `long bpf_map_update_elem(map, key, value, flags)` (3.19). */
  map_update_elem: 2,
  /** `long bpf_map_delete_elem(map, key)` (3.19). */
  map_delete_elem: 3,
  /** `u64 bpf_ktime_get_ns(void)` (4.1). */
  ktime_get_ns: 5,
  /** `long bpf_trace_printk(fmt, fmt_size, ...)` (4.1). */
  trace_printk: 6,
  /** `u32 bpf_get_prandom_u32(void)` (4.1). */
  get_prandom_u32: 7,
  /** `u32 bpf_get_smp_processor_id(void)` (4.1). */
  get_smp_processor_id: 8,
  /** `long bpf_skb_load_bytes(skb, offset, to, len)` (4.5). */
  skb_load_bytes: 26,
  /** `struct bpf_sock *bpf_sk_lookup_tcp(ctx, tuple, tuple_size, netns, flags)` (4.20). */
  sk_lookup_tcp: 84,
  /** `struct bpf_sock *bpf_sk_lookup_udp(ctx, tuple, tuple_size, netns, flags)` (4.20). */
  sk_lookup_udp: 85,
  /** `long bpf_sk_release(sock)` (4.20). */
  sk_release: 86,
  /** `long bpf_sk_assign(ctx, sk, flags)` (5.7 for tc; sk_lookup programs 5.9). */
  sk_assign: 124,
} as const;

/** The short name of a helper in `Helper`. */
export type HelperName = keyof typeof Helper;
