/**
 * Loading an opened object into the kernel, in libbpf's order: object BTF (fixed up), maps
 * (reused when pinned by name, created otherwise; global data written and `.rodata` frozen),
 * programs (data relocations, subprograms appended per program, func/line info), then prog-array
 * and map-in-map slots. Anything created before a failure is closed and unpinned again.
 *
 * @module
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Btf } from '@bpfjs/btf';
import { adoptLoadedProgram, type Program } from '@bpfjs/link';
import type { BpfMap } from '@bpfjs/map';
import {
  BpfError,
  btfLoad,
  type Fd,
  MAP_SHARED,
  type Mapping,
  mapFreeze,
  mapGetInfo,
  mapUpdateElem,
  mmap,
  munmap,
  numPossibleCpus,
  objGet,
  PROT_READ,
  PROT_WRITE,
  progLoad,
} from '@bpfjs/sys';
import { optionKeys, validateObject } from '@bpfjs/sys/internal';
import {
  BPF_F_MMAPABLE,
  BPF_LSM_CGROUP,
  BPF_LSM_MAC,
  BPF_MAP_TYPE_ARRAY_OF_MAPS,
  BPF_MAP_TYPE_CGROUP_ARRAY,
  BPF_MAP_TYPE_CPUMAP,
  BPF_MAP_TYPE_DEVMAP,
  BPF_MAP_TYPE_DEVMAP_HASH,
  BPF_MAP_TYPE_HASH_OF_MAPS,
  BPF_MAP_TYPE_PERF_EVENT_ARRAY,
  BPF_MAP_TYPE_PROG_ARRAY,
  BPF_MAP_TYPE_QUEUE,
  BPF_MAP_TYPE_RINGBUF,
  BPF_MAP_TYPE_SOCKHASH,
  BPF_MAP_TYPE_SOCKMAP,
  BPF_MAP_TYPE_STACK,
  BPF_MAP_TYPE_STACK_TRACE,
  BPF_MAP_TYPE_USER_RINGBUF,
  BPF_MAP_TYPE_XSKMAP,
  BPF_PSEUDO_BTF_ID,
  BPF_PSEUDO_FUNC,
  BPF_PSEUDO_KFUNC_CALL,
  BPF_PSEUDO_MAP_FD,
  BPF_PSEUDO_MAP_VALUE,
  BPF_TRACE_ITER,
  BPF_TRACE_RAW_TP,
  BTF_KIND_FUNC,
  BTF_KIND_TYPEDEF,
  BTF_KIND_VAR,
} from '@bpfjs/uapi';
import { type BtfExtSection, KIND } from './btf.js';
import {
  applyCore,
  type CoreTargets,
  kernelTargets,
  POISON_IMM,
  type Poisoned,
  typesCompat,
} from './core.js';
import { BpfObjectError, objectError } from './errors.js';
import { INSN_SIZE, imm, isPseudoFunc, isSubprogCall, setImm, setOff, setSrcReg } from './insn.js';
import { kconfigValues } from './kconfig.js';
import { type BtfFeatures, btfFeatures, needsSanitizing, sanitizeBtf } from './sanitize.js';

const ALL_FEATURES: BtfFeatures = {
  func: true,
  funcGlobal: true,
  datasec: true,
  float: true,
  declTag: true,
  typeTag: true,
  enum64: true,
};

import { adoptMap, createMap, type MapOptions } from './map.js';

const ZERO_KEY = new Uint8Array(4);

import {
  type BpfObject,
  encodeScalar,
  type FunctionCode,
  type MapSpec,
  type ProgramSpec,
  type VariableSpec,
} from './object.js';

/** Options of {@link BpfObject.load}. */
export interface LoadOptions {
  /** Directory (on bpffs) for maps with `pinning = LIBBPF_PIN_BY_NAME`; default `/sys/fs/bpf`. */
  readonly pinPath?: string;
  /** Existing maps to use instead of creating them, by map name (an `Fd` or anything with `fd: Fd`; it is duplicated). */
  readonly mapReplacements?: Readonly<Record<string, Fd | { readonly fd: Fd }>>;
  /** Verifier log level for every program (1 or 2; the log is only kept on failure). */
  readonly logLevel?: number;
  /** Verifier log buffer size. */
  readonly logSize?: number;
  /** Kernel BTF for attach targets (path, default `/sys/kernel/btf/vmlinux`, or a parsed `Btf`). */
  readonly kernelBtf?: string | Btf;
  /** Load only these programs (default: every program whose `autoload` is true). */
  readonly programs?: readonly string[];
  /**
   * Pretend the kernel's BTF loader lacks these kinds (tests of the sanitizing for old kernels).
   * @internal
   */
  readonly btfFeatures?: Partial<BtfFeatures>;
}

const LOAD_KEYS = optionKeys(
  'pinPath',
  'mapReplacements',
  'logLevel',
  'logSize',
  'kernelBtf',
  'programs',
  'btfFeatures',
);

/**
 * A global variable of a loaded object, read and (outside `.rodata`) written from JS: through the
 * mmap()ed map value where the map is `BPF_F_MMAPABLE` (5.5+; no syscall per access), else through
 * a lookup/update of the data section's single element.
 */
export class Variable {
  readonly name: string;
  readonly size: number;
  readonly offset: number;
  readonly writable: boolean;
  readonly #map: BpfMap;
  readonly #mapped: Uint8Array | undefined;

  /** @internal */
  constructor(spec: VariableSpec, map: BpfMap, mapped: Uint8Array | undefined) {
    this.name = spec.name;
    this.size = spec.size;
    this.offset = spec.offset;
    this.writable = spec.writable;
    this.#map = map;
    this.#mapped = mapped;
  }

  /** Whether reads and writes go through memory shared with the kernel (mmap) rather than syscalls. */
  get mmapped(): boolean {
    return this.#mapped !== undefined;
  }

  #value(): Uint8Array {
    if (this.#mapped !== undefined) return this.#mapped;
    const value = this.#map.get(new Uint8Array(4));
    if (value === undefined) throw objectError(`variable '${this.name}': its map has no element 0`);
    return value;
  }

  /** The variable's current bytes (a copy). */
  get(): Uint8Array {
    return this.#value().slice(this.offset, this.offset + this.size);
  }

  /** The variable as an unsigned integer (1, 2, 4 or 8 bytes; 8 gives a bigint). */
  getInt(): number | bigint {
    const b = this.get();
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    switch (this.size) {
      case 1:
        return v.getUint8(0);
      case 2:
        return v.getUint16(0, true);
      case 4:
        return v.getUint32(0, true);
      case 8:
        return v.getBigUint64(0, true);
      default:
        throw Object.assign(new RangeError(`variable '${this.name}' is ${this.size} bytes, not an integer`), {
          code: 'ERR_OUT_OF_RANGE',
        });
    }
  }

  /**
   * Writes the variable (in the mapped memory, or a read-modify-write of the element).
   * @throws `ERR_BPFJS_OBJECT_INVALID` for `.rodata` (frozen at load); RangeError for a bad size.
   */
  set(value: Uint8Array | number | bigint | boolean): void {
    if (!this.writable) {
      throw objectError(`variable '${this.name}' is read-only (.rodata is frozen at load)`, {
        symbol: this.name,
      });
    }
    const bytes = encodeScalar(value, this.size, `variable '${this.name}'`);
    if (this.#mapped !== undefined) {
      this.#mapped.set(bytes, this.offset);
      return;
    }
    const cur = this.#value();
    cur.set(bytes, this.offset);
    this.#map.set(new Uint8Array(4), cur);
  }
}

/** What a loaded object holds: its programs, maps and variables. Closing it closes every fd. */
export class Collection implements Disposable {
  /** Loaded programs by name. */
  readonly programs: ReadonlyMap<string, Program>;
  /** Maps by name (`.maps` names, `'.rodata'`, ...) as `BpfMap`s of `@bpfjs/map`. */
  readonly maps: ReadonlyMap<string, BpfMap>;
  /** Global variables by name. */
  readonly variables: ReadonlyMap<string, Variable>;
  readonly #btfFd: Fd | undefined;
  readonly #mappings: Mapping[];

  /** @internal */
  constructor(
    programs: Map<string, Program>,
    maps: Map<string, BpfMap>,
    variables: Map<string, Variable>,
    btfFd: Fd | undefined,
    mappings: Mapping[],
  ) {
    this.programs = programs;
    this.maps = maps;
    this.variables = variables;
    this.#btfFd = btfFd;
    this.#mappings = mappings;
  }

  /** A program by name. @throws `ERR_BPFJS_OBJECT_INVALID` if there is none. */
  program(name: string): Program {
    const p = this.programs.get(name);
    if (p === undefined) throw objectError(`the collection has no program '${name}'`, { program: name });
    return p;
  }

  /**
   * A map by name (keys and values as bytes). Fd-valued maps (sockmap/sockhash, prog arrays,
   * map-in-maps) take the socket, program or map itself in `set()`: type them with
   * `coll.map<FdSource>('sockets')` (`FdSource` from `@bpfjs/map`).
   * @throws `ERR_BPFJS_OBJECT_INVALID` if there is none.
   */
  map<V = Uint8Array>(name: string): BpfMap<Uint8Array, V> {
    const m = this.maps.get(name);
    if (m === undefined) throw objectError(`the collection has no map '${name}'`, { map: name });
    return m as unknown as BpfMap<Uint8Array, V>;
  }

  /**
   * Closes every program, map and the BTF fd and unmaps the variables' memory (idempotent;
   * variables cannot be used afterwards). Pins and links keep their objects.
   */
  close(): void {
    for (const m of this.#mappings.splice(0)) munmap(m);
    for (const p of this.programs.values()) p.close();
    for (const m of this.maps.values()) m.close();
    this.#btfFd?.close();
  }

  /** Same as `close()`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/** Map types the kernel refuses BTF key/value types for (libbpf drops them). */
const NO_BTF_TYPES = new Set<number>([
  BPF_MAP_TYPE_PERF_EVENT_ARRAY,
  BPF_MAP_TYPE_CGROUP_ARRAY,
  BPF_MAP_TYPE_STACK_TRACE,
  BPF_MAP_TYPE_ARRAY_OF_MAPS,
  BPF_MAP_TYPE_HASH_OF_MAPS,
  BPF_MAP_TYPE_DEVMAP,
  BPF_MAP_TYPE_DEVMAP_HASH,
  BPF_MAP_TYPE_CPUMAP,
  BPF_MAP_TYPE_XSKMAP,
  BPF_MAP_TYPE_SOCKMAP,
  BPF_MAP_TYPE_SOCKHASH,
  BPF_MAP_TYPE_QUEUE,
  BPF_MAP_TYPE_STACK,
]);

const PAGE_SIZE = 4096;

/** libbpf's `adjust_ringbuf_sz`: a power-of-2 multiple of the page size, at least the size asked. */
function ringbufSize(size: number): number {
  if (size === 0) return 0;
  if (size % PAGE_SIZE === 0 && Number.isInteger(Math.log2(size / PAGE_SIZE))) return size;
  let n = PAGE_SIZE;
  while (n <= size) n *= 2;
  return n;
}

function effectiveMaxEntries(spec: MapSpec): number {
  if (spec.type === BPF_MAP_TYPE_RINGBUF || spec.type === BPF_MAP_TYPE_USER_RINGBUF)
    return ringbufSize(spec.maxEntries);
  if (spec.type === BPF_MAP_TYPE_PERF_EVENT_ARRAY && spec.maxEntries === 0) return numPossibleCpus();
  return spec.maxEntries;
}

interface Cleanup {
  fds: { close(): void }[];
  pins: string[];
  mappings: Mapping[];
}

function compatible(spec: MapSpec, fd: Fd, where: string): void {
  const info = mapGetInfo(fd);
  const want = {
    type: spec.type,
    keySize: spec.keySize,
    valueSize: spec.valueSize,
    maxEntries: effectiveMaxEntries(spec),
    flags: spec.flags,
  };
  const diffs = (Object.keys(want) as (keyof typeof want)[])
    .filter((k) => info[k] !== want[k])
    .map((k) => `${k} ${info[k]} != ${want[k]}`);
  if (diffs.length > 0)
    throw objectError(`map '${spec.name}': ${where} is not compatible (${diffs.join(', ')})`, {
      map: spec.name,
    });
}

function createOne(spec: MapSpec, btfFd: Fd | undefined, inner: BpfMap | undefined): BpfMap {
  const base: MapOptions = {
    type: spec.type,
    keySize: spec.keySize,
    valueSize: spec.valueSize,
    maxEntries: effectiveMaxEntries(spec),
    flags: spec.flags,
    name: spec.kernelName,
    ...(spec.numaNode !== 0 ? { numaNode: spec.numaNode } : {}),
    ...(spec.mapExtra !== 0n ? { mapExtra: spec.mapExtra } : {}),
    ...(inner !== undefined ? { innerMap: inner } : {}),
  };
  const btfOk = btfFd !== undefined && !NO_BTF_TYPES.has(spec.type);
  if (btfOk && (spec.keyTypeId !== 0 || spec.valueTypeId !== 0)) {
    try {
      return createMap({
        ...base,
        btf: { fd: btfFd, keyTypeId: spec.keyTypeId, valueTypeId: spec.valueTypeId },
      });
    } catch (e) {
      if (!BpfError.isInstance(e)) throw e;
      // libbpf: retry without BTF (some map types refuse key/value types).
    }
  }
  return createMap(btfOk ? { ...base, btf: { fd: btfFd, keyTypeId: 0, valueTypeId: 0 } } : base);
}

function createMaps(
  obj: BpfObject,
  opts: LoadOptions,
  btfFd: Fd | undefined,
  cleanup: Cleanup,
): Map<string, BpfMap> {
  const out = new Map<string, BpfMap>();
  const replacements = opts.mapReplacements ?? {};
  for (const name of Object.keys(replacements)) {
    if (!obj.maps.has(name))
      throw objectError(`mapReplacements names '${name}', which the object does not define`, { map: name });
  }
  for (const spec of obj.maps.values()) {
    let fd: Fd | undefined;
    let pinned: string | undefined;
    const repl = replacements[spec.name];
    if (repl !== undefined) {
      const src = 'fd' in repl && typeof repl.fd === 'object' ? repl.fd : (repl as Fd);
      fd = src.dup();
      cleanup.fds.push(fd);
      compatible(spec, fd, 'the replacement map');
    } else if (spec.pinning === 1) {
      const path = join(opts.pinPath ?? '/sys/fs/bpf', spec.name);
      try {
        fd = objGet(path);
      } catch (e) {
        if (!BpfError.isInstance(e) || e.code !== 'ENOENT') throw e;
      }
      if (fd !== undefined) {
        cleanup.fds.push(fd);
        compatible(spec, fd, `the map pinned at '${path}'`);
        pinned = path;
      }
    }
    let m: BpfMap;
    if (fd !== undefined) {
      m = adoptMap(fd);
    } else {
      // Created here: BpfMap.create knows what it made (no fd inspection, no info call).
      let inner: BpfMap | undefined;
      if (spec.inner !== undefined) {
        inner = createOne(spec.inner, btfFd, undefined);
        cleanup.fds.push(inner);
      }
      try {
        m = createOne(spec, btfFd, inner);
      } catch (e) {
        throw withMapContext(e, spec);
      } finally {
        inner?.close();
      }
      cleanup.fds.push(m);
      if (spec.contents !== undefined) {
        mapUpdateElem(m.fd, ZERO_KEY, spec.contents);
        // libbpf freezes .rodata before any program loads: the verifier then sees constants.
        if (spec.freeze) mapFreeze(m.fd);
      }
    }
    if (spec.pinning === 1 && pinned === undefined) {
      const path = join(opts.pinPath ?? '/sys/fs/bpf', spec.name);
      m.pin(path);
      cleanup.pins.push(path);
    }
    out.set(spec.name, m);
  }
  // Map-in-map slots: every target exists by now.
  for (const spec of obj.maps.values()) {
    if (spec.type === BPF_MAP_TYPE_PROG_ARRAY || spec.initSlots.size === 0) continue;
    const outer = out.get(spec.name)!;
    for (const [slot, target] of spec.initSlots) setSlot(outer, slot, out.get(target)!.fd.fd);
  }
  return out;
}

function setSlot(map: BpfMap, slot: number, fd: number): void {
  const key = new Uint8Array(map.keySize);
  new DataView(key.buffer).setUint32(0, slot, true);
  // prog arrays and map-in-maps take an fd as their value (BpfMap encodes it).
  map.set(key, fd as unknown as Uint8Array);
}

function withMapContext(e: unknown, spec: MapSpec): unknown {
  if (BpfError.isInstance(e)) {
    (e as { message: string }).message +=
      ` (map '${spec.name}': ${spec.typeName}, key ${spec.keySize}, value ${spec.valueSize}, max_entries ${spec.maxEntries}, flags 0x${spec.flags.toString(16)})`;
  }
  return e;
}

interface Linked {
  insns: Uint8Array;
  funcInfo: Uint8Array | undefined;
  lineInfo: Uint8Array | undefined;
  /** line_info records of the result (insn, file name offset, line offset, line/col), 4 words each. */
  lines: Uint32Array;
  /** The functions placed in the result. */
  functions: FunctionCode[];
}

/** Applies map and data relocations to a copy of one function's code. */
function relocateData(
  obj: BpfObject,
  fn: FunctionCode,
  maps: Map<string, BpfMap>,
  ksyms: ReadonlyMap<string, ResolvedKsym>,
  prog: string,
  targets: () => CoreTargets,
  poisoned: Poisoned[],
): Uint8Array {
  // a copy (fn.insns may be a Buffer view of the file, whose slice() would not copy)
  const insns = new Uint8Array(fn.insns);
  const core = extRecords(obj.btfExt?.coreRelo, fn);
  if (core.length > 0 && obj.btf !== undefined) {
    const relos = core.map((r) => ({
      insn: r.insnOff / INSN_SIZE - fn.start,
      typeId: r.typeId,
      access: obj.btf!.str(r.accessStrOff),
      kind: r.kind,
    }));
    for (const p of applyCore(insns, relos, obj.btf.types, targets, { program: prog, section: fn.section })) {
      poisoned.push({ insn: p.insn, what: `${p.what} in '${fn.name}'` });
    }
  }
  for (const r of fn.relocs) {
    switch (r.kind) {
      case 'map':
        setSrcReg(insns, r.insn, BPF_PSEUDO_MAP_FD);
        setImm(insns, r.insn, maps.get(r.map)!.fd.fd);
        break;
      case 'data':
        setImm(insns, r.insn + 1, imm(insns, r.insn) + r.offset);
        setSrcReg(insns, r.insn, BPF_PSEUDO_MAP_VALUE);
        setImm(insns, r.insn, maps.get(r.map)!.fd.fd);
        break;
      case 'func':
        // libbpf marks callback addresses (clang emits src_reg 0) so the linker finds them.
        setSrcReg(insns, r.insn, BPF_PSEUDO_FUNC);
        break;
      case 'kconfig':
        setSrcReg(insns, r.insn, BPF_PSEUDO_MAP_VALUE);
        setImm(insns, r.insn, maps.get('.kconfig')!.fd.fd);
        setImm(insns, r.insn + 1, r.offset);
        break;
      case 'ksym': {
        const k = ksyms.get(r.symbol)!;
        if (r.call) {
          setSrcReg(insns, r.insn, BPF_PSEUDO_KFUNC_CALL);
          setImm(insns, r.insn, k.btfId);
          setOff(insns, r.insn, 0);
        } else if (k.btfId !== 0) {
          setSrcReg(insns, r.insn, BPF_PSEUDO_BTF_ID);
          setImm(insns, r.insn, k.btfId);
          setImm(insns, r.insn + 1, 0);
        } else {
          setImm(insns, r.insn, Number(BigInt.asIntN(32, k.address)));
          setImm(insns, r.insn + 1, Number(BigInt.asIntN(32, k.address >> 32n)));
        }
        break;
      }
      case 'extern':
        throw new BpfObjectError(
          'ERR_BPFJS_OBJECT_RELOCATION',
          `program '${prog}': extern '${r.symbol}' is neither a .kconfig nor a .ksyms extern`,
          { program: prog, symbol: r.symbol, section: fn.section },
        );
      default:
        break;
    }
  }
  return insns;
}

// The records of one function: a binary search in its section's records (sorted by instruction,
// as clang writes them; checked once per section), instead of every program of a section
// filtering the whole section's records again.
const sortedSections = new WeakSet<object>();

function extRecords<R extends { insnOff: number }>(
  secs: readonly BtfExtSection<R>[] | undefined,
  fn: FunctionCode,
): R[] {
  const sec = secs?.find((s) => s.section === fn.section);
  if (sec === undefined) return [];
  const recs = sec.records;
  if (!sortedSections.has(recs)) {
    let sorted = true;
    for (let i = 1; i < recs.length && sorted; i++) sorted = recs[i - 1]!.insnOff <= recs[i]!.insnOff;
    if (!sorted) recs.sort((a, b) => a.insnOff - b.insnOff);
    sortedSections.add(recs);
  }
  const first = (insn: number): number => {
    let lo = 0;
    let hi = recs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (recs[mid]!.insnOff < insn * INSN_SIZE) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  return recs.slice(first(fn.start), first(fn.start + fn.insns.byteLength / INSN_SIZE));
}

/** libbpf's `bpf_object__reloc_code`: appends used subprograms depth-first, fixes call offsets. */
function link(obj: BpfObject, prog: ProgramSpec, relocated: (fn: FunctionCode) => Uint8Array): Linked {
  const chunks: { fn: FunctionCode; at: number; insns: Uint8Array }[] = [];
  const placed = new Map<FunctionCode, number>();
  let total = 0;
  const place = (fn: FunctionCode): number => {
    const at = total;
    const insns = relocated(fn);
    chunks.push({ fn, at, insns });
    placed.set(fn, at);
    total += insns.byteLength / INSN_SIZE;
    visit(fn, insns, at);
    return at;
  };
  const visit = (fn: FunctionCode, insns: Uint8Array, at: number): void => {
    const n = insns.byteLength / INSN_SIZE;
    for (let i = 0; i < n; i++) {
      const call = isSubprogCall(insns, i);
      if (!call && !isPseudoFunc(insns, i)) continue;
      const r = fn.relocs.find((x) => x.insn === i);
      let target: number;
      if (r !== undefined && r.kind === 'call') target = r.symOff / INSN_SIZE + imm(insns, i) + 1;
      else if (r !== undefined && r.kind === 'func') target = (r.symOff + imm(insns, i)) / INSN_SIZE;
      else if (r !== undefined)
        throw new BpfObjectError(
          'ERR_BPFJS_OBJECT_RELOCATION',
          `program '${prog.name}': unexpected ${r.kind} relocation on a call at instruction ${i} of '${fn.name}'`,
          { program: prog.name, section: fn.section },
        );
      else if (!call)
        throw new BpfObjectError(
          'ERR_BPFJS_OBJECT_RELOCATION',
          `program '${prog.name}': callback address at instruction ${i} of '${fn.name}' has no relocation`,
          { program: prog.name, section: fn.section },
        );
      else target = fn.start + i + imm(insns, i) + 1;
      const sub = obj.subprograms.find((s) => s.start === target);
      if (sub === undefined) {
        throw new BpfObjectError(
          'ERR_BPFJS_OBJECT_RELOCATION',
          `program '${prog.name}': call at instruction ${i} of '${fn.name}' targets .text instruction ${target}, where no function starts`,
          {
            program: prog.name,
            section: fn.section,
            offset: (fn.start + i) * INSN_SIZE,
          },
        );
      }
      const subAt = placed.get(sub) ?? place(sub);
      setImm(insns, i, subAt - (at + i) - 1);
    }
  };
  place(prog.code);
  const insns = new Uint8Array(total * INSN_SIZE);
  for (const c of chunks) insns.set(c.insns, c.at * INSN_SIZE);

  // func_info / line_info of every placed function, insn_off in instructions of the result,
  // written straight into the arrays PROG_LOAD takes.
  let funcInfo: Uint8Array | undefined;
  let lineInfo: Uint8Array | undefined;
  let lines = new Uint32Array(0);
  const ext = obj.btfExt;
  if (ext !== undefined) {
    let nf = 0;
    let nl = 0;
    let funcsOk = true;
    for (const c of chunks) {
      const f = extRecords(ext.funcInfo, c.fn).length;
      if (f === 0) funcsOk = false;
      nf += f;
      nl += extRecords(ext.lineInfo, c.fn).length;
    }
    const fis = new Uint32Array(nf * 2);
    lines = new Uint32Array(nl * 4);
    let i = 0;
    let j = 0;
    for (const c of chunks) {
      const shift = c.at - c.fn.start;
      for (const r of extRecords(ext.funcInfo, c.fn)) {
        fis[i++] = r.insnOff / INSN_SIZE + shift;
        fis[i++] = r.typeId;
      }
      for (const r of extRecords(ext.lineInfo, c.fn)) {
        lines[j++] = r.insnOff / INSN_SIZE + shift;
        lines[j++] = r.fileNameOff;
        lines[j++] = r.lineOff;
        lines[j++] = r.lineCol;
      }
    }
    if (funcsOk && nf > 0) funcInfo = new Uint8Array(fis.buffer);
    if (funcInfo !== undefined && nl > 0) lineInfo = new Uint8Array(lines.buffer);
  }
  return { insns, funcInfo, lineInfo, lines, functions: chunks.map((c) => c.fn) };
}

function kernelBtf(opt: string | Btf | undefined): Btf {
  if (opt instanceof Btf) return opt;
  if (typeof opt === 'string') return Btf.loadKernel(opt);
  return kernelTargets().vmlinux;
}

function coreTargets(opt: string | Btf | undefined): CoreTargets {
  return opt === undefined ? kernelTargets() : kernelTargets(kernelBtf(opt));
}

/** libbpf's `find_kernel_btf_id`: the kernel BTF type a BTF-attached program names. */
function attachBtfId(prog: ProgramSpec, opts: LoadOptions): number {
  const target = prog.attachTo;
  if (target === undefined || target === '') {
    throw objectError(
      `program '${prog.name}': section '${prog.section}' names no attach target (SEC("${prog.def.pattern.replace('+', '')}/<function>"))`,
      { program: prog.name, section: prog.section },
    );
  }
  let name = target;
  let kind = BTF_KIND_FUNC;
  if (prog.expectedAttachTypeId === BPF_TRACE_RAW_TP) {
    name = `btf_trace_${target}`;
    kind = BTF_KIND_TYPEDEF;
  } else if (prog.expectedAttachTypeId === BPF_LSM_MAC || prog.expectedAttachTypeId === BPF_LSM_CGROUP) {
    name = `bpf_lsm_${target}`;
  } else if (prog.expectedAttachTypeId === BPF_TRACE_ITER) {
    name = `bpf_iter_${target}`;
  }
  const ids = kernelBtf(opts.kernelBtf).findByName(name, kind);
  if (ids.length === 0) {
    throw objectError(
      `program '${prog.name}': the kernel BTF has no ${kind === BTF_KIND_FUNC ? 'function' : 'typedef'} '${name}' to attach to (section '${prog.section}')`,
      {
        program: prog.name,
        section: prog.section,
      },
    );
  }
  return ids[0]!;
}

/** Adds the program, the failing instruction and its C source line to a verifier error. */
function verifierError(
  e: BpfError,
  prog: ProgramSpec,
  obj: BpfObject,
  linked: Linked,
  poisoned: readonly Poisoned[],
): BpfError {
  const log = e.log ?? '';
  let failing: number | undefined;
  for (const m of log.matchAll(/^(\d+): \([0-9a-f]{2}\)/gm)) failing = Number(m[1]);
  let where = '';
  if (failing !== undefined) {
    where = ` at instruction ${failing}`;
    let best = -1;
    const l = linked.lines;
    for (let k = 0; k < l.length; k += 4) if (l[k]! <= failing && (best < 0 || l[k]! >= l[best]!)) best = k;
    if (best >= 0 && obj.btf !== undefined) {
      const file = obj.btf.str(l[best + 1]!);
      const src = obj.btf.str(l[best + 2]!).trim();
      where += ` (${file.split('/').pop()}:${l[best + 3]! >>> 10}: ${src})`;
    }
  }
  const last = log
    .trimEnd()
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('processed '))
    .pop();
  // A reached poisoned instruction: say which CO-RE relocations the kernel's BTF could not satisfy.
  const core =
    poisoned.length > 0 && log.includes(`unknown#${POISON_IMM}`)
      ? ` (CO-RE relocations the kernel's BTF does not satisfy: ${poisoned.map((p) => p.what).join('; ')})`
      : '';
  const err = new BpfError(e.errno, e.syscall, {
    command: e.command,
    log: e.log,
    hint: core === '' ? e.hint : `a CO-RE relocation could not be resolved against the kernel${core}`,
    cause: e,
  });
  err.message = `${e.message}: the verifier rejected program '${prog.name}' (${prog.type})${where}${last !== undefined ? `: ${last.trim()}` : ''}${core}`;
  return err;
}

/**
 * Loads an opened object: BTF, maps, programs. Returns a {@link Collection} owning every fd.
 * @throws BpfError from the kernel (a verifier rejection names the program, the instruction and
 *   the C source line, with the full log in `log`); BpfObjectError for what the object asks and
 *   the loader cannot do. On any failure everything created so far is closed (and unpinned).
 */
export function loadObject(obj: BpfObject, opts: LoadOptions = {}): Collection {
  validateObject(opts, 'options', LOAD_KEYS);
  const cleanup: Cleanup = { fds: [], pins: [], mappings: [] };
  try {
    return load(obj, opts, cleanup);
  } catch (e) {
    for (const m of cleanup.mappings) munmap(m);
    for (const f of cleanup.fds.reverse()) f.close();
    for (const p of cleanup.pins) rmSync(p, { force: true });
    throw e;
  }
}

function load(obj: BpfObject, opts: LoadOptions, cleanup: Cleanup): Collection {
  const wanted = opts.programs;
  if (wanted !== undefined) {
    for (const n of wanted)
      if (!obj.programs.has(n))
        throw objectError(`options.programs names '${n}', which the object does not define`, { program: n });
  }
  const selected = [...obj.programs.values()].filter((p) =>
    wanted === undefined ? p.autoload : wanted.includes(p.name),
  );
  // Resolve what can fail without the kernel first.
  const btfIds = new Map<ProgramSpec, number>();
  for (const p of selected) if (p.attachBtf) btfIds.set(p, attachBtfId(p, opts));

  // .ksyms resolve against the kernel's BTF (and kallsyms) before anything is created.
  const ksyms = resolveKsyms(obj, opts);
  // .kconfig values are read before anything is created.
  const kconfigSpec = obj.maps.get('.kconfig');
  if (kconfigSpec !== undefined && obj.kconfig.length > 0) {
    kconfigSpec.contents!.set(kconfigValues(obj.kconfig, kconfigSpec.valueSize));
  }
  let btfFd: Fd | undefined;
  const features: BtfFeatures =
    obj.btf === undefined ? { ...ALL_FEATURES } : { ...btfFeatures(), ...opts.btfFeatures };
  if (obj.btf !== undefined) {
    try {
      // libbpf's bpf_object__sanitize_and_load_btf: kinds the kernel lacks are rewritten first.
      btfFd = btfLoad({ data: needsSanitizing(features) ? sanitizeBtf(obj.btf.raw, features) : obj.btf.raw });
      cleanup.fds.push(btfFd);
    } catch (e) {
      // libbpf goes on without BTF when the kernel refuses it; programs and maps load without names.
      if (!BpfError.isInstance(e)) throw e;
      btfFd = undefined;
    }
  }
  const maps = createMaps(obj, opts, btfFd, cleanup);

  const programs = new Map<string, Program>();
  const cache = new Map<FunctionCode, Uint8Array>();
  const poisonedBy = new Map<FunctionCode, Poisoned[]>();
  const targets = () => coreTargets(opts.kernelBtf);
  for (const p of selected) {
    const relocated = (fn: FunctionCode) => {
      let r = cache.get(fn);
      if (r === undefined) {
        const poisoned: Poisoned[] = [];
        r = relocateData(obj, fn, maps, ksyms, p.name, targets, poisoned);
        cache.set(fn, r);
        poisonedBy.set(fn, poisoned);
      }
      return new Uint8Array(r);
    };
    const linked = link(obj, p, relocated);
    let fd: Fd;
    try {
      fd = progLoad({
        type: p.typeId,
        insns: linked.insns,
        license: obj.license,
        name: p.name.slice(0, 15).replace(/[^A-Za-z0-9_.]/g, '_'),
        ...(p.expectedAttachTypeId !== undefined ? { expectedAttachType: p.expectedAttachTypeId } : {}),
        ...(p.flags !== 0 ? { flags: p.flags } : {}),
        ...(obj.kernelVersion !== undefined ? { kernVersion: obj.kernelVersion } : {}),
        ...(btfIds.has(p) ? { attachBtfId: btfIds.get(p)! } : {}),
        // programs refer to BTF (and carry func/line info) only where the kernel has BTF functions
        ...(btfFd !== undefined && features.func ? { btfFd } : {}),
        ...(btfFd !== undefined && features.func && linked.funcInfo !== undefined
          ? { funcInfo: linked.funcInfo }
          : {}),
        ...(btfFd !== undefined && features.func && linked.lineInfo !== undefined
          ? { lineInfo: linked.lineInfo }
          : {}),
        ...(opts.logLevel !== undefined ? { logLevel: opts.logLevel } : {}),
        ...(opts.logSize !== undefined ? { logSize: opts.logSize } : {}),
      });
    } catch (e) {
      if (BpfError.isInstance(e) && e.log !== undefined) {
        const poisoned = linked.functions.flatMap((f) => poisonedBy.get(f) ?? []);
        throw verifierError(e, p, obj, linked, poisoned);
      }
      throw e;
    }
    cleanup.fds.push(fd);
    // The program keeps the type and expected attach type it was loaded with (the kernel's info
    // does not report the latter); no fd inspection needed for an fd PROG_LOAD just returned.
    programs.set(p.name, adoptLoadedProgram(fd, p.typeId, p.expectedAttachTypeId));
  }
  // Prog arrays: slots of loaded programs.
  for (const spec of obj.maps.values()) {
    if (spec.type !== BPF_MAP_TYPE_PROG_ARRAY) continue;
    for (const [slot, target] of spec.initSlots) {
      const prog = programs.get(target);
      if (prog !== undefined) setSlot(maps.get(spec.name)!, slot, prog.fd.fd);
    }
  }
  const variables = new Map<string, Variable>();
  const views = new Map<string, Uint8Array>();
  for (const spec of obj.maps.values()) {
    if (spec.contents === undefined || (spec.flags & BPF_F_MMAPABLE) === 0) continue;
    const m = maps.get(spec.name)!;
    const length = Math.ceil(spec.valueSize / PAGE_SIZE) * PAGE_SIZE;
    const mapping = mmap(m.fd, length, spec.freeze ? PROT_READ : PROT_READ | PROT_WRITE, 0, MAP_SHARED);
    cleanup.mappings.push(mapping);
    views.set(spec.name, new Uint8Array(mapping.buffer, 0, spec.valueSize));
  }
  for (const v of obj.variables.values())
    variables.set(v.name, new Variable(v, maps.get(v.map)!, views.get(v.map)));
  return new Collection(programs, maps, variables, btfFd, cleanup.mappings);
}

export { KIND };

/** A `.ksyms` extern resolved: its kernel BTF id (typed), or its address (typeless), 0 if weak and absent. */
interface ResolvedKsym {
  readonly btfId: number;
  readonly address: bigint;
}

let kallsyms: Map<string, bigint> | undefined;
function kallsymsAddress(name: string): bigint | undefined {
  if (kallsyms === undefined) {
    kallsyms = new Map();
    for (const line of readFileSync('/proc/kallsyms', 'utf8').split('\n')) {
      const [addr, , sym] = line.split(/\s+/);
      if (sym !== undefined && !kallsyms.has(sym)) kallsyms.set(sym, BigInt(`0x${addr}`));
    }
  }
  return kallsyms.get(name);
}

/**
 * libbpf's ksym resolution: kfuncs and typed variables by name and kind in the kernel's BTF
 * (types checked compatible), typeless variables in /proc/kallsyms. Weak ones may be absent.
 * @throws BpfObjectError naming the extern otherwise (module BTF: not supported yet).
 */
function resolveKsyms(obj: BpfObject, opts: LoadOptions): Map<string, ResolvedKsym> {
  const out = new Map<string, ResolvedKsym>();
  for (const k of obj.ksyms) {
    const where = { section: '.ksyms', symbol: k.name };
    if (!k.func && k.typeId === 0) {
      const address = kallsymsAddress(k.name);
      if (address === undefined && !k.weak)
        throw objectError(`ksym '${k.name}' is not in /proc/kallsyms`, where);
      out.set(k.name, { btfId: 0, address: address ?? 0n });
      continue;
    }
    const kernel = kernelBtf(opts.kernelBtf);
    const id = kernel.findByName(k.name, k.func ? BTF_KIND_FUNC : BTF_KIND_VAR)[0];
    if (id === undefined) {
      if (k.weak) {
        out.set(k.name, { btfId: 0, address: 0n });
        continue;
      }
      throw objectError(
        `ksym '${k.name}': the kernel BTF has no ${k.func ? 'function' : 'variable'} of that name`,
        where,
      );
    }
    const target = k.func ? kernel.type(id).type! : kernel.resolve(kernel.type(id).type!);
    if (!typesCompat(obj.btf!.types, k.typeId, kernel, target)) {
      throw objectError(`ksym '${k.name}': its type in the object does not match the kernel's`, where);
    }
    out.set(k.name, { btfId: id, address: 0n });
  }
  return out;
}
