import { BPF_JMP32 } from '@bpfjs/uapi/linux/bpf';
import { BPF_JA } from '@bpfjs/uapi/linux/bpf_common';
import { type AsmItem, Label } from './builders.js';
import { AsmRangeError, AsmTypeError } from './errors.js';
import { INSN_SIZE, Instruction } from './instruction.js';

/** A program as the assembler takes it: instructions and labels, nested arrays flattened. */
export type AsmInput = Iterable<AsmItem | readonly AsmInput[] | readonly AsmItem[]>;

function flatten(input: unknown, out: AsmItem[]): void {
  if (input instanceof Instruction || input instanceof Label) {
    out.push(input);
    return;
  }
  if (input !== null && typeof input === 'object' && Symbol.iterator in input) {
    for (const x of input as Iterable<unknown>) flatten(x, out);
    return;
  }
  throw new AsmTypeError(
    'ERR_INVALID_ARG_TYPE',
    `a program holds Instructions and Labels (from the asm builders), got ${input === null ? 'null' : typeof input}`,
  );
}

/** Where each label points: slot index of the instruction that follows it. */
export function labelSlots(items: AsmInput): Map<string, number> {
  const flat: AsmItem[] = [];
  flatten(items, flat);
  return collect(flat).labels;
}

function collect(flat: AsmItem[]): { labels: Map<string, number>; slots: number } {
  const labels = new Map<string, number>();
  let slot = 0;
  for (const item of flat) {
    if (item instanceof Label) {
      if (labels.has(item.name)) {
        throw new AsmRangeError('ERR_BPFJS_ASM_DUPLICATE_LABEL', `label "${item.name}" is defined twice`);
      }
      labels.set(item.name, slot);
    } else {
      slot += item.slots;
    }
  }
  return { labels, slots: slot };
}

/**
 * Resolves every label reference to a relative offset (forward and backward) and drops the labels:
 * the result is the exact instruction stream the kernel gets.
 * @throws {AsmRangeError} `ERR_BPFJS_ASM_UNKNOWN_LABEL` (no such label, or a label after the last
 *   instruction), `ERR_BPFJS_ASM_DUPLICATE_LABEL`, `ERR_BPFJS_ASM_JUMP_OUT_OF_RANGE` (a jump
 *   farther than a signed 16-bit offset).
 * @throws {AsmTypeError} `ERR_INVALID_ARG_TYPE` for something that is not an Instruction or Label.
 */
export function resolve(items: AsmInput): Instruction[] {
  const flat: AsmItem[] = [];
  flatten(items, flat);
  const { labels, slots } = collect(flat);
  const out: Instruction[] = [];
  let slot = 0;
  for (const item of flat) {
    if (item instanceof Label) continue;
    let insn = item;
    if (insn.target !== undefined) {
      const to = labels.get(insn.target);
      if (to === undefined) {
        throw new AsmRangeError(
          'ERR_BPFJS_ASM_UNKNOWN_LABEL',
          `instruction ${slot} (${insn.toString()}) refers to unknown label "${insn.target}"`,
        );
      }
      if (to >= slots) {
        throw new AsmRangeError(
          'ERR_BPFJS_ASM_UNKNOWN_LABEL',
          `label "${insn.target}" is after the last instruction; a jump to it would leave the program`,
        );
      }
      const delta = to - (slot + 1);
      const usesImm = !insn.isJump || (insn.class === BPF_JMP32 && (insn.code & 0xf0) === BPF_JA);
      if (usesImm) {
        insn =
          insn.imm64 !== undefined
            ? insn.with({ imm64: BigInt.asUintN(32, BigInt(delta)), target: undefined })
            : insn.with({ imm: delta, target: undefined });
      } else {
        if (delta < -0x8000 || delta > 0x7fff) {
          throw new AsmRangeError(
            'ERR_BPFJS_ASM_JUMP_OUT_OF_RANGE',
            `jump from instruction ${slot} to label "${insn.target}" spans ${delta} slots, more than a 16-bit offset holds`,
          );
        }
        insn = insn.with({ off: delta, target: undefined });
      }
    }
    out.push(insn);
    slot += insn.slots;
  }
  return out;
}

/**
 * Assembles a program into the kernel's wire format: 8 bytes per `struct bpf_insn` (16 for
 * `ld_imm64`), little-endian, ready for `BPF_PROG_LOAD`'s `insns`.
 * @throws see `resolve()`.
 */
export function assemble(items: AsmInput): Uint8Array {
  const insns = resolve(items);
  let total = 0;
  for (const i of insns) total += i.slots;
  const out = new Uint8Array(total * INSN_SIZE);
  let at = 0;
  for (const i of insns) at += i.encodeInto(out, at);
  return out;
}

/** Number of 8-byte slots a program takes (`insn_cnt` for `BPF_PROG_LOAD`). */
export function slotCount(items: AsmInput): number {
  const flat: AsmItem[] = [];
  flatten(items, flat);
  return collect(flat).slots;
}

/**
 * A listing, one instruction per line with its slot number, labels on their own lines:
 * ```
 *    0: r0 = 0
 * out:
 *    1: exit
 * ```
 * Jumps to labels are shown by label name.
 */
export function format(items: AsmInput): string {
  const flat: AsmItem[] = [];
  flatten(items, flat);
  const lines: string[] = [];
  let slot = 0;
  for (const item of flat) {
    if (item instanceof Label) {
      lines.push(item.toString());
      continue;
    }
    lines.push(`${String(slot).padStart(4)}: ${item.toString()}`);
    slot += item.slots;
  }
  return lines.join('\n');
}
