/**
 * CO-RE: `.BTF.ext` core_relo records resolved against the running kernel's BTF the way libbpf's
 * relo_core.c does — the local access spec (`0:1:2`) walked through the object's types, candidate
 * target types by essential name (`task_struct___v2` → `task_struct`) in vmlinux (then module
 * BTF when vmlinux has none), fields matched by name through anonymous members, every
 * `bpf_core_relo_kind`, and the instruction patched (ALU imm, LDX/ST/STX offset and size,
 * ld_imm64). A relocation no candidate satisfies poisons its instruction (libbpf's
 * `call 0xbad2310`), so the verifier only refuses it when it is reachable.
 *
 * @module
 */
import { Btf, type BtfTypeInfo } from '@bpfjs/btf';
import { BpfObjectError } from './errors.js';
import { code, imm, isLdImm64, off, setImm, setOff } from './insn.js';

/** `enum bpf_core_relo_kind`. */
export const CoreReloKind = {
  FIELD_BYTE_OFFSET: 0,
  FIELD_BYTE_SIZE: 1,
  FIELD_EXISTS: 2,
  FIELD_SIGNED: 3,
  FIELD_LSHIFT_U64: 4,
  FIELD_RSHIFT_U64: 5,
  TYPE_ID_LOCAL: 6,
  TYPE_ID_TARGET: 7,
  TYPE_EXISTS: 8,
  TYPE_SIZE: 9,
  ENUMVAL_EXISTS: 10,
  ENUMVAL_VALUE: 11,
  TYPE_MATCHES: 12,
} as const;

const KIND_NAMES = [
  'byte_off',
  'byte_sz',
  'field_exists',
  'signed',
  'lshift_u64',
  'rshift_u64',
  'local_type_id',
  'target_type_id',
  'type_exists',
  'type_size',
  'enumval_exists',
  'enumval_value',
  'type_matches',
];

/** libbpf's poison: `call 0xbad2310` ("bad relo"); the verifier reports `unknown#195896080`. */
export const POISON_IMM = 195896080;

// BTF kinds
const K = {
  INT: 1,
  PTR: 2,
  ARRAY: 3,
  STRUCT: 4,
  UNION: 5,
  ENUM: 6,
  FWD: 7,
  FUNC_PROTO: 13,
  FLOAT: 16,
  ENUM64: 19,
};
const isComposite = (k: number) => k === K.STRUCT || k === K.UNION;
const isAnyEnum = (k: number) => k === K.ENUM || k === K.ENUM64;

const fieldBased = (k: number) => k <= 5;
const typeBased = (k: number) => (k >= 6 && k <= 9) || k === 12;
const enumBased = (k: number) => k === 10 || k === 11;

/** One CO-RE record of a function, with `insn` relative to the function. */
export interface CoreRelo {
  readonly insn: number;
  readonly typeId: number;
  readonly access: string;
  readonly kind: number;
}

/** A poisoned instruction and why (for verifier errors). */
export interface Poisoned {
  readonly insn: number;
  readonly what: string;
}

interface Accessor {
  typeId: number;
  idx: number;
  name: string | undefined;
}

interface Spec {
  btf: Btf;
  rootId: number;
  accessors: Accessor[];
  bitOffset: number;
}

/** The essential name: without a `___flavor` suffix. */
export function essentialName(name: string): string {
  for (let i = name.length - 5; i >= 0; i--) {
    if (
      name[i] !== '_' &&
      name[i + 1] === '_' &&
      name[i + 2] === '_' &&
      name[i + 3] === '_' &&
      name[i + 4] !== '_'
    ) {
      return name.slice(0, i + 1);
    }
  }
  return name;
}

function skipMods(btf: Btf, id: number): { id: number; t: BtfTypeInfo } {
  const r = btf.resolve(id);
  return { id: r, t: btf.type(r) };
}

function kindCompat(a: BtfTypeInfo, b: BtfTypeInfo): boolean {
  return a.kind === b.kind || (isAnyEnum(a.kind) && isAnyEnum(b.kind));
}

function isFlexArr(btf: Btf, acc: Accessor | undefined, nelems: number): boolean {
  if (acc === undefined || acc.name === undefined || nelems > 0) return false;
  const t = btf.type(acc.typeId);
  return acc.idx === (t.members?.length ?? 0) - 1;
}

function coreError(message: string, where: { program: string; section: string }): BpfObjectError {
  return new BpfObjectError('ERR_BPFJS_OBJECT_CORE', message, where);
}

/** libbpf's bpf_core_parse_spec. */
function parseSpec(btf: Btf, r: CoreRelo, where: { program: string; section: string }): Spec {
  const bad = (why: string) =>
    coreError(
      `CO-RE relocation at instruction ${r.insn} (${KIND_NAMES[r.kind] ?? r.kind} of type [${r.typeId}], '${r.access}'): ${why}`,
      where,
    );
  const spec: Spec = { btf, rootId: r.typeId, accessors: [], bitOffset: 0 };
  if (r.access === '' || r.access.startsWith(':')) throw bad('empty access string');
  if (typeBased(r.kind)) {
    if (r.access !== '0') throw bad('a type relocation needs access string "0"');
    return spec;
  }
  const raw = r.access.split(':').map((x) => {
    if (!/^\d+$/.test(x)) throw bad('malformed access string');
    return Number(x);
  });
  let { id, t } = skipMods(btf, r.typeId);
  spec.accessors.push({ typeId: id, idx: raw[0]!, name: undefined });
  if (enumBased(r.kind)) {
    if (!isAnyEnum(t.kind) || raw.length > 1 || raw[0]! >= (t.values?.length ?? 0))
      throw bad('not an enumerator of an enum');
    spec.accessors[0]!.name = t.values![raw[0]!]!.name;
    return spec;
  }
  if (!fieldBased(r.kind)) throw bad(`unknown relocation kind ${r.kind}`);
  spec.bitOffset = raw[0]! * btf.sizeOf(id) * 8;
  for (let i = 1; i < raw.length; i++) {
    ({ id, t } = skipMods(btf, id));
    const idx = raw[i]!;
    if (isComposite(t.kind)) {
      const m = t.members?.[idx];
      if (m === undefined) throw bad(`member ${idx} of [${id}] does not exist`);
      spec.bitOffset += m.bitOffset;
      if (m.name !== '') spec.accessors.push({ typeId: id, idx, name: m.name });
      id = m.type;
    } else if (t.kind === K.ARRAY) {
      const a = t.array!;
      const flex = isFlexArr(btf, spec.accessors[spec.accessors.length - 1], a.nelems);
      ({ id } = skipMods(btf, a.type));
      if (!flex && idx >= a.nelems) throw bad(`index ${idx} is past the array's ${a.nelems} elements`);
      spec.accessors.push({ typeId: id, idx, name: undefined });
      spec.bitOffset += idx * btf.sizeOf(id) * 8;
    } else {
      throw bad(`access ${i} goes into a ${t.kindName}`);
    }
  }
  return spec;
}

function fieldsCompat(lb: Btf, lid: number, tb: Btf, tid: number): boolean {
  for (let depth = 0; depth < 32; depth++) {
    const l = skipMods(lb, lid);
    const t = skipMods(tb, tid);
    if (isComposite(l.t.kind) && isComposite(t.t.kind)) return true;
    if (!kindCompat(l.t, t.t)) return false;
    switch (l.t.kind) {
      case K.PTR:
      case K.FLOAT:
        return true;
      case K.FWD:
      case K.ENUM:
      case K.ENUM64: {
        const a = essentialName(l.t.name);
        const b = essentialName(t.t.name);
        return a === '' || b === '' || a === b;
      }
      case K.INT:
        return l.t.int!.offset === 0 && t.t.int!.offset === 0;
      case K.ARRAY:
        lid = l.t.array!.type;
        tid = t.t.array!.type;
        continue;
      default:
        return false;
    }
  }
  return false;
}

/** libbpf's __bpf_core_types_are_compat. */
export function typesCompat(lb: Btf, lid: number, tb: Btf, tid: number, level = 2): boolean {
  if (!kindCompat(lb.type(lid), tb.type(tid))) return false;
  for (let depth = 0; depth < 32; depth++) {
    const l = skipMods(lb, lid);
    const t = skipMods(tb, tid);
    if (!kindCompat(l.t, t.t)) return false;
    switch (l.t.kind) {
      case 0:
      case K.STRUCT:
      case K.UNION:
      case K.ENUM:
      case K.FWD:
      case K.ENUM64:
        return true;
      case K.INT:
        return l.t.int!.offset === 0 && t.t.int!.offset === 0;
      case K.PTR:
        lid = l.t.type!;
        tid = t.t.type!;
        continue;
      case K.ARRAY:
        lid = l.t.array!.type;
        tid = t.t.array!.type;
        continue;
      case K.FUNC_PROTO: {
        const lp = l.t.params ?? [];
        const tp = t.t.params ?? [];
        if (lp.length !== tp.length) return false;
        for (let i = 0; i < lp.length; i++) {
          if (level <= 0) return false;
          if (!typesCompat(lb, lb.resolve(lp[i]!.type), tb, tb.resolve(tp[i]!.type), level - 1)) return false;
        }
        lid = l.t.type!;
        tid = t.t.type!;
        continue;
      }
      default:
        return false;
    }
  }
  return false;
}

/** libbpf's __bpf_core_types_match (bpf_core_type_matches()). */
function typesMatch(lb: Btf, lid: number, tb: Btf, tid: number, depth = 0): boolean {
  if (depth > 32) return false;
  const l = skipMods(lb, lid);
  const t = skipMods(tb, tid);
  if (l.t.kind === 0 || t.t.kind === 0) return l.t.kind === t.t.kind;
  const namesMatch = () => l.t.name === '' || essentialName(l.t.name) === essentialName(t.t.name);
  if (!kindCompat(l.t, t.t)) {
    // a forward declaration matches a struct/union of that name
    if (l.t.kind === K.FWD && isComposite(t.t.kind))
      return namesMatch() && (l.t.kflag ? K.UNION : K.STRUCT) === t.t.kind;
    return false;
  }
  switch (l.t.kind) {
    case K.FWD:
      return namesMatch() && l.t.kflag === t.t.kflag;
    case K.FLOAT:
      return namesMatch() && l.t.size === t.t.size;
    case K.ENUM:
    case K.ENUM64: {
      if (!namesMatch() || l.t.size !== t.t.size) return false;
      const tv = new Set((t.t.values ?? []).map((v) => essentialName(v.name)));
      return (l.t.values ?? []).every((v) => tv.has(essentialName(v.name)));
    }
    case K.STRUCT:
    case K.UNION: {
      if (!namesMatch()) return false;
      const tm = t.t.members ?? [];
      return (l.t.members ?? []).every((m) => {
        const other = tm.find((x) => x.name === m.name);
        return other !== undefined && typesMatch(lb, m.type, tb, other.type, depth + 1);
      });
    }
    case K.INT:
      return l.t.size === t.t.size && (l.t.int!.encoding & 1) === (t.t.int!.encoding & 1);
    case K.PTR:
      return typesMatch(lb, l.t.type!, tb, t.t.type!, depth + 1);
    case K.ARRAY:
      return (
        l.t.array!.nelems === t.t.array!.nelems &&
        typesMatch(lb, l.t.array!.type, tb, t.t.array!.type, depth + 1)
      );
    case K.FUNC_PROTO: {
      const lp = l.t.params ?? [];
      const tp = t.t.params ?? [];
      if (lp.length !== tp.length) return false;
      return (
        lp.every((p, i) => typesMatch(lb, p.type, tb, tp[i]!.type, depth + 1)) &&
        typesMatch(lb, l.t.type!, tb, t.t.type!, depth + 1)
      );
    }
    default:
      return false;
  }
}

function matchMember(
  lb: Btf,
  local: Accessor,
  tb: Btf,
  tid: number,
  spec: Spec,
): { found: boolean; next: number } {
  const t = skipMods(tb, tid);
  if (!isComposite(t.t.kind)) return { found: false, next: tid };
  const lm = lb.type(local.typeId).members![local.idx]!;
  const members = t.t.members ?? [];
  for (let i = 0; i < members.length; i++) {
    const m = members[i]!;
    spec.bitOffset += m.bitOffset;
    if (m.name === '') {
      const inner = matchMember(lb, local, tb, m.type, spec);
      if (inner.found) return inner;
    } else if (m.name === local.name) {
      spec.accessors.push({ typeId: t.id, idx: i, name: m.name });
      if (fieldsCompat(lb, lm.type, tb, m.type)) return { found: true, next: m.type };
      spec.accessors.pop();
      return { found: false, next: tid };
    }
    spec.bitOffset -= m.bitOffset;
  }
  return { found: false, next: tid };
}

/** libbpf's bpf_core_spec_match: the candidate's spec, or undefined when it does not match. */
function specMatch(local: Spec, kind: number, tb: Btf, candId: number): Spec | undefined {
  const target: Spec = { btf: tb, rootId: candId, accessors: [], bitOffset: 0 };
  if (typeBased(kind)) {
    const ok =
      kind === CoreReloKind.TYPE_MATCHES
        ? typesMatch(local.btf, local.rootId, tb, candId)
        : typesCompat(local.btf, local.rootId, tb, candId);
    return ok ? target : undefined;
  }
  const acc0 = local.accessors[0]!;
  if (enumBased(kind)) {
    const t = skipMods(tb, candId);
    if (!isAnyEnum(t.t.kind)) return undefined;
    const want = essentialName(acc0.name!);
    const i = (t.t.values ?? []).findIndex((v) => essentialName(v.name) === want);
    if (i < 0) return undefined;
    target.accessors.push({ typeId: t.id, idx: i, name: t.t.values![i]!.name });
    return target;
  }
  let tid = candId;
  for (let i = 0; i < local.accessors.length; i++) {
    const acc = local.accessors[i]!;
    const t = skipMods(tb, tid);
    tid = t.id;
    if (acc.name !== undefined) {
      const m = matchMember(local.btf, acc, tb, tid, target);
      if (!m.found) return undefined;
      tid = m.next;
    } else {
      if (i > 0) {
        if (t.t.kind !== K.ARRAY) return undefined;
        const a = t.t.array!;
        const flex = isFlexArr(tb, target.accessors[target.accessors.length - 1], a.nelems);
        if (!flex && acc.idx >= a.nelems) return undefined;
        tid = tb.resolve(a.type);
      }
      target.accessors.push({ typeId: tid, idx: acc.idx, name: undefined });
      target.bitOffset += acc.idx * tb.sizeOf(tid) * 8;
    }
  }
  return target;
}

interface FieldResult {
  value: bigint;
  size?: number;
  typeId?: number;
  /** The BTF `typeId` belongs to. */
  btf?: Btf;
  validate: boolean;
}

/** libbpf's bpf_core_calc_field_relo; undefined spec → poison (except FIELD_EXISTS). */
function fieldValue(
  kind: number,
  spec: Spec | undefined,
  where: { program: string; section: string },
): FieldResult | 'poison' {
  if (kind === CoreReloKind.FIELD_EXISTS) return { value: spec === undefined ? 0n : 1n, validate: true };
  if (spec === undefined) return 'poison';
  const btf = spec.btf;
  const acc = spec.accessors[spec.accessors.length - 1]!;
  if (acc.name === undefined) {
    const sz = btf.sizeOf(acc.typeId);
    if (kind === CoreReloKind.FIELD_BYTE_OFFSET) {
      return { value: BigInt(spec.bitOffset / 8), size: sz, typeId: acc.typeId, btf, validate: true };
    }
    if (kind === CoreReloKind.FIELD_BYTE_SIZE) return { value: BigInt(sz), validate: true };
    throw coreError(`CO-RE ${KIND_NAMES[kind]} cannot be applied to an array element`, where);
  }
  const parent = btf.type(acc.typeId);
  const m = parent.members![acc.idx]!;
  const mt = skipMods(btf, m.type);
  const bitOff = spec.bitOffset;
  let bitSz = m.bitfieldSize;
  const bitfield = bitSz > 0;
  let byteSz: number;
  let byteOff: number;
  if (bitfield) {
    byteSz = mt.t.size!;
    byteOff = Math.floor(bitOff / 8 / byteSz) * byteSz;
    while (bitOff + bitSz - byteOff * 8 > byteSz * 8) {
      if (byteSz >= 8) throw coreError('a bit-field that no 64-bit load covers', where);
      byteSz *= 2;
      byteOff = Math.floor(bitOff / 8 / byteSz) * byteSz;
    }
  } else {
    byteSz = btf.sizeOf(mt.id);
    byteOff = bitOff / 8;
    bitSz = byteSz * 8;
  }
  switch (kind) {
    case CoreReloKind.FIELD_BYTE_OFFSET:
      return bitfield
        ? { value: BigInt(byteOff), validate: false }
        : { value: BigInt(byteOff), size: byteSz, typeId: mt.id, btf, validate: true };
    case CoreReloKind.FIELD_BYTE_SIZE:
      return { value: BigInt(byteSz), validate: !bitfield };
    case CoreReloKind.FIELD_SIGNED: {
      const signed =
        (isAnyEnum(mt.t.kind) && mt.t.kflag) || (mt.t.kind === K.INT && (mt.t.int!.encoding & 1) !== 0);
      return { value: signed ? 1n : 0n, validate: true };
    }
    case CoreReloKind.FIELD_LSHIFT_U64:
      return { value: BigInt(64 - (bitOff + bitSz - byteOff * 8)), validate: !bitfield };
    case CoreReloKind.FIELD_RSHIFT_U64:
      return { value: BigInt(64 - bitSz), validate: true };
    default:
      throw coreError(`unknown field relocation kind ${kind}`, where);
  }
}

function otherValue(kind: number, spec: Spec | undefined): { value: bigint; validate: boolean } | 'poison' {
  switch (kind) {
    case CoreReloKind.TYPE_ID_TARGET:
      return { value: BigInt(spec?.rootId ?? 0), validate: false };
    case CoreReloKind.TYPE_EXISTS:
    case CoreReloKind.TYPE_MATCHES:
      return { value: spec === undefined ? 0n : 1n, validate: true };
    case CoreReloKind.TYPE_SIZE:
      return { value: spec === undefined ? 0n : BigInt(spec.btf.sizeOf(spec.rootId)), validate: true };
    case CoreReloKind.ENUMVAL_EXISTS:
      return { value: spec === undefined ? 0n : 1n, validate: true };
    case CoreReloKind.ENUMVAL_VALUE: {
      if (spec === undefined) return 'poison';
      const acc = spec.accessors[0]!;
      const v = spec.btf.type(acc.typeId).values![acc.idx]!.value;
      return { value: BigInt(v), validate: true };
    }
    default:
      return 'poison';
  }
}

/** Target BTFs: vmlinux first, module BTF only when vmlinux has no candidate (as libbpf). */
export interface CoreTargets {
  readonly vmlinux: Btf;
  modules(): readonly Btf[];
}

let defaultTargets: CoreTargets | undefined;
/** The running kernel's BTF (vmlinux, modules loaded on demand), cached for the process. */
export function kernelTargets(vmlinux?: Btf): CoreTargets {
  if (vmlinux !== undefined) {
    let mods: Btf[] | undefined;
    return {
      vmlinux,
      modules: () => {
        mods ??= [];
        return mods;
      },
    };
  }
  if (defaultTargets === undefined) {
    const v = Btf.loadKernel();
    let mods: Btf[] | undefined;
    defaultTargets = {
      vmlinux: v,
      modules: () => {
        if (mods === undefined) {
          mods = [];
          for (const name of Btf.kernelModules()) {
            try {
              mods.push(Btf.loadModule(name, v));
            } catch {
              // a module unloaded meanwhile: skip it
            }
          }
        }
        return mods;
      },
    };
  }
  return defaultTargets;
}

function candidates(local: Btf, localId: number, targets: CoreTargets): { btf: Btf; id: number }[] {
  const lt = local.type(localId);
  const want = essentialName(lt.name);
  const find = (btf: Btf) =>
    btf
      .findByName(want)
      .filter((id) => kindCompat(btf.type(id), lt))
      .map((id) => ({ btf, id }));
  const fromVmlinux = find(targets.vmlinux);
  if (fromVmlinux.length > 0) return fromVmlinux;
  return targets.modules().flatMap((m) => find(m).filter((c) => c.id >= m.firstId));
}

const BPF_CLASS = (c: number) => c & 0x07;
const BPF_SIZE_BYTES: Record<number, number> = { 24: 8, 0: 4, 8: 2, 16: 1 };
const BYTES_TO_SIZE: Record<number, number> = { 8: 0x18, 4: 0x00, 2: 0x08, 1: 0x10 };

function poison(insns: Uint8Array, i: number): void {
  const ld = isLdImm64(insns, i);
  for (const j of ld ? [i, i + 1] : [i]) {
    insns.fill(0, j * 8, j * 8 + 8);
    insns[j * 8] = 0x85; // BPF_JMP | BPF_CALL
    setImm(insns, j, POISON_IMM);
  }
}

/**
 * Applies the CO-RE relocations of one function to its (copied) instructions; returns the
 * instructions it poisoned.
 * @throws BpfObjectError `ERR_BPFJS_OBJECT_CORE` for relocations that cannot be applied at all
 *   (bad access string, candidates that disagree, an instruction that does not hold the expected
 *   value) — never for a type or field the kernel lacks (that poisons the instruction).
 */
export function applyCore(
  insns: Uint8Array,
  relos: readonly CoreRelo[],
  local: Btf,
  targets: () => CoreTargets,
  where: { program: string; section: string },
): Poisoned[] {
  const poisoned: Poisoned[] = [];
  for (const r of relos) {
    const i = r.insn;
    const lt = local.type(r.typeId);
    const what = `${KIND_NAMES[r.kind] ?? r.kind} of ${lt.kindName} ${lt.name || '<anon>'} (access ${r.access})`;
    const localSpec = parseSpec(local, r, where);
    let orig: FieldResult | 'poison';
    let res: FieldResult | 'poison';
    if (r.kind === CoreReloKind.TYPE_ID_LOCAL) {
      orig = res = { value: BigInt(r.typeId), validate: false };
    } else {
      if (lt.name === '')
        throw coreError(`CO-RE ${what}: candidate search for anonymous types is not supported`, where);
      const compute = (s: Spec | undefined) =>
        fieldBased(r.kind) ? fieldValue(r.kind, s, where) : otherValue(r.kind, s);
      orig = compute(localSpec);
      let chosen: { spec: Spec; res: ReturnType<typeof compute> } | undefined;
      for (const c of candidates(local, r.typeId, targets())) {
        const spec = specMatch(localSpec, r.kind, c.btf, c.id);
        if (spec === undefined) continue;
        const cr = compute(spec);
        if (chosen === undefined) chosen = { spec, res: cr };
        else if (
          spec.bitOffset !== chosen.spec.bitOffset ||
          (cr === 'poison') !== (chosen.res === 'poison') ||
          (cr !== 'poison' && chosen.res !== 'poison' && cr.value !== chosen.res.value)
        ) {
          throw coreError(`CO-RE ${what} at instruction ${i}: kernel candidates disagree`, where);
        }
      }
      res = chosen === undefined ? compute(undefined) : chosen.res;
    }
    if (orig === 'poison')
      throw coreError(`CO-RE ${what} at instruction ${i}: the object's own types do not resolve it`, where);
    if (res === 'poison') {
      poison(insns, i);
      poisoned.push({ insn: i, what });
      continue;
    }
    const c = code(insns, i);
    const cls = BPF_CLASS(c);
    const bad = (why: string) => coreError(`CO-RE ${what} at instruction ${i}: ${why}`, where);
    if (cls === 0x04 || cls === 0x07) {
      // ALU / ALU64 with an immediate
      if ((c & 0x08) !== 0) throw bad('ALU instruction without an immediate operand');
      if (orig.validate && BigInt(imm(insns, i) >>> 0) !== BigInt.asUintN(32, orig.value)) {
        throw bad(`instruction holds ${imm(insns, i)}, expected ${orig.value}`);
      }
      setImm(insns, i, Number(BigInt.asIntN(32, res.value)));
    } else if (cls === 0x01 || cls === 0x02 || cls === 0x03) {
      // LDX / ST / STX: the offset, and the access size when the field's size changed
      if (orig.validate && BigInt(off(insns, i)) !== orig.value)
        throw bad(`offset ${off(insns, i)}, expected ${orig.value}`);
      if (res.value > 0x7fffn) throw bad(`offset ${res.value} does not fit`);
      if (orig.size !== undefined && res.size !== undefined && orig.size !== res.size) {
        // libbpf: only pointers, or unsigned integers on both sides, may change their load size
        const ot = skipMods(local, orig.typeId!).t;
        const nt = skipMods(res.btf!, res.typeId!).t;
        const unsignedInt = (t: BtfTypeInfo) => t.kind === K.INT && (t.int!.encoding & 1) === 0;
        if (!(ot.kind === K.PTR && nt.kind === K.PTR) && !(unsignedInt(ot) && unsignedInt(nt))) {
          poison(insns, i);
          poisoned.push({ insn: i, what: `${what}: field size changed (${orig.size} → ${res.size})` });
          continue;
        }
        if (BPF_SIZE_BYTES[c & 0x18] !== orig.size)
          throw bad(`access size ${BPF_SIZE_BYTES[c & 0x18]}, expected ${orig.size}`);
        const size = BYTES_TO_SIZE[res.size];
        if (size === undefined) throw bad(`no load of ${res.size} bytes`);
        insns[i * 8] = (c & 0xe7) | size;
      }
      setOff(insns, i, Number(res.value));
    } else if (isLdImm64(insns, i)) {
      const v = new DataView(insns.buffer, insns.byteOffset, insns.byteLength);
      const cur = (BigInt(v.getUint32(i * 8 + 12, true)) << 32n) | BigInt(v.getUint32(i * 8 + 4, true));
      if (orig.validate && cur !== orig.value) throw bad(`ld_imm64 holds ${cur}, expected ${orig.value}`);
      v.setUint32(i * 8 + 4, Number(BigInt.asUintN(32, res.value)), true);
      v.setUint32(i * 8 + 12, Number(BigInt.asUintN(32, res.value >> 32n)), true);
    } else {
      throw bad(`instruction code 0x${c.toString(16)} cannot be relocated`);
    }
  }
  return poisoned;
}
