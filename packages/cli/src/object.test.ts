/**
 * `bpfjs object show` and `bpfjs prog loadall` in-process, on a C object of @bpfjs/object's test
 * programs compiled here with clang.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Program } from '@bpfjs/link';
import { compileBpf, requireExecutable, requireKernel, tempBpffs } from '@bpfjs/testkit';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { bufferedIo, run } from './index.js';

const gate = requireExecutable('clang', 'apt-get install clang');
const SRC = fileURLToPath(new URL('../../object/test-progs/globals.c', import.meta.url));

describe('bpfjs object / prog loadall', () => {
  let dir: string;
  let obj: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'bpfjs-cli-object-'));
    obj = join(dir, 'globals.o');
    if (gate.ok) {
      compileBpf(SRC, { out: obj });
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  gate.it('object show: programs, maps and variables; --json is the spec', async () => {
    const io = bufferedIo();
    expect(await run(['object', 'show', obj], io)).toBe(0);
    expect(io.stdout).toMatch(/sum_loop\s+socket\s+socket_filter/);
    expect(io.stdout).toMatch(/outer\s+array_of_maps\s+4\s+4\s+2/);
    expect(io.stdout).toMatch(/shared_counts\s+hash.*by_name/);
    expect(io.stdout).toMatch(/multiplier\s+\.rodata\s+0\s+4/);
    const json = bufferedIo();
    expect(await run(['object', 'show', obj, '--json'], json)).toBe(0);
    const spec = JSON.parse(json.stdout);
    expect(spec.programs.map((p: { name: string }) => p.name).sort()).toEqual([
      'lookup_inner',
      'sum_loop',
      'tail_target',
    ]);
    const bad = bufferedIo();
    expect(await run(['object', 'show', SRC], bad)).toBe(1);
    expect(bad.stderr).toMatch(/ERR_BPFJS_ELF_INVALID/);
  });

  requireKernel()
    .and(gate)
    .it('prog loadall pins every program and map', async () => {
      using fs = tempBpffs();
      const io = bufferedIo();
      expect(await run(['prog', 'loadall', obj, fs.path, '--pinmaps', fs.path], io)).toBe(0);
      for (const name of ['sum_loop', 'lookup_inner', 'tail_target', 'shared_counts', 'outer', '_rodata']) {
        expect(existsSync(join(fs.path, name)), name).toBe(true);
      }
      using prog = Program.fromPin(join(fs.path, 'sum_loop'));
      expect(prog.type).toBe('socket_filter');
    });
});
