/**
 * Running a module's exported function on a worker thread that entered a network namespace.
 *
 * The worker is started from a small script (evaluated, so it needs no file of its own) that loads
 * the built `@bpfjs/sys` (its CommonJS entry, resolved from this package), calls `setns()` on its
 * own thread, checks `/proc/thread-self/ns/net`, then imports the user's module and awaits the
 * export. Only that worker's thread is inside the netns: the libuv thread pool (async `fs`,
 * `dns.lookup`, `crypto`) stays where it was.
 *
 * @module
 */
import { createRequire } from 'node:module';
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { errInvalidArgType, errInvalidArgValue } from '@bpfjs/sys';
import { NetNsError } from './errors.js';

/** What the worker script receives as `workerData`. */
interface WorkerInput {
  readonly sysEntry: string;
  readonly fd: number;
  readonly inode: number;
  readonly moduleUrl: string;
  readonly exportName: string;
  readonly args: readonly unknown[];
}

/** An error as it crosses the thread boundary. */
interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
  readonly props: Record<string, unknown>;
}

type WorkerOutput =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly error: SerializedError };

// Evaluated with `eval: true`, which is CommonJS, or ESM when the process runs with
// `--input-type=module` (workers inherit execArgv): so only dynamic import(), no require.
const WORKER_SOURCE = `'use strict';
(async () => {
  const { parentPort, workerData } = await import('node:worker_threads');
  const { readlinkSync } = await import('node:fs');
  const { pathToFileURL } = await import('node:url');
  function serialize(e) {
    if (e === null || typeof e !== 'object') {
      return { name: 'Error', message: 'non-error value thrown: ' + String(e), props: {} };
    }
    const props = {};
    for (const key of ['code', 'errno', 'syscall', 'command', 'path', 'hint']) {
      const v = e[key];
      if (v !== undefined && typeof v !== 'object' && typeof v !== 'function') props[key] = v;
    }
    if (e[Symbol.for('bpfjs.BpfError')] === true) props.bpfError = true;
    return { name: String(e.name), message: String(e.message), stack: String(e.stack), props };
  }
  try {
    const sysModule = await import(pathToFileURL(workerData.sysEntry).href);
    const sys = typeof sysModule.setns === 'function' ? sysModule : sysModule.default;
    sys.setns(workerData.fd, sys.CLONE_NEWNET);
    const now = readlinkSync('/proc/thread-self/ns/net');
    if (now !== 'net:[' + workerData.inode + ']') {
      throw new Error('worker thread is in ' + now + ' after setns, expected net:[' + workerData.inode + ']');
    }
    const mod = await import(workerData.moduleUrl);
    const fn = mod[workerData.exportName];
    if (typeof fn !== 'function') {
      const err = new TypeError('module ' + workerData.moduleUrl + ' has no exported function "' + workerData.exportName + '"');
      err.code = 'ERR_INVALID_ARG_VALUE';
      throw err;
    }
    const value = await fn(...workerData.args);
    parentPort.postMessage({ ok: true, value });
  } catch (e) {
    parentPort.postMessage({ ok: false, error: serialize(e) });
  }
})();
`;

let sysEntryCache: string | undefined;

/** The file of the built `@bpfjs/sys` CommonJS entry that the worker loads. */
function sysEntry(): string {
  if (sysEntryCache === undefined) {
    sysEntryCache = createRequire(import.meta.url).resolve('@bpfjs/sys');
  }
  return sysEntryCache;
}

/**
 * Turns a module argument into an importable URL: an absolute path, a `file:` URL string or a URL
 * object. Relative paths are refused because it is not obvious what they would be relative to.
 * @throws TypeError `ERR_INVALID_ARG_TYPE` / `ERR_INVALID_ARG_VALUE`.
 */
export function moduleUrlOf(modulePath: unknown): string {
  if (modulePath instanceof URL) {
    if (modulePath.protocol !== 'file:')
      throw errInvalidArgValue('modulePath', modulePath.href, 'must be a file: URL');
    return modulePath.href;
  }
  if (typeof modulePath !== 'string') {
    throw errInvalidArgType('modulePath', 'of type string or an instance of URL', modulePath);
  }
  if (modulePath.includes('\0'))
    throw errInvalidArgValue('modulePath', modulePath, 'must not contain null bytes');
  if (modulePath.startsWith('file:')) return new URL(modulePath).href;
  if (!isAbsolute(modulePath)) {
    throw errInvalidArgValue('modulePath', modulePath, 'must be an absolute path or a file: URL');
  }
  return pathToFileURL(modulePath).href;
}

/** Rebuilds an error that crossed from the worker, keeping its name, code and the worker's stack. */
function revive(s: SerializedError): Error {
  const e =
    s.name === 'TypeError'
      ? new TypeError(s.message)
      : s.name === 'RangeError'
        ? new RangeError(s.message)
        : new Error(s.message);
  e.name = s.name;
  if (s.stack !== undefined) e.stack = s.stack;
  const { bpfError, ...props } = s.props;
  Object.assign(e, props);
  // Keep BpfError.isInstance() true for kernel errors raised inside the worker.
  if (bpfError === true) Object.defineProperty(e, Symbol.for('bpfjs.BpfError'), { value: true });
  return e;
}

/**
 * Starts a worker thread, enters the netns open as `fd` (nsfs inode `inode`) on it, imports
 * `modulePath` there and awaits `exportName(...args)`; resolves with the result (structured-cloned)
 * and terminates the worker. The caller keeps `fd` open until the returned promise settles.
 * @internal Used by `NetNs.runInWorker`.
 */
export function runInWorkerThread(
  fd: number,
  inode: number,
  moduleUrl: string,
  exportName: string,
  args: readonly unknown[],
): Promise<unknown> {
  const input: WorkerInput = { sysEntry: sysEntry(), fd, inode, moduleUrl, exportName, args };
  return new Promise<unknown>((resolve, reject) => {
    let worker: Worker;
    try {
      worker = new Worker(WORKER_SOURCE, { eval: true, workerData: input });
    } catch (cause) {
      // DataCloneError for args that cannot be cloned, or a worker that cannot start.
      reject(cause);
      return;
    }
    let settled = false;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      // The function may have left handles open (servers, timers): end the thread regardless.
      worker.terminate().then(fn, fn);
    };
    worker.once('message', (msg: WorkerOutput) => {
      finish(() => (msg.ok ? resolve(msg.value) : reject(revive(msg.error))));
    });
    worker.once('error', (err) => finish(() => reject(err)));
    worker.once('exit', (code) => {
      if (settled) return;
      settled = true;
      reject(
        new NetNsError(
          'ERR_BPFJS_NETNS_WORKER',
          `the netns worker exited (code ${code}) before ${exportName}() returned`,
        ),
      );
    });
  });
}
