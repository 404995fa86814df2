// Fetches Debian kernel packages through the machine's own apt mirror, with a private apt
// configuration (its own sources list, package lists and archive cache under the kernel cache) so
// that the host's apt state is never touched. The mirror is read from the system's apt sources at
// run time; no host name is written into the repository.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The suites the pinned kernels come from (see kernels.json). */
export const SUITES = ['bullseye', 'bookworm', 'trixie', 'sid'];

/** Where downloads, extracted kernels and the private apt state live (outside the repository). */
export function cacheRoot() {
  if (process.env.BPFJS_KERNEL_CACHE) return process.env.BPFJS_KERNEL_CACHE;
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'bpfjs', 'kernels');
}

/**
 * Reads the Debian archive mirror from the system's apt sources (deb822 `*.sources` first, then
 * one-line `sources.list`). Security archives are ignored: they carry no kernels for other suites.
 * Returns `{ uri, signedBy }`; throws when no mirror is configured.
 */
export function systemMirror() {
  const candidates = [];
  const dir = '/etc/apt/sources.list.d';
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.sources')) : [];
  for (const file of files) {
    const text = readFileSync(join(dir, file), 'utf8');
    for (const stanza of text.split(/\n\s*\n/)) {
      const fields = {};
      for (const line of stanza.split('\n')) {
        const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
        if (m) fields[m[1].toLowerCase()] = m[2].trim();
      }
      if (!fields.uris || !(fields.types ?? 'deb').split(/\s+/).includes('deb')) continue;
      if (fields.enabled === 'no') continue;
      for (const uri of fields.uris.split(/\s+/)) {
        candidates.push({ uri, suites: (fields.suites ?? '').split(/\s+/), signedBy: fields['signed-by'] });
      }
    }
  }
  if (existsSync('/etc/apt/sources.list')) {
    for (const line of readFileSync('/etc/apt/sources.list', 'utf8').split('\n')) {
      const m = /^deb\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)/.exec(line.trim());
      if (!m) continue;
      const signed = /signed-by=(\S+)/.exec(m[1] ?? '');
      candidates.push({ uri: m[2], suites: [m[3]], signedBy: signed?.[1] });
    }
  }
  const archive = candidates.find(
    (c) => !/security/.test(c.uri) && c.suites.some((s) => s && !/security/.test(s)),
  );
  if (!archive) throw new Error('kernels: no Debian mirror found in /etc/apt/sources.list(.d)');
  let signedBy = archive.signedBy;
  if (!signedBy?.startsWith('/')) {
    signedBy = '/usr/share/keyrings/debian-archive-keyring.gpg';
  }
  return { uri: archive.uri.replace(/\/+$/, ''), signedBy };
}

function aptDir() {
  return join(cacheRoot(), 'apt');
}

/** `-o` options that point apt at the private state under the cache. */
export function aptOptions() {
  const d = aptDir();
  return [
    `Dir::Etc::SourceList=${join(d, 'sources.list')}`,
    'Dir::Etc::SourceParts=/dev/null',
    `Dir::Etc::Preferences=${join(d, 'preferences')}`,
    'Dir::Etc::PreferencesParts=/dev/null',
    `Dir::State::Lists=${join(d, 'lists')}`,
    `Dir::State::status=${join(d, 'status')}`,
    `Dir::Cache=${join(d, 'cache')}`,
    'APT::Architecture=amd64',
    'Acquire::Languages=none',
    'APT::Sandbox::User=root',
    'Debug::NoLocking=1',
  ].flatMap((o) => ['-o', o]);
}

function prepareAptDir() {
  const d = aptDir();
  for (const sub of ['lists/partial', 'cache/archives/partial']) mkdirSync(join(d, sub), { recursive: true });
  if (!existsSync(join(d, 'status'))) writeFileSync(join(d, 'status'), '');
  writeFileSync(join(d, 'preferences'), '');
  const { uri, signedBy } = systemMirror();
  const list = SUITES.map((s) => `deb [signed-by=${signedBy}] ${uri} ${s} main`).join('\n');
  const path = join(d, 'sources.list');
  const old = existsSync(path) ? readFileSync(path, 'utf8') : '';
  if (old !== `${list}\n`) {
    writeFileSync(path, `${list}\n`);
    return true; // the source list changed: lists must be refreshed
  }
  return false;
}

function listsPresent() {
  const lists = join(aptDir(), 'lists');
  const names = existsSync(lists) ? readdirSync(lists) : [];
  return SUITES.every((s) => names.some((n) => n.includes(`_dists_${s}_`) && n.endsWith('_Packages')));
}

/** Runs `apt-get update` on the private config (only when needed unless `force`). */
export function aptUpdate({ force = false, log = console.error } = {}) {
  const changed = prepareAptDir();
  if (!force && !changed && listsPresent()) return;
  log('kernels: apt-get update (private config)');
  const r = spawnSync('apt-get', [...aptOptions(), '-qq', 'update'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`kernels: apt-get update failed:\n${r.stderr || r.stdout}`);
}

/** `apt-cache` on the private config; returns stdout. */
export function aptCache(args) {
  prepareAptDir();
  return execFileSync('apt-cache', [...aptOptions(), ...args], { encoding: 'utf8', maxBuffer: 256 << 20 });
}

function findDeb(dir, pkg) {
  if (!existsSync(dir)) return undefined;
  const want = `${pkg.name}_${pkg.version.replace(/:/g, '%3a')}_`;
  const f = readdirSync(dir).find((n) => n.startsWith(want) && n.endsWith('.deb'));
  return f ? join(dir, f) : undefined;
}

function download(pkg, debs, log) {
  mkdirSync(debs, { recursive: true });
  let deb = findDeb(debs, pkg);
  if (deb) return deb;
  for (let attempt = 0; attempt < 2 && !deb; attempt++) {
    aptUpdate({ force: attempt > 0, log });
    log(`kernels: apt-get download ${pkg.name}=${pkg.version}`);
    const r = spawnSync('apt-get', [...aptOptions(), '-qq', 'download', `${pkg.name}=${pkg.version}`], {
      cwd: debs,
      encoding: 'utf8',
    });
    deb = findDeb(debs, pkg);
    if (!deb && attempt === 1) {
      throw new Error(
        `kernels: cannot download ${pkg.name}=${pkg.version} from the mirror (${(r.stderr || '').trim()}); ` +
          'if the mirror dropped this version, re-pin with `node kernels/pin.mjs`',
      );
    }
  }
  return deb;
}

function firstExisting(paths) {
  return paths.find((p) => existsSync(p));
}

/**
 * Makes sure the kernel `k` (an entry of kernels.json) is downloaded and extracted in the cache.
 * Returns `{ dir, vmlinuz, modulesDir }`.
 */
export function fetchKernel(k, { log = console.error } = {}) {
  const root = join(cacheRoot(), k.release);
  const stamp = join(root, '.complete');
  const want = JSON.stringify(k.packages);
  if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== want) {
    const debs = join(cacheRoot(), 'debs');
    const files = k.packages.map((p) => download(p, debs, log));
    const tmp = `${root}.tmp`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    for (const f of files) execFileSync('dpkg-deb', ['-x', f, join(tmp, 'root')]);
    rmSync(root, { recursive: true, force: true });
    renameSync(tmp, root);
    writeFileSync(stamp, want);
  }
  const base = join(root, 'root');
  const vmlinuz = firstExisting([
    join(base, 'boot', `vmlinuz-${k.release}`),
    join(base, 'usr', 'lib', 'modules', k.release, 'vmlinuz'),
    join(base, 'lib', 'modules', k.release, 'vmlinuz'),
  ]);
  const modulesDir = firstExisting([
    join(base, 'lib', 'modules', k.release),
    join(base, 'usr', 'lib', 'modules', k.release),
  ]);
  if (!vmlinuz || !modulesDir) {
    throw new Error(`kernels: ${k.id}: the extracted packages have no vmlinuz or modules for ${k.release}`);
  }
  return { dir: root, vmlinuz, modulesDir };
}
