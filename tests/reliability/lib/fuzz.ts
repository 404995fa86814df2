// The randomized run (fixtures/fuzz.mjs) in this process and in a child on the built dist, used by
// fuzz.test.ts (a few thousand calls) and fuzz.soak.test.ts (hundreds of thousands).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as asm from '@bpfjs/asm';
import * as link from '@bpfjs/link';
import * as netns from '@bpfjs/netns';
import * as sys from '@bpfjs/sys';
import * as uapi from '@bpfjs/uapi';
import { expect } from 'vitest';
// @ts-expect-error plain ESM shared with the child process
import { chooseSeed, fuzz, makePool } from '../fixtures/fuzz.mjs';

interface FuzzResult {
  failures: string[];
  counts: { ok: number; type: number; bpf: number };
  codes: Record<string, number>;
}

function withScratch<T>(fn: (dir: string, file: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'bpfjs-fuzz-'));
  try {
    const file = join(dir, 'regular');
    writeFileSync(file, 'x');
    return fn(dir, file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `iterations` random calls in this process (packages from source); asserts only typed errors. */
export function fuzzInProcess(iterations: number): FuzzResult {
  const seed = chooseSeed();
  console.log(`fuzz in-process: seed ${seed} (replay with BPFJS_SEED=${seed}), ${iterations} calls`);
  return withScratch((dir, file) => {
    const pool = makePool({ sys, link, netns, asm }, dir, file);
    let r: FuzzResult;
    try {
      r = fuzz({ sys, uapi }, pool, seed, iterations);
    } finally {
      pool.dispose();
    }
    console.log(`fuzz in-process: ${JSON.stringify(r.counts)} ${JSON.stringify(r.codes)}`);
    expect(r.failures, `seed ${seed}`).toEqual([]);
    return r;
  });
}

/** `iterations` random calls in a child process on the built dist; asserts no crash, typed errors. */
export function fuzzChild(iterations: number): FuzzResult {
  const seed = chooseSeed();
  console.log(`fuzz child: seed ${seed} (replay with BPFJS_SEED=${seed}), ${iterations} calls`);
  return withScratch((dir, file) => {
    const script = fileURLToPath(new URL('../fixtures/fuzz-child.mjs', import.meta.url));
    const res = spawnSync(process.execPath, [script, String(seed), String(iterations), dir, file], {
      encoding: 'utf8',
      timeout: 600_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = `seed ${seed}\n${res.stdout}\n${res.stderr}`;
    expect(res.signal, out).toBeNull();
    expect(res.status, out).toBe(0);
    const r = JSON.parse(res.stdout.trim().split('\n').at(-1) ?? '{}') as FuzzResult;
    console.log(`fuzz child: ${JSON.stringify(r.counts)}`);
    expect(r.failures, out).toEqual([]);
    expect(r.counts.ok + r.counts.type + r.counts.bpf).toBe(iterations);
    return r;
  });
}
