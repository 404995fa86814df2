/**
 * The few facts about `struct bpf_insn` the loader needs: 8 bytes, `code` at 0, `dst_reg` in the
 * low and `src_reg` in the high nibble of byte 1, `off` (s16) at 2, `imm` (s32) at 4. `ld_imm64`
 * takes two slots.
 *
 * @module
 */
import { BPF_CALL, BPF_DW, BPF_IMM, BPF_JMP, BPF_LD, BPF_PSEUDO_CALL, BPF_PSEUDO_FUNC } from '@bpfjs/uapi';

/** Bytes per instruction. */
export const INSN_SIZE = 8;

/** `code` of instruction `i`. */
export function code(insns: Uint8Array, i: number): number {
  return insns[i * 8]!;
}
/** `src_reg` of instruction `i`. */
export function srcReg(insns: Uint8Array, i: number): number {
  return insns[i * 8 + 1]! >> 4;
}
/** Sets `src_reg` of instruction `i`. */
export function setSrcReg(insns: Uint8Array, i: number, reg: number): void {
  insns[i * 8 + 1] = (insns[i * 8 + 1]! & 0x0f) | (reg << 4);
}
// Little-endian fields read and written byte by byte: no DataView per access (the loader touches
// a few fields of many instructions).
/** `imm` of instruction `i`. */
export function imm(insns: Uint8Array, i: number): number {
  const o = i * 8 + 4;
  return insns[o]! | (insns[o + 1]! << 8) | (insns[o + 2]! << 16) | (insns[o + 3]! << 24);
}
/** Sets `imm` of instruction `i`. */
export function setImm(insns: Uint8Array, i: number, value: number): void {
  const o = i * 8 + 4;
  insns[o] = value & 0xff;
  insns[o + 1] = (value >>> 8) & 0xff;
  insns[o + 2] = (value >>> 16) & 0xff;
  insns[o + 3] = (value >>> 24) & 0xff;
}
/** `off` of instruction `i`. */
export function off(insns: Uint8Array, i: number): number {
  const o = i * 8 + 2;
  return ((insns[o]! | (insns[o + 1]! << 8)) << 16) >> 16;
}
/** Sets `off` of instruction `i`. */
export function setOff(insns: Uint8Array, i: number, value: number): void {
  const o = i * 8 + 2;
  insns[o] = value & 0xff;
  insns[o + 1] = (value >>> 8) & 0xff;
}
/** `ld_imm64` (`BPF_LD | BPF_IMM | BPF_DW`). */
export function isLdImm64(insns: Uint8Array, i: number): boolean {
  return code(insns, i) === (BPF_LD | BPF_IMM | BPF_DW);
}
/** A call instruction (`BPF_JMP | BPF_CALL`). */
export function isCall(insns: Uint8Array, i: number): boolean {
  return code(insns, i) === (BPF_JMP | BPF_CALL);
}
/** A call of a BPF subprogram (`src_reg == BPF_PSEUDO_CALL`). */
export function isSubprogCall(insns: Uint8Array, i: number): boolean {
  return isCall(insns, i) && srcReg(insns, i) === BPF_PSEUDO_CALL;
}
/** An `ld_imm64` of a subprogram's address (`src_reg == BPF_PSEUDO_FUNC`, callbacks). */
export function isPseudoFunc(insns: Uint8Array, i: number): boolean {
  return isLdImm64(insns, i) && srcReg(insns, i) === BPF_PSEUDO_FUNC;
}
