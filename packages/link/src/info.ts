/**
 * The info types of links and programs. They are decoded once, in `@bpfjs/sys` (`link-info.ts`
 * for `struct bpf_link_info`, `info.ts` for `struct bpf_prog_info`); link re-exports them so its
 * users need not import sys.
 *
 * @module
 */
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
} from '@bpfjs/sys';
