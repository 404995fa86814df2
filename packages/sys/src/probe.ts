/**
 * Feature probes: does this kernel know a bpf command, a program type, an attach type, a link
 * type? Each answer comes from asking the kernel (never from its version string) and is cached
 * for the life of the process. {@link requireFeature} turns a "no" into an
 * {@link UnsupportedFeatureError} naming the feature and the first kernel that has it.
 *
 * @module
 */

import { release } from 'node:os';
import {
  BPF_ALU64,
  BPF_CGROUP_GETSOCKOPT,
  BPF_CGROUP_INET_INGRESS,
  BPF_CGROUP_INET4_CONNECT,
  BPF_EXIT,
  BPF_F_MMAPABLE,
  BPF_F_NO_PREALLOC,
  BPF_FLOW_DISSECTOR,
  BPF_LINK_CREATE,
  BPF_MAP_TYPE_ARRAY,
  BPF_MOV,
  BPF_NETFILTER,
  BPF_NETKIT_PRIMARY,
  BPF_PERF_EVENT,
  BPF_PROG_QUERY,
  BPF_PROG_TYPE_CGROUP_SKB,
  BPF_PROG_TYPE_CGROUP_SOCK_ADDR,
  BPF_PROG_TYPE_CGROUP_SOCKOPT,
  BPF_PROG_TYPE_FLOW_DISSECTOR,
  BPF_PROG_TYPE_KPROBE,
  BPF_PROG_TYPE_NETFILTER,
  BPF_PROG_TYPE_SCHED_CLS,
  BPF_PROG_TYPE_SK_LOOKUP,
  BPF_PROG_TYPE_SK_SKB,
  BPF_PROG_TYPE_SOCKET_FILTER,
  BPF_SK_LOOKUP,
  BPF_SK_SKB_STREAM_VERDICT,
  BPF_STATS_RUN_TIME,
  BPF_TCX_INGRESS,
  BpfInsn,
  BtfLoadAttr,
  bpf_attach_type,
  bpf_cmd,
  bpf_link_type,
  bpf_map_type,
  bpf_prog_type,
  EnableStatsAttr,
  GetIdAttr,
  InfoAttr,
  LinkCreateAttr,
  MapBatchAttr,
  MapCreateAttr,
  ObjPinAttr,
  ProgAttachAttr,
  ProgLoadAttr,
  ProgQueryAttr,
  ProgStreamReadAttr,
  RawTracepointOpenAttr,
  TokenCreateAttr,
} from '@bpfjs/uapi/linux/bpf';
import { BPF_JMP, BPF_K } from '@bpfjs/uapi/linux/bpf_common';
import { bpfUnchecked } from './bpf.js';
import {
  BpfError,
  BpfjsRangeError,
  effectiveCapabilities,
  errInvalidArgType,
  errInvalidArgValue,
  UnsupportedFeatureError,
} from './errors.js';
import { getLibc } from './libc.js';
import { allocBytes, Struct } from './struct.js';

const EINVAL = 22;
const EPERM = 1;
const E2BIG = 7;
const ALL_ONES = 0xffffffff;

/** First mainline kernel of each bpf command. */
const COMMAND_SINCE: Readonly<Record<string, string>> = {
  BPF_MAP_CREATE: '3.18',
  BPF_MAP_LOOKUP_ELEM: '3.18',
  BPF_MAP_UPDATE_ELEM: '3.18',
  BPF_MAP_DELETE_ELEM: '3.18',
  BPF_MAP_GET_NEXT_KEY: '3.18',
  BPF_PROG_LOAD: '3.18',
  BPF_OBJ_PIN: '4.4',
  BPF_OBJ_GET: '4.4',
  BPF_PROG_ATTACH: '4.10',
  BPF_PROG_DETACH: '4.10',
  BPF_PROG_TEST_RUN: '4.12',
  BPF_PROG_GET_NEXT_ID: '4.13',
  BPF_MAP_GET_NEXT_ID: '4.13',
  BPF_PROG_GET_FD_BY_ID: '4.13',
  BPF_MAP_GET_FD_BY_ID: '4.13',
  BPF_OBJ_GET_INFO_BY_FD: '4.13',
  BPF_PROG_QUERY: '4.15',
  BPF_RAW_TRACEPOINT_OPEN: '4.17',
  BPF_BTF_LOAD: '4.18',
  BPF_BTF_GET_FD_BY_ID: '4.18',
  BPF_TASK_FD_QUERY: '4.18',
  BPF_MAP_LOOKUP_AND_DELETE_ELEM: '4.20',
  BPF_MAP_FREEZE: '5.2',
  BPF_BTF_GET_NEXT_ID: '5.4',
  BPF_MAP_LOOKUP_BATCH: '5.6',
  BPF_MAP_LOOKUP_AND_DELETE_BATCH: '5.6',
  BPF_MAP_UPDATE_BATCH: '5.6',
  BPF_MAP_DELETE_BATCH: '5.6',
  BPF_LINK_CREATE: '5.7',
  BPF_LINK_UPDATE: '5.7',
  BPF_LINK_GET_FD_BY_ID: '5.8',
  BPF_LINK_GET_NEXT_ID: '5.8',
  BPF_ENABLE_STATS: '5.8',
  BPF_ITER_CREATE: '5.8',
  BPF_LINK_DETACH: '5.9',
  BPF_PROG_BIND_MAP: '5.10',
  BPF_TOKEN_CREATE: '6.9',
  BPF_PROG_STREAM_READ_BY_FD: '6.17',
};

/** First mainline kernel of each program type. */
const PROG_TYPE_SINCE: Readonly<Record<string, string>> = {
  BPF_PROG_TYPE_SOCKET_FILTER: '3.19',
  BPF_PROG_TYPE_KPROBE: '4.1',
  BPF_PROG_TYPE_SCHED_CLS: '4.1',
  BPF_PROG_TYPE_SCHED_ACT: '4.1',
  BPF_PROG_TYPE_TRACEPOINT: '4.7',
  BPF_PROG_TYPE_XDP: '4.8',
  BPF_PROG_TYPE_PERF_EVENT: '4.9',
  BPF_PROG_TYPE_CGROUP_SKB: '4.10',
  BPF_PROG_TYPE_CGROUP_SOCK: '4.10',
  BPF_PROG_TYPE_LWT_IN: '4.10',
  BPF_PROG_TYPE_LWT_OUT: '4.10',
  BPF_PROG_TYPE_LWT_XMIT: '4.10',
  BPF_PROG_TYPE_SOCK_OPS: '4.13',
  BPF_PROG_TYPE_SK_SKB: '4.14',
  BPF_PROG_TYPE_CGROUP_DEVICE: '4.15',
  BPF_PROG_TYPE_SK_MSG: '4.17',
  BPF_PROG_TYPE_RAW_TRACEPOINT: '4.17',
  BPF_PROG_TYPE_CGROUP_SOCK_ADDR: '4.17',
  BPF_PROG_TYPE_LWT_SEG6LOCAL: '4.18',
  BPF_PROG_TYPE_LIRC_MODE2: '4.18',
  BPF_PROG_TYPE_SK_REUSEPORT: '4.19',
  BPF_PROG_TYPE_FLOW_DISSECTOR: '4.20',
  BPF_PROG_TYPE_CGROUP_SYSCTL: '5.2',
  BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE: '5.2',
  BPF_PROG_TYPE_CGROUP_SOCKOPT: '5.3',
  BPF_PROG_TYPE_TRACING: '5.5',
  BPF_PROG_TYPE_STRUCT_OPS: '5.6',
  BPF_PROG_TYPE_EXT: '5.6',
  BPF_PROG_TYPE_LSM: '5.7',
  BPF_PROG_TYPE_SK_LOOKUP: '5.9',
  BPF_PROG_TYPE_SYSCALL: '5.14',
  BPF_PROG_TYPE_NETFILTER: '6.4',
};

/** First mainline kernel where `BPF_PROG_QUERY`/attach knows each attach type (the netns ones). */
const ATTACH_TYPE_SINCE: Readonly<Record<string, string>> = {
  BPF_CGROUP_INET_INGRESS: '4.10',
  BPF_CGROUP_INET_EGRESS: '4.10',
  BPF_CGROUP_INET_SOCK_CREATE: '4.10',
  BPF_CGROUP_SOCK_OPS: '4.13',
  BPF_SK_SKB_STREAM_PARSER: '4.14',
  BPF_SK_SKB_STREAM_VERDICT: '4.14',
  BPF_CGROUP_DEVICE: '4.15',
  BPF_SK_MSG_VERDICT: '4.17',
  BPF_CGROUP_INET4_BIND: '4.17',
  BPF_CGROUP_INET6_BIND: '4.17',
  BPF_CGROUP_INET4_CONNECT: '4.17',
  BPF_CGROUP_INET6_CONNECT: '4.17',
  BPF_CGROUP_INET4_POST_BIND: '4.17',
  BPF_CGROUP_INET6_POST_BIND: '4.17',
  BPF_CGROUP_UDP4_SENDMSG: '4.18',
  BPF_CGROUP_UDP6_SENDMSG: '4.18',
  BPF_LIRC_MODE2: '4.18',
  BPF_FLOW_DISSECTOR: '4.20',
  BPF_CGROUP_SYSCTL: '5.2',
  BPF_CGROUP_UDP4_RECVMSG: '5.2',
  BPF_CGROUP_UDP6_RECVMSG: '5.2',
  BPF_CGROUP_GETSOCKOPT: '5.3',
  BPF_CGROUP_SETSOCKOPT: '5.3',
  BPF_CGROUP_INET4_GETPEERNAME: '5.8',
  BPF_CGROUP_INET6_GETPEERNAME: '5.8',
  BPF_CGROUP_INET4_GETSOCKNAME: '5.8',
  BPF_CGROUP_INET6_GETSOCKNAME: '5.8',
  BPF_CGROUP_INET_SOCK_RELEASE: '5.9',
  BPF_SK_LOOKUP: '5.9',
  BPF_SK_SKB_VERDICT: '5.13',
  BPF_LSM_CGROUP: '6.0',
  BPF_TCX_INGRESS: '6.6',
  BPF_TCX_EGRESS: '6.6',
  BPF_CGROUP_UNIX_CONNECT: '6.7',
  BPF_CGROUP_UNIX_SENDMSG: '6.7',
  BPF_CGROUP_UNIX_RECVMSG: '6.7',
  BPF_CGROUP_UNIX_GETPEERNAME: '6.7',
  BPF_CGROUP_UNIX_GETSOCKNAME: '6.7',
  BPF_NETKIT_PRIMARY: '6.7',
  BPF_NETKIT_PEER: '6.7',
};

/** First mainline kernel of each link type (netns: flow dissector 5.8, sk_lookup 5.9). */
const LINK_TYPE_SINCE: Readonly<Record<string, string>> = {
  BPF_LINK_TYPE_RAW_TRACEPOINT: '5.8',
  BPF_LINK_TYPE_TRACING: '5.8',
  BPF_LINK_TYPE_CGROUP: '5.7',
  BPF_LINK_TYPE_ITER: '5.8',
  BPF_LINK_TYPE_NETNS: '5.8',
  BPF_LINK_TYPE_XDP: '5.9',
  BPF_LINK_TYPE_PERF_EVENT: '5.15',
  BPF_LINK_TYPE_KPROBE_MULTI: '5.18',
  BPF_LINK_TYPE_STRUCT_OPS: '6.4',
  BPF_LINK_TYPE_NETFILTER: '6.4',
  BPF_LINK_TYPE_TCX: '6.6',
  BPF_LINK_TYPE_UPROBE_MULTI: '6.6',
  BPF_LINK_TYPE_NETKIT: '6.7',
  BPF_LINK_TYPE_SOCKMAP: '6.10',
};

/**
 * First mainline kernel of each map type (kernel history; iovisor/bcc's kernel-versions.md and the
 * kernel's Documentation/bpf/map_*.rst notes).
 */
const MAP_TYPE_SINCE: Readonly<Record<string, string>> = {
  BPF_MAP_TYPE_HASH: '3.19',
  BPF_MAP_TYPE_ARRAY: '3.19',
  BPF_MAP_TYPE_PROG_ARRAY: '4.2',
  BPF_MAP_TYPE_PERF_EVENT_ARRAY: '4.3',
  BPF_MAP_TYPE_PERCPU_HASH: '4.6',
  BPF_MAP_TYPE_PERCPU_ARRAY: '4.6',
  BPF_MAP_TYPE_STACK_TRACE: '4.6',
  BPF_MAP_TYPE_CGROUP_ARRAY: '4.8',
  BPF_MAP_TYPE_LRU_HASH: '4.10',
  BPF_MAP_TYPE_LRU_PERCPU_HASH: '4.10',
  BPF_MAP_TYPE_LPM_TRIE: '4.11',
  BPF_MAP_TYPE_ARRAY_OF_MAPS: '4.12',
  BPF_MAP_TYPE_HASH_OF_MAPS: '4.12',
  BPF_MAP_TYPE_DEVMAP: '4.14',
  BPF_MAP_TYPE_SOCKMAP: '4.14',
  BPF_MAP_TYPE_CPUMAP: '4.15',
  BPF_MAP_TYPE_XSKMAP: '4.18',
  BPF_MAP_TYPE_SOCKHASH: '4.18',
  BPF_MAP_TYPE_CGROUP_STORAGE: '4.19',
  BPF_MAP_TYPE_REUSEPORT_SOCKARRAY: '4.19',
  BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE: '4.20',
  BPF_MAP_TYPE_QUEUE: '4.20',
  BPF_MAP_TYPE_STACK: '4.20',
  BPF_MAP_TYPE_SK_STORAGE: '5.2',
  BPF_MAP_TYPE_DEVMAP_HASH: '5.4',
  BPF_MAP_TYPE_STRUCT_OPS: '5.6',
  BPF_MAP_TYPE_RINGBUF: '5.8',
  BPF_MAP_TYPE_INODE_STORAGE: '5.10',
  BPF_MAP_TYPE_TASK_STORAGE: '5.11',
  BPF_MAP_TYPE_BLOOM_FILTER: '5.16',
  BPF_MAP_TYPE_USER_RINGBUF: '6.1',
  BPF_MAP_TYPE_CGRP_STORAGE: '6.2',
  BPF_MAP_TYPE_ARENA: '6.9',
};

/**
 * First mainline kernel of map features that are neither a command nor a type: a map flag, or an
 * operation on some map types (`minKernel('mapFeature', 'BPF_F_MMAPABLE') === '5.5'`).
 */
const MAP_FEATURE_SINCE: Readonly<Record<string, string>> = {
  BPF_F_LOCK: '5.1',
  BPF_F_MMAPABLE: '5.5',
  'lookup-and-delete on hash maps': '5.14',
  'batch operations': '5.6',
  'map freezing': '5.2',
};

type Enum = Readonly<Record<string, number>>;

/** Resolves a C enumerator name or number against a uapi enum; returns [name, value]. */
function resolve(e: Enum, what: string, value: unknown, argName: string): [string, number] {
  if (typeof value === 'string') {
    const v = e[value];
    if (v === undefined || value.startsWith('__')) {
      throw new BpfjsRangeError(
        'ERR_BPFJS_UNKNOWN_NAME',
        `${value} is not a known ${what} in these uapi headers`,
      );
    }
    return [value, v];
  }
  if (typeof value !== 'number') throw errInvalidArgType(argName, 'of type string or number', value);
  if (!Number.isInteger(value) || value < 0 || value > ALL_ONES) {
    throw new BpfjsRangeError(
      'ERR_OUT_OF_RANGE',
      `The value of "${argName}" is out of range. Received ${value}`,
    );
  }
  for (const [k, v] of Object.entries(e)) if (v === value && !k.startsWith('__')) return [k, v];
  return [String(value), value];
}

/** Runs a probe: true on success, false on EINVAL, rethrows EPERM (privilege, not support). */
function knownUnlessEinval(run: () => number | undefined): boolean {
  try {
    const fd = run();
    if (fd !== undefined && fd >= 0) getLibc().close(fd);
    return true;
  } catch (e) {
    if (!BpfError.isInstance(e)) throw e;
    if (e.errno === EINVAL) return false;
    if (e.errno === EPERM) throw e;
    return true;
  }
}

function returnZero(): Uint8Array {
  const mov = new Struct(BpfInsn)
    .set('code', BPF_ALU64 | BPF_MOV | BPF_K)
    .set('dst_reg', 0)
    .set('imm', 0);
  const exit = new Struct(BpfInsn).set('code', BPF_JMP | BPF_EXIT);
  const out = allocBytes(2 * BpfInsn.size);
  out.set(mov.bytes, 0);
  out.set(exit.bytes, BpfInsn.size);
  return out;
}

const GPL = new Uint8Array([0x47, 0x50, 0x4c, 0]);

function loadProbeProg(type: number, expectedAttachType?: number): number {
  const attr = new Struct(ProgLoadAttr);
  const insns = returnZero();
  const license = allocBytes(GPL.byteLength);
  license.set(GPL);
  attr.set('prog_type', type).set('insn_cnt', 2).setPointer('insns', insns).setPointer('license', license);
  if (expectedAttachType !== undefined) attr.set('expected_attach_type', expectedAttachType);
  return bpfUnchecked(bpf_cmd.BPF_PROG_LOAD, attr.bytes, attr.end);
}

// Program types whose load needs an expected attach type.
const PROG_TYPE_ATTACH: Readonly<Record<number, number>> = {
  [BPF_PROG_TYPE_CGROUP_SOCK_ADDR]: BPF_CGROUP_INET4_CONNECT,
  [BPF_PROG_TYPE_SK_LOOKUP]: BPF_SK_LOOKUP,
  [BPF_PROG_TYPE_CGROUP_SOCKOPT]: BPF_CGROUP_GETSOCKOPT,
  [BPF_PROG_TYPE_NETFILTER]: BPF_NETFILTER,
};

/** Builds the probe attr for a command: every fd field -1, so known commands fail on the fd. */
function commandProbe(name: string, cmd: number): () => number | undefined {
  const run = (s: { bytes: Uint8Array; end: number }) => () => bpfUnchecked(cmd, s.bytes, s.end);
  switch (name) {
    case 'BPF_MAP_CREATE':
      return run(
        new Struct(MapCreateAttr)
          .set('map_type', BPF_MAP_TYPE_ARRAY)
          .set('key_size', 4)
          .set('value_size', 4)
          .set('max_entries', 1),
      );
    case 'BPF_PROG_LOAD':
      return () => loadProbeProg(BPF_PROG_TYPE_SOCKET_FILTER);
    case 'BPF_OBJ_GET':
      // A NULL path is EFAULT once the command is known.
      return run(new Struct(ObjPinAttr).use('file_flags'));
    case 'BPF_OBJ_PIN':
      // Pin a real (tiny) map to a NULL path: EFAULT once the command is known.
      return () => {
        const map = new Struct(MapCreateAttr)
          .set('map_type', BPF_MAP_TYPE_ARRAY)
          .set('key_size', 4)
          .set('value_size', 4)
          .set('max_entries', 1);
        const mapFd = bpfUnchecked(bpf_cmd.BPF_MAP_CREATE, map.bytes, map.end);
        try {
          const attr = new Struct(ObjPinAttr).set('bpf_fd', mapFd).use('file_flags');
          return bpfUnchecked(cmd, attr.bytes, attr.end);
        } finally {
          getLibc().close(mapFd);
        }
      };
    case 'BPF_BTF_LOAD':
      // 24 bytes at address 1 (never mapped): EFAULT once the command is known.
      return run(new Struct(BtfLoadAttr).set('btf', 1).set('btf_size', 24));
    case 'BPF_PROG_STREAM_READ_BY_FD':
      return run(new Struct(ProgStreamReadAttr).set('prog_fd', ALL_ONES));
    case 'BPF_PROG_ATTACH':
    case 'BPF_PROG_DETACH':
      return run(
        new Struct(ProgAttachAttr)
          .set('target_fd', ALL_ONES)
          .set('attach_bpf_fd', ALL_ONES)
          .set('attach_type', BPF_CGROUP_INET_INGRESS),
      );
    case 'BPF_PROG_QUERY':
      return run(new Struct(ProgQueryAttr).set('target_fd', ALL_ONES).set('attach_type', BPF_FLOW_DISSECTOR));
    case 'BPF_PROG_GET_NEXT_ID':
    case 'BPF_MAP_GET_NEXT_ID':
    case 'BPF_BTF_GET_NEXT_ID':
    case 'BPF_LINK_GET_NEXT_ID':
      // Start ids >= INT_MAX are EINVAL; this one is ENOENT (or a real id) when known.
      return run(new Struct(GetIdAttr).set('start_id', 0x7ffffffe).use('next_id'));
    case 'BPF_PROG_GET_FD_BY_ID':
    case 'BPF_MAP_GET_FD_BY_ID':
    case 'BPF_BTF_GET_FD_BY_ID':
    case 'BPF_LINK_GET_FD_BY_ID':
      return run(new Struct(GetIdAttr).set('start_id', 0x7ffffffe));
    case 'BPF_OBJ_GET_INFO_BY_FD':
      return run(new Struct(InfoAttr).set('bpf_fd', ALL_ONES));
    case 'BPF_RAW_TRACEPOINT_OPEN':
      return run(new Struct(RawTracepointOpenAttr).set('prog_fd', ALL_ONES));
    case 'BPF_MAP_LOOKUP_BATCH':
    case 'BPF_MAP_LOOKUP_AND_DELETE_BATCH':
    case 'BPF_MAP_UPDATE_BATCH':
    case 'BPF_MAP_DELETE_BATCH':
      return run(new Struct(MapBatchAttr).set('map_fd', ALL_ONES));
    case 'BPF_LINK_CREATE':
      return run(new Struct(LinkCreateAttr).set('prog_fd', ALL_ONES));
    case 'BPF_ENABLE_STATS':
      return run(new Struct(EnableStatsAttr).set('type', BPF_STATS_RUN_TIME));
    case 'BPF_TOKEN_CREATE':
      return run(new Struct(TokenCreateAttr).set('bpffs_fd', ALL_ONES));
    default: {
      // Commands whose first field is an fd (map elem ops, link update/detach, iter create,
      // prog test run, bind map, stream read, ...): -1 there is EBADF once the command is known.
      const attr = allocBytes(4);
      attr.fill(0xff);
      return () => bpfUnchecked(cmd, attr, 4);
    }
  }
}

const commandCache = new Map<number, boolean>();
const progTypeCache = new Map<number, boolean>();
const attachTypeCache = new Map<number, boolean>();
const linkTypeCache = new Map<number, boolean>();

/**
 * Does this kernel know the bpf command (`'BPF_LINK_CREATE'` or its number)? Probes once with an
 * attr that a kernel knowing the command refuses for another reason than EINVAL (an fd of -1, an
 * id that does not exist), or that succeeds harmlessly (a tiny map, a two-instruction program).
 * @throws BpfError EPERM when the caller may not use bpf(2) at all (nothing can be told then).
 */
export function haveCommand(command: string | number): boolean {
  const [name, cmd] = resolve(bpf_cmd as Enum, 'bpf command', command, 'command');
  const known = commandCache.get(cmd);
  if (known !== undefined) return known;
  const answer = knownUnlessEinval(commandProbe(name, cmd));
  commandCache.set(cmd, answer);
  return answer;
}

/**
 * Does this kernel know the program type (`'BPF_PROG_TYPE_SK_LOOKUP'` or its number)? Loads
 * `mov r0, 0; exit` of that type (with the expected attach type some types need). Types that need
 * a BTF attach target (tracing, LSM, ext, struct_ops) count as known when the verifier logs a
 * reason, which an unknown type never gets.
 * @throws BpfError EPERM without the privileges to load programs.
 */
export function haveProgType(progType: string | number): boolean {
  const [, type] = resolve(bpf_prog_type as Enum, 'program type', progType, 'progType');
  const known = progTypeCache.get(type);
  if (known !== undefined) return known;
  let answer: boolean;
  try {
    getLibc().close(loadProbeProg(type, PROG_TYPE_ATTACH[type]));
    answer = true;
  } catch (e) {
    if (!BpfError.isInstance(e)) throw e;
    if (e.errno === EPERM) {
      // An LSM not enabled, a missing attach target.
      answer = knownDespiteEperm(e);
    } else {
      answer = e.errno !== EINVAL || verifierRan(type, PROG_TYPE_ATTACH[type]);
    }
  }
  progTypeCache.set(type, answer);
  return answer;
}

/**
 * An EPERM from a type probe: with every capability held it is a type-specific refusal, so the
 * kernel knew the type (true); without them nothing can be told, and `e` is rethrown.
 */
function knownDespiteEperm(e: BpfError): true {
  const caps = effectiveCapabilities();
  if (caps === undefined || !caps.has('CAP_SYS_ADMIN') || !caps.has('CAP_BPF')) throw e;
  return true;
}

/** Loads again with a log: a known type reaches the verifier, which writes a reason. */
function verifierRan(type: number, expectedAttachType: number | undefined): boolean {
  const attr = new Struct(ProgLoadAttr);
  const insns = returnZero();
  const license = allocBytes(GPL.byteLength);
  license.set(GPL);
  const log = allocBytes(4096);
  attr.set('prog_type', type).set('insn_cnt', 2).setPointer('insns', insns).setPointer('license', license);
  if (expectedAttachType !== undefined) attr.set('expected_attach_type', expectedAttachType);
  attr.set('log_level', 1).set('log_size', log.byteLength).setPointer('log_buf', log);
  try {
    getLibc().close(bpfUnchecked(bpf_cmd.BPF_PROG_LOAD, attr.bytes, attr.end));
    return true;
  } catch {
    return log[0] !== 0;
  }
}

// The attach types BPF_PROG_QUERY dispatches on (kernel/bpf/syscall.c bpf_prog_query); it says
// EINVAL for every other one, known or not, so those cannot be probed this way.
const QUERYABLE = new Set<string>([
  ...Object.keys(bpf_attach_type).filter((n) => n.startsWith('BPF_CGROUP_')),
  'BPF_LSM_CGROUP',
  'BPF_LIRC_MODE2',
  'BPF_FLOW_DISSECTOR',
  'BPF_SK_LOOKUP',
  'BPF_SK_MSG_VERDICT',
  'BPF_SK_SKB_STREAM_PARSER',
  'BPF_SK_SKB_STREAM_VERDICT',
  'BPF_SK_SKB_VERDICT',
  'BPF_TCX_INGRESS',
  'BPF_TCX_EGRESS',
  'BPF_NETKIT_PRIMARY',
  'BPF_NETKIT_PEER',
]);

/**
 * Does `BPF_PROG_QUERY` know the attach type (`'BPF_SK_LOOKUP'` or its number)? Queries with a
 * target of -1: a known type fails on the target (EBADF, ENODEV), an unknown one with EINVAL.
 * Exact for the cgroup, netns (flow dissector, sk_lookup), sockmap, lirc, tcx and netkit types
 * (an unknown number reads as unsupported).
 * @throws RangeError `ERR_BPFJS_NO_PROBE` for attach types that `BPF_PROG_QUERY` never answers
 *   (tracing, XDP, perf event, ...).
 * @throws BpfError EPERM without privileges.
 */
export function haveAttachType(attachType: string | number): boolean {
  const [name, type] = resolve(bpf_attach_type as Enum, 'attach type', attachType, 'attachType');
  const known = attachTypeCache.get(type);
  if (known !== undefined) return known;
  if (name in bpf_attach_type && !QUERYABLE.has(name)) {
    throw new BpfjsRangeError('ERR_BPFJS_NO_PROBE', `bpfjs has no probe for attach type ${name}`);
  }
  const attr = new Struct(ProgQueryAttr).set('target_fd', ALL_ONES).set('attach_type', type).use('prog_cnt');
  const answer = knownUnlessEinval(() => {
    bpfUnchecked(BPF_PROG_QUERY, attr.bytes, attr.end);
    return undefined;
  });
  attachTypeCache.set(type, answer);
  return answer;
}

// How to probe a link type: a program of this type linked with this attach type to a target that
// does not exist. LINK_CREATE dispatches on the program type first, so a kernel that knows the
// link type fails on the target (EBADF, ENODEV) and one that does not says EINVAL.
// Link types that cannot be created without attaching to something real (raw tracepoints, BPF
// iterators need BTF) are told by a bpf command that came with them in the same release instead.
type LinkProbe =
  | { progType: number; expected?: number; attachType: number; target: 'fd' | 'ifindex' }
  | { sameReleaseAs: string };
const LINK_PROBES: Readonly<Record<string, LinkProbe>> = {
  BPF_LINK_TYPE_NETNS: {
    progType: BPF_PROG_TYPE_FLOW_DISSECTOR,
    attachType: BPF_FLOW_DISSECTOR,
    target: 'fd',
  },
  BPF_LINK_TYPE_CGROUP: {
    progType: BPF_PROG_TYPE_CGROUP_SKB,
    attachType: BPF_CGROUP_INET_INGRESS,
    target: 'fd',
  },
  BPF_LINK_TYPE_TCX: { progType: BPF_PROG_TYPE_SCHED_CLS, attachType: BPF_TCX_INGRESS, target: 'ifindex' },
  BPF_LINK_TYPE_NETKIT: {
    progType: BPF_PROG_TYPE_SCHED_CLS,
    attachType: BPF_NETKIT_PRIMARY,
    target: 'ifindex',
  },
  BPF_LINK_TYPE_SOCKMAP: {
    progType: BPF_PROG_TYPE_SK_SKB,
    attachType: BPF_SK_SKB_STREAM_VERDICT,
    target: 'fd',
  },
  BPF_LINK_TYPE_PERF_EVENT: { progType: BPF_PROG_TYPE_KPROBE, attachType: BPF_PERF_EVENT, target: 'fd' },
  // The netfilter link ignores the target; its protocol family 0 is EAFNOSUPPORT once the link
  // type is known (6.4), EINVAL before.
  BPF_LINK_TYPE_NETFILTER: {
    progType: BPF_PROG_TYPE_NETFILTER,
    expected: BPF_NETFILTER,
    attachType: BPF_NETFILTER,
    target: 'fd',
  },
  // Link types and link info came with BPF_LINK_GET_FD_BY_ID (5.8; 5.7 made raw tracepoints
  // links without ids, types or info).
  BPF_LINK_TYPE_RAW_TRACEPOINT: { sameReleaseAs: 'BPF_LINK_GET_FD_BY_ID' },
  // Iterator links came with BPF_ITER_CREATE (5.8).
  BPF_LINK_TYPE_ITER: { sameReleaseAs: 'BPF_ITER_CREATE' },
};

/**
 * Does this kernel have the link type (`'BPF_LINK_TYPE_NETNS'` or its number)? Netns links for
 * sk_lookup need 5.9 on top: probe `haveAttachType('BPF_SK_LOOKUP')` as well. Raw tracepoint and
 * iter links are told by the bpf command that came with them (BPF_LINK_GET_FD_BY_ID,
 * BPF_ITER_CREATE, both 5.8): creating one would attach to a real tracepoint or need BTF.
 * @throws RangeError `ERR_BPFJS_NO_PROBE` for link types bpfjs has no safe probe for (tracing,
 *   XDP, struct_ops, kprobe/uprobe multi).
 * @throws BpfError EPERM without privileges.
 */
export function haveLinkType(linkType: string | number): boolean {
  const [name, type] = resolve(bpf_link_type as Enum, 'link type', linkType, 'linkType');
  const known = linkTypeCache.get(type);
  if (known !== undefined) return known;
  const recipe = LINK_PROBES[name];
  if (recipe === undefined) {
    throw new BpfjsRangeError('ERR_BPFJS_NO_PROBE', `bpfjs has no probe for ${name}`);
  }
  if ('sameReleaseAs' in recipe) {
    const answer = haveCommand(recipe.sameReleaseAs);
    linkTypeCache.set(type, answer);
    return answer;
  }
  if (!haveCommand(BPF_LINK_CREATE) || !haveProgType(recipe.progType)) {
    linkTypeCache.set(type, false);
    return false;
  }
  const prog = loadProbeProg(recipe.progType, recipe.expected);
  let answer: boolean;
  try {
    const attr = new Struct(LinkCreateAttr).set('prog_fd', prog);
    if (recipe.target === 'fd') attr.set('target_fd', ALL_ONES);
    else attr.set('target_ifindex', 0x7fffffff);
    attr.set('attach_type', recipe.attachType).use('flags');
    answer = knownUnlessEinval(() => bpfUnchecked(BPF_LINK_CREATE, attr.bytes, attr.end));
  } finally {
    getLibc().close(prog);
  }
  linkTypeCache.set(type, answer);
  return answer;
}

const mapTypeCache = new Map<number, boolean>();
const BTF_FD_NONE = ALL_ONES;

// The smallest attr each map type accepts (kernel *_map_alloc_check), as cilium/ebpf's
// HaveMapType builds them; maps of maps and local storage get an fd of -1 where they need one, so
// a kernel that knows the type fails on that fd (EBADF) instead of EINVAL.
function mapTypeProbeAttr(type: number, name: string): Struct<typeof MapCreateAttr> {
  const a = new Struct(MapCreateAttr).set('map_type', type).set('key_size', 4).set('value_size', 4);
  a.set('max_entries', 1);
  switch (name) {
    case 'BPF_MAP_TYPE_STACK_TRACE':
      a.set('value_size', 8);
      break;
    case 'BPF_MAP_TYPE_LPM_TRIE':
      a.set('key_size', 8).set('value_size', 8).set('map_flags', BPF_F_NO_PREALLOC);
      break;
    case 'BPF_MAP_TYPE_ARRAY_OF_MAPS':
    case 'BPF_MAP_TYPE_HASH_OF_MAPS':
      a.set('inner_map_fd', ALL_ONES);
      break;
    case 'BPF_MAP_TYPE_CGROUP_STORAGE':
    case 'BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE':
      a.set('key_size', 16).set('max_entries', 0);
      break;
    case 'BPF_MAP_TYPE_QUEUE':
    case 'BPF_MAP_TYPE_STACK':
    case 'BPF_MAP_TYPE_BLOOM_FILTER':
      a.set('key_size', 0);
      break;
    case 'BPF_MAP_TYPE_RINGBUF':
    case 'BPF_MAP_TYPE_USER_RINGBUF':
      a.set('key_size', 0).set('value_size', 0).set('max_entries', 4096);
      break;
    case 'BPF_MAP_TYPE_ARENA':
      a.set('key_size', 0).set('value_size', 0).set('map_flags', BPF_F_MMAPABLE);
      break;
    case 'BPF_MAP_TYPE_SK_STORAGE':
    case 'BPF_MAP_TYPE_INODE_STORAGE':
    case 'BPF_MAP_TYPE_TASK_STORAGE':
    case 'BPF_MAP_TYPE_CGRP_STORAGE':
      a.set('max_entries', 0).set('map_flags', BPF_F_NO_PREALLOC);
      a.set('btf_fd', BTF_FD_NONE).set('btf_key_type_id', 1).set('btf_value_type_id', 3);
      break;
  }
  return a;
}

/**
 * Does this kernel have the map type (`'BPF_MAP_TYPE_RINGBUF'` or its number)? Creates the
 * smallest map of that type (closed at once): a kernel that does not know the type says EINVAL
 * (or E2BIG for attr fields it does not know); any other answer means it knows it. Cached.
 * `BPF_MAP_TYPE_STRUCT_OPS` needs a kernel struct's BTF to create: its answer comes from
 * `BPF_PROG_TYPE_STRUCT_OPS` (same release, 5.6).
 * @throws BpfError EPERM without the privileges to create maps.
 */
export function haveMapType(mapType: string | number): boolean {
  const [name, type] = resolve(bpf_map_type as Enum, 'map type', mapType, 'mapType');
  const known = mapTypeCache.get(type);
  if (known !== undefined) return known;
  // By the enumerator's canonical name: aliases (`..._DEPRECATED`) share the value.
  const canonical =
    Object.entries(bpf_map_type).find(([k, v]) => v === type && !k.endsWith('_DEPRECATED'))?.[0] ?? name;
  let answer: boolean;
  if (canonical === 'BPF_MAP_TYPE_STRUCT_OPS') {
    answer = haveProgType('BPF_PROG_TYPE_STRUCT_OPS');
  } else {
    const attr = mapTypeProbeAttr(type, canonical);
    try {
      getLibc().close(bpfUnchecked(bpf_cmd.BPF_MAP_CREATE, attr.bytes, attr.end));
      answer = true;
    } catch (e) {
      if (!BpfError.isInstance(e)) throw e;
      if (e.errno === EPERM) {
        // Arena maps where the JIT or a security policy refuses them.
        answer = knownDespiteEperm(e);
      } else {
        answer = e.errno !== EINVAL && e.errno !== E2BIG;
      }
    }
  }
  mapTypeCache.set(type, answer);
  return answer;
}

/**
 * Error path of `mapCreate`: when the kernel answered EINVAL (its errno for an unknown map type,
 * and for sizes or flags it refuses), asks the cached probe whether the kernel has the map type.
 * Returns an {@link UnsupportedFeatureError} (`map type BPF_MAP_TYPE_X is not supported by this
 * kernel (needs Linux Y or newer)`, `cause` the original error) when it does not, else `err`.
 * @internal
 */
export function explainMapCreateFailure(err: unknown, type: number): unknown {
  if (!BpfError.isInstance(err) || (err.errno !== EINVAL && err.errno !== E2BIG)) return err;
  const e = absent('mapType', type, err);
  if (e === undefined) return err;
  // A kernel new enough that lacks the type was built without it (CONFIG_BPF_LSM for inode
  // storage, CONFIG_XDP_SOCKETS for xskmap, ...): naming a version would mislead.
  const u = e as UnsupportedFeatureError;
  if (u.minKernel !== undefined && atLeast(release(), u.minKernel)) {
    return new UnsupportedFeatureError(`${u.feature} (not built into this kernel)`, undefined, {
      cause: err,
    });
  }
  return e;
}

/** `major.minor` of the running kernel ≥ `version`. */
function atLeast(running: string, version: string): boolean {
  const [a = 0, b = 0] = running.split(/[.-]/).map(Number);
  const [c = 0, d = 0] = version.split('.').map(Number);
  return a !== c ? a > c : b >= d;
}

let rawTpCookie: boolean | undefined;

/**
 * Does `BPF_RAW_TRACEPOINT_OPEN` take a cookie (Linux 6.10+)? Opens with a cookie and a program fd
 * of -1: a kernel that knows the field fails on the fd (EBADF); an older one refuses the non-zero
 * field past its last one first (EINVAL). Cached. Used on `rawTracepointOpen`'s error path.
 * @throws BpfError EPERM without privileges.
 * @internal
 */
export function haveRawTracepointCookie(): boolean {
  if (rawTpCookie !== undefined) return rawTpCookie;
  const attr = new Struct(RawTracepointOpenAttr).set('prog_fd', ALL_ONES).set('cookie', 1n);
  rawTpCookie = knownUnlessEinval(() => bpfUnchecked(bpf_cmd.BPF_RAW_TRACEPOINT_OPEN, attr.bytes, attr.end));
  return rawTpCookie;
}

/** The kinds of feature {@link requireFeature} checks. */
export type FeatureKind = 'command' | 'progType' | 'attachType' | 'linkType' | 'mapType';

// Per kind of feature: its enum, how errors name it, its probe, and where it first appeared.
const FEATURE_KINDS: Readonly<
  Record<
    FeatureKind,
    {
      values: Enum;
      label: string;
      have: (feature: string | number) => boolean;
      since: Readonly<Record<string, string>>;
    }
  >
> = {
  command: { values: bpf_cmd as Enum, label: 'bpf command', have: haveCommand, since: COMMAND_SINCE },
  progType: {
    values: bpf_prog_type as Enum,
    label: 'program type',
    have: haveProgType,
    since: PROG_TYPE_SINCE,
  },
  attachType: {
    values: bpf_attach_type as Enum,
    label: 'attach type',
    have: haveAttachType,
    since: ATTACH_TYPE_SINCE,
  },
  linkType: { values: bpf_link_type as Enum, label: 'link type', have: haveLinkType, since: LINK_TYPE_SINCE },
  mapType: { values: bpf_map_type as Enum, label: 'map type', have: haveMapType, since: MAP_TYPE_SINCE },
};

/**
 * Throws {@link UnsupportedFeatureError} (naming the feature and the first kernel that has it)
 * unless the kernel has it. `requireFeature('linkType', 'BPF_LINK_TYPE_NETNS')`.
 */
export function requireFeature(kind: FeatureKind, feature: string | number): void {
  const k = Object.hasOwn(FEATURE_KINDS, kind) ? FEATURE_KINDS[kind] : undefined;
  if (k === undefined) {
    // A string of the right type but not one of the kinds: a value error, like validateOneOf.
    if (typeof kind !== 'string') {
      throw errInvalidArgType(
        'kind',
        "one of 'command', 'progType', 'attachType', 'linkType', 'mapType'",
        kind,
      );
    }
    throw errInvalidArgValue(
      'kind',
      kind,
      "must be one of 'command', 'progType', 'attachType', 'linkType', 'mapType'",
    );
  }
  const [name] = resolve(k.values, k.label, feature, 'feature');
  if (!k.have(feature)) throw new UnsupportedFeatureError(`${k.label} ${name}`, k.since[name]);
}

// Link types by the attach type LINK_CREATE was asked for (the ones haveLinkType can probe).
const LINK_TYPE_OF_ATTACH: Readonly<Record<string, string>> = {
  BPF_FLOW_DISSECTOR: 'BPF_LINK_TYPE_NETNS',
  BPF_SK_LOOKUP: 'BPF_LINK_TYPE_NETNS',
  BPF_TCX_INGRESS: 'BPF_LINK_TYPE_TCX',
  BPF_TCX_EGRESS: 'BPF_LINK_TYPE_TCX',
  BPF_NETKIT_PRIMARY: 'BPF_LINK_TYPE_NETKIT',
  BPF_NETKIT_PEER: 'BPF_LINK_TYPE_NETKIT',
  BPF_SK_SKB_STREAM_PARSER: 'BPF_LINK_TYPE_SOCKMAP',
  BPF_SK_SKB_STREAM_VERDICT: 'BPF_LINK_TYPE_SOCKMAP',
  BPF_SK_SKB_VERDICT: 'BPF_LINK_TYPE_SOCKMAP',
  BPF_SK_MSG_VERDICT: 'BPF_LINK_TYPE_SOCKMAP',
  BPF_PERF_EVENT: 'BPF_LINK_TYPE_PERF_EVENT',
  BPF_NETFILTER: 'BPF_LINK_TYPE_NETFILTER',
  BPF_TRACE_ITER: 'BPF_LINK_TYPE_ITER',
};

/** The error to throw instead of `cause` when `requireFeature(kind, feature)` says no; else undefined. */
function absent(kind: FeatureKind, feature: string | number, cause: BpfError): Error | undefined {
  try {
    requireFeature(kind, feature);
    return undefined;
  } catch (e) {
    if (UnsupportedFeatureError.isInstance(e)) {
      return new UnsupportedFeatureError(e.feature, e.minKernel, { cause });
    }
    // No probe for it, or no privilege to probe: nothing can be told.
    return undefined;
  }
}

/**
 * Error path of `progLoad`, `progAttach`, `linkCreate` and `rawTracepointOpen`: when the kernel answered EINVAL (its
 * errno for an unknown command, program type or attach type), asks the cached probes whether the
 * kernel has what was asked for. Returns an {@link UnsupportedFeatureError} (naming the first
 * kernel with the feature, `cause` the original error) when it does not, else `err` itself.
 * Never called on success.
 * For the layers above, through `@bpfjs/sys/internal`; not for applications.
 */
export function explainFailure(
  err: unknown,
  command: 'BPF_PROG_LOAD' | 'BPF_PROG_ATTACH' | 'BPF_LINK_CREATE' | 'BPF_RAW_TRACEPOINT_OPEN',
  type: number,
): unknown {
  if (!BpfError.isInstance(err) || err.errno !== EINVAL) return err;
  const checks: [FeatureKind, string | number][] = [['command', command]];
  if (command === 'BPF_RAW_TRACEPOINT_OPEN') {
    // Only the command itself: EINVAL otherwise means a wrong program type or name.
  } else if (command === 'BPF_PROG_LOAD') {
    checks.push(['progType', type]);
  } else {
    const name = Object.entries(bpf_attach_type).find(([k, v]) => v === type && !k.startsWith('__'))?.[0];
    const linkType = name === undefined ? undefined : LINK_TYPE_OF_ATTACH[name];
    if (command === 'BPF_LINK_CREATE' && linkType !== undefined) checks.push(['linkType', linkType]);
    // Known attach types without a query probe are skipped; unknown numbers are probed.
    if (name === undefined || QUERYABLE.has(name)) checks.push(['attachType', type]);
  }
  for (const [kind, feature] of checks) {
    const e = absent(kind, feature, err);
    if (e !== undefined) return e;
  }
  return err;
}

/**
 * The first mainline kernel with a feature, where bpfjs knows it (`minKernel('command',
 * 'BPF_LINK_DETACH') === '5.9'`, `minKernel('mapType', 'BPF_MAP_TYPE_RINGBUF') === '5.8'`); kind
 * `'mapFeature'` for map flags and per-type operations without a probe (`'BPF_F_MMAPABLE'`,
 * `'batch operations'`, `'map freezing'`, `'lookup-and-delete on hash maps'`, `'BPF_F_LOCK'`).
 */
export function minKernel(kind: FeatureKind | 'mapFeature', name: string): string | undefined {
  if (kind === 'mapFeature')
    return Object.hasOwn(MAP_FEATURE_SINCE, name) ? MAP_FEATURE_SINCE[name] : undefined;
  if (!Object.hasOwn(FEATURE_KINDS, kind)) return undefined;
  const since = FEATURE_KINDS[kind].since;
  return Object.hasOwn(since, name) ? since[name] : undefined;
}

/** @internal Forgets every cached probe answer (tests). */
export function resetProbeCache(): void {
  commandCache.clear();
  progTypeCache.clear();
  attachTypeCache.clear();
  linkTypeCache.clear();
  mapTypeCache.clear();
  rawTpCookie = undefined;
}
