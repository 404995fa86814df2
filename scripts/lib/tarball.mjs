// What a published tarball must be, checked on an unpacked one (`dir` holds `package/`): a LICENSE
// identical to the repository's, a package.json without scripts, devDependencies or `workspace:`
// ranges, and no file that nothing reaches from the entry points (exports, main, module, types,
// typesVersions, bin) through relative imports and source maps. Used by `pnpm check:packages`
// (on `pnpm pack` output) and `pnpm test:release` (on what the registry serves).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, posix } from 'node:path';

/** The problems of one unpacked tarball; empty when it is fine. */
export function tarballProblems(dir, rootLicense) {
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
  const entries = [];
  const collect = (value) => {
    if (typeof value === 'string') entries.push(value);
    else if (value && typeof value === 'object') for (const v of Object.values(value)) collect(v);
  };
  for (const field of ['exports', 'main', 'module', 'types', 'bin']) collect(manifest[field]);
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
