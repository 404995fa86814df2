// The ready programs run by the kernel (BPF_PROG_TEST_RUN): each returns what its verdict says.
import { release } from 'node:os';
import { bpf, Struct } from '@bpfjs/sys';
import { BPF_DROP, BPF_OK, BPF_PROG_TEST_RUN, ProgTestRunAttr } from '@bpfjs/uapi/linux/bpf';
import { expect, it } from 'vitest';
import { flowDissectorProgram, socketFilterProgram } from './fixtures.js';
import { requireKernel } from './gates.js';

/** Runs a loaded program once on `data` and returns its return value (u32). */
function testRun(progFd: number, data: Uint8Array): number {
  const attr = new Struct(ProgTestRunAttr)
    .set('prog_fd', progFd)
    .set('data_size_in', data.length)
    .setPointer('data_in', data)
    .set('repeat', 1)
    .use('batch_size');
  bpf(BPF_PROG_TEST_RUN, attr.bytes, attr.end);
  return Number(attr.get('retval'));
}

/** An Ethernet + IPv4 + UDP frame (zero addresses), enough for the flow dissector test run. */
function udpFrame(): Uint8Array {
  const f = new Uint8Array(14 + 20 + 8);
  f[12] = 0x08; // ethertype IPv4
  f[14] = 0x45; // version 4, IHL 5
  f[17] = 28; // total length
  f[22] = 64; // TTL
  f[23] = 17; // UDP
  return f;
}

requireKernel().describe('ready programs run by the kernel', () => {
  it('flowDissectorProgram returns BPF_OK, or BPF_DROP when asked', () => {
    const ok = testRun(flowDissectorProgram().fd.fd, udpFrame());
    const drop = testRun(flowDissectorProgram({ verdict: 'drop' }).fd.fd, udpFrame());
    // Before Linux 6.0 (BPF_FLOW_DISSECTOR_CONTINUE), the test run reported whether the program
    // returned BPF_OK (1 or 0), not its return value.
    const major = Number(release().split('.')[0]);
    if (major < 6) expect([ok, drop]).toEqual([1, 0]);
    else expect([ok, drop]).toEqual([BPF_OK, BPF_DROP]);
  });

  it('socketFilterProgram keeps snapLength bytes', () => {
    expect(testRun(socketFilterProgram().fd.fd, udpFrame())).toBe(0xffff_ffff);
    expect(testRun(socketFilterProgram({ snapLength: 0 }).fd.fd, udpFrame())).toBe(0);
    expect(testRun(socketFilterProgram({ snapLength: 20 }).fd.fd, udpFrame())).toBe(20);
  });
});
