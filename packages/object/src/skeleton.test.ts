/**
 * A generated skeleton at run time: typed maps and variables agree with the program and with
 * `bpftool -j map dump` on the same kernel map; a `--path` skeleton refuses a changed object.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireExecutable, requireKernel } from '@bpfjs/testkit';
import { afterAll, beforeAll, expect } from 'vitest';
import { generateSkeleton } from './index.js';
import { compile } from './test/compile.js';
import { testRun } from './test/test-run.js';

const OBJECT_DIR = fileURLToPath(new URL('..', import.meta.url));
const clang = requireExecutable('clang', 'apt-get install clang');
const kernel = requireKernel().and(clang).and(requireExecutable('bpftool', 'apt-get install bpftool'));

kernel.describe('bpfjs gen skeleton: run time (needs root, clang, bpftool)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(OBJECT_DIR, '.skeleton-run-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  kernel.it('typed maps and variables agree with the program and with bpftool map dump', async () => {
    const bytes = readFileSync(compile('skeleton'));
    writeFileSync(join(dir, 'skeleton.skel.ts'), generateSkeleton(bytes, { fileName: 'skeleton.o' }));
    const mod = await import(join(dir, 'skeleton.skel.ts'));
    const spec = mod.open();
    expect(spec.rodata.threshold).toBe(10);
    expect(spec.rodata.default_color).toBe('GREEN');
    spec.rodata.default_color = 'BLUE';
    using skel = spec.load({ rodata: { threshold: 20 } });
    expect(skel.rodata).toEqual({ threshold: 20, default_color: 'BLUE' });
    expect(skel.variables.greeting).toBe('hi');
    skel.variables.greeting = 'hello';
    expect(skel.variables.greeting).toBe('hello');

    // the test run pulls the 14-byte Ethernet header: skb->len is 50 for 64 bytes of input
    const key = { ip: 50, port: 0, proto: 0, up: false };
    const flow = {
      src: { ip: 0x0a000001, port: 443, proto: 6, up: true },
      dst: { ip: 0x0a000002, port: 51000, proto: 6, up: false },
      bytes: 1000n,
      delta: -3,
      color: 'BLUE',
      label: 'web',
      hist: [1, 2, 3, 4],
      as_u32: 0x04030201,
      flags: 5,
      kind: 17,
      tag: { n: 0x0000000200000001n },
    };
    skel.maps.flows.set(key, flow);
    // the program runs on 64 bytes: len 64 > threshold 20, so packets counts; flows[{ip: 50}] grows
    expect(testRun(skel.programs.count, new Uint8Array(64)).retval).toBe(0);
    expect(skel.variables.packets).toBe(1n);
    expect(skel.variables.last).toEqual({ ip: 0, port: 7, proto: 0, up: false });
    const got = skel.maps.flows.get(key);
    expect(got).toMatchObject({
      ...flow,
      bytes: 1050n,
      as_bytes: [1, 2, 3, 4],
      tag: { n: 0x200000001n, half: [1, 2] },
    });
    const perCpu = skel.maps.per_cpu.get(0);
    expect(perCpu.length).toBe(skel.maps.per_cpu.cpus);
    expect(perCpu.reduce((a: bigint, b: bigint) => a + b, 0n)).toBe(1n);
    skel.maps.names.set(1, 'eth0');
    expect(skel.maps.names.get(1)).toBe('eth0');
    expect(skel.maps.names.get(0)).toBe('');

    // bpftool's formatted dump of the same maps: the same values (bpftool nests the anonymous
    // union under "" and prints bit-fields as hex; everything else has the decoded shape)
    const dump = (id: number) =>
      JSON.parse(execFileSync('bpftool', ['-j', 'map', 'dump', 'id', String(id)], { encoding: 'utf8' }));
    const [entry] = dump(skel.maps.flows.id);
    const { as_u32, as_bytes, flags, kind, ...rest } = got;
    expect(entry.formatted.key).toEqual(key);
    expect(entry.formatted.value).toEqual({
      ...rest,
      '': { as_u32, as_bytes },
      flags: `0x${flags.toString(16)}`,
      kind: `0x${kind.toString(16)}`,
      bytes: Number(rest.bytes),
      tag: { n: Number(rest.tag.n), half: rest.tag.half },
    });
    const names = dump(skel.maps.names.id);
    expect(names.map((e: { formatted: { key: number; value: string } }) => e.formatted)).toEqual([
      { key: 0, value: '' },
      { key: 1, value: 'eth0' },
      { key: 2, value: '' },
    ]);
    const [cpuEntry] = dump(skel.maps.per_cpu.id);
    expect(cpuEntry.formatted.values.map((v: { value: number }) => BigInt(v.value))).toEqual(perCpu);
  });

  kernel.it('a path-mode skeleton refuses an object that changed since generation', async () => {
    const bytes = readFileSync(compile('skeleton'));
    writeFileSync(join(dir, 'prog.o'), bytes);
    writeFileSync(
      join(dir, 'path.skel.ts'),
      generateSkeleton(bytes, { fileName: 'prog.o', mode: 'path', objectPath: './prog.o' }),
    );
    const mod = await import(join(dir, 'path.skel.ts'));
    expect(mod.open().spec.programs.has('count')).toBe(true);
    const changed = Uint8Array.from(bytes);
    changed[changed.length - 1]! ^= 1;
    writeFileSync(join(dir, 'prog.o'), changed);
    expect(() => mod.open()).toThrow(expect.objectContaining({ code: 'ERR_BPFJS_OBJECT_INVALID' }));
  });
});
