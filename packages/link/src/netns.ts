/**
 * Attaching programs to network namespaces: links (`attachNetNs`) and the legacy prog
 * attach/detach/query that the kernel keeps interchangeable with them (one kind at a time).
 *
 * Kernel rules (kernel/bpf/net_namespace.c, net/core/flow_dissector.c), each explained when hit:
 * - a link while a program is attached directly, or the other way round → EEXIST;
 * - PROG_DETACH while a link exists → EINVAL;
 * - a second flow-dissector link, or a 65th sk_lookup link → E2BIG;
 * - a flow dissector in any netns while the init netns has one, or in the init netns while any
 *   other has one → EEXIST;
 * - a netns does not outlive its links: when it dies they are auto-detached (defunct).
 *
 * @module
 */
import { fstatSync, readlinkSync, statSync } from 'node:fs';
import {
  BpfError,
  BpfjsTypeError,
  CLONE_NEWNET,
  errInvalidArgType,
  errInvalidArgValue,
  type Fd,
  O_NONBLOCK,
  O_PATH,
  O_RDONLY,
  openPath,
  setns,
} from '@bpfjs/sys';
import {
  explainFailure,
  isFd,
  linkCreateUnchecked,
  optionKeys,
  progAttachUnchecked,
  progDetachUnchecked,
  progQueryUnchecked,
  validateInteger,
  validateObject,
} from '@bpfjs/sys/internal';
import { bpf_attach_type, bpf_link_type } from '@bpfjs/uapi';
import { errClosed, explain } from './errors.js';
import { type NetNsLink, wrapLink } from './link.js';
import { attachTypeName, attachTypeValue } from './names.js';
import type { Program } from './program.js';
import { programFd } from './program.js';

/**
 * A network namespace as the netns functions accept it: a `NetNs` from `@bpfjs/netns` or
 * anything else with an `fd` (an `Fd` or a number), an `Fd`, a raw fd number, or a path
 * (`/proc/<pid>/ns/net`, `/run/netns/<name>`), which is opened for the call and closed again.
 */
export type NetNsTarget = { readonly fd: Fd | number } | Fd | number | string;

/** The two netns attach types. */
const FLOW_DISSECTOR = 'flow_dissector';
const SK_LOOKUP = 'sk_lookup';

/** The inode of the init netns on kernels that give it a fixed one (PROC_NET_INIT_INO). */
const PROC_NET_INIT_INO = 0xeffffff9;

interface ResolvedNetNs {
  readonly fd: number;
  readonly opened: Fd | undefined;
}

/**
 * The fd number of a netns the caller owns (NetNs-like, Fd or number), or -1 for a path (which
 * the caller must open). Checks in the order of the hot path: objects first.
 */
function borrowedNetNsFd(netns: unknown, name: string): number {
  if (typeof netns === 'object' && netns !== null) {
    // The Fd brand is only a claim: its number is range-checked like a raw one (a fake with fd
    // 2^32+5 would otherwise reach the kernel as fd 5).
    if (isFd(netns)) {
      if (netns.closed) throw errClosed(`Fd given as "${name}"`);
      return validateInteger(netns.fd, `${name}.fd`, 0, 0x7fffffff);
    }
    const inner = (netns as { fd?: unknown }).fd;
    if (isFd(inner)) {
      if (inner.closed) throw errClosed(`network namespace given as "${name}"`);
      return validateInteger(inner.fd, `${name}.fd.fd`, 0, 0x7fffffff);
    }
    if (typeof inner === 'number') return validateInteger(inner, `${name}.fd`, 0, 0x7fffffff);
  } else if (typeof netns === 'number') {
    return validateInteger(netns, name, 0, 0x7fffffff);
  } else if (typeof netns === 'string') {
    if (netns === '' || netns.includes('\0'))
      throw errInvalidArgValue(name, netns, 'must be a non-empty path');
    return -1;
  }
  throw errInvalidArgType(name, 'a NetNs (anything with an fd), an Fd, an fd number or a path', netns);
}

function resolveNetNs(netns: unknown, name: string): ResolvedNetNs {
  const fd = borrowedNetNsFd(netns, name);
  if (fd >= 0) return { fd, opened: undefined };
  const opened = openNetNsPath(netns as string);
  return { fd: opened.fd, opened };
}

/** The namespace type an fd refers to (`'net'`, `'mnt'`, ...), from its `/proc` link; else undefined. */
function nsTypeOf(fd: number): string | undefined {
  try {
    return /^(\w+):\[\d+\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`))?.[1];
  } catch {
    return undefined;
  }
}

/** The sentence for a kernel EINVAL on a target fd that is not a network namespace. */
function notNetNsSentence(fd: number): string {
  const type = nsTypeOf(fd);
  return `fd ${fd} is ${type === undefined ? 'not a namespace' : `a ${type} namespace`}, not a network namespace`;
}

/** `ERR_BPFJS_NOT_NETNS`: a path or fd given as a network namespace is something else. */
function errNotNetNs(what: string, fd: number): BpfjsTypeError {
  const type = nsTypeOf(fd);
  return new BpfjsTypeError(
    'ERR_BPFJS_NOT_NETNS',
    `${what} is ${type === undefined ? 'not a namespace file' : `a ${type} namespace`}, not a network namespace`,
  );
}

/**
 * Opens a network namespace file by path without ever blocking: O_PATH first (a FIFO or a device
 * is not opened for reading), the kind checked through its /proc link (`net:[…]`), then a real
 * descriptor through /proc/self/fd (O_NONBLOCK too, belt and braces).
 * @throws TypeError `ERR_BPFJS_NOT_NETNS`; BpfError ENOENT, EACCES, ... from open.
 */
function openNetNsPath(path: string): Fd {
  const handle = openPath(path, O_PATH);
  try {
    if (nsTypeOf(handle.fd) !== 'net') throw errNotNetNs(`'${path}'`, handle.fd);
    return openPath(`/proc/self/fd/${handle.fd}`, O_RDONLY | O_NONBLOCK);
  } finally {
    handle.close();
  }
}

function inodeOf(fd: number): number | undefined {
  try {
    return fstatSync(fd).ino;
  } catch {
    return undefined;
  }
}

const FLOW_DISSECTOR_ID: number = bpf_attach_type.BPF_FLOW_DISSECTOR;
const SK_LOOKUP_ID: number = bpf_attach_type.BPF_SK_LOOKUP;

/** The attach type number of a netns attach type; the two names and numbers take a fast path. */
function netnsAttachTypeId(value: unknown, name: string): number {
  if (value === SK_LOOKUP || value === SK_LOOKUP_ID) return SK_LOOKUP_ID;
  if (value === FLOW_DISSECTOR || value === FLOW_DISSECTOR_ID) return FLOW_DISSECTOR_ID;
  return attachTypeValue(netnsAttachType(value, name));
}

function netnsAttachType(value: unknown, name: string): string {
  const t = attachTypeName(attachTypeValue(value, name));
  if (t !== FLOW_DISSECTOR && t !== SK_LOOKUP) {
    throw errInvalidArgValue(name, value, "must be a netns attach type: 'flow_dissector' or 'sk_lookup'");
  }
  return t;
}

function defaultAttachType(program: Program, name: string): string {
  if (program.type === FLOW_DISSECTOR) return FLOW_DISSECTOR;
  if (program.type === SK_LOOKUP) return SK_LOOKUP;
  throw errInvalidArgValue(
    name,
    program.type,
    'must be a flow_dissector or sk_lookup program to attach to a network namespace (or give the attach type)',
  );
}

/**
 * Whether `inode` is the init netns's: the fixed PROC_NET_INIT_INO on kernels that have one, else
 * PID 1's netns where this process may read it (older kernels number the init netns like any
 * other). Used to word an error, so "cannot tell" is simply false. (Internal; tests use it too.)
 */
export function isInitNetNsInode(inode: number | undefined): boolean {
  if (inode === undefined) return false;
  if (inode === PROC_NET_INIT_INO) return true;
  try {
    return statSync('/proc/1/ns/net').ino === inode;
  } catch {
    return false;
  }
}

function rootConflictSentence(inode: number | undefined): string {
  if (isInitNetNsInode(inode)) {
    return (
      'this is the init network namespace and another namespace has a flow dissector attached; ' +
      'a root flow dissector excludes all others, so detach theirs first'
    );
  }
  return (
    'the init network namespace has a flow dissector attached, which overrides (and excludes) one ' +
    'in any other namespace — or, if this is the init namespace, another namespace has one'
  );
}

/** How many programs a netns attach point runs now (query, without throwing). */
function attachedCount(netnsFd: number, attachType: number): number | undefined {
  try {
    return progQueryUnchecked(netnsFd, attachType).progIds.length;
  } catch {
    return undefined;
  }
}

/**
 * Attaches `program` to a network namespace with a `bpf_link` (BPF_LINK_CREATE). The link
 * does not keep the namespace alive: when it is destroyed the link is auto-detached and becomes
 * defunct (`isDefunct()`, `netnsInode: 0`). Closing the link's last fd (unless pinned) detaches.
 *
 * Flow dissector links need Linux 5.8, sk_lookup 5.9; CAP_NET_ADMIN + CAP_BPF (or CAP_SYS_ADMIN).
 *
 * @param attachType `'flow_dissector'` or `'sk_lookup'`; defaults from the program type.
 * @throws TypeError before any syscall: not a `Program`, closed program, bad netns, an attach
 *   type other than flow_dissector/sk_lookup (`ERR_INVALID_ARG_VALUE`).
 * @throws BpfError: `EEXIST` a program is attached directly (or the init-netns flow dissector
 *   rule), `E2BIG` second flow dissector link / 65th sk_lookup link — each with a sentence.
 */
export function attachNetNs(program: Program, netns: NetNsTarget, attachType?: string | number): NetNsLink {
  const progFd = programFd(program, 'program');
  const typeId =
    attachType === undefined
      ? netnsAttachTypeId(defaultAttachType(program, 'program.type'), 'program.type')
      : netnsAttachTypeId(attachType, 'attachType');
  const target = resolveNetNs(netns, 'netns');
  try {
    return createNetNsLink(progFd, target.fd, typeId);
  } finally {
    target.opened?.close();
  }
}

function createNetNsLink(progFd: number, netnsFd: number, typeId: number): NetNsLink {
  let link: Fd;
  try {
    link = linkCreateUnchecked(progFd, netnsFd, typeId);
  } catch (e) {
    const err = explainFailure(e, 'BPF_LINK_CREATE', typeId);
    const type = attachTypeName(typeId);
    throw explain(err, explainLinkCreate(err, netnsFd, type, typeId), {
      operation: 'attachNetNs',
      attachType: type,
      ...netnsInodeContext(netnsFd),
    });
  }
  return wrapLink(link, NETNS_LINK_TYPE) as NetNsLink;
}

const NETNS_LINK_TYPE: number = bpf_link_type.BPF_LINK_TYPE_NETNS;

function netnsInodeContext(fd: number): { netnsInode?: number } {
  const ino = inodeOf(fd);
  return ino === undefined ? {} : { netnsInode: ino };
}

function explainLinkCreate(err: unknown, netnsFd: number, type: string, typeId: number): string | undefined {
  if (!BpfError.isInstance(err)) return undefined;
  switch (err.code) {
    case 'EEXIST': {
      const count = attachedCount(netnsFd, typeId);
      if (count !== undefined && count > 0) {
        return (
          `a program is already attached directly (prog attach) to this network namespace's ${type} hook; ` +
          'links and direct attachment cannot be mixed: detach it with detachProgram() first, or keep using attachProgram()'
        );
      }
      if (type === FLOW_DISSECTOR) return rootConflictSentence(inodeOf(netnsFd));
      return undefined;
    }
    case 'E2BIG':
      return type === FLOW_DISSECTOR
        ? 'this network namespace already has a flow_dissector link and the kernel allows only one; update it (link.update) instead'
        : 'this network namespace already has 64 sk_lookup links, the kernel limit';
    case 'EINVAL':
      if (nsTypeOf(netnsFd) !== 'net') return notNetNsSentence(netnsFd);
      return `the kernel refused the ${type} link (wrong program type for the attach type, or the kernel lacks ${type} links: flow_dissector needs Linux 5.8, sk_lookup 5.9)`;
    default:
      return undefined;
  }
}

/** Options of {@link attachProgram} and {@link detachProgram}. */
export interface LegacyAttachOptions {
  /** `'flow_dissector'` (attach and detach) or `'sk_lookup'` (detach only; the kernel has no legacy sk_lookup attach). */
  readonly attachType: string | number;
  /** The namespace; default: the calling thread's. */
  readonly netns?: NetNsTarget;
}

/**
 * Runs `fn` with the calling thread inside `netns` (setns), switching back in `finally`.
 * The kernel's legacy netns attach/detach act on the calling thread's namespace (target_fd 0).
 */
function inNetNs<T>(netns: NetNsTarget | undefined, fn: () => T): T {
  if (netns === undefined) return fn();
  const target = resolveNetNs(netns, 'options.netns');
  try {
    const saved = openPath('/proc/thread-self/ns/net');
    try {
      setns(target.fd, CLONE_NEWNET);
      try {
        return fn();
      } finally {
        setns(saved, CLONE_NEWNET);
      }
    } finally {
      saved.close();
    }
  } finally {
    target.opened?.close();
  }
}

function currentNetNsFd<T>(netns: NetNsTarget | undefined, fn: (fd: number) => T): T {
  if (netns !== undefined) {
    const target = resolveNetNs(netns, 'options.netns');
    try {
      return fn(target.fd);
    } finally {
      target.opened?.close();
    }
  }
  const own = openPath('/proc/thread-self/ns/net');
  try {
    return fn(own.fd);
  } finally {
    own.close();
  }
}

// attachProgram/detachProgram options: other keys are refused (ERR_INVALID_ARG_VALUE) — a misspelt
// `netns` would act on the calling thread's namespace instead.
const LEGACY_KEYS = optionKeys('attachType', 'netns');

function validateLegacy(
  program: unknown,
  options: unknown,
  op: string,
): { progFd: number; type: string; typeId: number; netns?: NetNsTarget } {
  const progFd = programFd(program, 'program');
  validateObject(options, 'options', LEGACY_KEYS);
  const type = netnsAttachType((options as { attachType?: unknown }).attachType, 'options.attachType');
  if (op === 'attach' && type === SK_LOOKUP) {
    throw errInvalidArgValue(
      'options.attachType',
      type,
      'cannot be sk_lookup for attachProgram: the kernel attaches sk_lookup programs only through links (use attachNetNs)',
    );
  }
  const netns = (options as { netns?: NetNsTarget }).netns;
  return { progFd, type, typeId: attachTypeValue(type), ...(netns === undefined ? {} : { netns }) };
}

/**
 * Attaches `program` directly (BPF_PROG_ATTACH, the pre-link way) to a network namespace's
 * flow dissector hook. The kernel acts on the calling thread's namespace (target_fd 0), so the
 * thread enters `options.netns` for the call and returns in `finally`. Replaces a directly
 * attached program; the same program twice → EINVAL.
 * @throws TypeError before any syscall for bad input (sk_lookup has no legacy attach).
 * @throws BpfError `EEXIST` when a link is attached (or the init-netns rule), with a sentence.
 */
export function attachProgram(program: Program, options: LegacyAttachOptions): void {
  const v = validateLegacy(program, options, 'attach');
  inNetNs(v.netns, () => {
    try {
      progAttachUnchecked(0, v.progFd, v.typeId);
    } catch (e) {
      const err = explainFailure(e, 'BPF_PROG_ATTACH', v.typeId);
      let sentence: string | undefined;
      if (BpfError.isInstance(err) && err.code === 'EEXIST') {
        const count = currentNetNsFd(undefined, (fd) => attachedCount(fd, v.typeId));
        sentence =
          count !== undefined && count > 0
            ? `a bpf_link holds this network namespace's ${v.type} hook; links and direct attachment cannot be mixed: close or detach the link, or update it (link.update)`
            : rootConflictSentence(currentNetNsFd(undefined, inodeOf));
      } else if (BpfError.isInstance(err) && err.code === 'EINVAL') {
        sentence =
          'this program is already the one attached (the kernel refuses attaching the same program twice)';
      }
      throw explain(err, sentence, { operation: 'attachProgram', attachType: v.type });
    }
  });
}

/**
 * Detaches a directly attached `program` (BPF_PROG_DETACH) from a network namespace's hook,
 * entering `options.netns` for the call like {@link attachProgram}.
 * @throws BpfError `EINVAL` while a link holds the hook (links are detached through the link),
 *   `ENOENT` if `program` is not the one attached — each with a sentence.
 */
export function detachProgram(program: Program, options: LegacyAttachOptions): void {
  const v = validateLegacy(program, options, 'detach');
  inNetNs(v.netns, () => {
    try {
      progDetachUnchecked(0, v.progFd, v.typeId);
    } catch (err) {
      let sentence: string | undefined;
      if (BpfError.isInstance(err) && err.code === 'EINVAL') {
        sentence = `a bpf_link holds this network namespace's ${v.type} hook; programs attached through links are detached with link.detach() or by closing the link, not with prog detach`;
      } else if (BpfError.isInstance(err) && err.code === 'ENOENT') {
        sentence = `this program is not attached directly to this network namespace's ${v.type} hook`;
      }
      throw explain(err, sentence, { operation: 'detachProgram', attachType: v.type });
    }
  });
}

/** What {@link queryPrograms} returns. */
export interface QueryResult {
  /** Ids of the programs the hook runs, in run order (link creation order for sk_lookup). */
  readonly programIds: number[];
  /** Attach flags (always 0 for netns hooks). */
  readonly attachFlags: number;
}

/**
 * The programs attached to a network namespace's hook, links and direct attachments alike
 * (BPF_PROG_QUERY with the netns fd as target). One syscall into a reused buffer.
 * @throws TypeError before any syscall for a bad netns or attach type.
 */
export function queryPrograms(netns: NetNsTarget, attachType: string | number): QueryResult {
  const typeId = netnsAttachTypeId(attachType, 'attachType');
  const target = resolveNetNs(netns, 'netns');
  try {
    return query(target.fd, typeId);
  } finally {
    target.opened?.close();
  }
}

function query(fd: number, typeId: number): QueryResult {
  try {
    const r = progQueryUnchecked(fd, typeId);
    return { programIds: r.progIds, attachFlags: r.attachFlags };
  } catch (err) {
    const sentence =
      BpfError.isInstance(err) && err.code === 'EINVAL' && nsTypeOf(fd) !== 'net'
        ? notNetNsSentence(fd)
        : undefined;
    throw explain(err, sentence, { operation: 'queryPrograms', attachType: attachTypeName(typeId) });
  }
}

/** @internal For tests: the init-netns inode constant of recent kernels. */
export const INIT_NETNS_INODE_HINT = PROC_NET_INIT_INO;
