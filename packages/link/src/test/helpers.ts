/**
 * Test helpers for @bpfjs/link's kernel tests: throwaway network namespaces, private bpffs
 * mounts, small programs, and polling with a deadline. Not part of the package API.
 *
 * @module
 * @internal
 */
import { mkdtempSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asm, assemble, R0 } from '@bpfjs/asm';
import { NetNs } from '@bpfjs/netns';
import { MNT_DETACH, mount, umount2 } from '@bpfjs/sys';
import { Program } from '../index.js';

/** True when the tests can talk to the kernel (root). */
export const isRoot = process.getuid?.() === 0;

/** A throwaway anonymous network namespace; `close()` drops it (teardown is asynchronous). */
export function freshNetNs(): NetNs {
  return NetNs.create();
}

/**
 * Runs `fn` with resources registered through `defer`, released in reverse order, always — after
 * `fn` returns, or after its promise settles when `fn` is async.
 */
export function withCleanup<T>(fn: (defer: (f: () => void) => void) => T): T {
  const stack: Array<() => void> = [];
  const release = (): unknown[] => {
    const errors: unknown[] = [];
    while (stack.length > 0) {
      try {
        stack.pop()!();
      } catch (err) {
        errors.push(err);
      }
    }
    return errors;
  };
  const finish = <V>(value: V): V => {
    const errors = release();
    if (errors.length > 0) throw errors[0];
    return value;
  };
  let result: T;
  try {
    result = fn((f) => stack.push(f));
  } catch (err) {
    release();
    throw err;
  }
  if (result instanceof Promise) {
    return result.then(finish, (err: unknown) => {
      release();
      throw err;
    }) as T;
  }
  return finish(result);
}

/** Mounts a private bpffs in a fresh temp dir; returns the dir and an unmount function. */
export function privateBpffs(): { dir: string; dispose: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'bpfjs-link-bpffs-'));
  try {
    mount('bpf', dir, 'bpf', 0);
  } catch (err) {
    rmdirSync(dir);
    throw err;
  }
  return {
    dir,
    dispose() {
      try {
        umount2(dir, MNT_DETACH);
      } finally {
        rmdirSync(dir);
      }
    },
  };
}

/** A flow dissector that returns BPF_OK (0), as in the kernel's flow_dissector_reattach test. */
export function loadFlowDissector(name = 'bpfjs_fd'): Program {
  return Program.load({
    type: 'flow_dissector',
    instructions: assemble([asm.mov64Imm(R0, 0), asm.exit()]),
    name,
  });
}

/** An sk_lookup program that returns `verdict` (1 = SK_PASS, 0 = SK_DROP). */
export function loadSkLookup(verdict: 0 | 1 = 1, name = 'bpfjs_skl'): Program {
  return Program.load({
    type: 'sk_lookup',
    instructions: assemble([asm.mov64Imm(R0, verdict), asm.exit()]),
    name,
  });
}

/** A socket filter (a program type that cannot attach to a netns). */
export function loadSocketFilter(): Program {
  return Program.load({ type: 'socket_filter', instructions: assemble([asm.mov64Imm(R0, 0), asm.exit()]) });
}

/**
 * Polls `probe` until it returns something other than `undefined`, or throws after `timeoutMs`.
 * Never sleeps a fixed time: each round yields to the event loop (setImmediate).
 */
export async function pollUntil<T>(what: string, probe: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise<void>((r) => setImmediate(r));
  }
}

/** Captures a thrown error (fails if nothing is thrown). */
export function catchError(fn: () => unknown): Error & Record<string, unknown> {
  try {
    fn();
  } catch (err) {
    return err as Error & Record<string, unknown>;
  }
  throw new Error('expected the call to throw');
}
