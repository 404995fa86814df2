/**
 * `@bpfjs/btf`: BTF, the kernel's BPF Type Format. Parse kernel (`/sys/kernel/btf/vmlinux`),
 * module (split) and object (`.BTF`) type information, look types up by id, name and kind,
 * resolve typedefs and qualifiers, compute sizes, alignments and member offsets (bit-fields
 * included), write a blob back (`BtfWriter`, for the loader's fix-ups), and encode/decode values
 * of a BTF type to and from bytes (`BtfCodec`, bpftool's `map dump` formatting).
 *
 * @module
 */

export * from './btf.js';
export * from './codec.js';
export * from './errors.js';
export * from './ext.js';
export * from './kinds.js';
export * from './writer.js';
