/**
 * Pinning objects on a BPF file system, with bpfjs's rules: the target directory must be on
 * bpffs (checked first), an existing path is replaced only when asked, and unpinning a missing
 * path is not an error.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, realpathSync, renameSync, unlinkSync } from 'node:fs';
import { basename, dirname, isAbsolute } from 'node:path';
import { BpfError, errInvalidArgType, errInvalidArgValue, errnoNumber, type Fd, isBpffs } from '@bpfjs/sys';
import { objGetUnchecked, objPinUnchecked, optionKeys, validateKnownKeys } from '@bpfjs/sys/internal';

// pin() options: anything but `replace` is refused (ERR_INVALID_ARG_VALUE).
const PIN_KEYS = optionKeys('replace');

import { errNotBpffs, explain } from './errors.js';

/** Options of `pin()` on programs and links. */
export interface PinOptions {
  /**
   * Replace whatever is pinned at the path already (atomically: pin beside it under a temporary
   * name, then rename over it). Without it, an existing path fails with `EEXIST`. A process
   * killed between the two steps leaves its temporary pin (`bpfjs_pin_tmp_<pid>_<random>`)
   * behind; the next `pin(…, { replace: true })` into that directory removes the temporaries of
   * processes that no longer exist.
   */
  readonly replace?: boolean;
}

/**
 * Validates a pin path argument and returns it absolute. Only the current directory is put in
 * front of a relative path: `..` and symlinks are left for the kernel to resolve, as it will
 * (`B/s/../p` with `s` a symlink is in the parent of `s`'s target, not in `B`). The directory
 * part is canonicalised with realpath when it exists, so `pinnedPath` names the real place.
 * @internal
 */
export function validatePinPath(path: unknown, name = 'path'): string {
  if (typeof path !== 'string') throw errInvalidArgType(name, 'of type string', path);
  if (path === '' || path.includes('\0'))
    throw errInvalidArgValue(name, path, 'must be a non-empty path without NUL');
  const abs = isAbsolute(path) ? path : `${process.cwd()}/${path}`;
  const base = basename(abs);
  if (base === '' || base === '.' || base === '..') return abs;
  try {
    // .native: realpath(3). Node's JS realpathSync normalises `..` as text before resolving.
    const dir = realpathSync.native(dirname(abs));
    return dir === '/' ? `/${base}` : `${dir}/${base}`;
  } catch {
    return abs;
  }
}

/** A Node fs error (`renameSync`, `unlinkSync`) as the `BpfError` the rest of bpfjs throws. */
function fsError(err: unknown, syscall: string, path: string): unknown {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const errno = typeof code === 'string' ? errnoNumber(code) : undefined;
  if (errno === undefined) return err;
  return new BpfError(errno, syscall, { path, cause: err });
}

/** The sentence for a failed pin (objPin or the rename of `replace`). */
function pinSentence(err: unknown, path: string): string | undefined {
  if (!BpfError.isInstance(err)) return undefined;
  switch (err.code) {
    case 'EEXIST':
      return `something is already pinned at '${path}'; pass { replace: true } to replace it`;
    case 'EPERM':
      return basename(path).includes('.')
        ? `bpffs reserves names with a dot ('${basename(path)}'); choose a name without one`
        : undefined;
    case 'EISDIR':
    case 'ENOTEMPTY':
      return `'${path}' is a directory; a pin cannot replace it (choose another name, or remove the directory)`;
    case 'EACCES':
      return `no permission to create entries in '${dirname(path)}' (bpffs directories have owners and modes like any other; pin as root or as the directory's owner)`;
    case 'ENOENT':
      return `the directory '${dirname(path)}' does not exist; create it on the BPF filesystem first`;
    default:
      return undefined;
  }
}

function checkBpffs(path: string, verb: string): void {
  const dir = dirname(path);
  let ok = false;
  try {
    ok = isBpffs(dir);
  } catch (err) {
    if (BpfError.isInstance(err) && (err.code === 'ENOENT' || err.code === 'ENOTDIR')) {
      // A missing directory is not a wrong file system: say so instead of suggesting a mount.
      throw explain(err, `the directory '${dir}' does not exist; create it on a BPF filesystem first`, {
        operation: verb,
        path,
      });
    }
    throw err;
  }
  if (!ok) throw errNotBpffs(path, dir, verb);
}

// Temporary pin names: bpfjs_pin_tmp_<pid>_<16 random hex digits>. The pid lets the next pin
// into the directory tell a leftover of a killed process; the random part makes the name
// unpredictable (no one can pre-create or race for it).
const TMP_PREFIX = 'bpfjs_pin_tmp_';
const TMP_NAME = /^bpfjs_pin_tmp_(\d+)_[0-9a-f]{16}$/;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * Removes the temporary pins that processes killed during `pin(…, { replace: true })` left in
 * `dir` (their pid no longer exists). Best effort: errors are ignored. A pid reused by a new
 * process keeps its leftover until that process is gone too.
 */
function sweepStaleTemporaries(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const m = TMP_NAME.exec(name);
    if (m === null) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || isAlive(pid)) continue;
    try {
      unlinkSync(`${dir}/${name}`);
    } catch {
      // someone else swept it, or it is not ours to remove
    }
  }
}

/**
 * Opens the object pinned at `path` (BPF_OBJ_GET). A path that is not on bpffs is refused by the
 * kernel with EACCES or EPERM, which reads like a privilege problem: the error says the path is
 * not on a BPF filesystem instead.
 * @internal
 */
export function getPinned(path: string, operation: string): Fd {
  try {
    return objGetUnchecked(path);
  } catch (err) {
    let sentence: string | undefined;
    if (
      BpfError.isInstance(err) &&
      (err.code === 'EACCES' || err.code === 'EPERM' || err.code === 'EINVAL')
    ) {
      let onBpffs: boolean | undefined;
      try {
        onBpffs = isBpffs(path);
      } catch {
        onBpffs = undefined;
      }
      if (onBpffs === false) {
        sentence = `'${path}' is not on a BPF filesystem, so it is not a pin (pins live on bpffs, e.g. under /sys/fs/bpf)`;
      }
    }
    throw explain(err, sentence, { operation, path });
  }
}

/**
 * Pins `fd` at `path`.
 * @throws TypeError `ERR_BPFJS_NOT_BPFFS` before any syscall if the directory is not on bpffs;
 *   BpfError `EEXIST` if something is pinned there and `replace` is not set; BpfError (with a
 *   sentence) for a missing directory, a dotted name, a directory in the way, EACCES.
 * @internal
 */
export function pinFd(fd: number, pathArg: unknown, options: PinOptions | undefined, what: string): string {
  const path = validatePinPath(pathArg);
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw errInvalidArgType('options', 'of type object', options);
  }
  if (options !== undefined) validateKnownKeys(options, 'options', PIN_KEYS);
  const replace = options?.replace ?? false;
  if (typeof replace !== 'boolean') throw errInvalidArgType('options.replace', 'of type boolean', replace);
  const operation = `${what}.pin`;
  checkBpffs(path, operation);
  if (!replace) {
    try {
      objPinUnchecked(fd, path);
    } catch (err) {
      throw explain(err, pinSentence(err, path), { operation, path });
    }
    return path;
  }
  // Replace atomically: pin under a temporary name in the same directory, then rename(2) over the
  // target (bpffs supports rename, which replaces an existing entry).
  // (No dot in the name: bpffs reserves names with dots and answers EPERM.)
  const dir = dirname(path);
  sweepStaleTemporaries(dir);
  const tmp = `${dir}/${TMP_PREFIX}${process.pid}_${randomBytes(8).toString('hex')}`;
  try {
    objPinUnchecked(fd, tmp);
  } catch (err) {
    throw explain(err, pinSentence(err, path), { operation, path });
  }
  try {
    renameSync(tmp, path);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // best effort
    }
    const e = fsError(err, 'rename', path);
    throw explain(e, pinSentence(e, path), { operation, path });
  }
  return path;
}

/**
 * Removes a pin. A missing path is not an error (returns false).
 * @throws TypeError `ERR_BPFJS_NOT_BPFFS` if the directory is not on bpffs (nothing outside bpffs
 *   is ever removed); BpfError `EISDIR` (with a sentence) for a directory.
 * @internal
 */
export function unpinPath(pathArg: unknown): boolean {
  const path = validatePinPath(pathArg);
  let onBpffs: boolean;
  try {
    onBpffs = isBpffs(dirname(path));
  } catch (err) {
    if (BpfError.isInstance(err) && (err.code === 'ENOENT' || err.code === 'ENOTDIR')) return false;
    throw err;
  }
  if (!onBpffs) throw errNotBpffs(path, dirname(path), 'unpin');
  try {
    unlinkSync(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    const e = fsError(err, 'unlink', path);
    const sentence =
      BpfError.isInstance(e) && e.code === 'EISDIR'
        ? `'${path}' is a directory, not a pin; remove it with rmdir`
        : BpfError.isInstance(e) && e.code === 'EACCES'
          ? `no permission to remove entries in '${dirname(path)}'`
          : undefined;
    throw explain(e, sentence, { operation: 'unpin', path });
  }
}
