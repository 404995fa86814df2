// Seeded randomized run over the sys attr encoders and wrappers (see fixtures/fuzz.mjs): only
// typed errors (TypeError/RangeError with an ERR_* code, or BpfError with a real errno), never a
// crash. The seed is printed; BPFJS_SEED=<seed> replays a run exactly.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as asm from '@bpfjs/asm';
import * as link from '@bpfjs/link';
import * as netns from '@bpfjs/netns';
import * as sys from '@bpfjs/sys';
import { requireKernel } from '@bpfjs/testkit';
import * as uapi from '@bpfjs/uapi';
import { afterAll, beforeAll, expect } from 'vitest';
// @ts-expect-error plain ESM shared with the child process
import { chooseSeed, fuzz, makePool } from './fixtures/fuzz.mjs';

/** Calls per run: small in `pnpm test`, large in `pnpm soak` (BPFJS_SOAK=1) or BPFJS_FUZZ_ITERATIONS. */
export const FUZZ_ITERATIONS = Number(
  process.env.BPFJS_FUZZ_ITERATIONS ?? (process.env.BPFJS_SOAK ? 200_000 : 3_000),
);

const kernel = requireKernel();

kernel.describe('randomized sys wrappers and attr encoders', () => {
  let dir = '';
  let file = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'bpfjs-fuzz-'));
    file = join(dir, 'regular');
    writeFileSync(file, 'x');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  kernel.it('in-process (source): only typed errors', () => {
    const seed = chooseSeed();
    console.log(`fuzz in-process: seed ${seed} (replay with BPFJS_SEED=${seed}), ${FUZZ_ITERATIONS} calls`);
    const pool = makePool({ sys, link, netns, asm }, dir, file);
    let r: { failures: string[]; counts: Record<string, number>; codes: Record<string, number> };
    try {
      r = fuzz({ sys, uapi }, pool, seed, FUZZ_ITERATIONS);
    } finally {
      pool.dispose();
    }
    console.log(`fuzz in-process: ${JSON.stringify(r.counts)} ${JSON.stringify(r.codes)}`);
    expect(r.failures, `seed ${seed}`).toEqual([]);
    // The run reached the kernel and the validators both (not only one kind of refusal).
    expect(r.counts.type).toBeGreaterThan(0);
    expect(r.counts.bpf).toBeGreaterThan(0);
  });

  kernel.it('child process (built dist): only typed errors, no crash', () => {
    const seed = chooseSeed();
    console.log(`fuzz child: seed ${seed} (replay with BPFJS_SEED=${seed}), ${FUZZ_ITERATIONS} calls`);
    const script = fileURLToPath(new URL('./fixtures/fuzz-child.mjs', import.meta.url));
    const res = spawnSync(process.execPath, [script, String(seed), String(FUZZ_ITERATIONS), dir, file], {
      encoding: 'utf8',
      timeout: 600_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = `seed ${seed}\n${res.stdout}\n${res.stderr}`;
    expect(res.signal, out).toBeNull();
    expect(res.status, out).toBe(0);
    const r = JSON.parse(res.stdout.trim().split('\n').at(-1) ?? '{}');
    console.log(`fuzz child: ${JSON.stringify(r.counts)}`);
    expect(r.failures, out).toEqual([]);
    expect(r.counts.ok + r.counts.type + r.counts.bpf).toBe(FUZZ_ITERATIONS);
  });
});
