/**
 * `.BTF.ext` CO-RE relocations against libbpf's own reading of them (`bpftool -d prog load` logs
 * every relocation with its kind, type id, access string and instruction). The object-file readers
 * and bad sections are in `ext.host.test.ts`.
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { requireExecutable, requireKernel, tempBpffs } from '@bpfjs/testkit';
import { describe, expect } from 'vitest';
import { compile } from './test/ext-object.js';

const tools = requireExecutable('clang', 'apt-get install clang (scripts/setup does)').and(
  requireExecutable('llvm-objcopy', 'apt-get install llvm'),
  requireExecutable('llvm-objdump', 'apt-get install llvm'),
  requireExecutable('llvm-readelf', 'apt-get install llvm'),
);
const withBpftool = tools.and(requireKernel(), requireExecutable('bpftool', 'apt-get install bpftool'));

describe('BtfExt on a clang-compiled object', () => {
  withBpftool.it('CO-RE relocations are the ones libbpf reads (bpftool -d prog load)', () => {
    const { dir, obj, btf, ext } = compile();
    using fs = tempBpffs();
    // libbpf logs each relocation to stderr with -d; the load's own result does not matter here
    const run = spawnSync('bpftool', ['-d', 'prog', 'load', obj, fs.pinPath('p')], { encoding: 'utf8' });
    const out = `${run.stdout}${run.stderr}`;
    // libbpf's core_relo_kind_str names
    const LIBBPF: Record<string, string> = {
      byte_off: 'field_byte_offset',
      byte_sz: 'field_byte_size',
      field_exists: 'field_exists',
      signed: 'field_signed',
      lshift_u64: 'field_lshift_u64',
      rshift_u64: 'field_rshift_u64',
      local_type_id: 'type_id_local',
      target_type_id: 'type_id_target',
      type_exists: 'type_exists',
      type_matches: 'type_matches',
      type_size: 'type_size',
      enumval_exists: 'enumval_exists',
      enumval_value: 'enumval_value',
    };
    const theirs: { kindName: string; typeId: number; access?: string; insn?: number }[] = [];
    for (const line of out.split('\n')) {
      const spec = /relo #(\d+): <(\w+)> \[(\d+)\][^(\n]*?(?:\((\d[\d:]*) @ offset \d+\))?$/.exec(line);
      if (spec && !line.includes('matching candidate')) {
        theirs[Number(spec[1])] = {
          kindName: LIBBPF[spec[2] as string] ?? (spec[2] as string),
          typeId: Number(spec[3]),
          ...(spec[4] ? { access: spec[4] } : {}),
        };
      }
      const patched = /relo #(\d+): patched insn #(\d+)/.exec(line);
      if (patched) (theirs[Number(patched[1])] as { insn?: number }).insn = Number(patched[2]);
    }
    const mine = ext.coreRelos.sections.get('tp_btf/sched_process_exec') ?? [];
    expect(theirs).toHaveLength(4);
    expect(
      mine.map((r) => ({
        kindName: r.kindName,
        typeId: r.typeId,
        ...(r.kindName.startsWith('field') ? { access: r.accessStr } : {}),
        insn: r.insn,
      })),
    ).toEqual(theirs);
    expect(btf.nameOf(mine[0]?.typeId as number)).toBe('task_struct');
    expect(mine[3]).toMatchObject({ kindName: 'enumval_value', accessStr: '1' });
    rmSync(dir, { recursive: true, force: true });
  });
});
