/**
 * Input checks that run before any syscall: netns names (iproute2's rules), paths, pids, timeouts.
 *
 * @module
 */
import { fileURLToPath } from 'node:url';
import { errInvalidArgType, errInvalidArgValue, errOutOfRange, validatePath } from '@bpfjs/sys';

/** Where iproute2 keeps named network namespaces (`NETNS_RUN_DIR` in iproute2's `ip/ipnetns.c`). */
export const NETNS_RUN_DIR = '/run/netns';

/** `NAME_MAX` of Linux: the longest file name, in bytes. */
export const NAME_MAX = 255;

/**
 * Checks a netns name the way `ip netns add` does (iproute2 `invalid_name()`): not empty, at most
 * 255 bytes in UTF-8, no `/`, not `.` or `..`; additionally no NUL and no lone UTF-16 surrogate
 * (both would change the name on its way to the kernel).
 * @returns the name, unchanged.
 * @throws TypeError `ERR_INVALID_ARG_TYPE` for a non-string, `ERR_INVALID_ARG_VALUE` for a
 *   bad character or an empty/`.`/`..` name.
 * @throws RangeError `ERR_OUT_OF_RANGE` for a name over 255 bytes.
 */
export function checkName(name: unknown, what = 'name'): string {
  if (typeof name !== 'string') throw errInvalidArgType(what, 'of type string', name);
  if (name === '' || name === '.' || name === '..') {
    throw errInvalidArgValue(what, name, 'is not a valid netns name (empty, "." and ".." are refused)');
  }
  if (name.includes('/')) throw errInvalidArgValue(what, name, 'is not a valid netns name: it contains "/"');
  if (name.includes('\0')) {
    throw errInvalidArgValue(what, name, 'is not a valid netns name: it contains a NUL character');
  }
  if (!isWellFormed(name)) {
    throw errInvalidArgValue(what, name, 'is not a valid netns name: it contains a lone UTF-16 surrogate');
  }
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > NAME_MAX)
    throw errOutOfRange(`${what}.length`, `at most ${NAME_MAX} bytes in UTF-8 (NAME_MAX)`, bytes);
  return name;
}

/** `String.prototype.isWellFormed` without requiring Node 20's lib typings. */
function isWellFormed(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      return false;
    }
  }
  return true;
}

/** The path of the iproute2 file for `name` (already checked). */
export function namedPath(name: string): string {
  return `${NETNS_RUN_DIR}/${name}`;
}

/**
 * If `path` names a file directly under `/run/netns` (`/run/netns/NAME`, no further slashes),
 * returns NAME, so that `NetNs.open('/run/netns/x')` is the same as `NetNs.fromName('x')`.
 */
export function nameOfPath(path: string): string | undefined {
  const prefix = `${NETNS_RUN_DIR}/`;
  if (!path.startsWith(prefix)) return undefined;
  const rest = path.slice(prefix.length);
  if (rest === '' || rest === '.' || rest === '..' || rest.includes('/')) return undefined;
  return rest;
}

/**
 * Checks a path argument: a non-empty string (or a `file:` URL) without NUL.
 * @throws TypeError `ERR_INVALID_ARG_TYPE` / `ERR_INVALID_ARG_VALUE`.
 */
export function checkPath(path: unknown, what = 'path'): string {
  if (path instanceof URL) {
    if (path.protocol !== 'file:') throw errInvalidArgValue(what, path.href, 'must be a file: URL');
    return validatePath(fileURLToPath(path), what);
  }
  if (typeof path !== 'string') throw errInvalidArgType(what, 'of type string or an instance of URL', path);
  return validatePath(path, what);
}

/** Largest pid Linux can hand out (`PID_MAX_LIMIT` on 64-bit: 4 * 1024 * 1024). */
export const PID_MAX_LIMIT = 4 * 1024 * 1024;

/**
 * Checks a pid (or tid): an integer in `1..4194304`.
 * @throws TypeError `ERR_INVALID_ARG_TYPE` for a non-number.
 * @throws RangeError `ERR_OUT_OF_RANGE` for 0, a negative, a fraction or a value over the limit.
 */
export function checkPid(pid: unknown, what = 'pid'): number {
  if (typeof pid !== 'number') throw errInvalidArgType(what, 'of type number', pid);
  if (!Number.isInteger(pid) || pid < 1 || pid > PID_MAX_LIMIT) {
    throw errOutOfRange(what, `an integer >= 1 and <= ${PID_MAX_LIMIT}`, pid);
  }
  return pid;
}

/**
 * Checks a duration in milliseconds: a finite number >= 0 (or undefined → `fallback`).
 * @throws TypeError `ERR_INVALID_ARG_TYPE` / RangeError `ERR_OUT_OF_RANGE`.
 */
export function checkMs(value: unknown, what: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw errInvalidArgType(what, 'of type number', value);
  if (!Number.isFinite(value) || value < 0) throw errOutOfRange(what, 'a finite number >= 0', value);
  return value;
}
