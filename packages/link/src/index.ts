/**
 * `@bpfjs/link`: the object API over `@bpfjs/sys` — `Program`, `Link` and its typed subclasses
 * (`NetNsLink`, ...), attachment to network namespaces (flow dissector, sk_lookup) with links
 * and the legacy prog attach/detach/query, pinning, and iteration of every link and program.
 *
 * Kernel errors stay `BpfError`s (same `code`, `errno`, `syscall`, `command`) with a sentence
 * added to `message` and `hint` where the netns rules explain them; see `errors.ts`.
 *
 * @packageDocumentation
 */
export type { ErrorContext, ExplainedBpfError } from './errors.js';
export type {
  CgroupLinkInfo,
  IterLinkInfo,
  KprobeMultiLinkInfo,
  LinkInfo,
  LinkInfoBase,
  NetfilterLinkInfo,
  NetkitLinkInfo,
  NetNsLinkInfo,
  OtherLinkInfo,
  PerfEventLinkInfo,
  ProgramInfo,
  RawTracepointLinkInfo,
  SockmapLinkInfo,
  StructOpsLinkInfo,
  TcxLinkInfo,
  TracingLinkInfo,
  UprobeMultiLinkInfo,
  XdpLinkInfo,
} from './info.js';
export { links, programs } from './iterate.js';
export {
  CgroupLink,
  IterLink,
  KprobeMultiLink,
  Link,
  type LinkUpdateOptions,
  NetfilterLink,
  NetkitLink,
  NetNsLink,
  PerfEventLink,
  RawTracepointLink,
  SockmapLink,
  StructOpsLink,
  TcxLink,
  TracingLink,
  UprobeMultiLink,
  XdpLink,
} from './link.js';
export {
  attachNetNs,
  attachProgram,
  detachProgram,
  type LegacyAttachOptions,
  type NetNsTarget,
  type QueryResult,
  queryPrograms,
} from './netns.js';
export type { PinOptions } from './pin.js';
export { adoptLoadedProgram, Program, type ProgramLoadOptions } from './program.js';
