/**
 * Test helper: `BPF_PROG_TEST_RUN` through sys's raw `bpf()` (until link's Program has a test
 * run), and a decoder of `struct bpf_flow_keys`.
 */
import type { Program } from '@bpfjs/link';
import { bpf, Struct } from '@bpfjs/sys';
import { BPF_PROG_TEST_RUN, ProgTestRunAttr } from '@bpfjs/uapi';

/** Runs a program once on `data`; returns its return value and the output data. */
export function testRun(
  prog: Program,
  data: Uint8Array,
  outSize = 256,
): { retval: number; dataOut: Uint8Array } {
  const s = new Struct(ProgTestRunAttr);
  const input = new Uint8Array(new ArrayBuffer(data.byteLength));
  input.set(data);
  const output = new Uint8Array(new ArrayBuffer(outSize));
  s.set('prog_fd', prog.fd.fd)
    .set('data_size_in', input.byteLength)
    .setPointer('data_in', input)
    .set('data_size_out', output.byteLength)
    .setPointer('data_out', output)
    .set('repeat', 1);
  bpf(BPF_PROG_TEST_RUN, s.bytes, s.bytes.byteLength);
  return { retval: s.getNumber('retval'), dataOut: output.slice(0, s.getNumber('data_size_out')) };
}

const ip4 = (b: Uint8Array, o: number) => `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;

/** Decodes `struct bpf_flow_keys` (ports and protocols in host order). */
export function flowKeys(b: Uint8Array): Record<string, number | string> {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return {
    nhoff: v.getUint16(0, true),
    thoff: v.getUint16(2, true),
    addrProto: v.getUint16(4, true),
    isFrag: b[6]!,
    ipProto: b[9]!,
    nProto: v.getUint16(10, false),
    sport: v.getUint16(12, false),
    dport: v.getUint16(14, false),
    ipv4Src: ip4(b, 16),
    ipv4Dst: ip4(b, 20),
  };
}
