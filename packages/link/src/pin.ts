/**
 * Pinning objects on a BPF file system, with bpfjs's rules: the target directory must be on
 * bpffs (checked first), an existing path is replaced only when asked, and unpinning a missing
 * path is not an error.
 *
 * @module
 */
import { renameSync, unlinkSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import {
  BpfError,
  errInvalidArgType,
  errInvalidArgValue,
  isBpffs,
  optionKeys,
  validateKnownKeys,
} from '@bpfjs/sys';

// pin() options: anything but `replace` is refused (ERR_INVALID_ARG_VALUE).
const PIN_KEYS = optionKeys('replace');

import { errNotBpffs, explain } from './errors.js';
import * as kernel from './kernel.js';

/** Options of `pin()` on programs and links. */
export interface PinOptions {
  /**
   * Replace whatever is pinned at the path already (atomically: pin beside it, then rename over
   * it). Without it, an existing path fails with `EEXIST`.
   */
  readonly replace?: boolean;
}

/** Validates a pin path argument and returns it absolute. @internal */
export function validatePinPath(path: unknown, name = 'path'): string {
  if (typeof path !== 'string') throw errInvalidArgType(name, 'of type string', path);
  if (path === '' || path.includes('\0'))
    throw errInvalidArgValue(name, path, 'must be a non-empty path without NUL');
  return resolve(path);
}

function checkBpffs(path: string): void {
  const dir = dirname(path);
  let ok = false;
  try {
    ok = isBpffs(dir);
  } catch (err) {
    if (BpfError.isInstance(err) && (err.code === 'ENOENT' || err.code === 'ENOTDIR')) ok = false;
    else throw err;
  }
  if (!ok) throw errNotBpffs(path, dir);
}

let tmpCounter = 0;

/**
 * Pins `fd` at `path`.
 * @throws TypeError `ERR_BPFJS_NOT_BPFFS` before any syscall if the directory is not on bpffs;
 *   BpfError `EEXIST` if something is pinned there and `replace` is not set.
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
  checkBpffs(path);
  if (!replace) {
    try {
      kernel.objPin(fd, path);
    } catch (err) {
      if (BpfError.isInstance(err) && err.code === 'EEXIST') {
        throw explain(err, `something is already pinned at '${path}'; pass { replace: true } to replace it`, {
          operation: `${what}.pin`,
          path,
        });
      }
      if (BpfError.isInstance(err) && err.code === 'EPERM' && basename(path).includes('.')) {
        throw explain(
          err,
          `bpffs reserves names with a dot ('${basename(path)}'); choose a name without one`,
          {
            operation: `${what}.pin`,
            path,
          },
        );
      }
      throw explain(err, undefined, { operation: `${what}.pin`, path });
    }
    return path;
  }
  // Replace atomically: pin under a temporary name in the same directory, then rename(2) over the
  // target (bpffs supports rename, which replaces an existing entry).
  // (No dot in the name: bpffs reserves names with dots and answers EPERM.)
  const tmp = `${dirname(path)}/bpfjs_pin_tmp_${process.pid}_${++tmpCounter}`;
  try {
    kernel.objPin(fd, tmp);
  } catch (err) {
    throw explain(err, undefined, { operation: `${what}.pin`, path });
  }
  try {
    renameSync(tmp, path);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // best effort
    }
    throw err;
  }
  return path;
}

/**
 * Removes a pin. A missing path is not an error (returns false).
 * @throws TypeError `ERR_BPFJS_NOT_BPFFS` if the path exists but is not on bpffs.
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
  if (!onBpffs) throw errNotBpffs(path, dirname(path));
  try {
    unlinkSync(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
