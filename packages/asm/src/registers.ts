import {
  BPF_REG_0,
  BPF_REG_1,
  BPF_REG_2,
  BPF_REG_3,
  BPF_REG_4,
  BPF_REG_5,
  BPF_REG_6,
  BPF_REG_7,
  BPF_REG_8,
  BPF_REG_9,
  BPF_REG_10,
  MAX_BPF_REG,
} from '@bpfjs/uapi/linux/bpf';
import { AsmRangeError, AsmTypeError } from './errors.js';

/**
 * The eleven eBPF registers. `R0` holds return values, `R1`–`R5` carry helper arguments (`R1` is
 * the context pointer on program entry), `R6`–`R9` are callee-saved, `R10` is the read-only frame
 * pointer (`FP`).
 */
export const Reg = {
  R0: BPF_REG_0,
  R1: BPF_REG_1,
  R2: BPF_REG_2,
  R3: BPF_REG_3,
  R4: BPF_REG_4,
  R5: BPF_REG_5,
  R6: BPF_REG_6,
  R7: BPF_REG_7,
  R8: BPF_REG_8,
  R9: BPF_REG_9,
  R10: BPF_REG_10,
  /** Alias of `R10`, the frame pointer. */
  FP: BPF_REG_10,
} as const;

/** A register number, 0 to 10. */
export type Reg = (typeof Reg)[keyof typeof Reg];

/** Register 0: return value of helpers and of the program. */
export const R0: Reg = Reg.R0;
/** Register 1: first helper argument; the context pointer on program entry. */
export const R1: Reg = Reg.R1;
/** Register 2: second helper argument. */
export const R2: Reg = Reg.R2;
/** Register 3: third helper argument. */
export const R3: Reg = Reg.R3;
/** Register 4: fourth helper argument. */
export const R4: Reg = Reg.R4;
/** Register 5: fifth helper argument. */
export const R5: Reg = Reg.R5;
/** Register 6: callee-saved. */
export const R6: Reg = Reg.R6;
/** Register 7: callee-saved. */
export const R7: Reg = Reg.R7;
/** Register 8: callee-saved. */
export const R8: Reg = Reg.R8;
/** Register 9: callee-saved. */
export const R9: Reg = Reg.R9;
/** Register 10: the read-only frame pointer. */
export const R10: Reg = Reg.R10;
/** The frame pointer (`R10`). */
export const FP: Reg = Reg.FP;

/** @internal Validates a register argument; throws `ERR_BPFJS_ASM_INVALID_REGISTER` outside 0–10. */
export function checkReg(name: string, value: unknown): Reg {
  if (typeof value !== 'number') {
    throw new AsmTypeError(
      'ERR_INVALID_ARG_TYPE',
      `${name} must be a register (R0..R10), got ${value === null ? 'null' : typeof value}`,
    );
  }
  if (!Number.isInteger(value) || value < 0 || value >= MAX_BPF_REG) {
    throw new AsmRangeError(
      'ERR_BPFJS_ASM_INVALID_REGISTER',
      `${name} must be a register R0..R10 (0..10), got ${value}`,
    );
  }
  return value as Reg;
}
