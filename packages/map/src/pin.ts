/**
 * Pinning maps on a BPF file system with the rules `Program`/`Link` pins follow in
 * `@bpfjs/link`: the directory must be on bpffs (checked first), an existing path is replaced only
 * when asked (atomically, by rename), and unpinning a missing path is not an error.
 *
 * @module
 */
import { renameSync, unlinkSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { BpfError, BpfjsTypeError, errInvalidArgType, errInvalidArgValue, isBpffs, objPin } from '@bpfjs/sys';
import { optionKeys, validateObject } from '@bpfjs/sys/internal';
import { explain } from './errors.js';

/** Options of `map.pin()`. */
export interface PinOptions {
  /** Replace whatever is pinned at the path (pin beside it, then rename over it). */
  readonly replace?: boolean;
}

const PIN_KEYS = optionKeys('replace');

/** Validates a pin path and returns it absolute. @internal */
export function validatePinPath(path: unknown, name = 'path'): string {
  if (typeof path !== 'string') throw errInvalidArgType(name, 'of type string', path);
  if (path === '' || path.includes('\0'))
    throw errInvalidArgValue(name, path, 'must be a non-empty path without NUL');
  return resolve(path);
}

function onBpffs(dir: string): boolean | undefined {
  try {
    return isBpffs(dir);
  } catch (err) {
    if (BpfError.isInstance(err) && (err.code === 'ENOENT' || err.code === 'ENOTDIR')) return undefined;
    throw err;
  }
}

function errNotBpffs(path: string, dir: string): BpfjsTypeError {
  return new BpfjsTypeError(
    'ERR_BPFJS_NOT_BPFFS',
    `Cannot pin at '${path}': the directory '${dir}' is not on a BPF filesystem (mount one with 'mount -t bpf bpf ${dir}', or pin under /sys/fs/bpf)`,
  );
}

let tmpCounter = 0;

/** Pins `fd` at `path`; returns the absolute path. @internal */
export function pinFd(fd: number, pathArg: unknown, options: PinOptions | undefined, what: string): string {
  const path = validatePinPath(pathArg);
  if (options !== undefined) validateObject(options, 'options', PIN_KEYS);
  const replace = options?.replace ?? false;
  if (typeof replace !== 'boolean') throw errInvalidArgType('options.replace', 'of type boolean', replace);
  const dir = dirname(path);
  if (onBpffs(dir) !== true) throw errNotBpffs(path, dir);
  const context = { operation: `${what}.pin`, path };
  // No dot in the temporary name: bpffs reserves names with dots (EPERM).
  const target = replace ? `${dir}/bpfjs_pin_tmp_${process.pid}_${++tmpCounter}` : path;
  try {
    objPin(fd, target);
  } catch (err) {
    const code = BpfError.isInstance(err) ? err.code : undefined;
    const sentence =
      code === 'EEXIST'
        ? `something is already pinned at '${path}'; pass { replace: true } to replace it`
        : code === 'EPERM' && basename(path).includes('.')
          ? `bpffs reserves names with a dot ('${basename(path)}'); choose a name without one`
          : undefined;
    throw explain(err, sentence, context);
  }
  if (replace) {
    try {
      renameSync(target, path);
    } catch (err) {
      unlinkSync(target);
      throw err;
    }
  }
  return path;
}

/** Removes a pin; a missing path is not an error (false). @internal */
export function unpinPath(pathArg: unknown): boolean {
  const path = validatePinPath(pathArg);
  const ok = onBpffs(dirname(path));
  if (ok === undefined) return false;
  if (!ok) throw errNotBpffs(path, dirname(path));
  try {
    unlinkSync(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
