// Where the pinned UAPI headers live: the pin file in the package, the cache outside the repo.

import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package directory (`packages/uapi`). */
export const PACKAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The headers we generate from, in processing order (an included header comes first). */
export const HEADERS = [
  'linux/bpf_common.h',
  'linux/bpf.h',
  'linux/btf.h',
  'linux/netlink.h',
  'linux/if_link.h',
  'linux/if_xdp.h',
];

/**
 * The pin: `{ package, version, linux, sha256, suites }`.
 * @returns {{ package: string, version: string, linux: string, sha256: string, suites: string[] }}
 */
export function readPin() {
  return JSON.parse(readFileSync(join(PACKAGE_DIR, 'uapi-version.json'), 'utf8'));
}

/** The cache root: `$XDG_CACHE_HOME/bpfjs/uapi` (default `~/.cache/bpfjs/uapi`). */
export function cacheRoot() {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'bpfjs', 'uapi');
}

/** The extracted package of the pinned version (its `usr/include` holds the headers). */
export function pinnedTree(pin = readPin()) {
  return join(cacheRoot(), pin.version);
}

/** The include directory of the pinned headers (`.../usr/include`). */
export function pinnedIncludeDir(pin = readPin()) {
  return join(pinnedTree(pin), 'usr', 'include');
}

/** Whether the pinned headers have been synced (the sync writes `.complete` last). */
export function haveHeaders(pin = readPin()) {
  return (
    existsSync(join(pinnedTree(pin), '.complete')) &&
    existsSync(join(pinnedIncludeDir(pin), 'linux', 'bpf.h'))
  );
}

/** The message tests and the generator print when the headers are missing. */
export function missingHeadersMessage(pin = readPin()) {
  return (
    `the pinned UAPI headers (linux-libc-dev ${pin.version}) are not synced to ${pinnedTree(pin)}; ` +
    'run `pnpm --filter @bpfjs/uapi sync` (scripts/setup does this on a fresh machine)'
  );
}
