/**
 * Kernel helper function ids (`enum bpf_func_id` from `linux/bpf.h`, via `@bpfjs/uapi`) for the
 * helpers small programs use. The numbering is ABI: the kernel never renumbers a helper.
 *
 * @module
 */
import { bpf_func_id, bpf_func_id_name } from '@bpfjs/uapi/linux/bpf';

/**
 * Helper ids by their short name (`call(Helper.map_lookup_elem)`); the minimum kernel in each
 * comment. Every other helper: `bpf_func_id.BPF_FUNC_<name>` from `@bpfjs/uapi/linux/bpf`.
 */
export const Helper = {
  /** `void *bpf_map_lookup_elem(map, key)` (3.19). */
  map_lookup_elem: bpf_func_id.BPF_FUNC_map_lookup_elem,
  /** `long bpf_map_update_elem(map, key, value, flags)` (3.19). */
  map_update_elem: bpf_func_id.BPF_FUNC_map_update_elem,
  /** `long bpf_map_delete_elem(map, key)` (3.19). */
  map_delete_elem: bpf_func_id.BPF_FUNC_map_delete_elem,
  /** `u64 bpf_ktime_get_ns(void)` (4.1). */
  ktime_get_ns: bpf_func_id.BPF_FUNC_ktime_get_ns,
  /** `long bpf_trace_printk(fmt, fmt_size, ...)` (4.1). */
  trace_printk: bpf_func_id.BPF_FUNC_trace_printk,
  /** `u32 bpf_get_prandom_u32(void)` (4.1). */
  get_prandom_u32: bpf_func_id.BPF_FUNC_get_prandom_u32,
  /** `u32 bpf_get_smp_processor_id(void)` (4.1). */
  get_smp_processor_id: bpf_func_id.BPF_FUNC_get_smp_processor_id,
  /** `long bpf_skb_load_bytes(skb, offset, to, len)` (4.5). */
  skb_load_bytes: bpf_func_id.BPF_FUNC_skb_load_bytes,
  /** `struct bpf_sock *bpf_sk_lookup_tcp(ctx, tuple, tuple_size, netns, flags)` (4.20). */
  sk_lookup_tcp: bpf_func_id.BPF_FUNC_sk_lookup_tcp,
  /** `struct bpf_sock *bpf_sk_lookup_udp(ctx, tuple, tuple_size, netns, flags)` (4.20). */
  sk_lookup_udp: bpf_func_id.BPF_FUNC_sk_lookup_udp,
  /** `long bpf_sk_release(sock)` (4.20). */
  sk_release: bpf_func_id.BPF_FUNC_sk_release,
  /** `long bpf_sk_assign(ctx, sk, flags)` (5.7 for tc; sk_lookup programs 5.9). */
  sk_assign: bpf_func_id.BPF_FUNC_sk_assign,
} as const;

/** The short name of a helper in `Helper`. */
export type HelperName = keyof typeof Helper;

/** The kernel's short name of helper `id` (`'map_lookup_elem'`), or `undefined` if unknown to the headers. */
export function helperName(id: number): string | undefined {
  return bpf_func_id_name[id];
}
