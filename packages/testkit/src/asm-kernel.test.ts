// @bpfjs/asm checked by the kernel: programs using every instruction class are accepted by the
// verifier and compute the expected value when run with BPF_PROG_TEST_RUN (socket filter on a
// zeroed 64-byte packet; the return value is r0).
import { asm, assemble, Helper, R0, R1, R2, R3, R6, R10 } from '@bpfjs/asm';
import { Program } from '@bpfjs/link';
import { BpfMap } from '@bpfjs/map';
import { bpf, Struct } from '@bpfjs/sys';
import { BPF_PROG_TEST_RUN, ProgTestRunAttr } from '@bpfjs/uapi/linux/bpf';
import { expect, it, onTestFinished } from 'vitest';
import { requireKernel } from './gates.js';

function run(instructions: Parameters<typeof assemble>[0]): number {
  const prog = Program.load({ type: 'socket_filter', instructions: assemble(instructions) });
  try {
    const data = new Uint8Array(64);
    const attr = new Struct(ProgTestRunAttr)
      .set('prog_fd', prog.fd.fd)
      .set('data_size_in', data.length)
      .setPointer('data_in', data)
      .set('repeat', 1)
      .use('batch_size');
    bpf(BPF_PROG_TEST_RUN, attr.bytes, attr.end);
    return Number(attr.get('retval'));
  } finally {
    prog.close();
  }
}

function arrayMap(value: number): BpfMap<number, number> {
  const map = BpfMap.create({ type: 'array', key: 'u32', value: 'u32', maxEntries: 1 });
  onTestFinished(() => map.close());
  map.set(0, value);
  return map;
}

const kernel = requireKernel();

kernel.describe('asm programs run by the kernel', () => {
  it('ALU64/ALU32, a backward loop, ld_imm64, stack store/load', () => {
    expect(
      run([
        asm.mov64Imm(R0, 0),
        asm.mov64Imm(R1, 5),
        asm.label('loop'),
        asm.add64Reg(R0, R1),
        asm.sub64Imm(R1, 1),
        asm.jneImm(R1, 0, 'loop'), // r0 = 5+4+3+2+1 = 15
        asm.ldImm64(R2, 0x1_0000_0000n),
        asm.rsh64Imm(R2, 32), // 1
        asm.add64Reg(R0, R2), // 16
        asm.stxDW(R10, R0, -8),
        asm.ldxDW(R3, R10, -8),
        asm.mul64Imm(R3, 2), // 32
        asm.mov32Reg(R0, R3),
        asm.xor64Imm(R0, 0xff), // 32 ^ 255 = 223
        asm.and64Imm(R0, 0xf0), // 208
        asm.exit(),
      ]),
    ).toBe(208);
  });

  it('forward jumps (taken and not), JMP32, signed compare, negation', () => {
    expect(
      run([
        asm.mov64Imm(R1, -3),
        asm.jsltImm(R1, 0, 'neg'), // taken
        asm.mov64Imm(R0, 1),
        asm.exit(),
        asm.label('neg'),
        asm.neg64(R1), // 3
        asm.jeq32Imm(R1, 4, 'wrong'), // not taken
        asm.ldImm64(R2, 0xffff_ffff_0000_0003n),
        asm.jeq32Imm(R2, 3, 'ok'), // low 32 bits are 3: taken
        asm.label('wrong'),
        asm.mov64Imm(R0, 2),
        asm.exit(),
        asm.label('ok'),
        asm.mov64Reg(R0, R1),
        asm.lsh64Imm(R0, 4), // 48
        asm.exit(),
      ]),
    ).toBe(48);
  });

  it('BPF-to-BPF call through a label (callee-saved r6 survives)', () => {
    expect(
      run([
        asm.mov64Imm(R6, 7),
        asm.mov64Imm(R1, 10),
        asm.callLabel('triple'),
        asm.add64Reg(R0, R6), // 30 + 7
        asm.exit(),
        asm.label('triple'),
        asm.mov64Reg(R0, R1),
        asm.mul64Imm(R0, 3),
        asm.exit(),
      ]),
    ).toBe(37);
  });

  it('map fd load + bpf_map_lookup_elem, and a direct map value load', () => {
    const map = arrayMap(1000);
    expect(
      run([
        asm.stW(R10, -4, 0),
        asm.ldMapFd(R1, map.fd),
        asm.mov64Reg(R2, R10),
        asm.add64Imm(R2, -4),
        asm.call(Helper.map_lookup_elem),
        asm.jeqImm(R0, 0, 'miss'),
        asm.ldxW(R6, R0, 0), // 1000
        asm.ldMapValue(R1, map.fd, 0),
        asm.ldxW(R0, R1, 0), // 1000
        asm.add64Reg(R0, R6),
        asm.exit(),
        asm.label('miss'),
        asm.mov64Imm(R0, 0),
        asm.exit(),
      ]),
    ).toBe(2000);
  });

  it('the verifier log names an assembler-built mistake (uninitialized register)', () => {
    let err: unknown;
    try {
      run([asm.mov64Reg(R0, R2), asm.exit()]);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'EACCES' });
    expect(String((err as { log?: string }).log)).toMatch(/R2 !read_ok/);
  });
});
