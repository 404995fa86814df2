/**
 * `@bpfjs/cli` — the `bpfjs` command as a library: {@link run} a command line and get its exit
 * status, or build the commander tree with {@link createProgram}. The record builders turn
 * `@bpfjs/link` info objects into bpftool-shaped JSON (`bpftool -j link show` field names).
 *
 * ```ts
 * import { run, bufferedIo } from '@bpfjs/cli';
 * const io = bufferedIo();
 * const status = await run(['link', 'list', '--json'], io); // io.stdout holds the JSON
 * ```
 *
 * @module
 */
export { createProgram, type RunState, run } from './cli.js';
export { type DemoOptions, runDemo } from './commands/demo.js';
export { NETNS_ATTACH_TYPES } from './commands/netns.js';
export { type Context, ContextError, parseSelector, type Selector } from './context.js';
export {
  CAPABILITIES,
  type Capability,
  CliError,
  EXIT_FAILURE,
  EXIT_USAGE,
  effectiveCapabilities,
  formatFailure,
  missingCapabilities,
  privilegeHint,
  UsageError,
} from './errors.js';
export { type JsonValue, table, toJson } from './format.js';
export { type BufferedIo, bufferedIo, type Io, nextInterrupt, processIo } from './io.js';
export {
  type Attachment,
  attachmentsOf,
  deviceName,
  type JsonRecord,
  linkRecord,
  type NetNsRecord,
  programRecord,
} from './records.js';
export { VERSION } from './version.js';
