import { type FieldLayout, readNumber, writeField } from '@bpfjs/uapi';
import {
  BPF_ALU64,
  BPF_ARSH,
  BPF_ATOMIC,
  BPF_CALL,
  BPF_CMPXCHG,
  BPF_DW,
  BPF_END,
  BPF_EXIT,
  BPF_FETCH,
  BPF_JCOND,
  BPF_JLE,
  BPF_JLT,
  BPF_JMP32,
  BPF_JNE,
  BPF_JSGE,
  BPF_JSGT,
  BPF_JSLE,
  BPF_JSLT,
  BPF_MEMSX,
  BPF_MOV,
  BPF_PSEUDO_BTF_ID,
  BPF_PSEUDO_CALL,
  BPF_PSEUDO_FUNC,
  BPF_PSEUDO_KFUNC_CALL,
  BPF_PSEUDO_MAP_FD,
  BPF_PSEUDO_MAP_IDX,
  BPF_PSEUDO_MAP_IDX_VALUE,
  BPF_PSEUDO_MAP_VALUE,
  BPF_XCHG,
  BpfInsn,
} from '@bpfjs/uapi/linux/bpf';
import {
  BPF_ABS,
  BPF_ADD,
  BPF_ALU,
  BPF_AND,
  BPF_B,
  BPF_DIV,
  BPF_H,
  BPF_IMM,
  BPF_IND,
  BPF_JA,
  BPF_JEQ,
  BPF_JGE,
  BPF_JGT,
  BPF_JMP,
  BPF_JSET,
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

/** Size of one encoded instruction slot (`sizeof(struct bpf_insn)`). */
export const INSN_SIZE: number = BpfInsn.size;

/** Opcode of the 16-byte 64-bit immediate load (`BPF_LD | BPF_DW | BPF_IMM`). */
export const LD_IMM64_CODE: number = BPF_LD | BPF_DW | BPF_IMM;

const INT32_MIN = -0x8000_0000;
const UINT32_MAX = 0xffff_ffff;
const U64_MASK = (1n << 64n) - 1n;

/** The raw fields of one instruction, as `struct bpf_insn` has them. */
export interface InstructionFields {
  /** The opcode byte (`BPF_CLASS | BPF_OP/BPF_SIZE | BPF_SRC/BPF_MODE`). */
  readonly code: number;
  /** Destination register (4 bits). */
  readonly dst?: number;
  /** Source register (4 bits), or a pseudo source (`BPF_PSEUDO_MAP_FD`, ...). */
  readonly src?: number;
  /** Signed 16-bit offset. */
  readonly off?: number;
  /**
   * Signed 32-bit immediate. An unsigned 32-bit value (up to `0xffffffff`) is accepted and stored
   * as the same bit pattern.
   */
  readonly imm?: number;
  /** Only for `ld_imm64`: the full 64-bit immediate (signed or unsigned); overrides `imm`. */
  readonly imm64?: bigint;
  /**
   * An unresolved label this instruction refers to: a jump's `off`, or a BPF-to-BPF call's / a
   * function pointer load's `imm`. Filled in by `resolve()` / `assemble()`.
   */
  readonly target?: string;
}

/**
 * One eBPF instruction: a `struct bpf_insn`, or the two slots of a 64-bit immediate load
 * (`ld_imm64`). Immutable. Build them with the functions of `asm` rather than by hand.
 */
export class Instruction {
  /** The opcode byte. */
  readonly code: number;
  /** Destination register field. */
  readonly dst: number;
  /** Source register field (or pseudo source). */
  readonly src: number;
  /** Signed 16-bit offset field. */
  readonly off: number;
  /** Signed 32-bit immediate field (for `ld_imm64`: the low 32 bits). */
  readonly imm: number;
  /** For `ld_imm64` only: the 64-bit immediate as an unsigned 64-bit bigint. */
  readonly imm64: bigint | undefined;
  /** Label this instruction refers to while unresolved, else `undefined`. */
  readonly target: string | undefined;

  /**
   * Builds an instruction from raw fields, checking every field fits its bits.
   * @throws {AsmRangeError} `ERR_OUT_OF_RANGE` for a field out of range.
   * @throws {AsmTypeError} `ERR_INVALID_ARG_TYPE` for a field of the wrong type.
   */
  constructor(fields: InstructionFields) {
    if (typeof fields !== 'object' || fields === null) {
      throw new AsmTypeError('ERR_INVALID_ARG_TYPE', 'instruction fields must be an object');
    }
    this.code = checkInt('code', fields.code, 0, 0xff);
    this.dst = checkInt('dst', fields.dst ?? 0, 0, 0xf);
    this.src = checkInt('src', fields.src ?? 0, 0, 0xf);
    this.off = checkInt('off', fields.off ?? 0, -0x8000, 0x7fff);
    if (fields.target !== undefined && (typeof fields.target !== 'string' || fields.target === '')) {
      throw new AsmTypeError('ERR_INVALID_ARG_TYPE', 'target must be a non-empty label name');
    }
    this.target = fields.target;
    if (this.code === LD_IMM64_CODE) {
      let v: bigint;
      if (fields.imm64 !== undefined) {
        v = toU64('imm64', fields.imm64);
      } else {
        v = BigInt.asUintN(64, BigInt(toS32('imm', fields.imm ?? 0)));
        v = BigInt.asUintN(32, v);
      }
      this.imm64 = v;
      this.imm = Number(BigInt.asIntN(32, v));
    } else {
      if (fields.imm64 !== undefined) {
        throw new AsmTypeError(
          'ERR_INVALID_ARG_VALUE',
          'imm64 is only valid for ld_imm64 (BPF_LD | BPF_DW | BPF_IMM)',
        );
      }
      this.imm = toS32('imm', fields.imm ?? 0);
      this.imm64 = undefined;
    }
  }

  /** Number of 8-byte slots this instruction takes: 2 for `ld_imm64`, else 1. */
  get slots(): 1 | 2 {
    return this.code === LD_IMM64_CODE ? 2 : 1;
  }

  /** The instruction class (`BPF_CLASS(code)`). */
  get class(): number {
    return this.code & 0x07;
  }

  /** True for a jump whose `off` is relative to the next instruction (every JMP/JMP32 except call/exit). */
  get isJump(): boolean {
    const cls = this.class;
    if (cls !== BPF_JMP && cls !== BPF_JMP32) return false;
    const op = this.code & 0xf0;
    return op !== BPF_CALL && op !== BPF_EXIT;
  }

  /** Returns a copy with some fields replaced (`target: undefined` clears the label). */
  with(fields: Partial<InstructionFields>): Instruction {
    const base: InstructionFields = {
      code: this.code,
      dst: this.dst,
      src: this.src,
      off: this.off,
      imm: this.imm,
      ...(this.imm64 !== undefined ? { imm64: this.imm64 } : {}),
      ...(this.target !== undefined ? { target: this.target } : {}),
    };
    const merged: Record<string, unknown> = { ...base };
    for (const [k, v] of Object.entries(fields)) {
      if (v === undefined) delete merged[k];
      else merged[k] = v;
    }
    if ('imm' in fields && !('imm64' in fields)) delete merged.imm64;
    return new Instruction(merged as unknown as InstructionFields);
  }

  /**
   * Writes the instruction's slot(s) into `out` at byte offset `at` (little-endian, using the
   * `struct bpf_insn` layout from `@bpfjs/uapi`). Returns the number of bytes written.
   * @throws {AsmRangeError} `ERR_BPFJS_ASM_UNKNOWN_LABEL` if the instruction still refers to a label.
   */
  encodeInto(out: Uint8Array, at = 0): number {
    if (this.target !== undefined) {
      throw new AsmRangeError(
        'ERR_BPFJS_ASM_UNKNOWN_LABEL',
        `instruction refers to label "${this.target}" which is not resolved; use assemble() on the whole program`,
      );
    }
    const need = this.slots * INSN_SIZE;
    if (at < 0 || at + need > out.length) {
      throw new AsmRangeError('ERR_OUT_OF_RANGE', `no room for ${need} bytes at offset ${at}`);
    }
    writeSlot(out, at, this.code, this.dst, this.src, this.off, this.imm);
    if (this.imm64 !== undefined) {
      writeSlot(out, at + INSN_SIZE, 0, 0, 0, 0, Number(BigInt.asIntN(32, this.imm64 >> 32n)));
    }
    return need;
  }

  /** The encoded bytes (8, or 16 for `ld_imm64`). */
  encode(): Uint8Array {
    const out = new Uint8Array(this.slots * INSN_SIZE);
    this.encodeInto(out, 0);
    return out;
  }

  /**
   * A readable form close to bpftool's: `r0 = 0`, `exit`, `if r1 == 0x2 goto +3`, `call 65`,
   * `r0 = *(u32 *)(r1 +4)`, `r1 = map[fd:5]`. Unresolved labels are shown by name (`goto out`).
   */
  toString(): string {
    return formatInstruction(this);
  }

  /** Node's `util.inspect` hook: `Instruction<r0 = 0>`. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `Instruction<${this.toString()}>`;
  }
}

/** @internal */
export function toS32(name: string, value: unknown): number {
  const v = checkInt(name, value, INT32_MIN, UINT32_MAX);
  return v | 0;
}

/** @internal */
export function toU64(name: string, value: unknown): bigint {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) {
      throw new AsmRangeError('ERR_OUT_OF_RANGE', `${name} must be a safe integer or a bigint, got ${value}`);
    }
    return BigInt.asUintN(64, BigInt(value));
  }
  if (typeof value !== 'bigint') {
    throw new AsmTypeError(
      'ERR_INVALID_ARG_TYPE',
      `${name} must be a bigint or a number, got ${typeof value}`,
    );
  }
  if (value < -(1n << 63n) || value > U64_MASK) {
    throw new AsmRangeError('ERR_OUT_OF_RANGE', `${name} must fit in 64 bits, got ${value}`);
  }
  return BigInt.asUintN(64, value);
}

const fields = BpfInsn.fields as Readonly<
  Record<'code' | 'dst_reg' | 'src_reg' | 'off' | 'imm', FieldLayout>
>;

function writeSlot(
  out: Uint8Array,
  at: number,
  code: number,
  dst: number,
  src: number,
  off: number,
  imm: number,
) {
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  out.fill(0, at, at + INSN_SIZE);
  writeField(view, fields.code, code, at);
  writeField(view, fields.dst_reg, dst, at);
  writeField(view, fields.src_reg, src, at);
  writeField(view, fields.off, off, at);
  writeField(view, fields.imm, imm, at);
}

/**
 * Decodes encoded instructions (as `assemble()` writes them, or as the kernel reports a program's
 * `xlated_prog_insns`) back into `Instruction`s; an `ld_imm64` takes its two slots.
 * @throws {AsmRangeError} `ERR_BPFJS_ASM_TRUNCATED` if the length is not a multiple of 8 or an
 *   `ld_imm64` lacks its second slot.
 */
export function disassemble(bytes: Uint8Array): Instruction[] {
  if (!(bytes instanceof Uint8Array)) {
    throw new AsmTypeError('ERR_INVALID_ARG_TYPE', 'bytes must be a Uint8Array');
  }
  if (bytes.length % INSN_SIZE !== 0) {
    throw new AsmRangeError(
      'ERR_BPFJS_ASM_TRUNCATED',
      `instruction bytes must be a multiple of ${INSN_SIZE}, got ${bytes.length}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Instruction[] = [];
  for (let at = 0; at < bytes.length; at += INSN_SIZE) {
    const code = readNumber(view, fields.code, at);
    const dst = readNumber(view, fields.dst_reg, at);
    const src = readNumber(view, fields.src_reg, at);
    const off = readNumber(view, fields.off, at);
    const imm = readNumber(view, fields.imm, at);
    if (code === LD_IMM64_CODE) {
      if (at + 2 * INSN_SIZE > bytes.length) {
        throw new AsmRangeError(
          'ERR_BPFJS_ASM_TRUNCATED',
          `ld_imm64 at slot ${at / INSN_SIZE} lacks its second slot`,
        );
      }
      const hi = readNumber(view, fields.imm, at + INSN_SIZE);
      const imm64 = (BigInt(hi >>> 0) << 32n) | BigInt(imm >>> 0);
      out.push(new Instruction({ code, dst, src, off, imm64 }));
      at += INSN_SIZE;
    } else {
      out.push(new Instruction({ code, dst, src, off, imm }));
    }
  }
  return out;
}

// ---- formatting -------------------------------------------------------------------------------

const aluOps: Readonly<Record<number, string>> = {
  [BPF_ADD]: '+=',
  [BPF_SUB]: '-=',
  [BPF_MUL]: '*=',
  [BPF_DIV]: '/=',
  [BPF_OR]: '|=',
  [BPF_AND]: '&=',
  [BPF_LSH]: '<<=',
  [BPF_RSH]: '>>=',
  [BPF_MOD]: '%=',
  [BPF_XOR]: '^=',
  [BPF_MOV]: '=',
  [BPF_ARSH]: 's>>=',
};

const jmpOps: Readonly<Record<number, string>> = {
  [BPF_JEQ]: '==',
  [BPF_JGT]: '>',
  [BPF_JGE]: '>=',
  [BPF_JSET]: '&',
  [BPF_JNE]: '!=',
  [BPF_JSGT]: 's>',
  [BPF_JSGE]: 's>=',
  [BPF_JLT]: '<',
  [BPF_JLE]: '<=',
  [BPF_JSLT]: 's<',
  [BPF_JSLE]: 's<=',
};

const sizeNames: Readonly<Record<number, string>> = {
  [BPF_B]: '8',
  [BPF_H]: '16',
  [BPF_W]: '32',
  [BPF_DW]: '64',
};

function rel(n: number): string {
  return n < 0 ? `${n}` : `+${n}`;
}

function hex(n: number): string {
  return `0x${(n >>> 0).toString(16)}`;
}

function mem(sign: 'u' | 's', size: number, reg: number, off: number): string {
  return `*(${sign}${sizeNames[size] ?? '?'} *)(r${reg} ${rel(off)})`;
}

function bad(insn: Instruction): string {
  return `(bad opcode 0x${insn.code.toString(16).padStart(2, '0')})`;
}

function formatAlu(insn: Instruction): string {
  const is64 = insn.class === BPF_ALU64;
  const p = is64 ? 'r' : 'w';
  const op = insn.code & 0xf0;
  const useReg = (insn.code & BPF_X) === BPF_X;
  if (op === BPF_END) {
    const bits = insn.imm;
    if (is64) return `r${insn.dst} = bswap${bits} r${insn.dst}`;
    return `r${insn.dst} = ${useReg ? 'be' : 'le'}${bits} r${insn.dst}`;
  }
  if (op === BPF_NEG) return `${p}${insn.dst} = -${p}${insn.dst}`;
  let sym = aluOps[op];
  if (sym === undefined) return bad(insn);
  if ((op === BPF_DIV || op === BPF_MOD) && insn.off === 1) sym = `s${sym}`;
  const rhs = useReg ? `${p}${insn.src}` : `${insn.imm}`;
  if (op === BPF_MOV && useReg && insn.off !== 0) return `${p}${insn.dst} = (s${insn.off})${p}${insn.src}`;
  return `${p}${insn.dst} ${sym} ${rhs}`;
}

function formatJmp(insn: Instruction): string {
  const is32 = insn.class === BPF_JMP32;
  const op = insn.code & 0xf0;
  const dest = insn.target !== undefined ? insn.target : rel(insn.off);
  if (op === BPF_EXIT) return 'exit';
  if (op === BPF_CALL) {
    if (insn.src === BPF_PSEUDO_CALL)
      return `call ${insn.target !== undefined ? insn.target : `pc${rel(insn.imm)}`}`;
    if (insn.src === BPF_PSEUDO_KFUNC_CALL) return `call kfunc#${insn.imm}`;
    return `call ${insn.imm}`;
  }
  if (op === BPF_JA) {
    if (is32) return `gotol ${insn.target !== undefined ? insn.target : rel(insn.imm)}`;
    return `goto ${dest}`;
  }
  if (op === BPF_JCOND) return `may_goto ${dest}`;
  const sym = jmpOps[op];
  if (sym === undefined) return bad(insn);
  const p = is32 ? 'w' : 'r';
  const rhs = (insn.code & BPF_X) === BPF_X ? `${p}${insn.src}` : hex(insn.imm);
  return `if ${p}${insn.dst} ${sym} ${rhs} goto ${dest}`;
}

const atomicNames: Readonly<Record<number, [string, string]>> = {
  [BPF_ADD]: ['+=', 'add'],
  [BPF_AND]: ['&=', 'and'],
  [BPF_OR]: ['|=', 'or'],
  [BPF_XOR]: ['^=', 'xor'],
};

function formatAtomic(insn: Instruction): string {
  const size = insn.code & 0x18;
  const is64 = size === BPF_DW;
  const p = is64 ? 'r' : 'w';
  const ptr = `(u${sizeNames[size]} *)(r${insn.dst} ${rel(insn.off)})`;
  const fn = is64 ? 'atomic64' : 'atomic';
  const base = insn.imm & ~BPF_FETCH;
  const fetch = (insn.imm & BPF_FETCH) === BPF_FETCH;
  const names = atomicNames[base];
  if (names !== undefined) {
    if (!fetch) return `lock *${ptr} ${names[0]} ${p}${insn.src}`;
    return `${p}${insn.src} = ${fn}_fetch_${names[1]}(${ptr}, ${p}${insn.src})`;
  }
  if (insn.imm === BPF_XCHG) return `${p}${insn.src} = ${fn}_xchg(${ptr}, ${p}${insn.src})`;
  if (insn.imm === BPF_CMPXCHG) return `${p}0 = ${fn}_cmpxchg(${ptr}, ${p}0, ${p}${insn.src})`;
  return `atomic ${hex(insn.imm)} ${ptr}, r${insn.src}`;
}

function formatLdImm64(insn: Instruction): string {
  const v = insn.imm64 ?? 0n;
  const lo = Number(v & 0xffff_ffffn);
  const hi = Number(v >> 32n);
  switch (insn.src) {
    case BPF_PSEUDO_MAP_FD:
      return `r${insn.dst} = map[fd:${lo}]`;
    case BPF_PSEUDO_MAP_IDX:
      return `r${insn.dst} = map[idx:${lo}]`;
    case BPF_PSEUDO_MAP_VALUE:
      return `r${insn.dst} = map[fd:${lo}][0]+${hi}`;
    case BPF_PSEUDO_MAP_IDX_VALUE:
      return `r${insn.dst} = map[idx:${lo}][0]+${hi}`;
    case BPF_PSEUDO_BTF_ID:
      return `r${insn.dst} = btf_id ${lo}`;
    case BPF_PSEUDO_FUNC:
      return `r${insn.dst} = func ${insn.target !== undefined ? insn.target : `pc${rel(insn.imm)}`}`;
    default:
      return `r${insn.dst} = 0x${v.toString(16)} ll`;
  }
}

function formatInstruction(insn: Instruction): string {
  const cls = insn.class;
  const size = insn.code & 0x18;
  const mode = insn.code & 0xe0;
  switch (cls) {
    case BPF_ALU:
    case BPF_ALU64:
      return formatAlu(insn);
    case BPF_JMP:
    case BPF_JMP32:
      return formatJmp(insn);
    case BPF_LD:
      if (insn.code === LD_IMM64_CODE) return formatLdImm64(insn);
      if (mode === BPF_ABS) return `r0 = *(u${sizeNames[size]} *)skb[${insn.imm}]`;
      if (mode === BPF_IND) return `r0 = *(u${sizeNames[size]} *)skb[r${insn.src} + ${insn.imm}]`;
      return bad(insn);
    case BPF_LDX:
      if (mode === BPF_MEM) return `r${insn.dst} = ${mem('u', size, insn.src, insn.off)}`;
      if (mode === BPF_MEMSX) return `r${insn.dst} = ${mem('s', size, insn.src, insn.off)}`;
      return bad(insn);
    case BPF_ST:
      if (mode === BPF_MEM) return `${mem('u', size, insn.dst, insn.off)} = ${insn.imm}`;
      return bad(insn);
    case BPF_STX:
      if (mode === BPF_MEM) return `${mem('u', size, insn.dst, insn.off)} = r${insn.src}`;
      if (mode === BPF_ATOMIC) return formatAtomic(insn);
      return bad(insn);
    default:
      return bad(insn);
  }
}
