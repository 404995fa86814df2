/**
 * `@bpfjs/object`: load clang-compiled BPF ELF objects — programs from libbpf's `SEC()` names,
 * BTF-defined and legacy maps, global data (`.data`, `.rodata`, `.bss`), map/data/subprogram
 * relocations, object BTF with func/line info — the way libbpf does, into `Program`s of
 * `@bpfjs/link` and maps.
 *
 * @packageDocumentation
 */
export type {
  BtfExt,
  BtfExtSection,
  CoreReloRecord,
  DatasecVar,
  FuncInfoRecord,
  LineInfoRecord,
  ObjectBtf,
} from './btf.js';
export type { ElfFile, ElfRelocation, ElfSection, ElfSymbol } from './elf.js';
export { BpfObjectError, type BpfObjectErrorCode, type ObjectErrorLocation } from './errors.js';
export { Collection, type LoadOptions, Variable } from './load.js';
export {
  BpfObject,
  type CodeReloc,
  type FunctionCode,
  type KconfigExtern,
  type KsymExtern,
  type MapOrigin,
  type MapSpec,
  type OpenOptions,
  type ProgramSpec,
  type VariableSpec,
} from './object.js';
export type { BtfFeatures } from './sanitize.js';
export { type SectionDef, sectionDef, sectionPatterns } from './sections.js';
export {
  objectSha256,
  openSkeleton,
  Skeleton,
  type SkeletonLoadOptions,
  type SkeletonSource,
  SkeletonSpec,
} from './skeleton.js';
export {
  checkSkeleton,
  type GenerateSkeletonOptions,
  generateSkeleton,
  type SkeletonCheck,
} from './skeleton-gen.js';
