/**
 * Waiting for a network namespace to lose its last visible reference.
 *
 * @module
 */
import { setTimeout as delay } from 'node:timers/promises';
import { errInvalidArgType, errInvalidArgValue, errOutOfRange } from '@bpfjs/sys';
import { NetNsError } from './errors.js';
import { NetNs } from './netns.js';
import { describeHolders, findNetNsHolders, type NetNsHolder } from './proc.js';
import { checkMs } from './validate.js';

/** Options of {@link waitForTeardown}. */
export interface WaitForTeardownOptions {
  /** Give up after this many milliseconds (default 10 000). */
  readonly timeoutMs?: number;
  /** Longest pause between two scans, in milliseconds (default 100; scans start 5 ms apart). */
  readonly maxIntervalMs?: number;
  /** Stops waiting (the promise rejects with the signal's reason). */
  readonly signal?: AbortSignal;
}

/** `ERR_BPFJS_NETNS_TEARDOWN_TIMEOUT`, with the references still seen. */
export class TeardownTimeoutError extends NetNsError {
  /** What still referred to the netns at the last scan. */
  readonly holders: readonly NetNsHolder[];
  constructor(inode: number, timeoutMs: number, holders: readonly NetNsHolder[]) {
    super(
      'ERR_BPFJS_NETNS_TEARDOWN_TIMEOUT',
      `network namespace net:[${inode}] is still referenced after ${timeoutMs} ms: ${describeHolders(holders)}`,
    );
    this.holders = holders;
    this.name = 'TeardownTimeoutError';
  }
}

/**
 * Polls `/proc` until nothing visible refers to the network namespace with nsfs inode `inode` any
 * more: no thread inside it, no open fd on it, no nsfs bind mount of it in any mount namespace
 * (see {@link findNetNsHolders}). Resolves as soon as a scan comes back empty.
 *
 * What this does and does not tell: once the last reference goes, the kernel destroys the netns
 * asynchronously (`cleanup_net` on a workqueue), so "no visible reference" comes slightly BEFORE
 * "destroyed". References `/proc` cannot show (a socket created inside it, processes outside this
 * PID namespace's `/proc`) keep it alive after this resolves. To observe the real end, watch
 * something the kernel changes at destruction: a bpf netns link's info reports `netns_ino` 0 (see
 * `@bpfjs/link`).
 *
 * @param inode the nsfs inode (`NetNs.inode`), or a closed `NetNs`.
 * @throws TypeError/RangeError for bad arguments (an open `NetNs` is refused: it is a reference).
 * @throws NetNsError `ERR_BPFJS_NETNS_TEARDOWN_TIMEOUT` after `timeoutMs`, naming the holders seen
 *   last (`err.holders`).
 */
export async function waitForTeardown(
  inode: number | NetNs,
  options: WaitForTeardownOptions = {},
): Promise<void> {
  let ino: number;
  if (NetNs.isInstance(inode)) {
    if (!inode.closed) {
      throw errInvalidArgValue(
        'inode',
        inode.toString(),
        'is an open NetNs, which keeps the netns alive: close it first',
      );
    }
    ino = inode.inode;
  } else if (typeof inode === 'number') {
    if (!Number.isSafeInteger(inode) || inode <= 0)
      throw errOutOfRange('inode', 'a positive safe integer', inode);
    ino = inode;
  } else {
    throw errInvalidArgType('inode', 'of type number or an instance of NetNs', inode);
  }
  if (typeof options !== 'object' || options === null)
    throw errInvalidArgType('options', 'of type object', options);
  const timeoutMs = checkMs(options.timeoutMs, 'options.timeoutMs', 10_000);
  const maxInterval = checkMs(options.maxIntervalMs, 'options.maxIntervalMs', 100);
  const signal = options.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw errInvalidArgType('options.signal', 'an instance of AbortSignal', signal);
  }
  const deadline = performance.now() + timeoutMs;
  let interval = Math.min(5, maxInterval);
  for (;;) {
    signal?.throwIfAborted();
    const holders = findNetNsHolders(ino);
    if (holders.length === 0) return;
    const left = deadline - performance.now();
    if (left <= 0) throw new TeardownTimeoutError(ino, timeoutMs, holders);
    await delay(Math.min(interval, left), undefined, signal === undefined ? undefined : { signal });
    interval = Math.min(interval * 2, maxInterval);
  }
}
