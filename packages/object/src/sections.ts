/**
 * libbpf's `SEC()` naming: a program's ELF section name gives its program type, expected attach
 * type, load flags and attach target. The facts come from libbpf's `section_defs` (libbpf.c);
 * the matching rules are libbpf's: a name ending in `+` matches itself exactly or followed by
 * `/target`, one ending in `/` matches any name with that prefix, any other matches exactly. The
 * first matching row wins, so more specific rows come first.
 *
 * @module
 */
import { BPF_F_SLEEPABLE, BPF_F_XDP_HAS_FRAGS, bpf_attach_type, bpf_prog_type } from '@bpfjs/uapi';
import { BpfObjectError } from './errors.js';

/**
 * Row flags: `opt` expected attach type may be dropped on kernels without it; `btf` the target is
 * a kernel BTF type (attach_btf_id); `sleepable` loads with BPF_F_SLEEPABLE; `frags` XDP with
 * BPF_F_XDP_HAS_FRAGS; `usdt` USDT probes.
 */
type Row = readonly [section: string, progType: string, attachType: string | undefined, flags?: string];

// prettier-ignore
const ROWS: readonly Row[] = [
  ['socket', 'SOCKET_FILTER', undefined],
  ['sk_reuseport/migrate', 'SK_REUSEPORT', 'BPF_SK_REUSEPORT_SELECT_OR_MIGRATE'],
  ['sk_reuseport', 'SK_REUSEPORT', 'BPF_SK_REUSEPORT_SELECT'],
  ['kprobe+', 'KPROBE', undefined],
  ['uprobe+', 'KPROBE', undefined],
  ['uprobe.s+', 'KPROBE', undefined, 'sleepable'],
  ['kretprobe+', 'KPROBE', undefined],
  ['uretprobe+', 'KPROBE', undefined],
  ['uretprobe.s+', 'KPROBE', undefined, 'sleepable'],
  ['kprobe.multi+', 'KPROBE', 'BPF_TRACE_KPROBE_MULTI'],
  ['kretprobe.multi+', 'KPROBE', 'BPF_TRACE_KPROBE_MULTI'],
  ['kprobe.session+', 'KPROBE', 'BPF_TRACE_KPROBE_SESSION'],
  ['uprobe.multi+', 'KPROBE', 'BPF_TRACE_UPROBE_MULTI'],
  ['uretprobe.multi+', 'KPROBE', 'BPF_TRACE_UPROBE_MULTI'],
  ['uprobe.session+', 'KPROBE', 'BPF_TRACE_UPROBE_SESSION'],
  ['uprobe.multi.s+', 'KPROBE', 'BPF_TRACE_UPROBE_MULTI', 'sleepable'],
  ['uretprobe.multi.s+', 'KPROBE', 'BPF_TRACE_UPROBE_MULTI', 'sleepable'],
  ['uprobe.session.s+', 'KPROBE', 'BPF_TRACE_UPROBE_SESSION', 'sleepable'],
  ['ksyscall+', 'KPROBE', undefined],
  ['kretsyscall+', 'KPROBE', undefined],
  ['usdt+', 'KPROBE', undefined, 'usdt'],
  ['usdt.s+', 'KPROBE', undefined, 'usdt sleepable'],
  ['tc/ingress', 'SCHED_CLS', 'BPF_TCX_INGRESS'],
  ['tc/egress', 'SCHED_CLS', 'BPF_TCX_EGRESS'],
  ['tcx/ingress', 'SCHED_CLS', 'BPF_TCX_INGRESS'],
  ['tcx/egress', 'SCHED_CLS', 'BPF_TCX_EGRESS'],
  ['tc', 'SCHED_CLS', undefined],
  ['classifier', 'SCHED_CLS', undefined],
  ['action', 'SCHED_ACT', undefined],
  ['netkit/primary', 'SCHED_CLS', 'BPF_NETKIT_PRIMARY'],
  ['netkit/peer', 'SCHED_CLS', 'BPF_NETKIT_PEER'],
  ['tracepoint+', 'TRACEPOINT', undefined],
  ['tp+', 'TRACEPOINT', undefined],
  ['tracepoint.s+', 'TRACEPOINT', undefined, 'sleepable'],
  ['tp.s+', 'TRACEPOINT', undefined, 'sleepable'],
  ['raw_tracepoint+', 'RAW_TRACEPOINT', undefined],
  ['raw_tp+', 'RAW_TRACEPOINT', undefined],
  ['raw_tracepoint.s+', 'RAW_TRACEPOINT', undefined, 'sleepable'],
  ['raw_tp.s+', 'RAW_TRACEPOINT', undefined, 'sleepable'],
  ['raw_tracepoint.w+', 'RAW_TRACEPOINT_WRITABLE', undefined],
  ['raw_tp.w+', 'RAW_TRACEPOINT_WRITABLE', undefined],
  ['tp_btf+', 'TRACING', 'BPF_TRACE_RAW_TP', 'btf'],
  ['tp_btf.s+', 'TRACING', 'BPF_TRACE_RAW_TP', 'btf sleepable'],
  ['fentry+', 'TRACING', 'BPF_TRACE_FENTRY', 'btf'],
  ['fmod_ret+', 'TRACING', 'BPF_MODIFY_RETURN', 'btf'],
  ['fexit+', 'TRACING', 'BPF_TRACE_FEXIT', 'btf'],
  ['fentry.s+', 'TRACING', 'BPF_TRACE_FENTRY', 'btf sleepable'],
  ['fmod_ret.s+', 'TRACING', 'BPF_MODIFY_RETURN', 'btf sleepable'],
  ['fexit.s+', 'TRACING', 'BPF_TRACE_FEXIT', 'btf sleepable'],
  ['fsession+', 'TRACING', 'BPF_TRACE_FSESSION', 'btf'],
  ['fsession.s+', 'TRACING', 'BPF_TRACE_FSESSION', 'btf sleepable'],
  ['fsession.multi+', 'TRACING', 'BPF_TRACE_FSESSION_MULTI'],
  ['fsession.multi.s+', 'TRACING', 'BPF_TRACE_FSESSION_MULTI', 'sleepable'],
  ['fentry.multi+', 'TRACING', 'BPF_TRACE_FENTRY_MULTI'],
  ['fexit.multi+', 'TRACING', 'BPF_TRACE_FEXIT_MULTI'],
  ['fentry.multi.s+', 'TRACING', 'BPF_TRACE_FENTRY_MULTI', 'sleepable'],
  ['fexit.multi.s+', 'TRACING', 'BPF_TRACE_FEXIT_MULTI', 'sleepable'],
  ['freplace+', 'EXT', undefined, 'btf'],
  ['lsm+', 'LSM', 'BPF_LSM_MAC', 'btf'],
  ['lsm.s+', 'LSM', 'BPF_LSM_MAC', 'btf sleepable'],
  ['lsm_cgroup+', 'LSM', 'BPF_LSM_CGROUP', 'btf'],
  ['iter+', 'TRACING', 'BPF_TRACE_ITER', 'btf'],
  ['iter.s+', 'TRACING', 'BPF_TRACE_ITER', 'btf sleepable'],
  ['syscall', 'SYSCALL', undefined, 'sleepable'],
  ['xdp.frags/devmap', 'XDP', 'BPF_XDP_DEVMAP', 'frags'],
  ['xdp/devmap', 'XDP', 'BPF_XDP_DEVMAP'],
  ['xdp.frags/cpumap', 'XDP', 'BPF_XDP_CPUMAP', 'frags'],
  ['xdp/cpumap', 'XDP', 'BPF_XDP_CPUMAP'],
  ['xdp.frags', 'XDP', 'BPF_XDP', 'frags'],
  ['xdp', 'XDP', 'BPF_XDP', 'opt'],
  ['perf_event', 'PERF_EVENT', undefined],
  ['lwt_in', 'LWT_IN', undefined],
  ['lwt_out', 'LWT_OUT', undefined],
  ['lwt_xmit', 'LWT_XMIT', undefined],
  ['lwt_seg6local', 'LWT_SEG6LOCAL', undefined],
  ['sockops', 'SOCK_OPS', 'BPF_CGROUP_SOCK_OPS', 'opt'],
  ['sk_skb/stream_parser', 'SK_SKB', 'BPF_SK_SKB_STREAM_PARSER', 'opt'],
  ['sk_skb/stream_verdict', 'SK_SKB', 'BPF_SK_SKB_STREAM_VERDICT', 'opt'],
  ['sk_skb/verdict', 'SK_SKB', 'BPF_SK_SKB_VERDICT', 'opt'],
  ['sk_skb', 'SK_SKB', undefined],
  ['sk_msg', 'SK_MSG', 'BPF_SK_MSG_VERDICT', 'opt'],
  ['lirc_mode2', 'LIRC_MODE2', 'BPF_LIRC_MODE2', 'opt'],
  ['flow_dissector', 'FLOW_DISSECTOR', 'BPF_FLOW_DISSECTOR', 'opt'],
  ['cgroup_skb/ingress', 'CGROUP_SKB', 'BPF_CGROUP_INET_INGRESS', 'opt'],
  ['cgroup_skb/egress', 'CGROUP_SKB', 'BPF_CGROUP_INET_EGRESS', 'opt'],
  ['cgroup/skb', 'CGROUP_SKB', undefined],
  ['cgroup/sock_create', 'CGROUP_SOCK', 'BPF_CGROUP_INET_SOCK_CREATE'],
  ['cgroup/sock_release', 'CGROUP_SOCK', 'BPF_CGROUP_INET_SOCK_RELEASE'],
  ['cgroup/sock', 'CGROUP_SOCK', 'BPF_CGROUP_INET_SOCK_CREATE', 'opt'],
  ['cgroup/post_bind4', 'CGROUP_SOCK', 'BPF_CGROUP_INET4_POST_BIND'],
  ['cgroup/post_bind6', 'CGROUP_SOCK', 'BPF_CGROUP_INET6_POST_BIND'],
  ['cgroup/bind4', 'CGROUP_SOCK_ADDR', 'BPF_CGROUP_INET4_BIND'],
  ['cgroup/bind6', 'CGROUP_SOCK_ADDR', 'BPF_CGROUP_INET6_BIND'],
  ['cgroup/connect4', 'CGROUP_SOCK_ADDR', 'BPF_CGROUP_INET4_CONNECT'],
  ['cgroup/connect6', 'CGROUP_SOCK_ADDR', 'BPF_CGROUP_INET6_CONNECT'],
  ['cgroup/connect_unix', 'CGROUP_SOCK_ADDR', 'BPF_CGROUP_UNIX_CONNECT'],
  ['cgroup/sendmsg4', 'CGROUP_SOCK_ADDR', 'BPF_CGROUP_UDP4_SENDMSG'],
  ['cgroup/sendmsg6', 'CGROUP_SOCK_ADDR', 'BPF_CGROUP_UDP6_SENDMSG'],
  ['cgroup/sendmsg_unix', 'CGROUP_SOCK_ADDR', 'BPF_CGROUP_UNIX_SENDMSG'],
  ['cgroup/recvmsg4', 'CGROUP_SOCK_ADDR', 'BPF_CGROUP_UDP4_RECVMSG'],
  ['cgroup/recvmsg6', 'CGROUP_SOCK_ADDR', 'BPF_CGROUP_UDP6_RECVMSG'],
  ['cgroup/recvmsg_unix', 'CGROUP_SOCK_ADDR', 'BPF_CGROUP_UNIX_RECVMSG'],
  ['cgroup/getpeername4', 'CGROUP_SOCK_ADDR', 'BPF_CGROUP_INET4_GETPEERNAME'],
  ['cgroup/getpeername6', 'CGROUP_SOCK_ADDR', 'BPF_CGROUP_INET6_GETPEERNAME'],
  ['cgroup/getpeername_unix', 'CGROUP_SOCK_ADDR', 'BPF_CGROUP_UNIX_GETPEERNAME'],
  ['cgroup/getsockname4', 'CGROUP_SOCK_ADDR', 'BPF_CGROUP_INET4_GETSOCKNAME'],
  ['cgroup/getsockname6', 'CGROUP_SOCK_ADDR', 'BPF_CGROUP_INET6_GETSOCKNAME'],
  ['cgroup/getsockname_unix', 'CGROUP_SOCK_ADDR', 'BPF_CGROUP_UNIX_GETSOCKNAME'],
  ['cgroup/sysctl', 'CGROUP_SYSCTL', 'BPF_CGROUP_SYSCTL'],
  ['cgroup/getsockopt', 'CGROUP_SOCKOPT', 'BPF_CGROUP_GETSOCKOPT'],
  ['cgroup/setsockopt', 'CGROUP_SOCKOPT', 'BPF_CGROUP_SETSOCKOPT'],
  ['cgroup/dev', 'CGROUP_DEVICE', 'BPF_CGROUP_DEVICE', 'opt'],
  ['struct_ops+', 'STRUCT_OPS', undefined],
  ['struct_ops.s+', 'STRUCT_OPS', undefined, 'sleepable'],
  ['sk_lookup', 'SK_LOOKUP', 'BPF_SK_LOOKUP'],
  ['netfilter', 'NETFILTER', 'BPF_NETFILTER'],
];

/** What a section name says about the program(s) in it. */
export interface SectionDef {
  /** The `SEC()` pattern that matched (`'kprobe+'`, `'sk_lookup'`, ...). */
  readonly pattern: string;
  /** `enum bpf_prog_type` value. */
  readonly progType: number;
  /** `enum bpf_attach_type` value, if the section implies one. */
  readonly expectedAttachType: number | undefined;
  /** Whether the expected attach type may be dropped on kernels that do not know it. */
  readonly expectedAttachTypeOptional: boolean;
  /** `BPF_F_SLEEPABLE`, `BPF_F_XDP_HAS_FRAGS` as the section implies. */
  readonly progFlags: number;
  /** True when the attach target is a kernel BTF type (fentry, fexit, fmod_ret, tp_btf, lsm, iter, freplace). */
  readonly attachBtf: boolean;
  /** Text after the first `/` for `+` patterns (`kprobe/do_unlinkat` → `'do_unlinkat'`). */
  readonly attachTarget: string | undefined;
}

function matches(pattern: string, section: string): boolean {
  if (pattern.endsWith('/')) return section.startsWith(pattern);
  if (pattern.endsWith('+')) {
    const p = pattern.slice(0, -1);
    return section === p || section.startsWith(`${p}/`);
  }
  return section === pattern;
}

/**
 * The definition of a program section name, as libbpf reads `SEC()`.
 * @throws BpfObjectError `ERR_BPFJS_OBJECT_UNKNOWN_SECTION` naming the section if no row matches.
 */
export function sectionDef(section: string): SectionDef {
  for (const [pattern, type, attach, flags = ''] of ROWS) {
    if (!matches(pattern, section)) continue;
    const progType = (bpf_prog_type as Record<string, number>)[`BPF_PROG_TYPE_${type}`]!;
    const expected = attach === undefined ? undefined : (bpf_attach_type as Record<string, number>)[attach]!;
    const f = flags.split(' ');
    let progFlags = 0;
    if (f.includes('sleepable')) progFlags |= BPF_F_SLEEPABLE;
    if (f.includes('frags')) progFlags |= BPF_F_XDP_HAS_FRAGS;
    const slash = section.indexOf('/');
    return {
      pattern,
      progType,
      expectedAttachType: expected,
      expectedAttachTypeOptional: f.includes('opt'),
      progFlags,
      attachBtf: f.includes('btf'),
      attachTarget: pattern.endsWith('+') && slash >= 0 ? section.slice(slash + 1) : undefined,
    };
  }
  throw new BpfObjectError(
    'ERR_BPFJS_OBJECT_UNKNOWN_SECTION',
    `section '${section}' is not a known program section (libbpf's SEC() names: socket, sk_lookup, flow_dissector, xdp, tc, kprobe/..., fentry/..., ...)`,
    { section },
  );
}

/** Every `SEC()` pattern known, in match order (for listings and tests). */
export function sectionPatterns(): string[] {
  return ROWS.map((r) => r[0]);
}
