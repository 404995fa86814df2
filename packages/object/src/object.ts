/**
 * `BpfObject.open()`: reads a clang-compiled BPF ELF object into a spec — programs, maps (BTF
 * `.maps`, legacy `maps`, global data), variables, license, BTF — the way libbpf's
 * `bpf_object__open` reads it. The spec can be changed before {@link BpfObject.load}.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { BtfFormatError } from '@bpfjs/btf';
import {
  BPF_F_MMAPABLE,
  BPF_F_RDONLY_PROG,
  BPF_MAP_TYPE_ARRAY,
  BPF_MAP_TYPE_ARRAY_OF_MAPS,
  BPF_MAP_TYPE_HASH_OF_MAPS,
  BPF_MAP_TYPE_PROG_ARRAY,
  bpf_attach_type_name,
  bpf_map_type_name,
  bpf_prog_type_name,
} from '@bpfjs/uapi';
import { type BtfExt, KIND, ObjectBtf, parseBtfExt } from './btf.js';
import {
  type ElfFile,
  type ElfSymbol,
  parseElf,
  R_BPF_64_32,
  R_BPF_64_64,
  SHF_ALLOC,
  SHF_EXECINSTR,
  SHN_LORESERVE,
  SHN_UNDEF,
  SHT_NOBITS,
  SHT_PROGBITS,
  STB_GLOBAL,
  STB_LOCAL,
  STB_WEAK,
  STT_FUNC,
  STT_OBJECT,
  STT_SECTION,
} from './elf.js';
import { BpfObjectError, elfError, objectError } from './errors.js';
import { INSN_SIZE, isCall, isLdImm64 } from './insn.js';
import { type Collection, type LoadOptions, loadObject } from './load.js';
import { type SectionDef, sectionDef } from './sections.js';

/** What a relocation in a program's code refers to. */
export type CodeReloc =
  | { readonly kind: 'map'; readonly insn: number; readonly map: string }
  | { readonly kind: 'data'; readonly insn: number; readonly map: string; readonly offset: number }
  | { readonly kind: 'call'; readonly insn: number; readonly symOff: number }
  | { readonly kind: 'func'; readonly insn: number; readonly symOff: number }
  | { readonly kind: 'extern'; readonly insn: number; readonly symbol: string }
  | { readonly kind: 'kconfig'; readonly insn: number; readonly symbol: string; readonly offset: number }
  | { readonly kind: 'ksym'; readonly insn: number; readonly symbol: string; readonly call: boolean };

/** A function in an executable section: an entry-point program or a `.text` subprogram. @internal */
export interface FunctionCode {
  readonly name: string;
  readonly sectionIndex: number;
  readonly section: string;
  /** First instruction, as an index into the section. */
  readonly start: number;
  /** The function's instructions (unrelocated). */
  readonly insns: Uint8Array;
  /** Relocations, with `insn` relative to `start`. */
  readonly relocs: readonly CodeReloc[];
}

/** A program of the object, as found (change `type`, `expectedAttachType`, `autoload` before load). */
export interface ProgramSpec {
  /** Function name (the kernel sees the first 15 characters). */
  readonly name: string;
  /** ELF section (`SEC()` name), e.g. `'sk_lookup'`, `'kprobe/do_unlinkat'`. */
  readonly section: string;
  /** Program type number (`enum bpf_prog_type`). */
  typeId: number;
  /** Expected attach type number (`enum bpf_attach_type`), if any. */
  expectedAttachTypeId: number | undefined;
  /** The attach target named by the section (`'do_unlinkat'` of `fentry/do_unlinkat`), if any. */
  attachTo: string | undefined;
  /** `BPF_F_*` load flags implied by the section (sleepable, XDP frags). */
  flags: number;
  /** Whether the section names a kernel BTF attach target (fentry, tp_btf, lsm, iter, ...). */
  readonly attachBtf: boolean;
  /** Load this program (default true). */
  autoload: boolean;
  /** The program's own instructions as in the file (before relocation and subprograms). */
  readonly instructions: Uint8Array;
  /** bpftool's name of the program type. */
  readonly type: string;
  /** bpftool's name of the expected attach type. */
  readonly expectedAttachType: string | undefined;
  /** @internal */
  readonly code: FunctionCode;
  /** @internal */
  readonly def: SectionDef;
}

/** Where a map definition came from. */
export type MapOrigin = 'btf' | 'legacy' | 'data' | 'rodata' | 'bss' | 'kconfig';

/** A map of the object (change `maxEntries`, `flags` etc. before load). */
export interface MapSpec {
  /** Name in the object: the variable name, or the section name for global data (`'.rodata'`). */
  readonly name: string;
  /** Name the kernel gets (15 characters at most; libbpf's naming for global data). */
  kernelName: string;
  /** `enum bpf_map_type` value. */
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  numaNode: number;
  mapExtra: bigint;
  /** `LIBBPF_PIN_BY_NAME` (1) or none (0). */
  pinning: number;
  /** BTF type id of the key in the object's BTF (0: none). */
  keyTypeId: number;
  /** BTF type id of the value in the object's BTF (0: none). */
  valueTypeId: number;
  /** Inner map definition of a map-in-map. */
  inner: MapSpec | undefined;
  /** Initial slots (`values`): program names (prog arrays) or map names (map-in-map), by index. */
  readonly initSlots: Map<number, string>;
  /** Initial contents (global data maps), `valueSize` bytes. */
  readonly contents: Uint8Array | undefined;
  /** Where the definition came from. */
  readonly origin: MapOrigin;
  /** ELF section of the definition. */
  readonly section: string;
  /** Frozen after its contents are written (`.rodata*`): programs see constants. */
  readonly freeze: boolean;
  /** bpftool's name of the map type. */
  readonly typeName: string;
}

/** A global variable in a data section. */
export interface VariableSpec {
  readonly name: string;
  /** The map (data section) holding it (`'.data'`, `'.rodata'`, `'.bss'`, ...). */
  readonly map: string;
  /** Byte offset in the map value. */
  readonly offset: number;
  readonly size: number;
  /** BTF type id of the variable's type (object BTF). */
  readonly typeId: number;
  /** Whether it can be changed from JS after load (not `.rodata`). */
  readonly writable: boolean;
}

/** Options of {@link BpfObject.open}. */
export interface OpenOptions {
  /**
   * Object name used for global-data map names (`<name>.rodata`); default: the file name up to its
   * first dot (as libbpf), `'object'` for bytes.
   */
  readonly name?: string;
}

const MAPS_SEC = '.maps';
const LEGACY_MAPS_SEC = 'maps';

function dataKind(name: string, type: number): MapOrigin | undefined {
  if (type === SHT_PROGBITS) {
    if (name === '.data' || name.startsWith('.data.')) return 'data';
    if (name === '.rodata' || name.startsWith('.rodata.')) return 'rodata';
  }
  if (type === SHT_NOBITS && (name === '.bss' || name.startsWith('.bss.'))) return 'bss';
  return undefined;
}

/** libbpf's kernel name of a global-data map: object-name prefix + section name, 15 chars. */
export function internalMapName(objName: string, section: string): string {
  const NAME_LEN = 16;
  let sfx = Math.max(7, section.length);
  if (sfx >= NAME_LEN) sfx = NAME_LEN - 1;
  const pfx = section.indexOf('.', 1) >= 0 ? 0 : Math.min(NAME_LEN - sfx - 1, objName.length);
  const name = (objName.slice(0, pfx) + section.slice(0, sfx)).slice(0, NAME_LEN - 1);
  return name.replace(/[^A-Za-z0-9_.]/g, '_');
}

/**
 * An opened BPF object: the spec of what it will load. Change it, then {@link BpfObject.load}.
 */
export class BpfObject {
  /** Object name (used in global-data map names). */
  readonly name: string;
  /** The `license` section (`''` if absent). */
  readonly license: string;
  /** The `version` section (kernel version for old kprobe programs), if any. */
  readonly kernelVersion: number | undefined;
  /** Entry-point programs by name. */
  readonly programs: ReadonlyMap<string, ProgramSpec>;
  /** Maps by name (`.maps` variables, legacy `maps` symbols, `.data`/`.rodata`/`.bss`...). */
  readonly maps: ReadonlyMap<string, MapSpec>;
  /** Global variables by name. */
  readonly variables: ReadonlyMap<string, VariableSpec>;
  /** The object's BTF, if it has a `.BTF` section. @internal */
  readonly btf: ObjectBtf | undefined;
  /** Parsed `.BTF.ext`, if present. @internal */
  readonly btfExt: BtfExt | undefined;
  /** `.text` functions (subprograms) by start instruction. @internal */
  readonly subprograms: readonly FunctionCode[];
  /** @internal */
  readonly elf: ElfFile;
  /** `.kconfig` externs with their place in the `.kconfig` map. @internal */
  readonly kconfig: readonly KconfigExtern[];
  /** `.ksyms` externs (kernel variables and kfuncs). @internal */
  readonly ksyms: readonly KsymExtern[];

  private constructor(init: {
    name: string;
    license: string;
    kernelVersion: number | undefined;
    programs: Map<string, ProgramSpec>;
    maps: Map<string, MapSpec>;
    variables: Map<string, VariableSpec>;
    btf: ObjectBtf | undefined;
    btfExt: BtfExt | undefined;
    subprograms: FunctionCode[];
    elf: ElfFile;
    kconfig: KconfigExtern[];
    ksyms: KsymExtern[];
  }) {
    this.name = init.name;
    this.license = init.license;
    this.kernelVersion = init.kernelVersion;
    this.programs = init.programs;
    this.maps = init.maps;
    this.variables = init.variables;
    this.btf = init.btf;
    this.btfExt = init.btfExt;
    this.subprograms = init.subprograms;
    this.elf = init.elf;
    this.kconfig = init.kconfig;
    this.ksyms = init.ksyms;
  }

  /**
   * Reads an object file (a path, or its bytes) into a spec. Nothing is created in the kernel.
   * @throws BpfObjectError `ERR_BPFJS_ELF_INVALID` (not an ELF64 LE EM_BPF object, truncated,
   *   offsets past the end), `ERR_BPFJS_OBJECT_UNKNOWN_SECTION` (a program section libbpf does not
   *   know), `ERR_BPFJS_OBJECT_INVALID` (bad map definition, relocation against a missing symbol),
   *   `ERR_BPFJS_OBJECT_BTF` (BTF that does not parse); each names the section/symbol/offset.
   * @throws Node's fs error when the path cannot be read.
   */
  static open(pathOrBytes: string | Uint8Array, options: OpenOptions = {}): BpfObject {
    let bytes: Uint8Array;
    let name: string;
    if (typeof pathOrBytes === 'string') {
      bytes = readFileSync(pathOrBytes);
      const base = basename(pathOrBytes);
      const dot = base.indexOf('.');
      name = options.name ?? (dot > 0 ? base.slice(0, dot) : base);
    } else if (pathOrBytes instanceof Uint8Array) {
      bytes = pathOrBytes;
      name = options.name ?? 'object';
    } else {
      throw Object.assign(new TypeError('BpfObject.open expects a path or a Uint8Array'), {
        code: 'ERR_INVALID_ARG_TYPE',
      });
    }
    const elf = parseElf(bytes);
    try {
      return BpfObject.#parse(elf, name);
    } catch (e) {
      throw asObjectError(e);
    }
  }

  static #parse(elf: ElfFile, name: string): BpfObject {
    const licenseSec = elf.section('license');
    let license = '';
    if (licenseSec !== undefined) {
      const nul = licenseSec.data.indexOf(0);
      license = Buffer.from(licenseSec.data.subarray(0, nul < 0 ? licenseSec.data.length : nul)).toString(
        'latin1',
      );
    }
    const versionSec = elf.section('version');
    let kernelVersion: number | undefined;
    if (versionSec !== undefined) {
      if (versionSec.data.byteLength !== 4)
        throw elfError(`'version' section is ${versionSec.size} bytes, not 4`, { section: 'version' });
      kernelVersion = new DataView(versionSec.data.buffer, versionSec.data.byteOffset, 4).getUint32(0, true);
    }
    const btfSec = elf.section('.BTF');
    const btf = btfSec === undefined ? undefined : new ObjectBtf(btfSec.data);
    if (btf !== undefined) fixupDatasecs(elf, btf);
    const extSec = elf.section('.BTF.ext');
    const btfExt = extSec !== undefined && btf !== undefined ? parseBtfExt(extSec.data, btf) : undefined;

    const kconfig = btf === undefined ? [] : collectKconfig(elf, btf);
    const ksyms = btf === undefined ? [] : collectKsyms(elf, btf);
    if (btf !== undefined) {
      for (let id = 1; id < btf.count; id++) if (btf.rawKind(id) === KIND.DATASEC) btf.sortDatasecVars(id);
    }
    // Functions of executable sections.
    const textIndex = elf.section('.text')?.index ?? -1;
    const programs = new Map<string, ProgramSpec>();
    const subprograms: FunctionCode[] = [];
    const functions: FunctionCode[] = [];
    for (const sec of elf.sections) {
      if (sec.type !== SHT_PROGBITS || (sec.flags & SHF_EXECINSTR) === 0 || sec.size === 0) continue;
      if (sec.size % INSN_SIZE !== 0)
        throw elfError(`code section size ${sec.size} is not a multiple of 8`, { section: sec.name });
      const def = sec.index === textIndex ? undefined : sectionDef(sec.name);
      const syms = elf
        .symbolsIn(sec.index)
        .filter((s) => s.shndx === sec.index && s.type === STT_FUNC)
        .sort((a, b) => a.value - b.value);
      const relocs = codeRelocs(elf, sec.index, textIndex, kconfig, ksyms);
      for (const sym of syms) {
        if (sym.value % INSN_SIZE !== 0 || sym.size % INSN_SIZE !== 0 || sym.value + sym.size > sec.size) {
          throw elfError(
            `function '${sym.name}' (offset ${sym.value}, size ${sym.size}) does not fit its section`,
            {
              section: sec.name,
              symbol: sym.name,
              offset: sym.value,
            },
          );
        }
        const start = sym.value / INSN_SIZE;
        const count = sym.size / INSN_SIZE;
        const fn: FunctionCode = {
          name: sym.name,
          sectionIndex: sec.index,
          section: sec.name,
          start,
          insns: sec.data.subarray(sym.value, sym.value + sym.size),
          relocs: relocs
            .filter((r) => r.insn >= start && r.insn < start + count)
            .map((r) => ({ ...r, insn: r.insn - start })),
        };
        functions.push(fn);
        if (def === undefined) {
          subprograms.push(fn);
          continue;
        }
        if (sym.bind === STB_LOCAL) {
          throw objectError(
            `program '${sym.name}' in section '${sec.name}' is static; entry points must be global`,
            {
              section: sec.name,
              symbol: sym.name,
            },
          );
        }
        if (programs.has(sym.name))
          throw objectError(`two programs are named '${sym.name}'`, { section: sec.name, symbol: sym.name });
        programs.set(sym.name, programSpec(fn, def));
      }
    }

    // libbpf: a global subprogram with hidden/internal visibility is verified as static.
    if (btf !== undefined) {
      for (const fn of subprograms) {
        const sym = elf.symbolsIn(fn.sectionIndex).find((x) => x.name === fn.name && x.type === STT_FUNC);
        if (sym === undefined || sym.bind === STB_LOCAL || (sym.visibility !== 1 && sym.visibility !== 2))
          continue;
        for (const id of btf.types.findByName(fn.name, KIND.FUNC)) {
          if (btf.types.type(id).vlen === 1) btf.rewrite(id, KIND.FUNC, 0, btf.types.type(id).type!);
        }
      }
    }
    const maps = new Map<string, MapSpec>();
    const variables = new Map<string, VariableSpec>();
    parseBtfMaps(elf, btf, maps, programs);
    parseLegacyMaps(elf, maps);
    parseDataSections(elf, btf, name, maps, variables);
    if (kconfig.length > 0) maps.set('.kconfig', kconfigMap(btf!, name, kconfig));
    // Every map/data reference of the code must name a map that exists.
    for (const fn of functions) {
      for (const r of fn.relocs) {
        if ((r.kind === 'map' || r.kind === 'data') && !maps.has(r.map)) {
          throw new BpfObjectError(
            'ERR_BPFJS_OBJECT_RELOCATION',
            `function '${fn.name}': relocation at instruction ${r.insn} refers to map '${r.map}', which the object does not define`,
            {
              section: fn.section,
              symbol: r.map,
              offset: (fn.start + r.insn) * INSN_SIZE,
            },
          );
        }
      }
    }
    return new BpfObject({
      name,
      license,
      kernelVersion,
      programs,
      maps,
      variables,
      btf,
      btfExt,
      subprograms,
      elf,
      kconfig,
      ksyms,
    });
  }

  /**
   * Loads the object: BTF, maps, programs (see {@link LoadOptions}).
   * @throws BpfError from the kernel (verifier rejections name the program, the failing
   *   instruction and its C source line; the full log is in `log`); BpfObjectError for what the
   *   loader cannot do. Nothing stays open or pinned after a failure.
   */
  load(options: LoadOptions = {}): Collection {
    return loadObject(this, options);
  }

  /**
   * Sets a `.rodata`/`.data`/`.bss` variable's initial value before load (a constant the verifier
   * then sees for `.rodata`). `value` is the variable's bytes (exactly its size), or a number /
   * bigint / boolean for integer variables of 1, 2, 4 or 8 bytes.
   * @throws RangeError `ERR_OUT_OF_RANGE` for a wrong size; `ERR_BPFJS_OBJECT_INVALID` for an
   *   unknown variable.
   */
  setVariable(name: string, value: Uint8Array | number | bigint | boolean): void {
    const v = this.variables.get(name);
    if (v === undefined) throw objectError(`the object has no global variable '${name}'`, { symbol: name });
    const map = this.maps.get(v.map)!;
    const bytes = encodeScalar(value, v.size, `variable '${name}'`);
    map.contents!.set(bytes, v.offset);
  }

  /** Summary for `bpfjs object show`: plain data. */
  describe(): {
    name: string;
    license: string;
    programs: {
      name: string;
      section: string;
      type: string;
      expectedAttachType: string | undefined;
      attachTo: string | undefined;
      instructions: number;
    }[];
    maps: {
      name: string;
      type: string;
      keySize: number;
      valueSize: number;
      maxEntries: number;
      flags: number;
      pinning: number;
      origin: MapOrigin;
    }[];
    variables: VariableSpec[];
  } {
    return {
      name: this.name,
      license: this.license,
      programs: [...this.programs.values()].map((p) => ({
        name: p.name,
        section: p.section,
        type: p.type,
        expectedAttachType: p.expectedAttachType,
        attachTo: p.attachTo,
        instructions: p.instructions.byteLength / INSN_SIZE,
      })),
      maps: [...this.maps.values()].map((m) => ({
        name: m.name,
        type: m.typeName,
        keySize: m.keySize,
        valueSize: m.valueSize,
        maxEntries: m.maxEntries,
        flags: m.flags,
        pinning: m.pinning,
        origin: m.origin,
      })),
      variables: [...this.variables.values()],
    };
  }
}

/**
 * Type information is decoded lazily, so a malformed `.BTF` can surface as the BTF reader's
 * `BtfFormatError` or an out-of-range read deep inside a lookup: both become a BpfObjectError.
 */
function asObjectError(e: unknown): unknown {
  if (BpfObjectError.isInstance(e)) return e;
  if (e instanceof BtfFormatError)
    return new BpfObjectError('ERR_BPFJS_OBJECT_BTF', `.BTF: ${e.message}`, { section: '.BTF' }, e);
  if (e instanceof RangeError) {
    return new BpfObjectError('ERR_BPFJS_OBJECT_INVALID', `malformed object: ${e.message}`, {}, e);
  }
  return e;
}

/** Encodes a JS value as `size` little-endian bytes. @internal */
export function encodeScalar(
  value: Uint8Array | number | bigint | boolean,
  size: number,
  what: string,
): Uint8Array {
  if (value instanceof Uint8Array) {
    if (value.byteLength !== size) {
      throw Object.assign(new RangeError(`${what} is ${size} bytes; got ${value.byteLength}`), {
        code: 'ERR_OUT_OF_RANGE',
      });
    }
    return value;
  }
  if (size !== 1 && size !== 2 && size !== 4 && size !== 8) {
    throw Object.assign(new RangeError(`${what} is ${size} bytes: pass its bytes as a Uint8Array`), {
      code: 'ERR_OUT_OF_RANGE',
    });
  }
  const n = typeof value === 'boolean' ? BigInt(value ? 1 : 0) : BigInt(value);
  const limit = 1n << BigInt(size * 8);
  if (n >= limit || n < -(limit >> 1n)) {
    throw Object.assign(new RangeError(`${value} does not fit ${what} (${size} bytes)`), {
      code: 'ERR_OUT_OF_RANGE',
    });
  }
  const out = new Uint8Array(size);
  let u = BigInt.asUintN(size * 8, n);
  for (let i = 0; i < size; i++) {
    out[i] = Number(u & 0xffn);
    u >>= 8n;
  }
  return out;
}

function programSpec(code: FunctionCode, def: SectionDef): ProgramSpec {
  return {
    name: code.name,
    section: code.section,
    typeId: def.progType,
    expectedAttachTypeId: def.expectedAttachType,
    attachTo: def.attachTarget,
    flags: def.progFlags,
    attachBtf: def.attachBtf,
    autoload: true,
    instructions: code.insns,
    get type() {
      return bpf_prog_type_name[this.typeId] ?? `type ${this.typeId}`;
    },
    get expectedAttachType() {
      return this.expectedAttachTypeId === undefined
        ? undefined
        : bpf_attach_type_name[this.expectedAttachTypeId];
    },
    code,
    def,
  };
}

/** Classifies the relocations of one code section (libbpf's `bpf_program__record_reloc`). */
function codeRelocs(
  elf: ElfFile,
  secIndex: number,
  textIndex: number,
  kconfig: readonly KconfigExtern[],
  ksyms: readonly KsymExtern[],
): CodeReloc[] {
  const sec = elf.sections[secIndex]!;
  const out: CodeReloc[] = [];
  for (const rel of elf.relocations.get(secIndex) ?? []) {
    const sym = elf.symbols[rel.symbol]!;
    const symName = sym.type === STT_SECTION ? (elf.sections[sym.shndx]?.name ?? `#${sym.shndx}`) : sym.name;
    const where = { section: sec.name, symbol: symName, offset: rel.offset };
    if (rel.offset % INSN_SIZE !== 0)
      throw new BpfObjectError(
        'ERR_BPFJS_OBJECT_RELOCATION',
        `${sec.name}: relocation at offset ${rel.offset} is not on an instruction boundary`,
        where,
      );
    const insn = rel.offset / INSN_SIZE;
    const call = isCall(sec.data, insn);
    const ld = isLdImm64(sec.data, insn);
    if (!call && !ld) {
      throw new BpfObjectError(
        'ERR_BPFJS_OBJECT_RELOCATION',
        `${sec.name}: relocation against '${symName}' at instruction ${insn} (code 0x${sec.data[rel.offset]!.toString(16)}) is neither a call nor ld_imm64`,
        where,
      );
    }
    if (ld && rel.offset + 16 > sec.size)
      throw new BpfObjectError(
        'ERR_BPFJS_OBJECT_RELOCATION',
        `${sec.name}: ld_imm64 at instruction ${insn} is cut off by the end of the section`,
        where,
      );
    if (rel.type !== R_BPF_64_64 && rel.type !== R_BPF_64_32) {
      throw new BpfObjectError(
        'ERR_BPFJS_OBJECT_RELOCATION',
        `${sec.name}: relocation type ${rel.type} against '${symName}' is not supported in code`,
        where,
      );
    }
    if (sym.shndx === SHN_UNDEF) {
      if (sym.name === '')
        throw new BpfObjectError(
          'ERR_BPFJS_OBJECT_RELOCATION',
          `${sec.name}: relocation at instruction ${insn} against an undefined, unnamed symbol`,
          where,
        );
      const k = kconfig.find((e) => e.name === sym.name);
      if (k !== undefined && ld) out.push({ kind: 'kconfig', insn, symbol: sym.name, offset: k.offset });
      else if (ksyms.some((e) => e.name === sym.name))
        out.push({ kind: 'ksym', insn, symbol: sym.name, call });
      else out.push({ kind: 'extern', insn, symbol: sym.name });
      continue;
    }
    if (sym.shndx >= SHN_LORESERVE) {
      throw new BpfObjectError(
        'ERR_BPFJS_OBJECT_RELOCATION',
        `${sec.name}: relocation against '${symName}' in special section 0x${sym.shndx.toString(16)} (an uninitialized global? initialize it)`,
        where,
      );
    }
    const target = elf.sections[sym.shndx]!;
    if (call) {
      if (sym.shndx !== textIndex)
        throw new BpfObjectError(
          'ERR_BPFJS_OBJECT_RELOCATION',
          `${sec.name}: call at instruction ${insn} to '${symName}' in section '${target.name}'; subprograms must be in .text`,
          where,
        );
      if (sym.value % INSN_SIZE !== 0)
        throw new BpfObjectError(
          'ERR_BPFJS_OBJECT_RELOCATION',
          `${sec.name}: call to '${symName}' at unaligned offset ${sym.value}`,
          where,
        );
      out.push({ kind: 'call', insn, symOff: sym.value });
      continue;
    }
    if ((target.flags & SHF_EXECINSTR) !== 0) {
      if (sym.shndx !== textIndex)
        throw new BpfObjectError(
          'ERR_BPFJS_OBJECT_RELOCATION',
          `${sec.name}: address of '${symName}' in section '${target.name}'; callbacks must be in .text`,
          where,
        );
      out.push({ kind: 'func', insn, symOff: sym.value });
      continue;
    }
    if (target.name === MAPS_SEC || target.name === LEGACY_MAPS_SEC) {
      const mapSym = elf
        .symbolsIn(sym.shndx)
        .find(
          (s) =>
            s.shndx === sym.shndx &&
            s.value === sym.value &&
            s.type !== STT_SECTION &&
            s.name !== '' &&
            s.type !== STT_FUNC,
        );
      if (mapSym === undefined)
        throw new BpfObjectError(
          'ERR_BPFJS_OBJECT_RELOCATION',
          `${sec.name}: no map at offset ${sym.value} of '${target.name}'`,
          where,
        );
      out.push({ kind: 'map', insn, map: mapSym.name });
      continue;
    }
    if (dataKind(target.name, target.type) !== undefined) {
      out.push({ kind: 'data', insn, map: target.name, offset: sym.type === STT_SECTION ? 0 : sym.value });
      continue;
    }
    throw new BpfObjectError(
      'ERR_BPFJS_OBJECT_RELOCATION',
      `${sec.name}: relocation at instruction ${insn} against '${symName}' in section '${target.name}', which is neither maps, data nor code`,
      where,
    );
  }
  return out;
}

/** DATASEC sizes and VAR offsets from the ELF (clang leaves them to the loader). */
function fixupDatasecs(elf: ElfFile, btf: ObjectBtf): void {
  for (let id = 1; id < btf.count; id++) {
    if (btf.rawKind(id) !== KIND.DATASEC) continue;
    const name = btf.types.nameOf(id);
    const sec = elf.section(name);
    if (sec === undefined) {
      // libbpf: DATASECs of externs (.kconfig, .ksyms) have no section; others are an error.
      if (name === '.kconfig' || name === '.ksyms') continue;
      throw new BpfObjectError('ERR_BPFJS_OBJECT_BTF', `.BTF: DATASEC '${name}' has no ELF section`, {
        section: '.BTF',
        symbol: name,
      });
    }
    btf.setDatasecSize(id, sec.size);
    btf.datasecVars(id).forEach((v, i) => {
      if (btf.rawKind(v.type) !== KIND.VAR) return;
      // libbpf's btf_fixup_datasec: static and extern variables keep what clang wrote.
      const linkage = btf.varLinkage(v.type);
      if (linkage === 0 || linkage === 2) return;
      const varName = btf.types.nameOf(v.type);
      const sym = elf.symbolsIn(sec.index).find((s) => s.name === varName && s.type === STT_OBJECT);
      if (sym === undefined) {
        throw new BpfObjectError(
          'ERR_BPFJS_OBJECT_BTF',
          `.BTF: variable '${varName}' of DATASEC '${name}' has no ELF symbol`,
          { section: name, symbol: varName },
        );
      }
      btf.setDatasecVarOffset(id, i, sym.value);
      // hidden/internal globals are static to the kernel (and do not make the map mmapable)
      if (sym.visibility === 1 || sym.visibility === 2) btf.setVarLinkage(v.type, 0);
    });
  }
}

function skipMods(btf: ObjectBtf, id: number): number {
  for (let depth = 0; depth < 32; depth++) {
    const k = btf.rawKind(id);
    // typedef 8, volatile 9, const 10, restrict 11, type_tag 18
    if (k !== 8 && k !== 9 && k !== 10 && k !== 11 && k !== KIND.TYPE_TAG) return id;
    id = btf.types.type(id).type!;
  }
  return id;
}

function mapFieldInt(btf: ObjectBtf, memberType: number, map: string, field: string): number {
  const ptr = btf.types.type(skipMods(btf, memberType));
  if (ptr.kind !== 2)
    throw objectError(`map '${map}': attribute '${field}' is not a pointer (__uint/__type macro)`, {
      section: MAPS_SEC,
      map,
    });
  const arr = btf.types.type(skipMods(btf, ptr.type!));
  if (arr.kind !== KIND.ARRAY)
    throw objectError(`map '${map}': attribute '${field}' is not a pointer to an array`, {
      section: MAPS_SEC,
      map,
    });
  return arr.array!.nelems;
}

function typeSize(btf: ObjectBtf, id: number, map: string, field: string): number {
  try {
    return btf.types.sizeOf(id);
  } catch (e) {
    throw objectError(`map '${map}': cannot size the ${field} type [${id}]`, { section: MAPS_SEC, map }, e);
  }
}

function emptyMap(name: string, origin: MapOrigin, section: string): MapSpec {
  return {
    name,
    kernelName: name.slice(0, 15).replace(/[^A-Za-z0-9_.]/g, '_'),
    type: 0,
    keySize: 0,
    valueSize: 0,
    maxEntries: 0,
    flags: 0,
    numaNode: 0,
    mapExtra: 0n,
    pinning: 0,
    keyTypeId: 0,
    valueTypeId: 0,
    inner: undefined,
    initSlots: new Map(),
    contents: undefined,
    origin,
    section,
    freeze: false,
    get typeName() {
      return bpf_map_type_name[this.type] ?? `type ${this.type}`;
    },
  };
}

/** libbpf's `parse_btf_map_def`. */
function parseMapDef(btf: ObjectBtf, structId: number, name: string, inner: boolean): MapSpec {
  const spec = emptyMap(name, 'btf', MAPS_SEC);
  const st = btf.types.type(structId);
  if (st.kind !== KIND.STRUCT)
    throw objectError(`map '${name}': definition is a ${st.kindName}, not a struct`, {
      section: MAPS_SEC,
      map: name,
    });
  const members = st.members ?? [];
  members.forEach((m, i) => {
    const where = { section: MAPS_SEC, map: name };
    switch (m.name) {
      case 'type':
        spec.type = mapFieldInt(btf, m.type, name, m.name);
        break;
      case 'max_entries':
        spec.maxEntries = mapFieldInt(btf, m.type, name, m.name);
        break;
      case 'map_flags':
        spec.flags = mapFieldInt(btf, m.type, name, m.name);
        break;
      case 'numa_node':
        spec.numaNode = mapFieldInt(btf, m.type, name, m.name);
        break;
      case 'map_extra':
        spec.mapExtra = BigInt(mapFieldInt(btf, m.type, name, m.name));
        break;
      case 'key_size':
      case 'value_size': {
        const sz = mapFieldInt(btf, m.type, name, m.name);
        const cur = m.name === 'key_size' ? spec.keySize : spec.valueSize;
        if (cur !== 0 && cur !== sz)
          throw objectError(`map '${name}': conflicting ${m.name} ${cur} != ${sz}`, where);
        if (m.name === 'key_size') spec.keySize = sz;
        else spec.valueSize = sz;
        break;
      }
      case 'key':
      case 'value': {
        const ptr = btf.types.type(skipMods(btf, m.type));
        if (ptr.kind !== 2)
          throw objectError(`map '${name}': ${m.name} spec is not a pointer (__type macro)`, where);
        const sz = typeSize(btf, ptr.type!, name, m.name);
        const cur = m.name === 'key' ? spec.keySize : spec.valueSize;
        if (cur !== 0 && cur !== sz)
          throw objectError(`map '${name}': conflicting ${m.name} size ${cur} != ${sz}`, where);
        if (m.name === 'key') {
          spec.keySize = sz;
          spec.keyTypeId = ptr.type!;
        } else {
          spec.valueSize = sz;
          spec.valueTypeId = ptr.type!;
        }
        break;
      }
      case 'values': {
        const mapInMap = spec.type === BPF_MAP_TYPE_ARRAY_OF_MAPS || spec.type === BPF_MAP_TYPE_HASH_OF_MAPS;
        const progArray = spec.type === BPF_MAP_TYPE_PROG_ARRAY;
        if (inner) throw objectError(`map '${name}': multi-level inner maps are not supported`, where);
        if (i !== members.length - 1)
          throw objectError(`map '${name}': 'values' must be the last member`, where);
        if (!mapInMap && !progArray)
          throw objectError(`map '${name}': 'values' needs a map-in-map or a prog array`, where);
        if (spec.valueSize !== 0 && spec.valueSize !== 4)
          throw objectError(`map '${name}': conflicting value size ${spec.valueSize} != 4`, where);
        spec.valueSize = 4;
        const arr = btf.types.type(m.type);
        if (arr.kind !== KIND.ARRAY || arr.array!.nelems !== 0)
          throw objectError(`map '${name}': 'values' is not a zero-sized array`, where);
        const ptr = btf.types.type(skipMods(btf, arr.array!.type));
        if (ptr.kind !== 2) throw objectError(`map '${name}': 'values' elements are not pointers`, where);
        const target = skipMods(btf, ptr.type!);
        if (progArray) {
          if (btf.rawKind(target) !== KIND.FUNC_PROTO)
            throw objectError(`map '${name}': prog-array 'values' must point to functions`, where);
          break;
        }
        if (btf.rawKind(target) !== KIND.STRUCT)
          throw objectError(
            `map '${name}': map-in-map 'values' must point to a map definition struct`,
            where,
          );
        spec.inner = parseMapDef(btf, target, `${name}.inner`, true);
        break;
      }
      case 'pinning': {
        if (inner) throw objectError(`map '${name}': an inner map definition cannot be pinned`, where);
        const v = mapFieldInt(btf, m.type, name, m.name);
        if (v !== 0 && v !== 1)
          throw objectError(
            `map '${name}': pinning ${v} is neither LIBBPF_PIN_NONE (0) nor LIBBPF_PIN_BY_NAME (1)`,
            where,
          );
        spec.pinning = v;
        break;
      }
      default:
        throw objectError(`map '${name}': unknown attribute '${m.name}'`, where);
    }
  });
  if (spec.type === 0)
    throw objectError(`map '${name}': map type is not specified`, { section: MAPS_SEC, map: name });
  return spec;
}

function parseBtfMaps(
  elf: ElfFile,
  btf: ObjectBtf | undefined,
  maps: Map<string, MapSpec>,
  programs: Map<string, ProgramSpec>,
): void {
  const sec = elf.section(MAPS_SEC);
  if (sec === undefined) return;
  if (btf === undefined)
    throw objectError(
      `section '${MAPS_SEC}' needs BTF, but the object has no .BTF section (compile with -g)`,
      { section: MAPS_SEC },
    );
  const ds = btf.datasec(MAPS_SEC);
  if (ds === undefined) throw objectError(`the BTF has no DATASEC '${MAPS_SEC}'`, { section: MAPS_SEC });
  const ranges: { spec: MapSpec; offset: number; size: number; valuesOffset: number }[] = [];
  for (const v of btf.datasecVars(ds)) {
    const varType = btf.types.type(v.type);
    if (varType.kind !== KIND.VAR)
      throw objectError(`DATASEC '${MAPS_SEC}' holds a ${varType.kindName}, not a variable`, {
        section: MAPS_SEC,
      });
    const name = varType.name;
    const linkage = btf.varLinkage(v.type);
    if (linkage !== 0 && linkage !== 1)
      throw objectError(`map '${name}': extern map definitions are not supported`, {
        section: MAPS_SEC,
        map: name,
      });
    const structId = skipMods(btf, varType.type!);
    const spec = parseMapDef(btf, structId, name, false);
    if (maps.has(name)) throw objectError(`two maps are named '${name}'`, { section: MAPS_SEC, map: name });
    maps.set(name, spec);
    const members = btf.types.type(structId).members ?? [];
    const last = members[members.length - 1];
    ranges.push({
      spec,
      offset: v.offset,
      size: v.size,
      valuesOffset: last?.name === 'values' ? last.bitOffset / 8 : -1,
    });
  }
  // `.rel.maps`: initial slots of prog arrays and map-in-maps.
  for (const rel of elf.relocations.get(sec.index) ?? []) {
    const sym = elf.symbols[rel.symbol]!;
    const where = { section: `.rel${MAPS_SEC}`, symbol: sym.name, offset: rel.offset };
    const r = ranges.find((x) => x.offset <= rel.offset && rel.offset + 8 <= x.offset + x.size);
    if (r === undefined)
      throw new BpfObjectError(
        'ERR_BPFJS_OBJECT_RELOCATION',
        `.rel.maps: no map at offset ${rel.offset} for '${sym.name}'`,
        where,
      );
    if (r.valuesOffset < 0 || rel.offset - r.offset < r.valuesOffset) {
      throw new BpfObjectError(
        'ERR_BPFJS_OBJECT_RELOCATION',
        `.rel.maps: relocation for '${sym.name}' is outside map '${r.spec.name}'s 'values'`,
        where,
      );
    }
    const slot = (rel.offset - r.offset - r.valuesOffset) / 8;
    if (r.spec.type === BPF_MAP_TYPE_PROG_ARRAY) {
      const p = programs.get(sym.name);
      if (p === undefined || p.code.sectionIndex !== sym.shndx) {
        throw new BpfObjectError(
          'ERR_BPFJS_OBJECT_RELOCATION',
          `.rel.maps: '${sym.name}' in prog array '${r.spec.name}' is not an entry-point program`,
          where,
        );
      }
    } else if (sym.shndx !== sec.index) {
      throw new BpfObjectError(
        'ERR_BPFJS_OBJECT_RELOCATION',
        `.rel.maps: '${sym.name}' in map-in-map '${r.spec.name}' is not a BTF-defined map`,
        where,
      );
    }
    if (r.spec.type === BPF_MAP_TYPE_HASH_OF_MAPS && r.spec.keySize !== 4) {
      throw objectError(`map '${r.spec.name}': a hash of maps with initial values needs 4-byte keys`, {
        section: MAPS_SEC,
        map: r.spec.name,
      });
    }
    r.spec.initSlots.set(slot, sym.name);
  }
  for (const r of ranges) {
    for (const target of r.spec.initSlots.values()) {
      if (r.spec.type !== BPF_MAP_TYPE_PROG_ARRAY && !maps.has(target)) {
        throw new BpfObjectError(
          'ERR_BPFJS_OBJECT_RELOCATION',
          `.rel.maps: '${target}' in '${r.spec.name}' is not a map`,
          { section: '.rel.maps', symbol: target },
        );
      }
    }
  }
}

/** The legacy `maps` section: `struct bpf_map_def` { type, key_size, value_size, max_entries, map_flags }. */
function parseLegacyMaps(elf: ElfFile, maps: Map<string, MapSpec>): void {
  const sec = elf.section(LEGACY_MAPS_SEC);
  if (sec === undefined) return;
  const syms = elf.symbols.filter((s) => s.shndx === sec.index && s.type !== STT_SECTION && s.name !== '');
  if (syms.length === 0) return;
  const defSize = sec.size / syms.length;
  if (!Number.isInteger(defSize) || defSize < 20) {
    throw objectError(
      `'maps' section of ${sec.size} bytes does not divide into ${syms.length} map definitions`,
      { section: LEGACY_MAPS_SEC },
    );
  }
  const v = new DataView(sec.data.buffer, sec.data.byteOffset, sec.data.byteLength);
  for (const sym of syms) {
    if (sym.value + 20 > sec.size)
      throw elfError(`map '${sym.name}' at offset ${sym.value} runs past the 'maps' section`, {
        section: LEGACY_MAPS_SEC,
        symbol: sym.name,
        offset: sym.value,
      });
    const spec = emptyMap(sym.name, 'legacy', LEGACY_MAPS_SEC);
    spec.type = v.getUint32(sym.value, true);
    spec.keySize = v.getUint32(sym.value + 4, true);
    spec.valueSize = v.getUint32(sym.value + 8, true);
    spec.maxEntries = v.getUint32(sym.value + 12, true);
    spec.flags = v.getUint32(sym.value + 16, true);
    if (maps.has(sym.name))
      throw objectError(`two maps are named '${sym.name}'`, { section: LEGACY_MAPS_SEC, map: sym.name });
    maps.set(sym.name, spec);
  }
}

function parseDataSections(
  elf: ElfFile,
  btf: ObjectBtf | undefined,
  objName: string,
  maps: Map<string, MapSpec>,
  variables: Map<string, VariableSpec>,
): void {
  for (const sec of elf.sections) {
    const origin = dataKind(sec.name, sec.type);
    if (origin === undefined || sec.size === 0 || (sec.flags & SHF_ALLOC) === 0) continue;
    const contents = new Uint8Array(sec.size);
    if (origin !== 'bss') contents.set(sec.data);
    const ds = btf?.datasec(sec.name);
    let mmapable = false;
    if (btf !== undefined && ds !== undefined) {
      for (const v of btf.datasecVars(ds)) {
        if (btf.rawKind(v.type) !== KIND.VAR) continue;
        if (btf.varLinkage(v.type) !== 0) mmapable = true;
        const name = btf.types.nameOf(v.type);
        if (v.offset + v.size > sec.size) {
          throw new BpfObjectError(
            'ERR_BPFJS_OBJECT_BTF',
            `.BTF: variable '${name}' (offset ${v.offset}, ${v.size} bytes) is past the end of '${sec.name}'`,
            { section: sec.name, symbol: name },
          );
        }
        variables.set(name, {
          name,
          map: sec.name,
          offset: v.offset,
          size: v.size,
          typeId: btf.types.type(v.type).type!,
          writable: origin !== 'rodata',
        });
      }
    }
    const spec: MapSpec = {
      ...emptyMap(sec.name, origin, sec.name),
      kernelName: internalMapName(objName, sec.name),
      type: BPF_MAP_TYPE_ARRAY,
      keySize: 4,
      valueSize: sec.size,
      maxEntries: 1,
      flags: (origin === 'rodata' ? BPF_F_RDONLY_PROG : 0) | (mmapable ? BPF_F_MMAPABLE : 0),
      valueTypeId: ds ?? 0,
      contents,
      freeze: origin === 'rodata',
      typeName: 'array',
    };
    if (maps.has(sec.name))
      throw objectError(`a map is named like the data section '${sec.name}'`, { section: sec.name });
    maps.set(sec.name, spec);
  }
}

export type { ElfSymbol };

/** A `.kconfig` extern (`extern int CONFIG_HZ __kconfig;`) and where its value goes. */
export interface KconfigExtern {
  readonly name: string;
  /** Byte offset in the `.kconfig` map value. */
  readonly offset: number;
  readonly size: number;
  readonly align: number;
  /** How libbpf reads the type: bool, char, tristate (`enum libbpf_tristate`), integer, char array. */
  readonly kind: 'bool' | 'char' | 'tristate' | 'int' | 'chars';
  readonly signed: boolean;
  /** `__weak`: a missing value is 0 instead of an error. */
  readonly weak: boolean;
}

/**
 * libbpf's `bpf_object__collect_externs` for `.kconfig`: every undefined symbol with a BTF extern
 * VAR in DATASEC `.kconfig`, laid out by (alignment descending, size ascending, name); the BTF
 * DATASEC gets those offsets, its size, and allocated linkage (the kernel refuses extern VARs).
 */
function collectKconfig(elf: ElfFile, btf: ObjectBtf): KconfigExtern[] {
  const ds = btf.datasec('.kconfig');
  if (ds === undefined) return [];
  const out: (Omit<KconfigExtern, 'offset'> & { varIndex: number })[] = [];
  const vars = btf.datasecVars(ds);
  for (const sym of elf.symbolsIn(SHN_UNDEF)) {
    if (sym.name === '' || (sym.bind !== STB_GLOBAL && sym.bind !== STB_WEAK)) continue;
    const varIndex = vars.findIndex((v) => btf.types.nameOf(v.type) === sym.name);
    if (varIndex < 0) continue;
    const varId = vars[varIndex]!.type;
    const where = { section: '.kconfig', symbol: sym.name };
    if (btf.rawKind(varId) !== KIND.VAR) {
      throw objectError(
        `extern '${sym.name}' in .kconfig is a function; only variables can be kconfig externs`,
        where,
      );
    }
    const typeId = btf.types.type(varId).type!;
    const t = btf.types.type(skipMods(btf, typeId));
    let kind: KconfigExtern['kind'] | undefined;
    let signed = false;
    if (t.kind === KIND.INT) {
      const enc = t.int!.encoding;
      signed = (enc & 1) !== 0;
      if ((enc & 4) !== 0) kind = 'bool';
      else if ((enc & 2) !== 0 && t.size === 1) kind = 'char';
      else kind = 'int';
    } else if (t.kind === KIND.ENUM && t.name === 'libbpf_tristate') {
      kind = 'tristate';
    } else if (t.kind === KIND.ARRAY) {
      const el = btf.types.type(skipMods(btf, t.array!.type));
      if (el.kind === KIND.INT && el.size === 1) kind = 'chars';
    }
    if (kind === undefined)
      throw objectError(
        `extern '${sym.name}' in .kconfig has a type libbpf cannot fill (${t.kindName} '${t.name}')`,
        where,
      );
    out.push({
      name: sym.name,
      size: btf.types.sizeOf(typeId),
      align: btf.types.alignOf(typeId),
      kind,
      signed,
      weak: sym.bind === STB_WEAK,
      varIndex,
    });
  }
  out.sort(
    (a, b) => b.align - a.align || a.size - b.size || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
  let off = 0;
  const placed: KconfigExtern[] = [];
  for (const e of out) {
    const offset = Math.ceil(off / e.align) * e.align;
    off = offset + e.size;
    btf.setDatasecVarOffset(ds, e.varIndex, offset);
    btf.setVarLinkage(vars[e.varIndex]!.type, 1);
    const { varIndex: _, ...rest } = e;
    placed.push({ ...rest, offset });
  }
  btf.setDatasecSize(ds, off);
  return placed;
}

function kconfigMap(btf: ObjectBtf, objName: string, externs: readonly KconfigExtern[]): MapSpec {
  const last = externs[externs.length - 1]!;
  const size = last.offset + last.size;
  return {
    ...emptyMap('.kconfig', 'kconfig', '.kconfig'),
    kernelName: internalMapName(objName, '.kconfig'),
    type: BPF_MAP_TYPE_ARRAY,
    keySize: 4,
    valueSize: size,
    maxEntries: 1,
    // every .kconfig VAR is made allocated (non-static), so libbpf makes the map mmapable
    flags: BPF_F_RDONLY_PROG | BPF_F_MMAPABLE,
    valueTypeId: btf.datasec('.kconfig') ?? 0,
    contents: new Uint8Array(size),
    freeze: true,
    typeName: 'array',
  };
}

/** A `.ksyms` extern: a kernel variable (`extern const struct rq runqueues __ksym;`) or kfunc. */
export interface KsymExtern {
  readonly name: string;
  /** A kfunc (`extern ... f(...) __ksym;`) rather than a variable. */
  readonly func: boolean;
  /** Local BTF type of the variable (after modifiers) or the kfunc's FUNC_PROTO; 0 for typeless. */
  readonly typeId: number;
  readonly weak: boolean;
}

/**
 * libbpf's `.ksyms` part of `bpf_object__collect_externs`: each extern with a VAR or FUNC in DATASEC
 * `.ksyms`; the kernel refuses extern VARs, so (as libbpf) every entry becomes a 4-byte allocated
 * `int` VAR at `4 * i` — kfuncs through an added VAR `dummy_ksym`, their FUNC made global and
 * unnamed parameters named after it.
 */
function collectKsyms(elf: ElfFile, btf: ObjectBtf): KsymExtern[] {
  const ds = btf.datasec('.ksyms');
  if (ds === undefined) return [];
  const vars = btf.datasecVars(ds);
  const out: KsymExtern[] = [];
  for (const sym of elf.symbolsIn(SHN_UNDEF)) {
    if (sym.name === '' || (sym.bind !== STB_GLOBAL && sym.bind !== STB_WEAK)) continue;
    const v = vars.find((x) => btf.types.nameOf(x.type) === sym.name);
    if (v === undefined) continue;
    const t = btf.types.type(v.type);
    const func = t.kind === KIND.FUNC;
    const typeId = func ? t.type! : btf.types.resolve(t.type!);
    out.push({ name: sym.name, func, typeId, weak: sym.bind === STB_WEAK });
  }
  // BTF for the kernel: the dummy VAR first (if any kfunc), then every entry rewritten.
  let intId = 0;
  for (let id = 1; id < btf.types.count && intId === 0; id++) {
    const t = btf.types.type(id);
    if (t.kind === KIND.INT && t.int?.bits === 32) intId = id;
  }
  let dummy = 0;
  if (vars.some((x) => btf.rawKind(x.type) === KIND.FUNC)) {
    dummy = btf.appendType('dummy_ksym', [0, (14 << 24) >>> 0, intId, 1]);
  }
  const view = btf.view;
  vars.forEach((x, i) => {
    const rec = btf.recordOffset(x.type);
    if (btf.rawKind(x.type) === KIND.FUNC) {
      const protoId = btf.types.type(x.type).type!;
      const proto = btf.recordOffset(protoId);
      const params = btf.types.type(protoId).params ?? [];
      params.forEach((p, j) => {
        if (p.type !== 0 && p.name === '') view.setUint32(proto + 12 + j * 8, btf.nameOff(dummy), true);
      });
      // vs->type = dummy; FUNC linkage global
      btf.setDatasecVar(ds, i, dummy, i * 4, 4);
      view.setUint32(rec + 4, ((KIND.FUNC << 24) | 1) >>> 0, true);
    } else {
      btf.setVarLinkage(x.type, 1);
      view.setUint32(rec + 8, intId, true);
      btf.setDatasecVar(ds, i, x.type, i * 4, 4);
    }
  });
  btf.setDatasecSize(ds, vars.length * 4);
  return out;
}
