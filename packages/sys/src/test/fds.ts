/**
 * Test helper: the open descriptors of this process, to check that a test file leaves none open.
 * @internal
 */
import { readdirSync, readlinkSync } from 'node:fs';

/** Map of fd number → readlink target for every fd in `/proc/self/fd`. */
export function openFds(): Map<number, string> {
  const out = new Map<number, string>();
  for (const name of readdirSync('/proc/self/fd')) {
    try {
      out.set(Number(name), readlinkSync(`/proc/self/fd/${name}`));
    } catch {
      // The fd readdir used itself is gone by now.
    }
  }
  return out;
}

/** The fds (as "n -> target") open now that were not in `before` and point at bpf/ns/null objects. */
export function leakedSince(before: Map<number, string>): string[] {
  const leaked: string[] = [];
  for (const [n, target] of openFds()) {
    if (before.get(n) === target) continue;
    // Only objects this package creates: bpf objects, namespaces, /dev/null and test files.
    if (/^anon_inode:(bpf|\[bpf)|^net:|^mnt:|\/dev\/null|bpfjs-sys-test/.test(target))
      leaked.push(`${n} -> ${target}`);
  }
  return leaked;
}
