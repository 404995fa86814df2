/**
 * Test helpers: tiny programs and BTF blobs encoded through the uapi layouts.
 * @internal
 */

import { BPF_ALU64, BPF_DW, BPF_EXIT, BPF_MOV, BPF_PSEUDO_MAP_FD, BpfInsn } from '@bpfjs/uapi/linux/bpf';
import { BPF_IMM, BPF_JMP, BPF_K, BPF_LD } from '@bpfjs/uapi/linux/bpf_common';
import { BTF_KIND_INT, BTF_MAGIC, BTF_VERSION, BtfHeader, BtfType } from '@bpfjs/uapi/linux/btf';
import { offsetofend, Struct } from '../struct.js';

/** One `struct bpf_insn`. */
export function insn(code: number, dst: number, src: number, off: number, imm: number): Uint8Array {
  const s = new Struct(BpfInsn);
  s.set('code', code).set('dst_reg', dst).set('src_reg', src).set('off', off).set('imm', imm);
  return s.bytes;
}

/** Concatenates instructions. */
export function program(...insns: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(insns.reduce((n, i) => n + i.byteLength, 0));
  let o = 0;
  for (const i of insns) {
    out.set(i, o);
    o += i.byteLength;
  }
  return out;
}

/** `r0 = imm` */
export const movR0 = (imm: number) => insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, imm);
/** `exit` */
export const exit = () => insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);

/** `mov r0, imm; exit`: the two-instruction program. */
export function returnImm(imm = 0): Uint8Array {
  return program(movR0(imm), exit());
}

/** A program that references a map (`r1 = map fd` as ld_imm64), then returns 0. */
export function usesMap(mapFd: number): Uint8Array {
  return program(
    insn(BPF_LD | BPF_DW | BPF_IMM, 1, BPF_PSEUDO_MAP_FD, 0, mapFd),
    insn(0, 0, 0, 0, 0),
    movR0(0),
    exit(),
  );
}

/** A BTF blob with one type, `int` (4 bytes, signed if `signed`). */
export function intBtf(name = 'int'): Uint8Array {
  const strings = new TextEncoder().encode(`\0${name}\0`);
  const hdrLen = offsetofend(BtfHeader, 'str_len');
  const type = new Struct(BtfType);
  type
    .set('name_off', 1)
    .set('info', BTF_KIND_INT << 24)
    .set('size', 4);
  const intData = new Uint8Array(4);
  new DataView(intData.buffer).setUint32(0, 32, true); // encoding 0, offset 0, 32 bits
  const typeLen = type.end + 4;
  const hdr = new Struct(BtfHeader, hdrLen);
  hdr
    .set('magic', BTF_MAGIC)
    .set('version', BTF_VERSION)
    .set('hdr_len', hdrLen)
    .set('type_off', 0)
    .set('type_len', typeLen)
    .set('str_off', typeLen)
    .set('str_len', strings.byteLength);
  return program(hdr.bytes, type.bytes.subarray(0, type.end), intData, strings);
}
