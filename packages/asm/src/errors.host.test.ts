import { describe, expect, it } from 'vitest';
import {
  AsmRangeError,
  AsmTypeError,
  asm,
  assemble,
  disassemble,
  isAsmError,
  R0,
  R1,
  type Reg,
} from './index.js';

function codeOf(fn: () => unknown): { code: unknown; type: string } {
  try {
    fn();
  } catch (e) {
    const err = e as Error & { code?: unknown };
    expect(isAsmError(err)).toBe(true);
    return {
      code: err.code,
      type: err instanceof RangeError ? 'RangeError' : err instanceof TypeError ? 'TypeError' : 'other',
    };
  }
  throw new Error('expected a throw');
}

describe('errors', () => {
  it('rejects an unknown label', () => {
    const e = codeOf(() => assemble([asm.jeqImm(R0, 0, 'nowhere'), asm.exit()]));
    expect(e).toEqual({ code: 'ERR_BPFJS_ASM_UNKNOWN_LABEL', type: 'RangeError' });
    expect(() => assemble([asm.jeqImm(R0, 0, 'nowhere'), asm.exit()])).toThrow(/unknown label "nowhere"/);
  });

  it('rejects a label after the last instruction', () => {
    expect(codeOf(() => assemble([asm.ja('end'), asm.label('end')])).code).toBe(
      'ERR_BPFJS_ASM_UNKNOWN_LABEL',
    );
  });

  it('rejects a duplicate label', () => {
    expect(codeOf(() => assemble([asm.label('a'), asm.exit(), asm.label('a'), asm.exit()]))).toEqual({
      code: 'ERR_BPFJS_ASM_DUPLICATE_LABEL',
      type: 'RangeError',
    });
  });

  it('refuses to encode an instruction that still names a label', () => {
    expect(codeOf(() => asm.ja('x').encode()).code).toBe('ERR_BPFJS_ASM_UNKNOWN_LABEL');
  });

  it('rejects a jump beyond a 16-bit offset', () => {
    const body = Array.from({ length: 0x8000 }, () => asm.mov64Imm(R0, 0));
    expect(codeOf(() => assemble([asm.ja('far'), ...body, asm.label('far'), asm.exit()])).code).toBe(
      'ERR_BPFJS_ASM_JUMP_OUT_OF_RANGE',
    );
    // one less fits exactly
    const fits = assemble([asm.ja('far'), ...body.slice(1), asm.label('far'), asm.exit()]);
    expect(fits[2]).toBe(0xff);
    expect(fits[3]).toBe(0x7f);
  });

  it('rejects registers out of range', () => {
    expect(codeOf(() => asm.mov64Imm(11 as Reg, 0))).toEqual({
      code: 'ERR_BPFJS_ASM_INVALID_REGISTER',
      type: 'RangeError',
    });
    expect(codeOf(() => asm.mov64Reg(R0, -1 as Reg)).code).toBe('ERR_BPFJS_ASM_INVALID_REGISTER');
    expect(codeOf(() => asm.ldxW(R0, 1.5 as Reg, 0)).code).toBe('ERR_BPFJS_ASM_INVALID_REGISTER');
    expect(codeOf(() => asm.exit.call(null) && asm.mov64Imm('r0' as unknown as Reg, 0))).toEqual({
      code: 'ERR_INVALID_ARG_TYPE',
      type: 'TypeError',
    });
  });

  it('rejects immediates outside 32 bits and offsets outside 16 bits', () => {
    expect(codeOf(() => asm.mov64Imm(R0, 2 ** 32))).toEqual({ code: 'ERR_OUT_OF_RANGE', type: 'RangeError' });
    expect(codeOf(() => asm.mov64Imm(R0, -(2 ** 31) - 1)).code).toBe('ERR_OUT_OF_RANGE');
    expect(codeOf(() => asm.mov64Imm(R0, 1.5)).code).toBe('ERR_OUT_OF_RANGE');
    expect(codeOf(() => asm.mov64Imm(R0, Number.NaN)).code).toBe('ERR_OUT_OF_RANGE');
    expect(codeOf(() => asm.ldxW(R0, R1, 0x8000)).code).toBe('ERR_OUT_OF_RANGE');
    expect(codeOf(() => asm.ja(-0x8001)).code).toBe('ERR_OUT_OF_RANGE');
    expect(codeOf(() => asm.ldImm64(R0, 1n << 64n)).code).toBe('ERR_OUT_OF_RANGE');
    expect(codeOf(() => asm.ldImm64(R0, 2 ** 60)).code).toBe('ERR_OUT_OF_RANGE');
    expect(codeOf(() => asm.ldMapFd(R1, -1)).code).toBe('ERR_OUT_OF_RANGE');
    expect(codeOf(() => asm.ldMapFd(R1, { fd: -1 })).code).toBe('ERR_OUT_OF_RANGE');
  });

  it('rejects bad operation names, sizes and program items', () => {
    expect(codeOf(() => asm.alu64Imm('pow' as 'add', R0, 1))).toEqual({
      code: 'ERR_INVALID_ARG_VALUE',
      type: 'TypeError',
    });
    expect(codeOf(() => asm.ldxMem('q' as 'w', R0, R1, 0)).code).toBe('ERR_INVALID_ARG_VALUE');
    expect(codeOf(() => asm.toBe(R0, 8 as 16)).code).toBe('ERR_OUT_OF_RANGE');
    expect(codeOf(() => asm.label('')).code).toBe('ERR_INVALID_ARG_TYPE');
    expect(codeOf(() => assemble([asm.exit(), 42 as unknown as ReturnType<typeof asm.exit>])).code).toBe(
      'ERR_INVALID_ARG_TYPE',
    );
  });

  it('rejects truncated input to disassemble()', () => {
    expect(codeOf(() => disassemble(new Uint8Array(7))).code).toBe('ERR_BPFJS_ASM_TRUNCATED');
    expect(codeOf(() => disassemble(asm.ldImm64(R0, 1n).encode().subarray(0, 8))).code).toBe(
      'ERR_BPFJS_ASM_TRUNCATED',
    );
  });

  it('exposes the error classes', () => {
    try {
      asm.mov64Imm(R0, 2 ** 40);
    } catch (e) {
      expect(e).toBeInstanceOf(AsmRangeError);
    }
    try {
      asm.mov64Imm(R0, '1' as unknown as number);
    } catch (e) {
      expect(e).toBeInstanceOf(AsmTypeError);
    }
    expect.assertions(2);
  });
});
