/**
 * File descriptors from the things users put into fd-valued maps: `Fd`s, numbers, objects that
 * own an `Fd` (`Program`, `BpfMap`, `NetNs`), and Node's sockets.
 *
 * @module
 */
import { errInvalidArgType } from '@bpfjs/sys';
import { isFd } from '@bpfjs/sys/internal';
import { errClosed, errNoFd } from './errors.js';

/** What fd-valued maps (sockmap, prog_array, map-of-maps) accept as a value. */
export type FdSource =
  | number
  | { readonly fd: number; readonly closed: boolean }
  | { readonly fd: { readonly fd: number; readonly closed: boolean } }
  | object;

/**
 * Node keeps a socket's descriptor in its internal handle and documents no way to read it.
 * This function is the ONE place bpfjs reads it (`_handle.fd` of `net.Server`/`net.Socket`, and
 * the handle inside a `dgram.Socket`'s state): if Node changes its internals, only this breaks,
 * with `ERR_BPFJS_NO_FD`. To avoid it altogether, make the socket with `ns.socket()` (from
 * `@bpfjs/netns`) and hand the `Fd` to both Node (`server.listen({ fd })`) and the map.
 * @throws TypeError `ERR_BPFJS_NO_FD` when the object has no descriptor (not listening/bound
 *   yet, closed, a cluster worker's shared handle, a pipe on another platform).
 * @internal
 */
export function nodeSocketFd(socket: object, what: string): number {
  const s = socket as { _handle?: { fd?: unknown } | null; destroyed?: boolean };
  let handle: { fd?: unknown } | null | undefined;
  let dgram = false;
  // dgram.Socket keeps its handle in a symbol-keyed state object (reading its `_handle` is
  // deprecated, DEP0112, and would warn).
  for (const sym of Object.getOwnPropertySymbols(socket)) {
    const state = (socket as Record<symbol, unknown>)[sym] as
      | { handle?: { fd?: unknown }; bindState?: number }
      | undefined;
    if (typeof state === 'object' && state !== null && 'handle' in state && 'bindState' in state) {
      dgram = true;
      handle = state.handle ?? null;
      // BIND_STATE_BOUND is 2: an unbound UDP socket has no descriptor yet.
      if (state.bindState !== 2)
        throw errNoFd(what, 'the dgram socket is not bound yet; wait for bind() to call back');
      break;
    }
  }
  if (!dgram) handle = s._handle;
  if (handle === null || handle === undefined) {
    throw errNoFd(
      what,
      s.destroyed === true
        ? 'it is closed'
        : "it is not listening/connected yet (wait for the 'listening' or 'connect' event), or Node shares it from a cluster primary",
    );
  }
  const fd = handle.fd;
  if (typeof fd !== 'number' || fd < 0)
    throw errNoFd(what, 'Node exposes no file descriptor for this handle');
  return fd;
}

function isNodeSocket(x: object): boolean {
  const name = x.constructor?.name;
  return name === 'Server' || name === 'Socket';
}

/**
 * The fd number of an fd-valued map value: a number, an `Fd`, an object owning an `Fd` in `fd`
 * (`Program`, `BpfMap`), or a Node socket/server.
 * @throws TypeError `ERR_INVALID_ARG_TYPE`, `ERR_BPFJS_CLOSED`, `ERR_BPFJS_NO_FD`.
 * @internal
 */
export function fdOfSource(value: unknown, name: string, expected: string): number {
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= 0 && value <= 0x7fffffff) return value;
    throw errInvalidArgType(name, expected, value);
  }
  if (typeof value !== 'object' || value === null) throw errInvalidArgType(name, expected, value);
  if (isFd(value)) {
    if (value.closed) throw errClosed(`Fd given as "${name}"`);
    return value.fd;
  }
  let owned: unknown;
  try {
    owned = (value as { fd?: unknown }).fd;
  } catch {
    // An object that only claims to be a Program/BpfMap (no private fd behind its getter).
    throw errInvalidArgType(name, expected, value);
  }
  if (isFd(owned)) {
    if (owned.closed) throw errClosed(`object given as "${name}"`);
    return owned.fd;
  }
  if (isNodeSocket(value)) return nodeSocketFd(value, name);
  throw errInvalidArgType(name, expected, value);
}
