/**
 * `@bpfjs/object`: load clang-compiled BPF ELF objects — programs from libbpf's `SEC()` names,
 * BTF-defined and legacy maps, global data (`.data`, `.rodata`, `.bss`), map/data/subprogram
 * relocations, object BTF with func/line info — the way libbpf does, into `Program`s of
 * `@bpfjs/link` and maps.
 *
 * @packageDocumentation
 */
export { BpfObjectError, type BpfObjectErrorCode, type ObjectErrorLocation } from './errors.js';
export { Collection, type LoadOptions, Variable } from './load.js';
export {
  BpfObject,
  type MapOrigin,
  type MapSpec,
  type OpenOptions,
  type ProgramSpec,
  type VariableSpec,
} from './object.js';
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
