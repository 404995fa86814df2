/**
 * `@bpfjs/sys/internal`: the entry points the bpfjs layers above sys call (`@bpfjs/link`,
 * `@bpfjs/netns`, `@bpfjs/features`, ...). They take arguments the caller has already checked —
 * numbers for fds, validated options — and do not check them again; sys's public wrappers
 * (`@bpfjs/sys`) check theirs and then call these. Also the argument-check helpers every layer
 * shares. Versioned with the package, but not a public API: it may change in any release.
 *
 * @packageDocumentation
 */
export {
  bpfAt,
  bpfAtTry,
  bpfError,
  bpfTry,
  bpfUnchecked,
  type ScratchAttr,
  scratchAttr,
} from './bpf.js';
export {
  checkFdKind,
  type FdKind,
  fdKind,
  objGetInfoByFdUnchecked,
  progInfoUnchecked,
} from './info.js';
export { linkCreateUnchecked, linkDetachUnchecked, linkUpdateUnchecked } from './link.js';
export { linkInfoUnchecked, linkTypeUnchecked } from './link-info.js';
export { MapElemCalls, mapBatchUnchecked, mapFreezeUnchecked } from './map-ops.js';
export { attachTypeName, linkTypeName, progTypeName } from './names.js';
export {
  getFdByIdUnchecked,
  getNextIdUnchecked,
  objGetUnchecked,
  objPinUnchecked,
  withFdByIdUnchecked,
} from './obj.js';
export { explainFailure } from './probe.js';
export {
  type ProgLoadFields,
  progAttachUnchecked,
  progDetachUnchecked,
  progLoadUnchecked,
  progQueryUnchecked,
  validateObjName,
} from './prog.js';
export { allocBytes, fieldOf } from './struct.js';
export {
  type FdLike,
  isFd,
  optionKeys,
  validateBoolean,
  validateBytes,
  validateCString,
  validateFd,
  validateInteger,
  validateKnownKeys,
  validateObject,
  validateOneOf,
  validateOptionalFd,
  validatePath,
  validateS32,
  validateU32,
  validateU64,
} from './validate.js';
