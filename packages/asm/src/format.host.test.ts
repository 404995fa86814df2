import { describe, expect, it } from 'vitest';
import { asm, Helper, R0, R1, R2, R10 } from './index.js';

describe('toString()', () => {
  it.each([
    [asm.mov64Imm(R0, 0), 'r0 = 0'],
    [asm.mov64Imm(R0, -1), 'r0 = -1'],
    [asm.mov64Reg(R1, R2), 'r1 = r2'],
    [asm.mov32Imm(R0, 2), 'w0 = 2'],
    [asm.add32Reg(R1, R2), 'w1 += w2'],
    [asm.add64Imm(R1, -8), 'r1 += -8'],
    [asm.arsh64Imm(R1, 3), 'r1 s>>= 3'],
    [asm.neg64(R1), 'r1 = -r1'],
    [asm.neg32(R1), 'w1 = -w1'],
    [asm.toBe(R0, 16), 'r0 = be16 r0'],
    [asm.bswap(R0, 32), 'r0 = bswap32 r0'],
    [asm.exit(), 'exit'],
    [asm.jeqImm(R1, 2, 3), 'if r1 == 0x2 goto +3'],
    [asm.jneReg(R1, R2, -1), 'if r1 != r2 goto -1'],
    [asm.jsltImm(R1, 0, 0), 'if r1 s< 0x0 goto +0'],
    [asm.jeq32Imm(R1, 2, 3), 'if w1 == 0x2 goto +3'],
    [asm.jsetImm(R1, 0x10, 1), 'if r1 & 0x10 goto +1'],
    [asm.ja(-5), 'goto -5'],
    [asm.call(65), 'call 65'],
    [asm.call(Helper.sk_assign), 'call 124'],
    [asm.ldxW(R0, R1, 4), 'r0 = *(u32 *)(r1 +4)'],
    [asm.ldxDW(R2, R10, -8), 'r2 = *(u64 *)(r10 -8)'],
    [asm.stxB(R10, R1, -1), '*(u8 *)(r10 -1) = r1'],
    [asm.stW(R10, -4, 7), '*(u32 *)(r10 -4) = 7'],
    [asm.atomicAdd('dw', R1, R2, 0), 'lock *(u64 *)(r1 +0) += r2'],
    [asm.atomicAdd('w', R1, R2, 4, true), 'w2 = atomic_fetch_add((u32 *)(r1 +4), w2)'],
    [asm.ldAbs('h', 12), 'r0 = *(u16 *)skb[12]'],
    [asm.ldInd('w', R1, 2), 'r0 = *(u32 *)skb[r1 + 2]'],
    [asm.ldImm64(R1, 0x1234n), 'r1 = 0x1234 ll'],
    [asm.ldMapFd(R1, 5), 'r1 = map[fd:5]'],
    [asm.ldMapValue(R1, 5, 16), 'r1 = map[fd:5][0]+16'],
    [asm.jeqImm(R1, 0, 'out'), 'if r1 == 0x0 goto out'],
    [asm.label('out'), 'out:'],
    [asm.raw({ code: 0xff }), '(bad opcode 0xff)'],
  ])('%s', (insn, text) => {
    expect(insn.toString()).toBe(text);
    expect(`${insn}`).toBe(text);
  });
});

describe('helper ids', () => {
  it('match the kernel numbering of enum bpf_func_id', async () => {
    const { Helper: H, helperName } = await import('./index.js');
    expect(H.map_lookup_elem).toBe(1);
    expect(H.sk_lookup_tcp).toBe(84);
    expect(H.sk_release).toBe(86);
    expect(H.sk_assign).toBe(124);
    expect(helperName(124)).toBe('sk_assign');
    expect(helperName(0x7fffffff)).toBeUndefined();
  });
});
