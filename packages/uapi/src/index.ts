/**
 * `@bpfjs/uapi`: the Linux UAPI headers bpfjs needs (`linux/bpf.h`, `bpf_common.h`, `btf.h`,
 * `if_link.h`, `if_xdp.h`, `netlink.h`) as TypeScript, generated from a pinned kernel version:
 * every integer constant and enumerator under its C name, each enum with a value -> name map for
 * printing, and a layout descriptor (offset/size/kind of every field) for every struct and union.
 * Each header is also its own subpath export (`@bpfjs/uapi/linux/bpf`).
 *
 * @module
 */

export * from './generated/linux/bpf.js';
export * from './generated/linux/bpf_common.js';
export * from './generated/linux/btf.js';
export * from './generated/linux/if_link.js';
export * from './generated/linux/if_xdp.js';
export * from './generated/linux/netlink.js';
export * from './generated/version.js';
export * from './layout.js';
