#!/usr/bin/env node
// Package correctness: every package under packages/ is packed the way a release packs it
// (`pnpm pack`, with the workspace's beforePacking hook) and checked:
// - publint and @arethetypeswrong/cli, so what we publish resolves for ESM and CJS consumers
//   (ESM-only packages, those without a `require` condition, with attw's esm-only profile);
// - the tarball itself: a LICENSE identical to the root one, a package.json without scripts,
//   devDependencies or `workspace:` ranges, and no file that nothing reaches from the entry points
//   (exports, main, module, types, typesVersions, bin) through relative imports and source maps.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';

const rootLicense = readFileSync('LICENSE', 'utf8');
let failed = 0;
const report = (ok, tool, name, detail = '') => {
  if (!ok) failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${tool.padEnd(8)} ${name}${ok ? '' : `\n${detail}`}`);
};

/** Problems with one unpacked tarball (`dir` holds `package/`). */
export function tarballProblems(dir) {
  const pkgDir = join(dir, 'package');
  const problems = [];
  const manifest = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
  const files = execFileSync('find', ['.', '-type', 'f'], { cwd: pkgDir, encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .map((f) => posix.normalize(f));
  const has = new Set(files);
  if (!has.has('LICENSE')) problems.push('no LICENSE');
  else if (readFileSync(join(pkgDir, 'LICENSE'), 'utf8') !== rootLicense)
    problems.push('LICENSE differs from the root LICENSE');
  if (manifest.scripts)
    problems.push(`package.json has scripts: ${Object.keys(manifest.scripts).join(', ')}`);
  if (manifest.devDependencies) problems.push('package.json has devDependencies');
  for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
    for (const [dep, range] of Object.entries(manifest[field] ?? {})) {
      if (String(range).startsWith('workspace:')) problems.push(`${field}.${dep} is ${range}`);
    }
  }
  // Every file must be reachable from an entry point.
  const entries = [];
  const collect = (value) => {
    if (typeof value === 'string') entries.push(value);
    else if (value && typeof value === 'object') for (const v of Object.values(value)) collect(v);
  };
  collect(manifest.exports);
  collect(manifest.main);
  collect(manifest.module);
  collect(manifest.types);
  collect(manifest.bin);
  for (const map of Object.values(manifest.typesVersions ?? {})) {
    for (const targets of Object.values(map)) {
      for (const t of targets) {
        const re = new RegExp(`^${posix.normalize(t).replace(/[.]/g, '\\.').replace('*', '.+')}$`);
        for (const f of files) if (re.test(f)) entries.push(f);
      }
    }
  }
  const reached = new Set(['package.json', 'README.md', 'CHANGELOG.md', 'LICENSE']);
  const queue = entries.map((e) => posix.normalize(e)).filter((e) => e !== 'package.json');
  for (const e of queue) if (!has.has(e)) problems.push(`entry point ${e} is not in the tarball`);
  while (queue.length > 0) {
    const file = queue.pop();
    if (reached.has(file) || !has.has(file)) continue;
    reached.add(file);
    if (has.has(`${file}.map`)) queue.push(`${file}.map`);
    if (!/\.(c|m)?js$|\.d\.(c|m)?ts$/.test(file)) continue;
    const text = readFileSync(join(pkgDir, file), 'utf8');
    for (const m of text.matchAll(
      /(?:from\s*|import\s*\(\s*|require\s*\(\s*|import\s+)["'](\.{1,2}\/[^"']+)["']/g,
    )) {
      const target = posix.normalize(posix.join(posix.dirname(file), m[1]));
      queue.push(target);
      // A declaration names the JavaScript file; its types sit beside it (.js → .d.ts/.d.cts).
      if (/\.d\.(c|m)?ts$/.test(file)) {
        const stem = target.replace(/\.(c|m)?js$/, '');
        queue.push(`${stem}.d.ts`, `${stem}.d.cts`, `${stem}.d.mts`);
      }
    }
  }
  const unused = files.filter((f) => !reached.has(f));
  if (unused.length) problems.push(`files nothing uses: ${unused.join(', ')}`);
  return problems;
}

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
    const problems = tarballProblems(tmp);
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
