/**
 * `@bpfjs/netns`: Linux network namespaces for Node.js, interoperable with iproute2 — open by
 * path, name or pid, create (anonymous or `ip netns add`-style named), list, delete, identify by
 * inode, run code inside one (synchronously on the calling thread, or on a worker thread), and wait
 * until one is no longer referenced.
 *
 * @packageDocumentation
 */
export { isNetNsError, NetNsError, type NetNsErrorCode, NetNsTypeError } from './errors.js';
export { type CreateNetNsOptions, NetNs } from './netns.js';
export { findNetNsHolders, type NetNsHolder } from './proc.js';
export type { NetNsSocketOptions } from './socket.js';
export { TeardownTimeoutError, type WaitForTeardownOptions, waitForTeardown } from './teardown.js';
export { NAME_MAX, NETNS_RUN_DIR } from './validate.js';
