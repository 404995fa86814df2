/**
 * The one place where `@bpfjs/link` calls the bpf command wrappers of `@bpfjs/sys`. Everything
 * here takes already-validated numbers; hot paths (info, update, query) reuse preallocated
 * buffers so that a call allocates nothing but its result.
 *
 * @module
 * @internal
 */

import type { Fd } from '@bpfjs/sys';
import * as sys from '@bpfjs/sys';
import { BPF_LINK_TYPE_ITER, BPF_LINK_TYPE_PERF_EVENT, BPF_LINK_TYPE_RAW_TRACEPOINT } from '@bpfjs/uapi';
import { decodeLinkInfo, fromSysLinkInfo, type LinkInfo, linkInfoSize, progInfoSize } from './info.js';

/** Loads a program; on failure the error carries the verifier log (`log`). */
export function progLoad(o: {
  progType: number;
  insns: Uint8Array;
  license: string;
  expectedAttachType: number | undefined;
  name: string | undefined;
}): Fd {
  return sys.progLoad({
    type: o.progType,
    insns: o.insns,
    license: o.license,
    ...(o.expectedAttachType === undefined ? {} : { expectedAttachType: o.expectedAttachType }),
    ...(o.name === undefined ? {} : { name: o.name }),
  });
}

/** BPF_OBJ_PIN. */
export function objPin(fd: number, path: string): void {
  sys.objPin(fd, path);
}

/** BPF_OBJ_GET. */
export function objGet(path: string): Fd {
  return sys.objGet(path);
}

/** BPF_LINK_CREATE with a target fd. */
export function linkCreate(progFd: number, targetFd: number, attachType: number): Fd {
  return sys.linkCreate({ progFd, targetFd, attachType });
}

/** BPF_LINK_UPDATE; `oldProgFd` set → BPF_F_REPLACE. */
export function linkUpdate(linkFd: number, newProgFd: number, oldProgFd: number | undefined): void {
  // sys sets BPF_F_REPLACE itself when oldProgFd is given.
  if (oldProgFd === undefined) sys.linkUpdate({ linkFd, newProgFd });
  else sys.linkUpdate({ linkFd, newProgFd, oldProgFd });
}

/** BPF_LINK_DETACH (Linux 5.9+). */
export function linkDetach(linkFd: number): void {
  sys.linkDetach(linkFd);
}

/** BPF_PROG_ATTACH. */
export function progAttach(progFd: number, targetFd: number, attachType: number): void {
  sys.progAttach({ targetFd, progFd, attachType });
}

/** BPF_PROG_DETACH. */
export function progDetach(progFd: number, targetFd: number, attachType: number): void {
  sys.progDetach({ targetFd, progFd, attachType });
}

/**
 * BPF_PROG_QUERY. sys reuses one attr and one id buffer across calls (growing it on ENOSPC), so
 * a query allocates only the returned id array.
 */
export function progQuery(targetFd: number, attachType: number): { attachFlags: number; progIds: number[] } {
  return sys.progQuery({ targetFd, attachType });
}

let linkInfoBuf: Uint8Array | undefined;
let linkInfoView: DataView | undefined;

// Link types whose info carries a name string that needs a buffer of its own.
const NAMED_LINK_TYPES: ReadonlySet<number> = new Set([
  BPF_LINK_TYPE_RAW_TRACEPOINT,
  BPF_LINK_TYPE_ITER,
  BPF_LINK_TYPE_PERF_EVENT,
]);

/**
 * Link info, hot path first: sys's `linkGetInfo` (one preallocated attr and info buffer inside
 * sys) decodes the common types; the others take a second call into a full info buffer, and
 * raw_tracepoint, iter and perf_event links a third one for their name string (sys
 * `linkGetInfoWithName`, as bpftool fetches it).
 */
export function anyLinkInfo(fd: number): LinkInfo {
  const hot = sys.linkGetInfo(fd);
  const common = fromSysLinkInfo(hot);
  if (common !== undefined) return common;
  if (NAMED_LINK_TYPES.has(hot.type)) {
    const view = fullInfoBuffer();
    const { name } = sys.linkGetInfoWithName(fd, linkInfoBuf!);
    return decodeLinkInfo(view, name);
  }
  return decodeLinkInfo(linkInfo(fd));
}

/** The kernel link type of a link fd (one info call through sys's preallocated buffer). */
export function linkType(fd: number): number {
  return sys.linkGetInfo(fd).type;
}

function fullInfoBuffer(): DataView {
  if (linkInfoBuf === undefined) {
    linkInfoBuf = new Uint8Array(new ArrayBuffer(linkInfoSize())); // off the V8 heap: a stable address
    linkInfoView = new DataView(linkInfoBuf.buffer);
  }
  return linkInfoView!;
}

/** BPF_OBJ_GET_INFO_BY_FD for any link into a reused buffer (valid until the next call). */
export function linkInfo(fd: number): DataView {
  const view = fullInfoBuffer();
  linkInfoBuf!.fill(0);
  sys.objGetInfoByFd(fd, linkInfoBuf!);
  return view;
}

let progInfoBuf: Uint8Array | undefined;
let progInfoView: DataView | undefined;

/** BPF_OBJ_GET_INFO_BY_FD for a program into a reused buffer (valid until the next call). */
export function progInfo(fd: number): DataView {
  if (progInfoBuf === undefined) {
    progInfoBuf = new Uint8Array(new ArrayBuffer(progInfoSize())); // off the V8 heap: a stable address
    progInfoView = new DataView(progInfoBuf.buffer);
  }
  progInfoBuf.fill(0);
  sys.objGetInfoByFd(fd, progInfoBuf);
  return progInfoView!;
}

/** BPF_LINK_GET_NEXT_ID; undefined at the end. */
export function linkGetNextId(startId: number): number | undefined {
  return sys.linkGetNextId(startId);
}

/** BPF_LINK_GET_FD_BY_ID. */
export function linkGetFdById(id: number): Fd {
  return sys.linkGetFdById(id);
}

/** BPF_PROG_GET_NEXT_ID; undefined at the end. */
export function progGetNextId(startId: number): number | undefined {
  return sys.progGetNextId(startId);
}

/** BPF_PROG_GET_FD_BY_ID. */
export function progGetFdById(id: number): Fd {
  return sys.progGetFdById(id);
}

/**
 * Opens a link by id, calls `use` with the raw fd number and closes it afterwards (no `Fd`: for
 * the one info call per link while listing). Open failures throw with command
 * `BPF_LINK_GET_FD_BY_ID`.
 */
export function withLinkFdById<T>(id: number, use: (fd: number) => T): T {
  return sys.withFdById('link', id, use);
}

/** As {@link withLinkFdById}, for a program (`BPF_PROG_GET_FD_BY_ID`). */
export function withProgFdById<T>(id: number, use: (fd: number) => T): T {
  return sys.withFdById('prog', id, use);
}
