#!/usr/bin/env node
// Package correctness: every package under packages/ is packed the way a release packs it
// (`pnpm pack`, with the workspace's beforePacking hook) and checked:
// - publint and @arethetypeswrong/cli, so what we publish resolves for ESM and CJS consumers
//   (ESM-only packages, those without a `require` condition, with attw's esm-only profile);
// - the tarball itself (scripts/lib/tarball.mjs): LICENSE, no monorepo scripts, no unused files.
// `node scripts/check-packages.mjs sys link` checks only those directories.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tarballProblems } from './lib/tarball.mjs';

const rootLicense = readFileSync('LICENSE', 'utf8');
let failed = 0;
const report = (ok, tool, name, detail = '') => {
  if (!ok) failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${tool.padEnd(8)} ${name}${ok ? '' : `\n${detail}`}`);
};

const only = process.argv.slice(2);
for (const dir of readdirSync('packages')) {
  const cwd = `packages/${dir}`;
  const manifest = JSON.parse(readFileSync(join(cwd, 'package.json'), 'utf8'));
  if (manifest.private || (only.length && !only.includes(dir))) continue;
  const name = manifest.name;
  const esmOnly = !JSON.stringify(manifest.exports ?? {}).includes('"require"');
  for (const [tool, args] of [
    ['publint', ['publint', '--strict', '.']],
    [
      'attw',
      ['attw', '--pack', '.', '--profile', esmOnly ? 'esm-only' : 'node16', '--format', 'table-flipped'],
    ],
  ]) {
    try {
      execFileSync('pnpm', ['exec', ...args], { cwd, stdio: 'pipe', encoding: 'utf8' });
      report(true, tool, name);
    } catch (err) {
      report(false, tool, name, `${err.stdout ?? ''}${err.stderr ?? ''}`);
    }
  }
  const tmp = mkdtempSync(join(tmpdir(), 'bpfjs-pack-'));
  try {
    const out = execFileSync('pnpm', ['pack', '--json', '--pack-destination', tmp], {
      cwd,
      encoding: 'utf8',
    });
    const tarball = JSON.parse(out.slice(out.indexOf('{'))).filename;
    execFileSync('tar', ['xzf', tarball, '-C', tmp]);
    const problems = tarballProblems(tmp, rootLicense);
    report(problems.length === 0, 'tarball', name, problems.map((p) => `  ${p}`).join('\n'));
  } catch (err) {
    report(false, 'tarball', name, String(err.stack ?? err));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
if (failed) {
  console.error(`check:packages: ${failed} check(s) failed`);
  process.exit(1);
}
