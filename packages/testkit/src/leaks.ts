/**
 * Fd leak tracking: every `Fd` from `@bpfjs/sys` is announced on the `bpfjs:fd:open` /
 * `bpfjs:fd:close` diagnostics channels (with its creation stack while someone listens). The
 * tracker records the ones still open, and separately diffs `/proc/self/fd` for BPF objects and
 * namespaces that no `Fd` owns. `@bpfjs/testkit/setup` runs it per test file.
 *
 * @module
 */
import diagnostics_channel from 'node:diagnostics_channel';
import { readdirSync, readlinkSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

/** The message sys publishes (see `FdChannelMessage` in `@bpfjs/sys`). */
interface FdMessage {
  readonly fd: object | null;
  readonly number: number;
  readonly stack?: string;
  readonly disowned?: boolean;
  readonly leaked?: boolean;
}

interface Tracked {
  readonly number: number;
  readonly stack: string | undefined;
  readonly ref: WeakRef<object>;
}

interface TrackerState {
  subscribed: boolean;
  seq: number;
  open: Map<number, Tracked>;
  ids: WeakMap<object, number>;
  ignored: WeakSet<object>;
  baseline: Map<number, string>;
  collected: number;
}

const STATE = Symbol.for('bpfjs.testkit.fdTracker');

function state(): TrackerState {
  const g = globalThis as unknown as Record<symbol, TrackerState | undefined>;
  let s = g[STATE];
  if (s === undefined) {
    s = {
      subscribed: false,
      seq: 0,
      open: new Map(),
      ids: new WeakMap(),
      ignored: new WeakSet(),
      baseline: new Map(),
      collected: 0,
    };
    g[STATE] = s;
  }
  return s;
}

function onOpen(message: unknown): void {
  const m = message as FdMessage;
  if (m?.fd === null || typeof m?.fd !== 'object') return;
  const s = state();
  const id = ++s.seq;
  s.ids.set(m.fd, id);
  s.open.set(id, { number: m.number, stack: m.stack, ref: new WeakRef(m.fd) });
}

function onClose(message: unknown): void {
  const m = message as FdMessage;
  const s = state();
  if (m?.fd !== null && typeof m?.fd === 'object') {
    const id = s.ids.get(m.fd);
    if (id !== undefined) s.open.delete(id);
    return;
  }
  // Closed by the FinalizationRegistry safety net: the Fd object is gone.
  for (const [id, t] of s.open) {
    if (t.number === m.number && t.ref.deref() === undefined) {
      s.open.delete(id);
      s.collected++;
      return;
    }
  }
}

/** What kinds of descriptors the `/proc/self/fd` comparison looks at: BPF objects and namespaces. */
const WATCHED = /^(anon_inode:\[?bpf|net:\[|mnt:\[)/;

/** The watched descriptors open now: number → link target (`anon_inode:bpf-prog`, `net:[4026531840]`). */
export function watchedDescriptors(): Map<number, string> {
  const out = new Map<number, string>();
  let names: string[];
  try {
    names = readdirSync('/proc/self/fd');
  } catch {
    return out;
  }
  for (const n of names) {
    try {
      const target = readlinkSync(`/proc/self/fd/${n}`);
      if (WATCHED.test(target)) out.set(Number(n), target);
    } catch {
      // closed meanwhile (e.g. readdir's own descriptor)
    }
  }
  return out;
}

/**
 * Starts (or restarts) tracking: forgets earlier records, subscribes to the channels once per
 * process, and snapshots the watched descriptors as the baseline.
 */
export function startFdTracking(): void {
  const s = state();
  if (!s.subscribed) {
    diagnostics_channel.subscribe('bpfjs:fd:open', onOpen);
    diagnostics_channel.subscribe('bpfjs:fd:close', onClose);
    s.subscribed = true;
  }
  s.open.clear();
  s.collected = 0;
  s.baseline = watchedDescriptors();
}

/** Excludes an `Fd` (e.g. a deliberate process-lifetime cache) from the leak report. */
export function ignoreFdLeak(fd: object): void {
  state().ignored.add(fd);
}

/** One leaked `Fd`. */
export interface LeakedFd {
  /** The descriptor number. */
  readonly number: number;
  /** What it refers to (`anon_inode:bpf-prog`), if it can still be read. */
  readonly target: string | undefined;
  /** Where the `Fd` was created. */
  readonly stack: string | undefined;
}

/** What {@link fdLeakReport} found. */
export interface FdLeakReport {
  /** `Fd`s created since tracking started and still open. */
  readonly fds: LeakedFd[];
  /**
   * Watched descriptors open now that were not at the start and that no tracked `Fd` owns (main
   * thread only: vitest's `forks` pool, the default; empty on a worker thread).
   */
  readonly unowned: Array<{ number: number; target: string }>;
  /** `Fd`s the garbage collector found unclosed (the sys safety net closed them). Not failures. */
  readonly collected: number;
  /** A readable message, or `undefined` when nothing leaked. */
  readonly message: string | undefined;
}

function target(n: number): string | undefined {
  try {
    return readlinkSync(`/proc/self/fd/${n}`);
  } catch {
    return undefined;
  }
}

/** Lists what leaked since `startFdTracking()`. */
export function fdLeakReport(): FdLeakReport {
  const s = state();
  const fds: LeakedFd[] = [];
  const owned = new Set<number>();
  for (const t of s.open.values()) {
    const obj = t.ref.deref();
    if (obj !== undefined && s.ignored.has(obj)) {
      owned.add(t.number);
      continue;
    }
    if (obj !== undefined && (obj as { closed?: unknown }).closed === true) continue;
    owned.add(t.number);
    fds.push({ number: t.number, target: target(t.number), stack: t.stack });
  }
  const unowned: Array<{ number: number; target: string }> = [];
  // /proc/self/fd is process-wide: on a worker thread (vitest's `threads` pool) other test files
  // run beside us in the same process, so only the per-thread Fd records can be trusted.
  for (const [n, tgt] of isMainThread ? watchedDescriptors() : new Map<number, string>()) {
    if (owned.has(n)) continue;
    if (s.baseline.get(n) === tgt) continue;
    unowned.push({ number: n, target: tgt });
  }
  let message: string | undefined;
  if (fds.length > 0 || unowned.length > 0) {
    const lines: string[] = [];
    if (fds.length > 0) {
      lines.push(`bpfjs fd leak: ${fds.length} Fd(s) opened in this test file were never closed:`);
      for (const f of fds) {
        lines.push(`  fd ${f.number}${f.target === undefined ? '' : ` (${f.target})`} created at:`);
        const frames = (f.stack ?? '(no stack captured)')
          .split('\n')
          .map((l) => l.trim())
          .filter((l) => l !== '' && !l.includes('/node_modules/') && !l.includes('(<anonymous>)'));
        lines.push(...frames.map((l) => `    ${l}`));
      }
    }
    if (unowned.length > 0) {
      lines.push(
        `bpfjs fd leak: ${unowned.length} BPF/namespace descriptor(s) opened during this test file are still open and owned by no Fd:`,
      );
      for (const u of unowned) lines.push(`  fd ${u.number} -> ${u.target}`);
    }
    message = lines.join('\n');
  }
  return { fds, unowned, collected: s.collected, message };
}
