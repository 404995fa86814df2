// Smoke run of the object-loading benchmark (`node bench/object.mjs --quick --json`): the report
// has both sides and a ratio. It never asserts a duration or a ratio.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { requireExecutable, requireKernel } from '@bpfjs/testkit';
import { expect } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

requireKernel()
  .and(requireExecutable('clang', 'apt-get install clang'), requireExecutable('cc', 'apt-get install gcc'))
  .it('object bench smoke: open + load of a 10-program, 10-map object, bpfjs and libbpf', () => {
    const out = execFileSync(process.execPath, [`${root}bench/object.mjs`, '--quick', '--json'], {
      encoding: 'utf8',
    });
    const report = JSON.parse(out.trim().split('\n').pop()!);
    expect(report).toMatchObject({ id: 'object_load', target: 1.5, config: { quick: true } });
    expect(report.bpfjs.median).toBeGreaterThan(0);
    expect(report.libbpf.median).toBeGreaterThan(0);
    expect(report.ratio).toBeGreaterThan(0);
  });
