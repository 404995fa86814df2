/**
 * Kernel enum values → the short names bpftool prints (`'flow_dissector'`, `'sk_lookup'`,
 * `'netns'`), from the value → name maps `@bpfjs/uapi` generates. The info decoders name types
 * with these; the object layers parse names back (`@bpfjs/link`'s `progTypeValue`, ...).
 *
 * @module
 */
import { bpf_attach_type_name, bpf_link_type_name, bpf_prog_type_name } from '@bpfjs/uapi/linux/bpf';

/** bpftool's name of a program type, or `'unknown(<n>)'` for one newer than the headers. */
export function progTypeName(value: number): string {
  return bpf_prog_type_name[value] ?? `unknown(${value})`;
}

/** bpftool's name of an attach type, or `'unknown(<n>)'` for one newer than the headers. */
export function attachTypeName(value: number): string {
  return bpf_attach_type_name[value] ?? `unknown(${value})`;
}

/** bpftool's name of a link type, or `'unknown(<n>)'` for one newer than the headers. */
export function linkTypeName(value: number): string {
  return bpf_link_type_name[value] ?? `unknown(${value})`;
}
