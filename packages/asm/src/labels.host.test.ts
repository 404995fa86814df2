import { describe, expect, it } from 'vitest';
import { asm, assemble, format, labelSlots, R0, R1, resolve, slotCount } from './index.js';

describe('labels', () => {
  it('resolves a forward jump relative to the next instruction', () => {
    const insns = resolve([
      asm.mov64Imm(R0, 0),
      asm.jeqImm(R1, 2, 'out'), // slot 1 -> slot 3: off +1
      asm.mov64Imm(R0, 1),
      asm.label('out'),
      asm.exit(),
    ]);
    expect(insns).toHaveLength(4);
    expect(insns[1]!.off).toBe(1);
    expect(insns[1]!.target).toBeUndefined();
    expect(insns[1]!.toString()).toBe('if r1 == 0x2 goto +1');
  });

  it('resolves a backward jump (a loop) with a negative offset', () => {
    const insns = resolve([
      asm.mov64Imm(R0, 3),
      asm.label('loop'),
      asm.sub64Imm(R0, 1), // slot 1
      asm.jneImm(R0, 0, 'loop'), // slot 2 -> slot 1: off -2
      asm.exit(),
    ]);
    expect(insns[2]!.off).toBe(-2);
    expect(insns[2]!.toString()).toBe('if r0 != 0x0 goto -2');
  });

  it('counts ld_imm64 as two slots when resolving', () => {
    const insns = resolve([asm.ja('end'), asm.ldImm64(R1, 1n << 40n), asm.label('end'), asm.exit()]);
    expect(insns[0]!.off).toBe(2);
    expect(slotCount([asm.ja('end'), asm.ldImm64(R1, 1n), asm.label('end'), asm.exit()])).toBe(4);
    expect(labelSlots([asm.ja('end'), asm.ldImm64(R1, 1n), asm.label('end'), asm.exit()]).get('end')).toBe(3);
  });

  it('allows several labels on one instruction, and a jump to the very next instruction', () => {
    const bytes = assemble([asm.ja('a'), asm.label('a'), asm.label('b'), asm.jeqImm(R0, 0, 'b'), asm.exit()]);
    expect(Array.from(bytes.subarray(0, 8))).toEqual([0x05, 0, 0, 0, 0, 0, 0, 0]);
    // jeq at slot 1 to label b at slot 1: off -1
    expect(Array.from(bytes.subarray(8, 16))).toEqual([0x15, 0, 0xff, 0xff, 0, 0, 0, 0]);
  });

  it('resolves a BPF-to-BPF call through imm', () => {
    const insns = resolve([asm.callLabel('f'), asm.exit(), asm.label('f'), asm.mov64Imm(R0, 1), asm.exit()]);
    expect(insns[0]!.imm).toBe(1);
    expect(insns[0]!.src).toBe(1);
    expect(insns[0]!.toString()).toBe('call pc+1');
    const fn = resolve([asm.ldFunc(R1, 'f'), asm.exit(), asm.label('f'), asm.exit()]);
    // the kernel finds the function at (first slot of ld_imm64) + imm + 1: slot 0 + 2 + 1 = 3
    expect(fn[0]!.imm).toBe(2);
    expect(fn[0]!.imm64).toBe(2n);
    expect(fn[0]!.toString()).toBe('r1 = func pc+2');
  });

  it('leaves the input instructions untouched and prints labels in a listing', () => {
    const jump = asm.jeqImm(R1, 0, 'out');
    const prog = [asm.mov64Imm(R0, 0), jump, asm.mov64Imm(R0, 1), asm.label('out'), asm.exit()];
    assemble(prog);
    expect(jump.target).toBe('out');
    expect(jump.toString()).toBe('if r1 == 0x0 goto out');
    expect(format(prog)).toBe(
      ['   0: r0 = 0', '   1: if r1 == 0x0 goto out', '   2: r0 = 1', 'out:', '   3: exit'].join('\n'),
    );
  });
});
