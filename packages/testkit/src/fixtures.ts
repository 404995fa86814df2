/**
 * Fixtures that clean up after themselves, on success and on failure: a throwaway network
 * namespace, a private bpffs mount, and ready-made programs loaded through `@bpfjs/link`.
 * Cleanup placement is described in `scope.ts` (inside a test: when it finishes; outside: at the
 * end of the file with `@bpfjs/testkit/setup`; or `{ cleanup: 'manual' }`).
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assemble } from '@bpfjs/asm';
import { Program } from '@bpfjs/link';
import { BpfMap, type FdValue } from '@bpfjs/map';
import { NetNs, waitForTeardown } from '@bpfjs/netns';
import { BpfError, isBpffs, MNT_DETACH, mount, optionKeys, umount2, validateKnownKeys } from '@bpfjs/sys';
import { TestkitTypeError } from './errors.js';
import {
  type FlowDissectorVerdict,
  flowDissectorInstructions,
  type SkLookupVerdict,
  skLookupInstructions,
  socketFilterInstructions,
} from './programs.js';
import { type FixtureOptions, register } from './scope.js';

const TEMP_NETNS_KEYS = optionKeys('named', 'awaitTeardownMs', 'cleanup');

/** Options of {@link tempNetNs}. */
export interface TempNetNsOptions extends FixtureOptions {
  /**
   * Make it a named netns (visible to `ip netns`): `true` picks a unique `bpfjs-test-*` name, a
   * string is used as is. Cleanup deletes the name too.
   */
  readonly named?: boolean | string;
  /**
   * After closing, wait until nothing visible holds the netns any more (netns `waitForTeardown`),
   * up to this many milliseconds. Useful before touching the init netns's flow dissector. Default:
   * do not wait.
   */
  readonly awaitTeardownMs?: number;
}

/**
 * A new network namespace (anonymous by default), closed — and deleted when named — after the
 * test (see module doc). Needs CAP_SYS_ADMIN.
 * @throws BpfError from `unshare`/`setns`/`mount` (EPERM without privileges).
 */
export function tempNetNs(options: TempNetNsOptions = {}): NetNs {
  // A misspelt option (`nmaed`) would silently give an anonymous netns: refuse unknown keys.
  if (typeof options !== 'object' || options === null) {
    throw new TestkitTypeError('ERR_INVALID_ARG_TYPE', 'options must be an object');
  }
  validateKnownKeys(options, 'options', TEMP_NETNS_KEYS);
  const named = options.named;
  let name: string | undefined;
  if (named === true) name = `bpfjs-test-${process.pid}-${randomBytes(4).toString('hex')}`;
  else if (typeof named === 'string') name = named;
  else if (named !== undefined && named !== false) {
    throw new TestkitTypeError('ERR_INVALID_ARG_TYPE', 'named must be a boolean or a string');
  }
  const ns = NetNs.create(name === undefined ? {} : { name });
  register(`tempNetNs ${ns}`, options, async () => {
    const inode = ns.inode;
    try {
      if (name !== undefined) {
        try {
          ns.delete();
        } catch (e) {
          // The test may have deleted it already.
          if (!(BpfError.isInstance(e) && e.code === 'ENOENT')) throw e;
        }
      }
    } finally {
      ns.close();
    }
    if (options.awaitTeardownMs !== undefined)
      await waitForTeardown(inode, { timeoutMs: options.awaitTeardownMs });
  });
  return ns;
}

/** A private bpffs mount from {@link tempBpffs}. */
export interface TempBpffs extends Disposable {
  /** The mount point (a fresh directory under the OS temp dir). */
  readonly path: string;
  /** `path` joined with `name`: where to pin something. */
  pinPath(name: string): string;
  /** Unmounts (lazily) and removes the directory; idempotent. */
  dispose(): void;
}

/**
 * Mounts a private bpf file system on a fresh temp directory (`mount -t bpf bpf DIR`), unmounted
 * and removed after the test (see module doc); pins inside vanish with it. Needs CAP_SYS_ADMIN.
 * @throws BpfError from `mount` (EPERM without privileges); the directory is removed first.
 */
export function tempBpffs(options: FixtureOptions = {}): TempBpffs {
  const dir = mkdtempSync(join(tmpdir(), 'bpfjs-bpffs-'));
  try {
    mount('bpf', dir, 'bpf', 0);
  } catch (e) {
    rmdirSync(dir);
    throw e;
  }
  let disposed = false;
  const fs: TempBpffs = {
    path: dir,
    pinPath(name: string): string {
      if (typeof name !== 'string' || name === '' || name.includes('\0')) {
        throw new TestkitTypeError(
          'ERR_INVALID_ARG_VALUE',
          `pin name must be a non-empty string, got ${JSON.stringify(name)}`,
        );
      }
      return join(dir, name);
    },
    dispose(): void {
      if (disposed) return;
      disposed = true;
      try {
        if (isBpffs(dir)) umount2(dir, MNT_DETACH);
      } catch (e) {
        if (!(BpfError.isInstance(e) && e.code === 'EINVAL')) throw e;
      }
      rmdirSync(dir);
    },
    [Symbol.dispose](): void {
      fs.dispose();
    },
  };
  register(`tempBpffs ${dir}`, options, () => fs.dispose());
  return fs;
}

function loadTracked(what: string, options: FixtureOptions, load: () => Program): Program {
  const prog = load();
  register(what, options, () => prog.close());
  return prog;
}

/** Options of {@link flowDissectorProgram}. */
export interface FlowDissectorProgramOptions extends FixtureOptions {
  /** `'ok'` (default: BPF_OK) or `'drop'` (BPF_DROP). */
  readonly verdict?: FlowDissectorVerdict;
  /** Program name (up to 15 characters). */
  readonly name?: string;
}

/**
 * A loaded flow dissector program (`r0 = BPF_OK; exit`), closed after the test.
 * @throws BpfError from BPF_PROG_LOAD (EPERM without CAP_BPF/CAP_NET_ADMIN).
 */
export function flowDissectorProgram(options: FlowDissectorProgramOptions = {}): Program {
  const instructions = assemble(flowDissectorInstructions(options.verdict ?? 'ok'));
  return loadTracked('flowDissectorProgram', options, () =>
    Program.load({ type: 'flow_dissector', instructions, ...(options.name ? { name: options.name } : {}) }),
  );
}

/** Options of {@link skLookupProgram}. */
export interface SkLookupProgramOptions extends FixtureOptions {
  /** `'pass'` (default), `'drop'` or `{ redirect: sockmap, key? }` (see `SkLookupVerdict`). */
  readonly verdict?: SkLookupVerdict;
  /** Program name (up to 15 characters). */
  readonly name?: string;
}

/**
 * A loaded sk_lookup program (expected attach type sk_lookup) with the given verdict, closed after
 * the test. Kernel 5.9+.
 * @throws BpfError from BPF_PROG_LOAD (EPERM without privileges; EINVAL before 5.9; EBADF for a
 *   bad sockmap fd).
 */
export function skLookupProgram(options: SkLookupProgramOptions = {}): Program {
  const instructions = assemble(skLookupInstructions(options.verdict ?? 'pass'));
  return loadTracked('skLookupProgram', options, () =>
    Program.load({
      type: 'sk_lookup',
      expectedAttachType: 'sk_lookup',
      instructions,
      ...(options.name ? { name: options.name } : {}),
    }),
  );
}

/** Options of {@link socketFilterProgram}. */
export interface SocketFilterProgramOptions extends FixtureOptions {
  /** Bytes kept per packet (default all; 0 drops every packet). */
  readonly snapLength?: number;
  /** Program name (up to 15 characters). */
  readonly name?: string;
}

/**
 * A loaded socket filter (`r0 = snapLength; exit`), closed after the test. Socket filters load
 * without CAP_BPF on most systems, which makes it handy for privilege tests.
 * @throws BpfError from BPF_PROG_LOAD.
 */
export function socketFilterProgram(options: SocketFilterProgramOptions = {}): Program {
  const instructions = assemble(socketFilterInstructions(options.snapLength));
  return loadTracked('socketFilterProgram', options, () =>
    Program.load({ type: 'socket_filter', instructions, ...(options.name ? { name: options.name } : {}) }),
  );
}

/** Options of {@link tempSockmap}. */
export interface TempSockmapOptions extends FixtureOptions {
  /** Number of slots (default 1). */
  readonly maxEntries?: number;
}

/**
 * A SOCKMAP `BpfMap` (u32 keys; values are sockets, written as their fd), closed after the test:
 * the map an sk_lookup `{ redirect }` program takes its socket from. Put a socket in with
 * `map.set(key, socket)` (an `Fd` from `ns.socket()`, a listening `net.Server`, ...).
 * @throws BpfError from BPF_MAP_CREATE (EPERM without privileges).
 */
export function tempSockmap(options: TempSockmapOptions = {}): BpfMap<number, FdValue> {
  const maxEntries = options.maxEntries ?? 1;
  if (!Number.isInteger(maxEntries) || maxEntries < 1 || maxEntries > 0xffff_ffff) {
    throw new TestkitTypeError(
      'ERR_OUT_OF_RANGE',
      `maxEntries must be a positive u32, got ${String(maxEntries)}`,
    );
  }
  const map = BpfMap.create({ type: 'sockmap', key: 'u32', value: 'fd', maxEntries });
  register('tempSockmap', options, () => map.close());
  return map;
}
