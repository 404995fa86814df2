#!/usr/bin/env node
// Fetches the pinned UAPI headers: Debian's linux-libc-dev at the version in uapi-version.json,
// through the Debian mirror this machine's apt is configured with, into a cache outside the repo
// (`${XDG_CACHE_HOME:-~/.cache}/bpfjs/uapi/<version>`). A private apt configuration (own sources
// list with the newer suites, own lists/cache directories under the cache) leaves the system's apt
// state untouched. Idempotent: an already synced version is kept.
//
//   node scripts/sync.mjs            sync the pinned version
//   node scripts/sync.mjs --list     show which linux-libc-dev versions the mirror offers

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheRoot, haveHeaders, pinnedTree, readPin } from './lib/paths.mjs';

const DEFAULT_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';

/**
 * The machine's Debian mirror (the main archive, not the security one), from the deb822
 * `.sources` files or the one-line `sources.list`.
 * @returns {{ uri: string, signedBy: string }}
 */
export function configuredMirror() {
  /** @type {{ uri: string, suites: string[], signedBy?: string }[]} */
  const entries = [];
  const dir = '/etc/apt/sources.list.d';
  const files = existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith('.sources') || f.endsWith('.list'))
        .sort()
    : [];
  for (const f of files) {
    const text = readFileSync(join(dir, f), 'utf8');
    if (f.endsWith('.list')) entries.push(...oneLineEntries(text));
    else {
      for (const para of text.split(/\n\s*\n/)) {
        /** @type {Record<string, string>} */
        const fields = {};
        for (const line of para.split('\n')) {
          const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
          if (m) fields[m[1].toLowerCase()] = m[2].trim();
        }
        if (!fields.uris || !(fields.types ?? '').split(/\s+/).includes('deb')) continue;
        if ((fields.enabled ?? 'yes') === 'no') continue;
        for (const uri of fields.uris.split(/\s+/)) {
          entries.push({ uri, suites: (fields.suites ?? '').split(/\s+/), signedBy: fields['signed-by'] });
        }
      }
    }
  }
  if (existsSync('/etc/apt/sources.list'))
    entries.push(...oneLineEntries(readFileSync('/etc/apt/sources.list', 'utf8')));
  const main = entries.find(
    (e) => !/security/.test(e.uri) && !e.suites.some((s) => /-security$/.test(s)) && /^https?:/.test(e.uri),
  );
  if (!main)
    throw new Error('sync: no Debian mirror (a deb http(s) entry) found in /etc/apt/sources.list{,.d}');
  const signedBy = main.signedBy && existsSync(main.signedBy) ? main.signedBy : DEFAULT_KEYRING;
  return { uri: main.uri.replace(/\/+$/, ''), signedBy };
}

/** @param {string} text */
function oneLineEntries(text) {
  /** @type {{ uri: string, suites: string[], signedBy?: string }[]} */
  const out = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    const m = /^deb\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)/.exec(line);
    if (!m) continue;
    const signed = /signed-by=(\S+)/.exec(m[1] ?? '');
    out.push({ uri: m[2], suites: [m[3]], signedBy: signed?.[1] });
  }
  return out;
}

/** The private apt configuration: options for every apt-get/apt-cache call. */
function privateApt(pin = readPin()) {
  const root = join(cacheRoot(), 'apt');
  const { uri, signedBy } = configuredMirror();
  for (const d of ['lists/partial', 'cache/archives/partial', 'etc'])
    mkdirSync(join(root, d), { recursive: true });
  const list = pin.suites.map((s) => `deb [signed-by=${signedBy}] ${uri} ${s} main`).join('\n');
  writeFileSync(join(root, 'etc', 'sources.list'), `${list}\n`);
  const opts = [
    `-o=Dir::Etc::SourceList=${join(root, 'etc', 'sources.list')}`,
    '-o=Dir::Etc::SourceParts=/nonexistent',
    `-o=Dir::State::Lists=${join(root, 'lists')}`,
    `-o=Dir::Cache=${join(root, 'cache')}`,
    '-o=Debug::NoLocking=1',
    '-o=APT::Sandbox::User=root',
    '-o=Acquire::Languages=none',
  ];
  return { root, opts };
}

/** @param {string[]} opts */
function aptUpdate(opts) {
  execFileSync('apt-get', [...opts, '-qq', 'update'], { stdio: ['ignore', 'ignore', 'inherit'] });
}

/** Lists the linux-libc-dev versions the mirror offers in the configured suites. */
function list() {
  const { opts } = privateApt();
  aptUpdate(opts);
  process.stdout.write(
    execFileSync('apt-cache', [...opts, 'madison', 'linux-libc-dev'], { encoding: 'utf8' }),
  );
}

function sync() {
  const pin = readPin();
  const dest = pinnedTree(pin);
  if (haveHeaders(pin)) {
    console.log(`sync: linux-libc-dev ${pin.version} already in ${dest}`);
    return;
  }
  const { root, opts } = privateApt(pin);
  aptUpdate(opts);
  const work = join(root, `download-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  try {
    execFileSync('apt-get', [...opts, '-qq', 'download', `${pin.package}=${pin.version}`], {
      cwd: work,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    const deb = readdirSync(work).find((f) => f.endsWith('.deb'));
    if (!deb) throw new Error(`sync: apt-get download produced no .deb for ${pin.package}=${pin.version}`);
    const sha = createHash('sha256')
      .update(readFileSync(join(work, deb)))
      .digest('hex');
    if (sha !== pin.sha256)
      throw new Error(`sync: ${deb} has sha256 ${sha}, the pin says ${pin.sha256}; refusing it`);
    const tree = join(work, 'tree');
    execFileSync('dpkg', ['-x', join(work, deb), tree], { stdio: 'inherit' });
    writeFileSync(join(tree, '.complete'), `${pin.package} ${pin.version} ${sha}\n`);
    rmSync(dest, { recursive: true, force: true });
    mkdirSync(join(dest, '..'), { recursive: true });
    renameSync(tree, dest);
    console.log(`sync: linux-libc-dev ${pin.version} (Linux ${pin.linux}) -> ${dest}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

try {
  if (process.argv.includes('--list')) list();
  else sync();
} catch (e) {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
}
