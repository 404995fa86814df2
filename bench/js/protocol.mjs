// The line protocol every benchmark side speaks (the C baseline speaks it too, see bench/c/bench.c):
// one command per line on stdin ("<op> <iterations>" or "quit"), one JSON object per line on stdout.
import { createInterface } from 'node:readline';

/**
 * Serves benchmark commands on stdin/stdout.
 * @param {string} side name of this side, echoed in the ready line
 * @param {Record<string, (iters: number) => object>} ops op name -> runner returning the result object
 * @param {object} [ready] extra fields for the ready line
 * @param {string} [reason] why an op this side lacks is unsupported (sent with the answer)
 */
export async function serve(side, ops, ready = {}, reason = undefined) {
  const write = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);
  write({ ready: true, side, ...ready });
  const rl = createInterface({ input: process.stdin, terminal: false });
  for await (const line of rl) {
    const text = line.trim();
    if (text === '') continue;
    if (text === 'quit') break;
    const [op, itersText] = text.split(/\s+/);
    const iters = Number(itersText);
    if (!Number.isSafeInteger(iters) || iters < 0) {
      write({ error: `bad command: ${text}` });
      continue;
    }
    const run = Object.hasOwn(ops, op) ? ops[op] : undefined;
    if (!run) {
      write({ op, unsupported: true, ...(reason ? { reason } : {}) });
      continue;
    }
    try {
      write({ op, iters, ...run(iters) });
    } catch (err) {
      write({ op, error: `${err?.code ? `${err.code}: ` : ''}${err?.message ?? String(err)}` });
    }
  }
  rl.close();
}

/** Monotonic nanoseconds as a number (precise enough for spans below 2^53 ns). */
export function nowNs() {
  return Number(process.hrtime.bigint());
}

/** Runs `fn` `iters` times and returns `{ ns, count: iters }`. */
export function timeLoop(iters, fn) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iters; i++) fn(i);
  const t1 = process.hrtime.bigint();
  return { ns: Number(t1 - t0), count: iters };
}

/**
 * Heap and RSS growth over `iters` calls of `fn` (after a warm-up), with forced GC before, after,
 * and at three checkpoints in between (so a slow leak shows as a slope, not just an end value).
 * The time covers the calls only, not the collections. Needs `--expose-gc`.
 */
export function heapGrowth(iters, fn) {
  if (typeof globalThis.gc !== 'function') throw new Error('heap measurement needs node --expose-gc');
  const warm = Math.min(100_000, Math.max(1, Math.floor(iters / 10)));
  for (let i = 0; i < warm; i++) fn(i);
  const settle = () => {
    globalThis.gc();
    globalThis.gc();
    return process.memoryUsage();
  };
  const before = settle();
  const checkpoints = [{ calls: 0, heapUsed: before.heapUsed, rss: before.rss }];
  const chunks = 4;
  let ns = 0;
  let done = 0;
  for (let c = 1; c <= chunks; c++) {
    const end = Math.floor((iters * c) / chunks);
    const t0 = process.hrtime.bigint();
    for (let i = done; i < end; i++) fn(i);
    ns += Number(process.hrtime.bigint() - t0);
    done = end;
    if (c < chunks) {
      const m = settle();
      checkpoints.push({ calls: done, heapUsed: m.heapUsed, rss: m.rss });
    }
  }
  const after = settle();
  checkpoints.push({ calls: done, heapUsed: after.heapUsed, rss: after.rss });
  return {
    ns,
    count: iters,
    heap: {
      heapUsedBefore: before.heapUsed,
      heapUsedAfter: after.heapUsed,
      heapUsedGrowth: after.heapUsed - before.heapUsed,
      rssBefore: before.rss,
      rssAfter: after.rss,
      rssGrowth: after.rss - before.rss,
      externalGrowth: after.external - before.external,
      arrayBuffersGrowth: after.arrayBuffers - before.arrayBuffers,
      checkpoints,
    },
  };
}
