import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { asm, assemble, disassemble, Instruction, LD_IMM64_CODE, R0 } from './index.js';

// A small deterministic PRNG (mulberry32), so a failure is reproducible.
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('raw field round trip', () => {
  it('encode → disassemble returns the same fields for 5000 random instructions', () => {
    const rand = prng(0xb9f);
    const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
    const insns: Instruction[] = [];
    for (let i = 0; i < 5000; i++) {
      const code = int(0, 255);
      const fields = { code, dst: int(0, 15), src: int(0, 15), off: int(-0x8000, 0x7fff) };
      if (code === LD_IMM64_CODE) {
        const imm64 = (BigInt(int(0, 0xffff_ffff)) << 32n) | BigInt(int(0, 0xffff_ffff));
        insns.push(asm.raw({ ...fields, imm64 }));
      } else {
        insns.push(asm.raw({ ...fields, imm: int(-0x8000_0000, 0x7fff_ffff) }));
      }
    }
    const bytes = assemble(insns);
    const back = disassemble(bytes);
    expect(back.length).toBe(insns.length);
    for (let i = 0; i < insns.length; i++) {
      const a = insns[i]!;
      const b = back[i]!;
      expect([b.code, b.dst, b.src, b.off, b.imm, b.imm64]).toEqual([
        a.code,
        a.dst,
        a.src,
        a.off,
        a.imm,
        a.imm64,
      ]);
      // every instruction, valid or not, prints something without throwing
      expect(typeof b.toString()).toBe('string');
    }
  });

  it('shows itself in util.inspect', () => {
    expect(inspect(asm.mov64Imm(R0, 0))).toBe('Instruction<r0 = 0>');
    expect(new Instruction({ code: 0x95 }).toString()).toBe('exit');
  });
});
