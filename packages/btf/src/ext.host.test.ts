/**
 * `.BTF.ext` against independent readers of the same clang-compiled object: function info
 * against the ELF symbol table (`llvm-readelf -s`), line info against the source file itself and
 * DWARF's line table (`llvm-objdump -d -l`); bad sections → typed errors. Kernel-independent (an
 * object file and host tools): runs once, on the host. libbpf's reading of the CO-RE relocations
 * on the kernel is in `ext.test.ts`.
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Btf, BtfExt, BtfFormatError, encodeFuncInfo, encodeLineInfo } from './index.js';
import { compile, SOURCE } from './test/ext-object.js';

const TOOLS = ['clang', 'llvm-objcopy', 'llvm-objdump', 'llvm-readelf'];
const missing = TOOLS.filter((t) => {
  try {
    execFileSync(t, ['--version'], { stdio: 'ignore' });
    return false;
  } catch {
    return true;
  }
});
// Where the tools are required (CI sets BPFJS_REQUIRE_KERNEL), a missing one fails instead of skipping.
const skipTools = missing.length > 0 && !process.env.BPFJS_REQUIRE_KERNEL;

describe.skipIf(skipTools)(`BtfExt on a clang-compiled object (needs ${TOOLS.join(', ')})`, () => {
  it('function info is the symbol table: each FUNC symbol at its offset, with its BTF FUNC', () => {
    const { dir, obj, btf, ext } = compile();
    try {
      const sections = new Map<number, string>();
      for (const line of execFileSync('llvm-readelf', ['-S', '--wide', obj], { encoding: 'utf8' }).split(
        '\n',
      )) {
        const m = /^\s*\[\s*(\d+)\]\s+(\S+)/.exec(line);
        if (m) sections.set(Number(m[1]), m[2] as string);
      }
      const want = new Map<string, { insn: number; name: string }[]>();
      for (const line of execFileSync('llvm-readelf', ['-s', '--wide', obj], { encoding: 'utf8' }).split(
        '\n',
      )) {
        const m = /^\s*\d+:\s+([0-9a-f]+)\s+\d+\s+FUNC\s+\S+\s+\S+\s+(\d+)\s+(\S+)/.exec(line);
        if (!m) continue;
        const sec = sections.get(Number(m[2])) as string;
        want.set(sec, [
          ...(want.get(sec) ?? []),
          { insn: Number.parseInt(m[1] as string, 16) / 8, name: m[3] as string },
        ]);
      }
      expect(want.size).toBe(2);
      const got = new Map(
        [...ext.funcInfo.sections].map(([sec, recs]) => [
          sec,
          recs.map((r) => ({ insn: r.insn, name: btf.nameOf(r.typeId) })),
        ]),
      );
      expect(got).toEqual(want);
      for (const recs of ext.funcInfo.sections.values())
        for (const r of recs) expect(btf.type(r.typeId).kindName).toBe('func');
      expect(ext.funcInfo.recordSize).toBe(8);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('line info names the source file, line text and number that DWARF has at each instruction', () => {
    const { dir, src, obj, btf, ext } = compile();
    try {
      const lines = SOURCE.split('\n');
      // DWARF's line in effect at each instruction, per section, from llvm-objdump -l
      const dwarf = new Map<string, Map<number, number>>();
      let sec = '';
      let cur = 0;
      for (const line of execFileSync('llvm-objdump', ['-d', '-l', '--no-show-raw-insn', obj], {
        encoding: 'utf8',
      }).split('\n')) {
        const s = /^Disassembly of section (.+):$/.exec(line);
        if (s) {
          sec = s[1] as string;
          dwarf.set(sec, new Map());
          continue;
        }
        const l = /^; (.+):(\d+)$/.exec(line);
        if (l) cur = Number(l[2]);
        const insn = /^\s+(\d+):\t/.exec(line);
        if (insn) dwarf.get(sec)?.set(Number(insn[1]), cur);
      }
      let checked = 0;
      for (const [name, recs] of ext.lineInfo.sections) {
        const starts = new Map(
          (ext.funcInfo.sections.get(name) ?? []).map((f) => [f.insn, btf.nameOf(f.typeId)]),
        );
        for (const r of recs) {
          expect(r.fileName).toBe(src);
          // line 0: code the compiler made up (DWARF's line 0), with no source text
          expect(r.line).toBe(r.lineNum === 0 ? '' : lines[r.lineNum - 1]);
          const fn = starts.get(r.insn);
          const atDwarf = dwarf.get(name)?.get(r.insn);
          // a function's first record may be its declaration line where DWARF starts at the body
          if (fn !== undefined && atDwarf !== r.lineNum) expect(r.line).toContain(`${fn}(`);
          else if (r.lineNum !== 0) expect(atDwarf, `${name} insn ${r.insn}`).toBe(r.lineNum);
          checked++;
        }
      }
      expect(checked).toBeGreaterThan(5);
      expect(ext.lineInfo.recordSize).toBe(16);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('BtfExt on bad sections', () => {
  /** A .BTF with the strings '', 'sec', 'f.c'; and a .BTF.ext builder. */
  const btf = (() => {
    const strings = new TextEncoder().encode('\0sec\0f.c\0');
    const out = new Uint8Array(24 + strings.length);
    const dv = new DataView(out.buffer);
    dv.setUint16(0, 0xeb9f, true);
    out[2] = 1;
    dv.setUint32(4, 24, true);
    dv.setUint32(20, strings.length, true);
    out.set(strings, 24);
    return Btf.parse(out);
  })();
  const ext = (func: number[], line: number[] = [], hdr: { magic?: number; version?: number } = {}) => {
    const words = [...func, ...line];
    const out = new Uint8Array(32 + words.length * 4);
    const dv = new DataView(out.buffer);
    dv.setUint16(0, hdr.magic ?? 0xeb9f, true);
    out[2] = hdr.version ?? 1;
    dv.setUint32(4, 32, true);
    dv.setUint32(8, 0, true);
    dv.setUint32(12, func.length * 4, true);
    dv.setUint32(16, func.length * 4, true);
    dv.setUint32(20, line.length * 4, true);
    for (const [i, w] of words.entries()) dv.setUint32(32 + i * 4, w >>> 0, true);
    return out;
  };

  it('parses hand-made records and encodes them for PROG_LOAD', () => {
    const e = BtfExt.parse(ext([8, 1, 1, 16, 0], [16, 1, 1, 8, 5, 1, (7 << 10) | 3]), btf);
    expect(e.funcInfo.sections.get('sec')).toEqual([{ insn: 2, typeId: 0 }]);
    expect(e.lineInfo.sections.get('sec')).toEqual([
      { insn: 1, fileName: 'f.c', fileNameOff: 5, line: 'sec', lineOff: 1, lineNum: 7, lineCol: 3 },
    ]);
    expect(e.coreRelos.sections.size).toBe(0);
    expect([...encodeFuncInfo([{ insn: 2, typeId: 0 }])]).toEqual([2, 0, 0, 0, 0, 0, 0, 0]);
    const li = new DataView(encodeLineInfo(e.lineInfo.sections.get('sec') ?? []).buffer);
    expect([
      li.getUint32(0, true),
      li.getUint32(4, true),
      li.getUint32(8, true),
      li.getUint32(12, true),
    ]).toEqual([1, 5, 1, (7 << 10) | 3]);
  });

  it('refuses what is not .BTF.ext with typed errors', () => {
    const bad = (data: Uint8Array, re: RegExp) => {
      expect(() => BtfExt.parse(data, btf)).toThrow(BtfFormatError);
      expect(() => BtfExt.parse(data, btf)).toThrow(re);
    };
    bad(new Uint8Array(10), /shorter than its header/);
    bad(ext([8, 1, 1, 0, 0], [], { magic: 0x1234 }), /bad magic/);
    bad(ext([8, 1, 1, 0, 0], [], { version: 2 }), /version 2/);
    bad(ext([6, 1, 1, 0, 0]), /record size 6/);
    bad(ext([8, 1, 0]), /has no records/);
    bad(ext([8, 1, 2, 0, 0]), /truncated/);
    bad(ext([8, 99, 1, 0, 0]), /string offset 99/);
    bad(ext([8, 1, 1, 3, 0]), /not a multiple of 8/);
    bad(ext([8, 1, 1, 0, 7]), /refers to type 7/);
    const cut = ext([8, 1, 1, 0, 0]);
    bad(cut.subarray(0, cut.length - 4), /past the end/);
  });
});
