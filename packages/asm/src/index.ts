/**
 * `@bpfjs/asm` — a small eBPF instruction builder: registers, ALU/JMP/LD/ST, 64-bit immediate and
 * map fd loads, helper calls, labels (forward and backward), encoding to the 8-byte
 * `struct bpf_insn` wire format, decoding, and a bpftool-like `toString()`.
 *
 * ```ts
 * import { asm, assemble, R0, R1 } from '@bpfjs/asm';
 * const bytes = assemble([asm.mov64Imm(R0, 0), asm.jeqImm(R1, 0, 'out'), asm.mov64Imm(R0, 1), asm.label('out'), asm.exit()]);
 * ```
 *
 * @module
 */
import * as asm from './builders.js';

export { type AsmInput, assemble, format, labelSlots, resolve, slotCount } from './assemble.js';
export * from './builders.js';
export { type AsmErrorCode, AsmRangeError, AsmTypeError, isAsmError } from './errors.js';
export { Helper, type HelperName, helperName } from './helpers.js';
export { disassemble, INSN_SIZE, Instruction, type InstructionFields, LD_IMM64_CODE } from './instruction.js';
export { FP, R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10, Reg } from './registers.js';
export { asm };
