/**
 * Test helper: compiles the C programs of `test-progs/` with clang (`-target bpf -O2 -g`) into a
 * cache outside git, keyed by a hash of the source, the flags and the compiler version; a
 * vmlinux.h generated from the running kernel's BTF (bpftool) sits in the same cache.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Directory of the test C sources. */
export const TEST_PROGS = join(dirname(fileURLToPath(import.meta.url)), '../../test-progs');

/** The cache directory for compiled objects and the generated vmlinux.h. */
export const CACHE_DIR = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'bpfjs', 'objects');

let clangVersion: string | undefined;

function arch(): string {
  return process.arch === 'arm64' ? 'arm64' : process.arch === 'x64' ? 'x86' : process.arch;
}

/** `vmlinux.h` of the running kernel (generated once per kernel BTF, cached). */
export function vmlinuxHeaderDir(): string {
  const btf = readFileSync('/sys/kernel/btf/vmlinux');
  const dir = join(CACHE_DIR, `vmlinux-${createHash('sha256').update(btf).digest('hex').slice(0, 16)}`);
  const file = join(dir, 'vmlinux.h');
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    const text = execFileSync('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux', 'format', 'c'], {
      maxBuffer: 512 * 1024 * 1024,
    });
    writeFileSync(`${file}.${process.pid}`, text);
    renameSync(`${file}.${process.pid}`, file);
  }
  return dir;
}

/** Whether clang and bpftool are installed (the tests that compile C need them). */
export function haveToolchain(): boolean {
  try {
    execFileSync('clang', ['--version'], { stdio: 'ignore' });
    return existsSync('/usr/include/bpf/bpf_helpers.h');
  } catch {
    return false;
  }
}

/**
 * Compiles `test-progs/<name>.c` (or the given source text) and returns the object's path.
 * `vmlinux` adds the generated vmlinux.h to the include path (CO-RE programs).
 */
export function compile(
  name: string,
  options: { source?: string; vmlinux?: boolean; defines?: string[] } = {},
): string {
  const source = options.source ?? readFileSync(join(TEST_PROGS, `${name}.c`), 'utf8');
  clangVersion ??= execFileSync('clang', ['--version'], { encoding: 'utf8' });
  const includes = [
    '-I',
    '/usr/include/x86_64-linux-gnu',
    '-I',
    '/usr/include/aarch64-linux-gnu',
    '-I',
    TEST_PROGS,
  ];
  if (options.vmlinux) includes.push('-I', vmlinuxHeaderDir());
  const flags = [
    '-target',
    'bpf',
    '-O2',
    '-g',
    `-D__TARGET_ARCH_${arch()}`,
    ...(options.defines ?? []).map((d) => `-D${d}`),
    ...includes,
  ];
  const hash = createHash('sha256')
    .update(source)
    .update(flags.join(' '))
    .update(clangVersion)
    .digest('hex')
    .slice(0, 20);
  mkdirSync(CACHE_DIR, { recursive: true });
  const out = join(CACHE_DIR, `${name}-${hash}.o`);
  if (existsSync(out)) return out;
  const src = join(CACHE_DIR, `${name}-${hash}.c`);
  writeFileSync(src, source);
  const tmp = `${out}.${process.pid}`;
  execFileSync('clang', [...flags, '-c', src, '-o', tmp], { stdio: ['ignore', 'ignore', 'pipe'] });
  renameSync(tmp, out);
  return out;
}
