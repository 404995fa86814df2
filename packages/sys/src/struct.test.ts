import { BpfInsn, BpfLinkInfo, InfoAttr, LinkCreateAttr, ProgLoadAttr } from '@bpfjs/uapi/linux/bpf';
import { describe, expect, it } from 'vitest';
import { addressOf, cString, offsetofend, Struct } from './struct.js';

describe('Struct over uapi layouts', () => {
  it('writes fields at the layout offsets, little-endian', () => {
    const s = new Struct(LinkCreateAttr);
    s.set('prog_fd', 7).set('target_fd', 9).set('attach_type', 17).set('flags', 0xffffffff);
    const dv = new DataView(s.bytes.buffer);
    expect(dv.getUint32(LinkCreateAttr.fields.prog_fd.offset, true)).toBe(7);
    expect(dv.getUint32(LinkCreateAttr.fields.target_fd.offset, true)).toBe(9);
    // Members of one anonymous union share the offset.
    expect(s.get('target_ifindex')).toBe(9);
    expect(s.getNumber('flags')).toBe(0xffffffff);
    expect(s.end).toBe(offsetofend(LinkCreateAttr, 'flags'));
  });

  it('end is offsetofend of the highest field written; use() covers a zero field', () => {
    const s = new Struct(ProgLoadAttr);
    expect(s.end).toBe(0);
    s.set('prog_type', 1);
    expect(s.end).toBe(4);
    s.use('expected_attach_type');
    expect(s.end).toBe(offsetofend(ProgLoadAttr, 'expected_attach_type'));
    s.set('prog_type', 2);
    expect(s.end).toBe(offsetofend(ProgLoadAttr, 'expected_attach_type'));
    s.clear();
    expect(s.end).toBe(0);
    expect(s.bytes.every((b) => b === 0)).toBe(true);
  });

  it('refuses values that do not fit the field', () => {
    const s = new Struct(LinkCreateAttr);
    expect(() => s.set('prog_fd', -1)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => s.set('prog_fd', 2 ** 32)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => s.set('prog_fd', 1.5)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    const p = new Struct(ProgLoadAttr);
    expect(() => p.set('insns', -1n)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => p.set('insns', 2n ** 64n)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    p.set('insns', 2n ** 64n - 1n);
    expect(p.getBigInt('insns')).toBe(2n ** 64n - 1n);
    expect(() => p.set('insns', 2 ** 60)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => s.set('no_such_field' as 'prog_fd', 1)).toThrow(RangeError);
  });

  it('reads and writes bit-fields (bpf_insn registers) without touching neighbours', () => {
    const s = new Struct(BpfInsn);
    s.set('code', 0xb7).set('dst_reg', 10).set('src_reg', 3).set('off', -2).set('imm', -1);
    expect(Array.from(s.bytes)).toEqual([0xb7, 0x3a, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff]);
    expect(s.get('dst_reg')).toBe(10);
    expect(s.get('src_reg')).toBe(3);
    s.set('dst_reg', 1);
    expect(s.get('src_reg')).toBe(3);
    expect(() => s.set('dst_reg', 16)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
  });

  it('pointer fields hold the address of a kept buffer; null and empty are 0', () => {
    const s = new Struct(ProgLoadAttr);
    const buf = new Uint8Array(new ArrayBuffer(16));
    s.setPointer('insns', buf);
    expect(s.getBigInt('insns')).toBe(addressOf(buf));
    expect(addressOf(buf)).toBe(addressOf(buf));
    expect(addressOf(buf)).not.toBe(0n);
    s.setPointer('insns', null);
    expect(s.getBigInt('insns')).toBe(0n);
    s.setPointer('license', new Uint8Array(0));
    expect(s.getBigInt('license')).toBe(0n);
    expect(() => s.setPointer('prog_type', buf)).toThrow(RangeError);
  });

  it('char arrays: bytes are bounded by the field and read back as C strings', () => {
    const s = new Struct(ProgLoadAttr);
    s.setBytes('prog_name', new TextEncoder().encode('abc'));
    expect(s.getString('prog_name')).toBe('abc');
    expect(() => s.setBytes('prog_name', new Uint8Array(17))).toThrow(
      expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }),
    );
    expect(cString(new Uint8Array([104, 105]))).toBe('hi');
  });

  it('nested members have dotted names with absolute offsets', () => {
    expect(BpfLinkInfo.fields['netns.netns_ino'].offset).toBeGreaterThan(BpfLinkInfo.fields.prog_id.offset);
    const s = new Struct(BpfLinkInfo);
    s.set('netns.netns_ino', 4026531840);
    expect(new DataView(s.bytes.buffer).getUint32(BpfLinkInfo.fields['netns.netns_ino'].offset, true)).toBe(
      4026531840,
    );
    expect(offsetofend(InfoAttr, 'info')).toBe(16);
  });
});
