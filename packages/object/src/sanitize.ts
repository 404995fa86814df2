/**
 * What the running kernel's BTF loader accepts (probed once per process by loading tiny blobs, as
 * libbpf's `probe_kern_btf_*` do) and the sanitizing libbpf applies to an object's BTF before
 * `BPF_BTF_LOAD` on kernels that lack a kind: VAR/DECL_TAG → INT, DATASEC → STRUCT, FUNC_PROTO →
 * ENUM and FUNC → TYPEDEF (no BTF functions), global FUNC → static, FLOAT → empty STRUCT,
 * TYPE_TAG → CONST, ENUM64 → UNION of a placeholder INT (and no signed ENUM flag). Records keep
 * their sizes, so type ids do not move.
 *
 * @module
 */
import { BpfError, btfLoad } from '@bpfjs/sys';

/** BTF kinds and flags the kernel's BTF loader knows. */
export interface BtfFeatures {
  /** FUNC / FUNC_PROTO (5.0), needed for func_info and line_info. */
  func: boolean;
  /** FUNC with global linkage (5.6). */
  funcGlobal: boolean;
  /** VAR / DATASEC (5.2). */
  datasec: boolean;
  /** FLOAT (5.13). */
  float: boolean;
  /** DECL_TAG (5.16). */
  declTag: boolean;
  /** TYPE_TAG (5.17). */
  typeTag: boolean;
  /** ENUM64 and signed ENUM (6.0). */
  enum64: boolean;
}

const INT_SIGNED = 1;
const enc = (kind: number, kflag: number, vlen: number) => ((kflag << 31) | (kind << 24) | vlen) >>> 0;
const intType = (name: number) => [name, enc(1, 0, 0), 4, (INT_SIGNED << 24) | 32];

/** A BTF blob from type words and a string table (`\0` first). */
function blob(types: number[], strings: string): Uint8Array {
  const str = Buffer.from(strings, 'latin1');
  const out = new Uint8Array(24 + types.length * 4 + str.byteLength);
  const v = new DataView(out.buffer);
  v.setUint16(0, 0xeb9f, true);
  v.setUint8(2, 1);
  v.setUint32(4, 24, true);
  v.setUint32(8, 0, true);
  v.setUint32(12, types.length * 4, true);
  v.setUint32(16, types.length * 4, true);
  v.setUint32(20, str.byteLength, true);
  for (let i = 0; i < types.length; i++) v.setUint32(24 + i * 4, types[i]!, true);
  out.set(str, 24 + types.length * 4);
  return out;
}

// strings: 1 "int", 5 "x", 7 "a", 9 ".data", 15 "tag", 19 "float"
const STRS = '\0int\0x\0a\0.data\0tag\0float\0';
const PROBES: Record<keyof BtfFeatures, () => Uint8Array> = {
  func: () => blob([...intType(1), 0, enc(13, 0, 1), 1, 7, 1, 5, enc(12, 0, 0), 2], STRS),
  funcGlobal: () => blob([...intType(1), 0, enc(13, 0, 1), 1, 7, 1, 5, enc(12, 0, 1), 2], STRS),
  datasec: () => blob([...intType(1), 5, enc(14, 0, 0), 1, 1, 9, enc(15, 0, 1), 4, 2, 0, 4], STRS),
  float: () => blob([19, enc(16, 0, 0), 4], STRS),
  declTag: () => blob([...intType(1), 5, enc(14, 0, 0), 1, 1, 15, enc(17, 0, 0), 2, 0xffffffff], STRS),
  typeTag: () => blob([...intType(1), 15, enc(18, 0, 0), 1, 0, enc(2, 0, 0), 2], STRS),
  enum64: () => blob([5, enc(19, 0, 1), 8, 7, 0, 1], STRS),
};

/** The probe blob of one feature (tests build sanitizer inputs from them). @internal */
export function probeBlob(feature: keyof BtfFeatures): Uint8Array {
  return PROBES[feature]();
}

let probed: BtfFeatures | undefined;

/** The kernel's BTF features (probed once; BPF_BTF_LOAD of one tiny blob each). */
export function btfFeatures(): BtfFeatures {
  if (probed !== undefined) return probed;
  const out = {} as BtfFeatures;
  for (const [name, make] of Object.entries(PROBES) as [keyof BtfFeatures, () => Uint8Array][]) {
    try {
      btfLoad({ data: make() }).close();
      out[name] = true;
    } catch (e) {
      if (!BpfError.isInstance(e) || e.code === 'EPERM') throw e;
      out[name] = false;
    }
  }
  probed = out;
  return out;
}

/** Whether anything needs sanitizing for these features. */
export function needsSanitizing(f: BtfFeatures): boolean {
  return !(f.func && f.funcGlobal && f.datasec && f.float && f.declTag && f.typeTag && f.enum64);
}

const HDR_TYPE_OFF = 8;
const HDR_TYPE_LEN = 12;
const HDR_STR_OFF = 16;
const HDR_STR_LEN = 20;

function recordSize(kind: number, vlen: number): number {
  switch (kind) {
    case 1:
    case 14:
    case 17:
      return 16;
    case 3:
      return 24;
    case 4:
    case 5:
    case 15:
    case 19:
      return 12 + vlen * 12;
    case 6:
    case 13:
      return 12 + vlen * 8;
    default:
      return 12;
  }
}

/**
 * A sanitized copy of a base BTF blob for a kernel with `features` (libbpf's
 * `bpf_object__sanitize_btf`). ENUM64 → UNION needs one added INT type (`enum64_placeholder`),
 * appended after the last type.
 */
export function sanitizeBtf(raw: Uint8Array, features: BtfFeatures): Uint8Array {
  let data = Uint8Array.from(raw);
  let v = new DataView(data.buffer);
  const hdrLen = v.getUint32(4, true);
  const typeStart = hdrLen + v.getUint32(HDR_TYPE_OFF, true);
  const typeEnd = typeStart + v.getUint32(HDR_TYPE_LEN, true);
  const records: { o: number; kind: number; vlen: number }[] = [];
  for (let o = typeStart; o < typeEnd; ) {
    const info = v.getUint32(o + 4, true);
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    records.push({ o, kind, vlen });
    o += recordSize(kind, vlen);
  }
  let placeholderId = 0;
  if (!features.enum64 && records.some((r) => r.kind === 19)) {
    // Append INT "enum64_placeholder" (1 byte) and its name.
    const name = Buffer.from('enum64_placeholder\0', 'latin1');
    const strStart = hdrLen + v.getUint32(HDR_STR_OFF, true);
    const strLen = v.getUint32(HDR_STR_LEN, true);
    const grown = new Uint8Array(data.byteLength + 16 + name.byteLength);
    grown.set(data.subarray(0, typeEnd), 0);
    const gv = new DataView(grown.buffer);
    const nameOff = strLen;
    gv.setUint32(typeEnd, nameOff, true);
    gv.setUint32(typeEnd + 4, enc(1, 0, 0), true);
    gv.setUint32(typeEnd + 8, 1, true);
    gv.setUint32(typeEnd + 12, 8, true);
    grown.set(data.subarray(typeEnd, strStart + strLen), typeEnd + 16);
    grown.set(name, typeEnd + 16 + (strStart + strLen - typeEnd));
    gv.setUint32(HDR_TYPE_LEN, v.getUint32(HDR_TYPE_LEN, true) + 16, true);
    gv.setUint32(HDR_STR_OFF, v.getUint32(HDR_STR_OFF, true) + 16, true);
    gv.setUint32(HDR_STR_LEN, strLen + name.byteLength, true);
    data = grown;
    v = gv;
    placeholderId = records.length + 1;
  }
  const setInfo = (o: number, kind: number, kflag: number, vlen: number) =>
    v.setUint32(o + 4, enc(kind, kflag, vlen), true);
  const strStart = hdrLen + v.getUint32(HDR_STR_OFF, true);
  for (const { o, kind, vlen } of records) {
    if ((!features.datasec && kind === 14) || (!features.declTag && kind === 17)) {
      setInfo(o, 1, 0, 0);
      v.setUint32(o + 8, 1, true);
      v.setUint32(o + 12, 8, true);
    } else if (!features.datasec && kind === 15) {
      // DATASEC → STRUCT: members from the var secinfos; dots in the name become '_'
      let p = strStart + v.getUint32(o, true);
      while (data[p] !== 0 && p < data.byteLength) {
        if (data[p] === 0x2e) data[p] = 0x5f;
        p++;
      }
      setInfo(o, 4, 0, vlen);
      for (let j = 0; j < vlen; j++) {
        const m = o + 12 + j * 12;
        const varType = v.getUint32(m, true);
        const offset = v.getUint32(m + 4, true);
        const varRec = records[varType - 1];
        v.setUint32(m, varRec === undefined ? 0 : v.getUint32(varRec.o, true), true); // name_off
        v.setUint32(m + 4, varType, true); // type
        v.setUint32(m + 8, offset * 8, true); // bit offset
      }
    } else if (!features.func && kind === 13) {
      setInfo(o, 6, 0, vlen);
      v.setUint32(o + 8, 4, true);
    } else if (!features.func && kind === 12) {
      setInfo(o, 8, 0, 0);
    } else if (!features.funcGlobal && kind === 12) {
      setInfo(o, 12, 0, 0);
    } else if (!features.float && kind === 16) {
      v.setUint32(o, 0, true);
      setInfo(o, 4, 0, 0);
    } else if (!features.typeTag && kind === 18) {
      v.setUint32(o, 0, true);
      setInfo(o, 10, 0, 0);
    } else if (!features.enum64 && kind === 6) {
      setInfo(o, 6, 0, vlen);
    } else if (!features.enum64 && kind === 19) {
      setInfo(o, 5, 0, vlen);
      for (let j = 0; j < vlen; j++) {
        const m = o + 12 + j * 12;
        v.setUint32(m + 4, placeholderId, true);
        v.setUint32(m + 8, 0, true);
      }
    }
  }
  return data;
}
