/**
 * `@bpfjs/testkit` — what a test of BPF code needs on a real kernel: gates that skip with a
 * reason (or fail under `BPFJS_REQUIRE_KERNEL=1`), self-cleaning fixtures (netns, bpffs, ready
 * programs), errno assertions, fd-leak detection (`@bpfjs/testkit/setup`) and the exported
 * netns-link conformance suite. A devDependency only; ESM only; needs vitest 3 (>= 3.2).
 *
 * @packageDocumentation
 */

export { expectCode, expectErrno, TestkitAssertionError, type WaitForOptions, waitFor } from './assert.js';
export {
  bpfCacheDir,
  bpfTargetArch,
  type CompileBpfOptions,
  compileBpf,
  haveBpfToolchain,
  vmlinuxHeaderDir,
} from './compile.js';
export {
  type ConformanceLinkInfo,
  type ConformanceOptions,
  linkAdapter,
  type NetNsAttachType,
  type NetNsLinkAdapter,
  runNetNsLinkConformance,
  SK_LOOKUP_MAX_LINKS,
} from './conformance.js';
export { RequirementError, TestkitTypeError } from './errors.js';
export { type FeatureKind, parseFeature, requireFeature } from './features.js';
export {
  type FlowDissectorProgramOptions,
  flowDissectorProgram,
  type SkLookupProgramOptions,
  type SocketFilterProgramOptions,
  skLookupProgram,
  socketFilterProgram,
  type TempBpffs,
  type TempNetNsOptions,
  type TempSockmapOptions,
  tempBpffs,
  tempNetNs,
  tempSockmap,
} from './fixtures.js';
export {
  type CapabilityName,
  DEFAULT_KERNEL_CAPABILITIES,
  effectiveCapabilities,
  findExecutable,
  type Gate,
  kernelRequired,
  makeGate,
  type RequireKernelOptions,
  requireCapabilities,
  requireExecutable,
  requireKernel,
  requireKernelVersion,
  type SuiteBody,
  type TestBody,
} from './gates.js';
export {
  type FdLeakReport,
  fdLeakReport,
  ignoreFdLeak,
  type LeakedFd,
  startFdTracking,
  watchedDescriptors,
} from './leaks.js';
export {
  type FlowDissectorVerdict,
  flowDissectorInstructions,
  type SkLookupVerdict,
  skLookupInstructions,
  socketFilterInstructions,
} from './programs.js';
export { type Cleanup, type CleanupMode, deferCleanup, type FixtureOptions } from './scope.js';
export { runSkeletonDriftChecks, type SkeletonDriftOptions } from './skeleton-drift.js';
export { KERNEL_MATRIX_TIMEOUT_FACTOR, scaleTimeout } from './timeouts.js';
