/**
 * Instruction builders, one per instruction form, named after what they do: `mov64Imm(R0, 0)`,
 * `jeqImm(R1, 2, 'out')`, `ldxW(R0, R1, 4)`, `call(helperId)`, `exit()`. Each checks its
 * arguments (registers R0–R10, immediates in 32 bits, offsets in 16 bits) and throws a typed error
 * with an `ERR_*` code before anything is encoded.
 *
 * @module
 */

import {
  BPF_ALU64,
  BPF_ARSH,
  BPF_ATOMIC,
  BPF_CALL,
  BPF_DW,
  BPF_END,
  BPF_EXIT,
  BPF_FETCH,
  BPF_JLE,
  BPF_JLT,
  BPF_JMP32,
  BPF_JNE,
  BPF_JSGE,
  BPF_JSGT,
  BPF_JSLE,
  BPF_JSLT,
  BPF_MOV,
  BPF_PSEUDO_CALL,
  BPF_PSEUDO_FUNC,
  BPF_PSEUDO_MAP_FD,
  BPF_PSEUDO_MAP_VALUE,
  BPF_TO_BE,
  BPF_TO_LE,
} from '@bpfjs/uapi/linux/bpf';
import {
  BPF_ABS,
  BPF_ADD,
  BPF_ALU,
  BPF_AND,
  BPF_B,
  BPF_DIV,
  BPF_H,
  BPF_IND,
  BPF_JA,
  BPF_JEQ,
  BPF_JGE,
  BPF_JGT,
  BPF_JMP,
  BPF_JSET,
  BPF_K,
  BPF_LD,
  BPF_LDX,
  BPF_LSH,
  BPF_MEM,
  BPF_MOD,
  BPF_MUL,
  BPF_NEG,
  BPF_OR,
  BPF_RSH,
  BPF_ST,
  BPF_STX,
  BPF_SUB,
  BPF_W,
  BPF_X,
  BPF_XOR,
} from '@bpfjs/uapi/linux/bpf_common';
import { AsmRangeError, AsmTypeError, checkInt } from './errors.js';
import { Instruction, LD_IMM64_CODE, toS32, toU64 } from './instruction.js';
import { checkReg, type Reg } from './registers.js';

/**
 * A label: marks the position of the next instruction so jumps can name it. Takes no slot in the
 * encoded program. Create with `label(name)`.
 */
export class Label {
  /** The label's name, unique within one program. */
  readonly name: string;
  constructor(name: string) {
    this.name = checkLabel(name);
  }
  /** `name:` as a listing shows it. */
  toString(): string {
    return `${this.name}:`;
  }
}

/** What a program listing holds: instructions and labels. */
export type AsmItem = Instruction | Label;

/** A jump destination: a label name, or a relative offset in slots from the next instruction. */
export type JumpTarget = string | number;

/** Memory access sizes: byte, half word, word, double word. */
export type Size = 'b' | 'h' | 'w' | 'dw';

/** The ALU operations that take a source operand. */
export type AluOp =
  | 'add'
  | 'sub'
  | 'mul'
  | 'div'
  | 'or'
  | 'and'
  | 'lsh'
  | 'rsh'
  | 'mod'
  | 'xor'
  | 'mov'
  | 'arsh';

/** The conditional jump operations. */
export type JmpOp =
  | 'jeq'
  | 'jgt'
  | 'jge'
  | 'jset'
  | 'jne'
  | 'jsgt'
  | 'jsge'
  | 'jlt'
  | 'jle'
  | 'jslt'
  | 'jsle';

const aluCodes: Readonly<Record<AluOp, number>> = {
  add: BPF_ADD,
  sub: BPF_SUB,
  mul: BPF_MUL,
  div: BPF_DIV,
  or: BPF_OR,
  and: BPF_AND,
  lsh: BPF_LSH,
  rsh: BPF_RSH,
  mod: BPF_MOD,
  xor: BPF_XOR,
  mov: BPF_MOV,
  arsh: BPF_ARSH,
};

const jmpCodes: Readonly<Record<JmpOp, number>> = {
  jeq: BPF_JEQ,
  jgt: BPF_JGT,
  jge: BPF_JGE,
  jset: BPF_JSET,
  jne: BPF_JNE,
  jsgt: BPF_JSGT,
  jsge: BPF_JSGE,
  jlt: BPF_JLT,
  jle: BPF_JLE,
  jslt: BPF_JSLT,
  jsle: BPF_JSLE,
};

const sizeCodes: Readonly<Record<Size, number>> = { b: BPF_B, h: BPF_H, w: BPF_W, dw: BPF_DW };

function checkLabel(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new AsmTypeError(
      'ERR_INVALID_ARG_TYPE',
      `a label name must be a non-empty string, got ${String(name)}`,
    );
  }
  return name;
}

function aluCode(op: unknown): number {
  const c = typeof op === 'string' ? aluCodes[op as AluOp] : undefined;
  if (c === undefined) {
    throw new AsmTypeError(
      'ERR_INVALID_ARG_VALUE',
      `unknown ALU operation ${String(op)}; expected one of ${Object.keys(aluCodes).join(', ')}`,
    );
  }
  return c;
}

function jmpCode(op: unknown): number {
  const c = typeof op === 'string' ? jmpCodes[op as JmpOp] : undefined;
  if (c === undefined) {
    throw new AsmTypeError(
      'ERR_INVALID_ARG_VALUE',
      `unknown jump operation ${String(op)}; expected one of ${Object.keys(jmpCodes).join(', ')}`,
    );
  }
  return c;
}

function sizeCode(size: unknown): number {
  const c = typeof size === 'string' ? sizeCodes[size as Size] : undefined;
  if (c === undefined)
    throw new AsmTypeError(
      'ERR_INVALID_ARG_VALUE',
      `size must be 'b', 'h', 'w' or 'dw', got ${String(size)}`,
    );
  return c;
}

function off16(name: string, v: unknown): number {
  return checkInt(name, v, -0x8000, 0x7fff);
}

function jumpFields(target: JumpTarget): { off?: number; target?: string } {
  if (typeof target === 'string') return { target: checkLabel(target) };
  return { off: off16('jump offset', target) };
}

// ---- ALU -------------------------------------------------------------------------------------

/** 64-bit ALU operation with an immediate: `dst op= imm` (imm sign-extended to 64 bits). */
export function alu64Imm(op: AluOp, dst: Reg, imm: number): Instruction {
  return new Instruction({
    code: BPF_ALU64 | aluCode(op) | BPF_K,
    dst: checkReg('dst', dst),
    imm: toS32('imm', imm),
  });
}
/** 64-bit ALU operation with a register: `dst op= src`. */
export function alu64Reg(op: AluOp, dst: Reg, src: Reg): Instruction {
  return new Instruction({
    code: BPF_ALU64 | aluCode(op) | BPF_X,
    dst: checkReg('dst', dst),
    src: checkReg('src', src),
  });
}
/** 32-bit ALU operation with an immediate: `wdst op= imm` (upper 32 bits of dst are zeroed). */
export function alu32Imm(op: AluOp, dst: Reg, imm: number): Instruction {
  return new Instruction({
    code: BPF_ALU | aluCode(op) | BPF_K,
    dst: checkReg('dst', dst),
    imm: toS32('imm', imm),
  });
}
/** 32-bit ALU operation with a register: `wdst op= wsrc`. */
export function alu32Reg(op: AluOp, dst: Reg, src: Reg): Instruction {
  return new Instruction({
    code: BPF_ALU | aluCode(op) | BPF_X,
    dst: checkReg('dst', dst),
    src: checkReg('src', src),
  });
}

/** `dst = imm` (64-bit, imm sign-extended). */
export const mov64Imm = (dst: Reg, imm: number): Instruction => alu64Imm('mov', dst, imm);
/** `dst = src` (64-bit). */
export const mov64Reg = (dst: Reg, src: Reg): Instruction => alu64Reg('mov', dst, src);
/** `wdst = imm` (32-bit). */
export const mov32Imm = (dst: Reg, imm: number): Instruction => alu32Imm('mov', dst, imm);
/** `wdst = wsrc` (32-bit). */
export const mov32Reg = (dst: Reg, src: Reg): Instruction => alu32Reg('mov', dst, src);
/** `dst += imm` (64-bit). */
export const add64Imm = (dst: Reg, imm: number): Instruction => alu64Imm('add', dst, imm);
/** `dst += src` (64-bit). */
export const add64Reg = (dst: Reg, src: Reg): Instruction => alu64Reg('add', dst, src);
/** `wdst += imm` (32-bit). */
export const add32Imm = (dst: Reg, imm: number): Instruction => alu32Imm('add', dst, imm);
/** `wdst += wsrc` (32-bit). */
export const add32Reg = (dst: Reg, src: Reg): Instruction => alu32Reg('add', dst, src);
/** `dst -= imm` (64-bit). */
export const sub64Imm = (dst: Reg, imm: number): Instruction => alu64Imm('sub', dst, imm);
/** `dst -= src` (64-bit). */
export const sub64Reg = (dst: Reg, src: Reg): Instruction => alu64Reg('sub', dst, src);
/** `dst *= imm` (64-bit). */
export const mul64Imm = (dst: Reg, imm: number): Instruction => alu64Imm('mul', dst, imm);
/** `dst /= imm` (64-bit, unsigned). */
export const div64Imm = (dst: Reg, imm: number): Instruction => alu64Imm('div', dst, imm);
/** `dst %= imm` (64-bit, unsigned). */
export const mod64Imm = (dst: Reg, imm: number): Instruction => alu64Imm('mod', dst, imm);
/** `dst &= imm` (64-bit). */
export const and64Imm = (dst: Reg, imm: number): Instruction => alu64Imm('and', dst, imm);
/** `dst &= src` (64-bit). */
export const and64Reg = (dst: Reg, src: Reg): Instruction => alu64Reg('and', dst, src);
/** `dst |= imm` (64-bit). */
export const or64Imm = (dst: Reg, imm: number): Instruction => alu64Imm('or', dst, imm);
/** `dst |= src` (64-bit). */
export const or64Reg = (dst: Reg, src: Reg): Instruction => alu64Reg('or', dst, src);
/** `dst ^= imm` (64-bit). */
export const xor64Imm = (dst: Reg, imm: number): Instruction => alu64Imm('xor', dst, imm);
/** `dst ^= src` (64-bit). */
export const xor64Reg = (dst: Reg, src: Reg): Instruction => alu64Reg('xor', dst, src);
/** `dst <<= imm` (64-bit). */
export const lsh64Imm = (dst: Reg, imm: number): Instruction => alu64Imm('lsh', dst, imm);
/** `dst >>= imm` (64-bit, logical). */
export const rsh64Imm = (dst: Reg, imm: number): Instruction => alu64Imm('rsh', dst, imm);
/** `dst s>>= imm` (64-bit, arithmetic). */
export const arsh64Imm = (dst: Reg, imm: number): Instruction => alu64Imm('arsh', dst, imm);

/** `dst = -dst` (64-bit). */
export function neg64(dst: Reg): Instruction {
  return new Instruction({ code: BPF_ALU64 | BPF_NEG | BPF_K, dst: checkReg('dst', dst) });
}
/** `wdst = -wdst` (32-bit). */
export function neg32(dst: Reg): Instruction {
  return new Instruction({ code: BPF_ALU | BPF_NEG | BPF_K, dst: checkReg('dst', dst) });
}

function endian(cls: number, src: number, dst: Reg, bits: unknown): Instruction {
  if (bits !== 16 && bits !== 32 && bits !== 64) {
    throw new AsmRangeError('ERR_OUT_OF_RANGE', `byte swap width must be 16, 32 or 64, got ${String(bits)}`);
  }
  return new Instruction({ code: cls | BPF_END | src, dst: checkReg('dst', dst), imm: bits });
}
/** `dst = be<bits> dst`: convert to big-endian (network order), 16/32/64 bits. */
export const toBe = (dst: Reg, bits: 16 | 32 | 64): Instruction => endian(BPF_ALU, BPF_TO_BE, dst, bits);
/** `dst = le<bits> dst`: convert to little-endian, 16/32/64 bits (truncates on a LE host). */
export const toLe = (dst: Reg, bits: 16 | 32 | 64): Instruction => endian(BPF_ALU, BPF_TO_LE, dst, bits);
/** `dst = bswap<bits> dst`: unconditional byte swap (kernel 6.6+, cpu v4). */
export const bswap = (dst: Reg, bits: 16 | 32 | 64): Instruction => endian(BPF_ALU64, BPF_TO_LE, dst, bits);

// ---- jumps, calls, exit ----------------------------------------------------------------------

/** Unconditional jump: `goto target` (a label, or an offset in slots from the next instruction). */
export function ja(target: JumpTarget): Instruction {
  return new Instruction({ code: BPF_JMP | BPF_JA, ...jumpFields(target) });
}

/** Conditional jump comparing 64-bit `dst` with an immediate: `if dst op imm goto target`. */
export function jmpImm(op: JmpOp, dst: Reg, imm: number, target: JumpTarget): Instruction {
  return new Instruction({
    code: BPF_JMP | jmpCode(op) | BPF_K,
    dst: checkReg('dst', dst),
    imm: toS32('imm', imm),
    ...jumpFields(target),
  });
}
/** Conditional jump comparing 64-bit registers: `if dst op src goto target`. */
export function jmpReg(op: JmpOp, dst: Reg, src: Reg, target: JumpTarget): Instruction {
  return new Instruction({
    code: BPF_JMP | jmpCode(op) | BPF_X,
    dst: checkReg('dst', dst),
    src: checkReg('src', src),
    ...jumpFields(target),
  });
}
/** Conditional jump comparing the low 32 bits of `dst` with an immediate (JMP32, kernel 5.1+). */
export function jmp32Imm(op: JmpOp, dst: Reg, imm: number, target: JumpTarget): Instruction {
  return new Instruction({
    code: BPF_JMP32 | jmpCode(op) | BPF_K,
    dst: checkReg('dst', dst),
    imm: toS32('imm', imm),
    ...jumpFields(target),
  });
}
/** Conditional jump comparing the low 32 bits of two registers (JMP32, kernel 5.1+). */
export function jmp32Reg(op: JmpOp, dst: Reg, src: Reg, target: JumpTarget): Instruction {
  return new Instruction({
    code: BPF_JMP32 | jmpCode(op) | BPF_X,
    dst: checkReg('dst', dst),
    src: checkReg('src', src),
    ...jumpFields(target),
  });
}

/** `if dst == imm goto target`. */
export const jeqImm = (dst: Reg, imm: number, t: JumpTarget): Instruction => jmpImm('jeq', dst, imm, t);
/** `if dst == src goto target`. */
export const jeqReg = (dst: Reg, src: Reg, t: JumpTarget): Instruction => jmpReg('jeq', dst, src, t);
/** `if dst != imm goto target`. */
export const jneImm = (dst: Reg, imm: number, t: JumpTarget): Instruction => jmpImm('jne', dst, imm, t);
/** `if dst != src goto target`. */
export const jneReg = (dst: Reg, src: Reg, t: JumpTarget): Instruction => jmpReg('jne', dst, src, t);
/** `if dst > imm goto target` (unsigned). */
export const jgtImm = (dst: Reg, imm: number, t: JumpTarget): Instruction => jmpImm('jgt', dst, imm, t);
/** `if dst > src goto target` (unsigned). */
export const jgtReg = (dst: Reg, src: Reg, t: JumpTarget): Instruction => jmpReg('jgt', dst, src, t);
/** `if dst >= imm goto target` (unsigned). */
export const jgeImm = (dst: Reg, imm: number, t: JumpTarget): Instruction => jmpImm('jge', dst, imm, t);
/** `if dst < imm goto target` (unsigned). */
export const jltImm = (dst: Reg, imm: number, t: JumpTarget): Instruction => jmpImm('jlt', dst, imm, t);
/** `if dst <= imm goto target` (unsigned). */
export const jleImm = (dst: Reg, imm: number, t: JumpTarget): Instruction => jmpImm('jle', dst, imm, t);
/** `if dst & imm goto target`. */
export const jsetImm = (dst: Reg, imm: number, t: JumpTarget): Instruction => jmpImm('jset', dst, imm, t);
/** `if dst s> imm goto target` (signed). */
export const jsgtImm = (dst: Reg, imm: number, t: JumpTarget): Instruction => jmpImm('jsgt', dst, imm, t);
/** `if dst s< imm goto target` (signed). */
export const jsltImm = (dst: Reg, imm: number, t: JumpTarget): Instruction => jmpImm('jslt', dst, imm, t);
/** `if wdst == imm goto target` (JMP32). */
export const jeq32Imm = (dst: Reg, imm: number, t: JumpTarget): Instruction => jmp32Imm('jeq', dst, imm, t);
/** `if wdst != imm goto target` (JMP32). */
export const jne32Imm = (dst: Reg, imm: number, t: JumpTarget): Instruction => jmp32Imm('jne', dst, imm, t);

/** Calls a kernel helper by its number (`BPF_FUNC_*`, see `Helper`): `call id`. Result in R0. */
export function call(helperId: number): Instruction {
  return new Instruction({ code: BPF_JMP | BPF_CALL, imm: checkInt('helperId', helperId, 0, 0x7fff_ffff) });
}

/** BPF-to-BPF call of a function starting at `label` (`src = BPF_PSEUDO_CALL`, kernel 4.16+). */
export function callLabel(label: string): Instruction {
  return new Instruction({ code: BPF_JMP | BPF_CALL, src: BPF_PSEUDO_CALL, target: checkLabel(label) });
}

/** Returns from the program (or subprogram) with the value in R0. */
export function exit(): Instruction {
  return new Instruction({ code: BPF_JMP | BPF_EXIT });
}

// ---- loads and stores ------------------------------------------------------------------------

/** `dst = *(size *)(src + off)`. */
export function ldxMem(size: Size, dst: Reg, src: Reg, off: number): Instruction {
  return new Instruction({
    code: BPF_LDX | sizeCode(size) | BPF_MEM,
    dst: checkReg('dst', dst),
    src: checkReg('src', src),
    off: off16('off', off),
  });
}
/** `*(size *)(dst + off) = src`. */
export function stxMem(size: Size, dst: Reg, src: Reg, off: number): Instruction {
  return new Instruction({
    code: BPF_STX | sizeCode(size) | BPF_MEM,
    dst: checkReg('dst', dst),
    src: checkReg('src', src),
    off: off16('off', off),
  });
}
/** `*(size *)(dst + off) = imm`. */
export function stMem(size: Size, dst: Reg, off: number, imm: number): Instruction {
  return new Instruction({
    code: BPF_ST | sizeCode(size) | BPF_MEM,
    dst: checkReg('dst', dst),
    off: off16('off', off),
    imm: toS32('imm', imm),
  });
}

/** `dst = *(u8 *)(src + off)`. */
export const ldxB = (dst: Reg, src: Reg, off: number): Instruction => ldxMem('b', dst, src, off);
/** `dst = *(u16 *)(src + off)`. */
export const ldxH = (dst: Reg, src: Reg, off: number): Instruction => ldxMem('h', dst, src, off);
/** `dst = *(u32 *)(src + off)`. */
export const ldxW = (dst: Reg, src: Reg, off: number): Instruction => ldxMem('w', dst, src, off);
/** `dst = *(u64 *)(src + off)`. */
export const ldxDW = (dst: Reg, src: Reg, off: number): Instruction => ldxMem('dw', dst, src, off);
/** `*(u8 *)(dst + off) = src`. */
export const stxB = (dst: Reg, src: Reg, off: number): Instruction => stxMem('b', dst, src, off);
/** `*(u16 *)(dst + off) = src`. */
export const stxH = (dst: Reg, src: Reg, off: number): Instruction => stxMem('h', dst, src, off);
/** `*(u32 *)(dst + off) = src`. */
export const stxW = (dst: Reg, src: Reg, off: number): Instruction => stxMem('w', dst, src, off);
/** `*(u64 *)(dst + off) = src`. */
export const stxDW = (dst: Reg, src: Reg, off: number): Instruction => stxMem('dw', dst, src, off);
/** `*(u8 *)(dst + off) = imm`. */
export const stB = (dst: Reg, off: number, imm: number): Instruction => stMem('b', dst, off, imm);
/** `*(u16 *)(dst + off) = imm`. */
export const stH = (dst: Reg, off: number, imm: number): Instruction => stMem('h', dst, off, imm);
/** `*(u32 *)(dst + off) = imm`. */
export const stW = (dst: Reg, off: number, imm: number): Instruction => stMem('w', dst, off, imm);
/** `*(u64 *)(dst + off) = imm` (imm sign-extended). */
export const stDW = (dst: Reg, off: number, imm: number): Instruction => stMem('dw', dst, off, imm);

/** Atomic `*(size *)(dst + off) += src` (`lock` add; size 'w' or 'dw'); with `fetch`, src gets the old value. */
export function atomicAdd(size: 'w' | 'dw', dst: Reg, src: Reg, off: number, fetch = false): Instruction {
  if (size !== 'w' && size !== 'dw') {
    throw new AsmTypeError(
      'ERR_INVALID_ARG_VALUE',
      `atomic operations take size 'w' or 'dw', got ${String(size)}`,
    );
  }
  return new Instruction({
    code: BPF_STX | sizeCode(size) | BPF_ATOMIC,
    dst: checkReg('dst', dst),
    src: checkReg('src', src),
    off: off16('off', off),
    imm: BPF_ADD | (fetch ? BPF_FETCH : 0),
  });
}

/** Legacy packet load (socket filters): `r0 = *(size *)skb[imm]`, network byte order converted. */
export function ldAbs(size: 'b' | 'h' | 'w', imm: number): Instruction {
  if (size === ('dw' as string))
    throw new AsmTypeError('ERR_INVALID_ARG_VALUE', 'ldAbs takes size b, h or w');
  return new Instruction({ code: BPF_LD | sizeCode(size) | BPF_ABS, imm: toS32('imm', imm) });
}
/** Legacy indirect packet load: `r0 = *(size *)skb[src + imm]`. */
export function ldInd(size: 'b' | 'h' | 'w', src: Reg, imm: number): Instruction {
  if (size === ('dw' as string))
    throw new AsmTypeError('ERR_INVALID_ARG_VALUE', 'ldInd takes size b, h or w');
  return new Instruction({
    code: BPF_LD | sizeCode(size) | BPF_IND,
    src: checkReg('src', src),
    imm: toS32('imm', imm),
  });
}

/** `dst = imm64` as a two-slot `ld_imm64` (16 bytes). `value` may be a bigint or a safe integer. */
export function ldImm64(dst: Reg, value: bigint | number): Instruction {
  return new Instruction({ code: LD_IMM64_CODE, dst: checkReg('dst', dst), imm64: toU64('value', value) });
}

/** Something holding a map file descriptor: a number, or an object with an `fd` (e.g. sys's `Fd`). */
export type MapFdLike = number | { readonly fd: number };

function mapFd(m: unknown): number {
  const n = typeof m === 'object' && m !== null && 'fd' in m ? (m as { fd: unknown }).fd : m;
  if (typeof n !== 'number') {
    throw new AsmTypeError(
      'ERR_INVALID_ARG_TYPE',
      `map must be an fd number or an object with an fd, got ${typeof m}`,
    );
  }
  return checkInt('map fd', n, 0, 0x7fff_ffff);
}

/**
 * `dst = map` — loads a map's address by its fd (`ld_imm64` with `src = BPF_PSEUDO_MAP_FD`); the
 * verifier replaces the fd with the map pointer at load time.
 * @throws {AsmRangeError} a negative fd (e.g. of a closed `Fd`, whose `fd` is -1).
 */
export function ldMapFd(dst: Reg, map: MapFdLike): Instruction {
  return new Instruction({
    code: LD_IMM64_CODE,
    dst: checkReg('dst', dst),
    src: BPF_PSEUDO_MAP_FD,
    imm64: BigInt(mapFd(map)),
  });
}

/** `dst = &map_value[0] + offset` for array maps (`BPF_PSEUDO_MAP_VALUE`, kernel 5.2+). */
export function ldMapValue(dst: Reg, map: MapFdLike, offset: number): Instruction {
  const o = checkInt('offset', offset, 0, 0xffff_ffff);
  return new Instruction({
    code: LD_IMM64_CODE,
    dst: checkReg('dst', dst),
    src: BPF_PSEUDO_MAP_VALUE,
    imm64: (BigInt(o) << 32n) | BigInt(mapFd(map)),
  });
}

/** `dst = &func` — a pointer to the BPF function at `label` (`BPF_PSEUDO_FUNC`, kernel 5.13+). */
export function ldFunc(dst: Reg, label: string): Instruction {
  return new Instruction({
    code: LD_IMM64_CODE,
    dst: checkReg('dst', dst),
    src: BPF_PSEUDO_FUNC,
    target: checkLabel(label),
  });
}

/** A label marking the next instruction (takes no slot). */
export function label(name: string): Label {
  return new Label(name);
}

/** An instruction from raw `struct bpf_insn` fields, for forms without a builder. */
export function raw(fields: ConstructorParameters<typeof Instruction>[0]): Instruction {
  return new Instruction(fields);
}
