import { describe, expect, it } from 'vitest';
import { asm, assemble, disassemble, Helper, R0, R1, R2, R10 } from './index.js';

// Expected bytes are written out by hand from the kernel's documented encoding
// (Documentation/bpf/standardization/instruction-set.rst): byte 0 opcode, byte 1 dst (low nibble)
// and src (high nibble), bytes 2-3 offset (s16 LE), bytes 4-7 imm (s32 LE).
function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}

const cases: Array<[string, ReturnType<typeof asm.exit>, string]> = [
  ['mov64 r0, 0', asm.mov64Imm(R0, 0), 'b7 00 00 00 00 00 00 00'],
  ['exit', asm.exit(), '95 00 00 00 00 00 00 00'],
  ['mov64 r1, r2', asm.mov64Reg(R1, R2), 'bf 21 00 00 00 00 00 00'],
  ['mov32 w0, 1', asm.mov32Imm(R0, 1), 'b4 00 00 00 01 00 00 00'],
  ['mov32 w0, w1', asm.mov32Reg(R0, R1), 'bc 10 00 00 00 00 00 00'],
  ['add64 r1, -8', asm.add64Imm(R1, -8), '07 01 00 00 f8 ff ff ff'],
  ['add64 r1, r2', asm.add64Reg(R1, R2), '0f 21 00 00 00 00 00 00'],
  ['add32 w1, 1', asm.add32Imm(R1, 1), '04 01 00 00 01 00 00 00'],
  ['sub64 r1, 1', asm.sub64Imm(R1, 1), '17 01 00 00 01 00 00 00'],
  ['mul64 r1, 3', asm.mul64Imm(R1, 3), '27 01 00 00 03 00 00 00'],
  ['div64 r1, 3', asm.div64Imm(R1, 3), '37 01 00 00 03 00 00 00'],
  ['or64 r1, 1', asm.or64Imm(R1, 1), '47 01 00 00 01 00 00 00'],
  ['and64 r1, 0xff', asm.and64Imm(R1, 0xff), '57 01 00 00 ff 00 00 00'],
  ['lsh64 r1, 32', asm.lsh64Imm(R1, 32), '67 01 00 00 20 00 00 00'],
  ['rsh64 r1, 32', asm.rsh64Imm(R1, 32), '77 01 00 00 20 00 00 00'],
  ['neg64 r0', asm.neg64(R0), '87 00 00 00 00 00 00 00'],
  ['mod64 r1, 7', asm.mod64Imm(R1, 7), '97 01 00 00 07 00 00 00'],
  ['xor64 r1, r2', asm.xor64Reg(R1, R2), 'af 21 00 00 00 00 00 00'],
  ['arsh64 r1, 1', asm.arsh64Imm(R1, 1), 'c7 01 00 00 01 00 00 00'],
  ['be16 r0', asm.toBe(R0, 16), 'dc 00 00 00 10 00 00 00'],
  ['le32 r0', asm.toLe(R0, 32), 'd4 00 00 00 20 00 00 00'],
  ['bswap64 r0', asm.bswap(R0, 64), 'd7 00 00 00 40 00 00 00'],
  ['call 1', asm.call(Helper.map_lookup_elem), '85 00 00 00 01 00 00 00'],
  ['call 124 (sk_assign)', asm.call(Helper.sk_assign), '85 00 00 00 7c 00 00 00'],
  ['ja +1', asm.ja(1), '05 00 01 00 00 00 00 00'],
  ['jeq r1, 2, +3', asm.jeqImm(R1, 2, 3), '15 01 03 00 02 00 00 00'],
  ['jne r1, r2, -1', asm.jneReg(R1, R2, -1), '5d 21 ff ff 00 00 00 00'],
  ['jgt r1, 5, +2', asm.jgtImm(R1, 5, 2), '25 01 02 00 05 00 00 00'],
  ['jsgt r1, -1, +2', asm.jsgtImm(R1, -1, 2), '65 01 02 00 ff ff ff ff'],
  ['jeq32 w1, 2, +3', asm.jeq32Imm(R1, 2, 3), '16 01 03 00 02 00 00 00'],
  ['jne32 w1, w2 via jmp32Reg', asm.jmp32Reg('jne', R1, R2, 4), '5e 21 04 00 00 00 00 00'],
  ['ldxw r0, [r1+4]', asm.ldxW(R0, R1, 4), '61 10 04 00 00 00 00 00'],
  ['ldxh r0, [r1+2]', asm.ldxH(R0, R1, 2), '69 10 02 00 00 00 00 00'],
  ['ldxb r0, [r1+1]', asm.ldxB(R0, R1, 1), '71 10 01 00 00 00 00 00'],
  ['ldxdw r2, [r10-8]', asm.ldxDW(R2, R10, -8), '79 a2 f8 ff 00 00 00 00'],
  ['stxw [r10-4], r1', asm.stxW(R10, R1, -4), '63 1a fc ff 00 00 00 00'],
  ['stxh [r10-2], r1', asm.stxH(R10, R1, -2), '6b 1a fe ff 00 00 00 00'],
  ['stxb [r10-1], r1', asm.stxB(R10, R1, -1), '73 1a ff ff 00 00 00 00'],
  ['stxdw [r10-8], r1', asm.stxDW(R10, R1, -8), '7b 1a f8 ff 00 00 00 00'],
  ['stw [r10-4], 0', asm.stW(R10, -4, 0), '62 0a fc ff 00 00 00 00'],
  ['sth [r10-2], 7', asm.stH(R10, -2, 7), '6a 0a fe ff 07 00 00 00'],
  ['stb [r10-1], 1', asm.stB(R10, -1, 1), '72 0a ff ff 01 00 00 00'],
  ['stdw [r10-8], -1', asm.stDW(R10, -8, -1), '7a 0a f8 ff ff ff ff ff'],
  ['lock add dw', asm.atomicAdd('dw', R1, R2, 0), 'db 21 00 00 00 00 00 00'],
  ['fetch add w', asm.atomicAdd('w', R1, R2, 8, true), 'c3 21 08 00 01 00 00 00'],
  ['ldabsh 12', asm.ldAbs('h', 12), '28 00 00 00 0c 00 00 00'],
  ['ldindb r1+0', asm.ldInd('b', R1, 0), '50 10 00 00 00 00 00 00'],
  [
    'lddw r1, 0x1122334455667788',
    asm.ldImm64(R1, 0x1122334455667788n),
    '18 01 00 00 88 77 66 55 00 00 00 00 44 33 22 11',
  ],
  ['lddw r0, -1', asm.ldImm64(R0, -1n), '18 00 00 00 ff ff ff ff 00 00 00 00 ff ff ff ff'],
  ['ld map fd r1, 5', asm.ldMapFd(R1, 5), '18 11 00 00 05 00 00 00 00 00 00 00 00 00 00 00'],
  ['ld map fd from {fd}', asm.ldMapFd(R2, { fd: 300 }), '18 12 00 00 2c 01 00 00 00 00 00 00 00 00 00 00'],
  ['ld map value', asm.ldMapValue(R1, 5, 16), '18 21 00 00 05 00 00 00 00 00 00 00 10 00 00 00'],
];

describe('encoding', () => {
  it.each(cases)('%s', (_name, insn, expected) => {
    expect(hex(insn.encode())).toBe(expected);
    expect(hex(assemble([insn]))).toBe(expected);
  });

  it('assembles a program as the concatenation of its instructions (ld_imm64 takes 2 slots)', () => {
    const prog = [asm.ldImm64(R0, 7), asm.exit()];
    const bytes = assemble(prog);
    expect(bytes.length).toBe(24);
    expect(hex(bytes)).toBe('18 00 00 00 07 00 00 00 00 00 00 00 00 00 00 00 95 00 00 00 00 00 00 00');
  });

  it('round-trips through disassemble()', () => {
    const bytes = assemble(cases.map((c) => c[2]).length ? cases.map((c) => c[1]) : []);
    const back = disassemble(bytes);
    expect(back.length).toBe(cases.length);
    back.forEach((insn, i) => {
      const orig = cases[i]![1];
      expect({
        code: insn.code,
        dst: insn.dst,
        src: insn.src,
        off: insn.off,
        imm: insn.imm,
        imm64: insn.imm64,
      }).toEqual({
        code: orig.code,
        dst: orig.dst,
        src: orig.src,
        off: orig.off,
        imm: orig.imm,
        imm64: orig.imm64,
      });
      expect(insn.toString()).toBe(orig.toString());
    });
    expect(hex(assemble(back))).toBe(hex(bytes));
  });

  it('accepts an unsigned 32-bit immediate as the same bit pattern', () => {
    expect(hex(asm.jeqImm(R1, 0xffffffff, 0).encode())).toBe('15 01 00 00 ff ff ff ff');
    expect(asm.jeqImm(R1, 0xffffffff, 0).imm).toBe(-1);
  });

  it('flattens nested fragments', () => {
    const ret = (v: number) => [asm.mov64Imm(R0, v), asm.exit()];
    expect(assemble([ret(1)]).length).toBe(16);
    expect(hex(assemble([[asm.mov64Imm(R0, 1)], [asm.exit()]]))).toBe(hex(assemble(ret(1))));
  });
});
