// Hostile input: the table in fixtures/hostile-cases.mjs, in this process (packages from source)
// and once in a child process on the built dist, which must exit cleanly.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as asm from '@bpfjs/asm';
import * as cli from '@bpfjs/cli';
import * as link from '@bpfjs/link';
import * as netns from '@bpfjs/netns';
import * as sys from '@bpfjs/sys';
import * as testkit from '@bpfjs/testkit';
import { scaleTimeout } from '@bpfjs/testkit';
import * as uapi from '@bpfjs/uapi';
import { afterAll, beforeAll, expect, it } from 'vitest';
// @ts-expect-error plain ESM shared with the child process
import { hostileCases, makeContext, runCase } from './fixtures/hostile-cases.mjs';

const mods = { sys, link, netns, asm, testkit, cli, uapi };
const rows: Array<{ api: string; id: string }> = hostileCases(mods);
const kernel = testkit.requireKernel();

kernel.describe('hostile input (in-process, packages from source)', () => {
  // biome-ignore lint/suspicious/noExplicitAny: the context is built by the shared .mjs table
  let ctx: any;
  beforeAll(() => {
    ctx = makeContext(mods);
  });
  afterAll(() => ctx?.dispose());

  it('has at least 60 rows covering sys, link, netns, asm, testkit and cli', () => {
    expect(rows.length).toBeGreaterThanOrEqual(60);
    const apis = new Set(rows.map((r) => r.api.split('.')[0]));
    expect([...apis].sort()).toEqual(['asm', 'cli', 'link', 'netns', 'sys', 'testkit']);
  });

  it.each(rows.map((r) => [`${r.api}: ${r.id}`, r] as const))('%s', async (_name, row) => {
    const verdict = await runCase(row, ctx, mods);
    expect(verdict.ok, verdict.why).toBe(true);
  });
});

kernel.describe('hostile input (child process, built dist)', () => {
  it('runs every row without a crash and exits 0', () => {
    const script = fileURLToPath(new URL('./fixtures/hostile-child.mjs', import.meta.url));
    const r = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: scaleTimeout(60_000) });
    const out = `${r.stdout}\n${r.stderr}`;
    expect(r.signal, out).toBeNull();
    expect(r.status, out).toBe(0);
    const summary = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}');
    expect(summary.failures, out).toEqual([]);
    expect(summary.rows).toBeGreaterThanOrEqual(60);
  });
});
