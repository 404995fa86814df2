// Where each test file runs, from its name, and a static scan that says whether a file can touch the
// kernel. Shared by the root vitest config, the kernel matrix's guest config and the check in
// kernels/marks.host.test.ts.
//
//   *.host.test.ts    kernel-independent ("pure"): runs once, on the host
//   *.serial.test.ts  touches machine-global kernel state: host (serial group) and every guest kernel
//   *.soak.test.ts    long soaks: only `pnpm soak`
//   *.test.ts         touches the kernel: host and every guest kernel
//
// A file touches the kernel when it, or a repository module it imports (followed through relative
// imports, `new URL('./…', import.meta.url)` references to fixtures and workers, and built `dist/`
// paths), does any of:
//   - imports a package that calls into the kernel: @bpfjs/sys, link, netns, map, object, features,
//     testkit (its gates, fixtures and leak checks), cli — or koffi itself;
//   - names a kernel interface path (/sys/kernel/btf, /sys/fs/bpf, /proc/…/ns, /run/netns, …);
//   - runs a tool that asks the kernel (bpftool, ip, tc, unshare, nsenter, capsh, setpriv, mount).
// Imports of the pure packages (@bpfjs/uapi, @bpfjs/asm, @bpfjs/btf) and `import type` are not
// followed. The scan errs towards "touches the kernel": such a file runs in the guest too, which
// costs time but never hides a kernel difference.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/** Workspace packages whose code makes system calls (through @bpfjs/sys) when a test uses them. */
export const KERNEL_PACKAGES = ['sys', 'link', 'netns', 'map', 'object', 'features', 'testkit', 'cli'];

/** Where the test files live (relative to the repository root). */
export const TEST_ROOTS = ['packages', 'examples', 'tests', 'bench', 'kernels'];

/** The mark a file carries in its name. */
export function markOf(file) {
  if (file.endsWith('.host.test.ts')) return 'host';
  if (file.endsWith('.soak.test.ts')) return 'soak';
  if (file.endsWith('.serial.test.ts')) return 'serial';
  return 'kernel';
}

/** Every `*.test.ts` under TEST_ROOTS, relative to `root`, sorted (node_modules, dist, .cache skipped). */
export function testFiles(root) {
  const out = [];
  const walk = (dir) => {
    for (const ent of readdirSync(join(root, dir), { withFileTypes: true })) {
      if (ent.name === 'node_modules' || ent.name === 'dist' || ent.name.startsWith('.')) continue;
      const rel = `${dir}/${ent.name}`;
      if (ent.isDirectory()) walk(rel);
      else if (ent.name.endsWith('.test.ts')) out.push(rel);
    }
  };
  for (const d of TEST_ROOTS) if (existsSync(join(root, d))) walk(d);
  return out.sort();
}

// Kernel interfaces named in test code (test files, their helpers under test/ and fixtures/,
// tests/, bench/): a kernel path read or written on the same line, a tool that asks the kernel, an
// API that reads the running kernel's BTF, a socket. Library sources are judged by their imports
// only (a path constant in a library is not a call).
const KERNEL_PATH =
  /['"`](\/sys\/kernel\/btf|\/sys\/fs\/bpf|\/sys\/fs\/cgroup|\/proc\/(?:self|thread-self|\d+|\$\{[^}]+\})\/(?:ns|net|fd)\b|\/proc\/sys\/(?:net|kernel|user)|\/run\/netns|\/var\/run\/netns)/;
const FS_CALL =
  /\b(?:read\w*|open\w*|exists\w*|stat\w*|lstat\w*|write\w*|access\w*|mkdir\w*|rm\w*|unlink\w*|glob\w*)\(/;
const KERNEL_TOOL =
  /\b(?:exec|execFile|execFileSync|execSync|spawn|spawnSync)\(\s*(?:['"`](?:bpftool|ip|tc|unshare|nsenter|capsh|setpriv|mount|umount)['"`]|(?:IP|UNSHARE|CAPSH|SETPRIV|BPFTOOL)\b)|\[\s*['"`](?:\/usr)?\/s?bin\/(?:ip|capsh|unshare|setpriv|bpftool|tc)['"`]/;
const KERNEL_API = /\b(?:loadKernel\w*|KERNEL_BTF_PATH)\b/;
const SOCKETS = new Set(['node:net', 'net', 'node:dgram', 'dgram']);

/** The import-like references of a source text (specifier strings), without `import type`. */
function references(text) {
  const refs = [];
  const push = (re) => {
    for (const m of text.matchAll(re)) refs.push(m[1]);
  };
  push(/^\s*(?:import|export)\s+(?!type\b)[^'";]*?\bfrom\s*['"]([^'"]+)['"]/gm);
  push(/^\s*import\s*['"]([^'"]+)['"]/gm);
  push(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g);
  push(/\brequire\(\s*['"]([^'"]+)['"]\s*\)/g);
  push(/\bnew URL\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*,\s*import\.meta\.url/g);
  push(/\bresolve\(\s*['"](@bpfjs\/[^'"]+)['"]\s*\)/g);
  return refs;
}

function resolveFile(path) {
  const candidates = [
    path,
    path.replace(/\.js$/, '.ts'),
    path.replace(/\.mjs$/, '.mts'),
    `${path}.ts`,
    join(path, 'index.ts'),
  ];
  return candidates.find((c) => existsSync(c) && statSync(c).isFile());
}

/**
 * Scans test files and the repository modules they reach. `kernelReasons(file)` gives why a file
 * touches the kernel ([] when it does not), each reason naming the module that does.
 */
export function createScanner(root) {
  return scannerOf(root, undefined);
}

// `vi.mock('./x.js', () => …)` in a test file: the module is replaced by the factory's fake for the
// whole file (every import of it, also from the modules under test), so the real one never loads —
// a test that fakes the kernel interface (libc's bpf(), link's kernel calls) makes no syscall.
const FACTORY_MOCK = /\bvi\.(?:mock|doMock)\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*,/g;

function scannerOf(root, replaced) {
  const memo = new Map(replaced ?? []);
  // The scanner's own patterns name what they look for.
  memo.set(join(root, 'kernels', 'lib', 'marks.mjs'), []);
  const reasonsOf = (abs, stack) => {
    if (memo.has(abs)) return memo.get(abs);
    if (stack.has(abs)) return [];
    stack.add(abs);
    const rel = relative(root, abs).split(sep).join('/');
    const reasons = [];
    let text = '';
    try {
      text = readFileSync(abs, 'utf8');
    } catch {}
    const testSide = !/^packages\/[^/]+\/src\//.test(rel) || /\.test\.ts$|\/(test|fixtures)\//.test(rel);
    if (testSide) {
      const line = text.split('\n').find((l) => KERNEL_PATH.test(l) && FS_CALL.test(l));
      if (line) reasons.push(`${rel} uses ${KERNEL_PATH.exec(line)?.[1]}`);
      const tool = KERNEL_TOOL.exec(text);
      if (tool) reasons.push(`${rel} runs ${tool[0].replace(/^.*?\(\s*/, '').replace(/[[\]'"`\s]/g, '')}`);
      const api = KERNEL_API.exec(text);
      if (api) reasons.push(`${rel} uses ${api[0]}`);
    }
    for (const spec of references(text)) {
      const ws = /^@bpfjs\/([^/]+)(\/.*)?$/.exec(spec);
      if (spec === 'koffi') reasons.push(`${rel} imports koffi`);
      else if (testSide && SOCKETS.has(spec)) reasons.push(`${rel} opens sockets (${spec})`);
      else if (ws && KERNEL_PACKAGES.includes(ws[1])) reasons.push(`${rel} imports ${spec}`);
      else if (spec.startsWith('.')) {
        let target = resolve(dirname(abs), spec);
        // A built package (packages/<p>/dist/…) stands for its sources.
        const dist = /^packages\/([^/]+)\/dist(\/|$)/.exec(relative(root, target).split(sep).join('/'));
        if (dist) {
          if (KERNEL_PACKAGES.includes(dist[1])) reasons.push(`${rel} loads the built @bpfjs/${dist[1]}`);
          continue;
        }
        target = resolveFile(target);
        if (!target) continue;
        const sub = reasonsOf(target, stack);
        if (sub.length) reasons.push(sub[0]);
      }
    }
    stack.delete(abs);
    memo.set(abs, reasons);
    return reasons;
  };
  return {
    /** Why `file` (relative to the root) touches the kernel; [] when nothing in it or its imports does. */
    kernelReasons(file) {
      const abs = join(root, file);
      let text = '';
      try {
        text = readFileSync(abs, 'utf8');
      } catch {}
      const mocked = [...text.matchAll(FACTORY_MOCK)]
        .map((m) => resolveFile(resolve(dirname(abs), m[1])))
        .filter(Boolean);
      // A file with fakes gets a scan of its own: what it replaces counts as pure for it alone.
      if (mocked.length && !replaced)
        return scannerOf(
          root,
          mocked.map((m) => [m, []]),
        ).kernelReasons(file);
      return [...new Set(reasonsOf(abs, new Set()))];
    },
  };
}

/**
 * The files whose mark disagrees with the scan. `errors`: a `.host` file that touches the kernel (it
 * would never run on the guest kernels). `notes`: a guest file that touches nothing the scan knows
 * (it costs guest time on every kernel; rename it to `*.host.test.ts` if it is pure) — reported, not
 * failed, because the guest is the safe side.
 */
export function checkMarks(root) {
  const scan = createScanner(root);
  const errors = [];
  const notes = [];
  for (const file of testFiles(root)) {
    const mark = markOf(file);
    if (mark === 'soak' || file.startsWith('kernels/guest/')) continue;
    const reasons = scan.kernelReasons(file);
    if (mark === 'host' && reasons.length)
      errors.push({
        file,
        problem: `touches the kernel, so it must run in the guest: rename it to *.test.ts (${reasons.join('; ')})`,
      });
    if ((mark === 'kernel' || mark === 'serial') && !reasons.length)
      notes.push({
        file,
        problem: 'touches no kernel interface the scan knows: if it is pure, rename it to *.host.test.ts',
      });
  }
  return { errors, notes };
}
