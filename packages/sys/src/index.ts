/**
 * `@bpfjs/sys`: the raw `bpf(2)` layer over koffi — the one call into the kernel, a typed wrapper
 * per bpf command, the few other syscalls the upper layers need, errno errors and owned fds.
 *
 * @packageDocumentation
 */
export { bpf, commandName } from './bpf.js';
export { type BtfLoadOptions, btfLoad } from './btf.js';
export { ENOTSUPP, errnoMessage, errnoName, errnoNumber } from './errno.js';
export {
  BpfError,
  type BpfErrorOptions,
  BpfjsRangeError,
  BpfjsTypeError,
  describeValue,
  effectiveCapabilities,
  errFdClosed,
  errInvalidArgType,
  errInvalidArgValue,
  errOutOfRange,
  permissionHint,
  UnsupportedFeatureError,
} from './errors.js';
export { F_DUPFD_CLOEXEC, Fd, type FdChannelMessage, fdCloseChannel, fdOpenChannel } from './fd.js';
export {
  type BtfInfo,
  btfGetInfo,
  type LinkInfo,
  type LinkInfoWithName,
  linkGetInfo,
  linkGetInfoWithName,
  type MapInfo,
  mapGetInfo,
  objGetInfoByFd,
  type ProgInfo,
  progGetInfo,
} from './info.js';
export {
  type IterCreateOptions,
  iterCreate,
  type LinkCreateNetfilterOptions,
  type LinkCreateOptions,
  type LinkUpdateOptions,
  linkCreate,
  linkDetach,
  linkUpdate,
  type RawTracepointOpenOptions,
  rawTracepointOpen,
} from './link.js';
export {
  type MapCreateOptions,
  mapCreate,
  mapDeleteElem,
  mapGetNextKey,
  mapLookupElem,
  mapUpdateElem,
  numPossibleCpus,
} from './map.js';
export {
  btfGetFdById,
  btfGetNextId,
  enableStats,
  linkGetFdById,
  linkGetNextId,
  mapGetFdById,
  mapGetNextId,
  type ObjGetOptions,
  objGet,
  objPin,
  progGetFdById,
  progGetNextId,
  withFdById,
} from './obj.js';
export {
  type FeatureKind,
  haveAttachType,
  haveCommand,
  haveLinkType,
  haveProgType,
  minKernel,
  requireFeature,
} from './probe.js';
export {
  type ProgAttachOptions,
  type ProgDetachOptions,
  type ProgLoadOptions,
  type ProgQueryOptions,
  type ProgQueryResult,
  progAttach,
  progDetach,
  progLoad,
  progQuery,
} from './prog.js';
export { addressOf, type FieldsOf, hasField, offsetofend, Struct } from './struct.js';
export {
  BPF_FS_MAGIC,
  CLONE_NEWNET,
  CLONE_NEWNS,
  gettid,
  isBpffs,
  MNT_DETACH,
  MNT_EXPIRE,
  MNT_FORCE,
  MS_BIND,
  MS_NODEV,
  MS_NOEXEC,
  MS_NOSUID,
  MS_PRIVATE,
  MS_RDONLY,
  MS_REC,
  MS_REMOUNT,
  MS_SHARED,
  MS_SLAVE,
  mount,
  NSFS_MAGIC,
  O_CLOEXEC,
  O_DIRECTORY,
  O_NOFOLLOW,
  O_PATH,
  O_RDONLY,
  O_RDWR,
  O_WRONLY,
  openPath,
  type StatFs,
  setns,
  statfs,
  UMOUNT_NOFOLLOW,
  umount2,
  unshare,
} from './syscalls.js';
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
