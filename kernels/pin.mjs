#!/usr/bin/env node
// Re-pins kernels/kernels.json to the newest cloud kernel of each line the mirror offers (through
// the private apt config of lib/apt.mjs), and prints what changed. `--check` only reports.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { aptCache, aptUpdate } from './lib/apt.mjs';

const path = new URL('kernels.json', import.meta.url);
const check = process.argv.includes('--check');

// How each line's packages are named, per suite. `release` is the kernel's `uname -r`.
const LINES = {
  '5.10': {
    suite: 'bullseye',
    image: /^linux-image-(5\.10\.\d+-\d+-cloud-amd64)-unsigned$/,
    packages: (r) => [`linux-image-${r}-unsigned`],
  },
  6.1: {
    suite: 'bookworm',
    image: /^linux-image-(6\.1\.\d+-\d+-cloud-amd64)$/,
    packages: (r) => [`linux-image-${r}`],
  },
  6.12: {
    suite: 'trixie',
    image: /^linux-image-(6\.12\.\d+\+deb\d+-cloud-amd64)$/,
    packages: (r) => [`linux-image-${r}`],
  },
  '7.x': {
    suite: 'sid',
    image: /^linux-binary-(7\.\d+\.\d+\+deb\d+-cloud-amd64)$/,
    packages: (r) => [`linux-binary-${r}`, `linux-modules-${r}`],
  },
};

const dpkgNewer = (a, b) => {
  try {
    execFileSync('dpkg', ['--compare-versions', a, 'gt', b]);
    return true;
  } catch {
    return false;
  }
};

function candidate(name) {
  const out = aptCache(['policy', name]);
  return /Candidate:\s*(\S+)/.exec(out)?.[1];
}

aptUpdate({ force: true });
const names = aptCache(['pkgnames']).split('\n');
const pinned = JSON.parse(readFileSync(path, 'utf8'));
let changed = false;
for (const k of pinned.kernels) {
  const line = LINES[k.id];
  if (!line) continue;
  const releases = names.map((n) => line.image.exec(n)?.[1]).filter(Boolean);
  // The newest release by its package version (the ABI number alone does not order across lines).
  let best;
  for (const r of releases) {
    const pkgs = line.packages(r);
    const versions = pkgs.map(candidate);
    if (versions.some((v) => !v || v === '(none)')) continue;
    if (!best || dpkgNewer(versions[0], best.versions[0])) best = { release: r, pkgs, versions };
  }
  if (!best) {
    console.log(`${k.id}: nothing on the mirror matches ${line.image}`);
    continue;
  }
  const next = best.pkgs.map((name, i) => ({ name, version: best.versions[i] }));
  if (JSON.stringify(next) === JSON.stringify(k.packages)) {
    console.log(`${k.id}: ${k.release} is the newest`);
    continue;
  }
  console.log(`${k.id}: ${k.release} (${k.packages[0].version}) -> ${best.release} (${best.versions[0]})`);
  Object.assign(k, { suite: line.suite, release: best.release, packages: next });
  changed = true;
}
if (changed && !check) {
  writeFileSync(path, `${JSON.stringify(pinned, null, 2)}\n`);
  console.log('kernels.json updated');
}
