/**
 * Keys and values from BTF: a map that carries BTF key/value type ids (created with BTF, loaded
 * from an ELF object, opened by id) gets codecs compiled by `@bpfjs/btf`'s `BtfCodec` — plain
 * objects with the C field names, as `bpftool map dump` formats them.
 *
 * @module
 */
import { Btf, BtfCodec, type BtfValue } from '@bpfjs/btf';
import { BpfjsTypeError, btfGetInfo, type Fd, withFdById } from '@bpfjs/sys';
import type { Codec } from './codec.js';

// Parsed BTF objects by kernel BTF id (ids are allocated cyclically; a BTF object lives while a
// map refers to it, so an id seen with a live map names the same blob).
const byId = new Map<number, Btf>();

function parse(data: Uint8Array, kernelBtf: boolean): Btf {
  // Map BTF loaded by user space is self-contained; split BTF (on vmlinux) needs the base.
  if (kernelBtf) return Btf.parse(data, { base: Btf.loadKernel() });
  try {
    return Btf.parse(data);
  } catch {
    return Btf.parse(data, { base: Btf.loadKernel() });
  }
}

/** The BTF object with kernel id `id`, parsed (`BPF_BTF_GET_FD_BY_ID` + info with the data). @internal */
export function btfById(id: number): Btf {
  const known = byId.get(id);
  if (known !== undefined) return known;
  const info = withFdById('btf', id, (fd) => btfGetInfo(fd, { data: true }));
  const btf = parse(info.data ?? new Uint8Array(), info.kernelBtf);
  byId.set(id, btf);
  return btf;
}

/** The BTF behind a BTF fd (`BPF_OBJ_GET_INFO_BY_FD` with the data). @internal */
export function btfOfFd(fd: Fd | number): Btf {
  const info = btfGetInfo(fd, { data: true });
  const known = byId.get(info.id);
  if (known !== undefined) return known;
  const btf = parse(info.data ?? new Uint8Array(), info.kernelBtf);
  byId.set(info.id, btf);
  return btf;
}

/** A map codec over `BtfCodec` for type `typeId` of `btf`. @internal */
export function btfCodec(btf: Btf, typeId: number, what: 'key' | 'value'): Codec<BtfValue> {
  if (typeId === 0) {
    throw new BpfjsTypeError(
      'ERR_BPFJS_MAP_NO_BTF',
      `The map has no BTF type for its ${what}: use another codec`,
    );
  }
  const codec = new BtfCodec(btf, typeId);
  const name = btf.nameOf(typeId) || `btf type ${typeId}`;
  return {
    name: `btf ${name}`,
    size: codec.size,
    write(_view, bytes, offset, _size, value) {
      codec.encodeInto(value, bytes, offset);
    },
    read(_view, bytes, offset, size) {
      return codec.decode(bytes.subarray(offset, offset + size));
    },
  };
}

/**
 * `BtfCodec`s of a map's key and value, from its info (`btfId`, `btfKeyTypeId`,
 * `btfValueTypeId`); `undefined` for a map without BTF. For tools that print both the bytes and
 * bpftool's `formatted` shape (`codec.formatBpftool(bytes)`).
 * @throws BtfValueError/BtfFormatError when the map's BTF cannot be decoded.
 */
export function mapBtfCodecs(info: {
  readonly btfId: number;
  readonly btfKeyTypeId: number;
  readonly btfValueTypeId: number;
}): { readonly key: BtfCodec | undefined; readonly value: BtfCodec | undefined } | undefined {
  if (info.btfId === 0 || (info.btfKeyTypeId === 0 && info.btfValueTypeId === 0)) return undefined;
  const btf = btfById(info.btfId);
  return {
    key: info.btfKeyTypeId === 0 ? undefined : new BtfCodec(btf, info.btfKeyTypeId),
    value: info.btfValueTypeId === 0 ? undefined : new BtfCodec(btf, info.btfValueTypeId),
  };
}
