// Smoke run of the benchmarks (`node bench/run.mjs --quick`) so the bench cannot rot unnoticed.
// It checks that every side ran every operation and that the report has the documented shape.
// It NEVER asserts a duration or a ratio: benchmarks are not tests.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeGate, requireKernel, scaleTimeout } from '@bpfjs/testkit';
import { expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const { CC } = process.env;
const haveCc = (() => {
  try {
    execFileSync(CC || 'cc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

const ALL_OPS = [
  'info',
  'update',
  'query',
  'query64',
  'links',
  'create_close',
  'map_get',
  'map_set',
  'map_percpu_get',
  'map_dump',
  'map_dump_elem',
];
// In the kernel matrix's emulated guests (every side is a process, seconds apiece to start) the
// smoke run measures two operations — a netns link's info and a 64-link sk_lookup query — and fewer
// heap calls; the host runs them all.
const inMatrix = Boolean(process.env.BPFJS_KERNEL_MATRIX);
const OPS = inMatrix ? ['info', 'query64'] : ALL_OPS;
const HEAP_CALLS = inMatrix ? 200 : 2000;
const SIDES = ['c', 'floor', 'sys', 'obj'] as const;

interface SideStats {
  median: number;
  min: number;
  max: number;
  rounds: number;
  check?: Record<string, number>;
}
interface Report {
  machine: { kernel: { release: string }; node: { version: string; koffi: string }; cc: { version: string } };
  config: { quick: boolean; rounds: number };
  results: Array<
    { id: string; notes: Record<string, string>; ratios: Record<string, number | null> } & Record<
      (typeof SIDES)[number],
      SideStats | null
    >
  >;
  heap: Record<
    'obj' | 'sys' | 'floor' | 'mapObj' | 'mapSys',
    { calls: number; heapUsedGrowth: number; rssGrowth: number }
  >;
  errors: string[];
}

requireKernel()
  .and(makeGate(haveCc ? undefined : 'needs a C compiler (cc): apt-get install gcc'))
  .describe('bench smoke (needs root and a C compiler)', () => {
    it('runs every operation on every side and writes the JSON report where asked', () => {
      const dir = mkdtempSync(join(tmpdir(), 'bpfjs-bench-'));
      try {
        const out = join(dir, 'results.json');
        const defaultOut = join(root, 'bench', 'results.json');
        const stamp = () => (existsSync(defaultOut) ? statSync(defaultOut).mtimeMs : null);
        const before = stamp();
        const res = spawnSync(
          process.execPath,
          [
            'bench/run.mjs',
            '--quick',
            '--rounds',
            '1',
            '--heap-calls',
            String(HEAP_CALLS),
            ...(inMatrix ? ['--ops', OPS.join(',')] : []),
            '--sched',
            'normal',
            '--json-out',
            out,
          ],
          { cwd: root, encoding: 'utf8', timeout: scaleTimeout(120_000) },
        );
        expect(res.stderr).not.toMatch(/error\(s\)/);
        expect(res.status).toBe(0);
        expect(res.stdout).toContain('operation');
        expect(stamp(), 'bench/results.json is written only when asked').toBe(before);
        const report = JSON.parse(readFileSync(out, 'utf8')) as Report;
        expect(report.errors).toEqual([]);
        expect(report.config).toMatchObject({ quick: true, rounds: 1 });
        expect(report.machine.kernel.release).toBeTypeOf('string');
        expect(report.machine.node.version).toBe(process.version);
        expect(report.machine.node.koffi).toMatch(/^\d+\.\d+\.\d+/);
        expect(report.results.map((r) => r.id)).toEqual(OPS);
        for (const r of report.results) {
          expect(r.notes, `${r.id} notes`).toEqual({});
          for (const side of SIDES) {
            const s = r[side];
            expect(s, `${r.id} ${side}`).not.toBeNull();
            expect(s?.rounds).toBe(1);
            expect(Number.isFinite(s?.median)).toBe(true);
          }
          for (const k of ['floorC', 'sysC', 'objC', 'sysFloor', 'objFloor'])
            expect(r.ratios[k]).toBeTypeOf('number');
        }
        // The sides' own checks agree on what they saw.
        const byId = Object.fromEntries(report.results.map((r) => [r.id, r]));
        for (const side of SIDES) {
          expect(byId.info?.[side]?.check?.type, `info type ${side}`).toBe(5); // BPF_LINK_TYPE_NETNS
          expect(byId.query64?.[side]?.check?.progCount, `query64 ${side}`).toBe(64);
          if (inMatrix) continue;
          expect(byId.query?.[side]?.check?.progCount, `query ${side}`).toBe(1);
          expect(byId.links?.[side]?.check?.linksPerSweep, `links ${side}`).toBeGreaterThanOrEqual(65);
          expect(byId.map_get?.[side]?.check?.value, `map_get ${side}`).toBe(42);
          expect(byId.map_percpu_get?.[side]?.check?.cpus, `map_percpu_get ${side}`).toBeGreaterThanOrEqual(
            1,
          );
          expect(byId.map_dump?.[side]?.check?.entriesPerSweep, `map_dump ${side}`).toBe(100_000);
          expect(byId.map_dump_elem?.[side]?.check?.entriesPerSweep, `map_dump_elem ${side}`).toBe(100_000);
        }
        // The map rows' heap lines (map.get, mapLookupElem) come with the map operations.
        const heapKeys = inMatrix
          ? (['obj', 'sys', 'floor'] as const)
          : (['obj', 'sys', 'floor', 'mapObj', 'mapSys'] as const);
        for (const k of heapKeys) {
          expect(report.heap[k].calls).toBe(HEAP_CALLS);
          expect(report.heap[k].heapUsedGrowth).toBeTypeOf('number');
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
