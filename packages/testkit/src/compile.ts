/**
 * Compiles BPF C sources with clang (`-target bpf -O2 -g`) for tests and generators, into a cache
 * keyed by a hash of the source, the flags and the compiler version.
 *
 * The object's bytes depend only on the source text, its file name, the flags and clang: clang runs
 * in a scratch directory on `<name>.c` by that relative name with `-fdebug-compilation-dir=.`, and
 * include directories are mapped to fixed names (`-fdebug-prefix-map`), so neither the cwd, the
 * cache location nor the checkout's absolute path reaches the DWARF or the BTF line info. That is
 * what lets a committed skeleton's object hash (`bpfjs gen skeleton --check`) match an object
 * compiled anywhere else (another clone, CI, the kernel matrix's guest).
 *
 * The cache is `$BPFJS_CACHE_DIR`, else `$XDG_CACHE_HOME/bpfjs/objects`, else
 * `~/.cache/bpfjs/objects`; when that is not writable (a read-only checkout or home, as in the
 * kernel matrix's guest) it falls back to `<tmpdir>/bpfjs-cache-<uid>/objects`.
 *
 * Imports nothing from vitest: usable from scripts (`@bpfjs/testkit/compile`).
 *
 * @module
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  accessSync,
  constants,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';

let cacheDir: string | undefined;
let clangVersion: string | undefined;

function writable(dir: string): boolean {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The directory compiled objects and the generated `vmlinux.h` are cached in (created; see the
 * module doc for the order of choices and the fallback when one is not writable).
 */
export function bpfCacheDir(): string {
  if (cacheDir !== undefined) return cacheDir;
  const preferred =
    process.env.BPFJS_CACHE_DIR ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'bpfjs', 'objects');
  const fallback = join(tmpdir(), `bpfjs-cache-${process.getuid?.() ?? 'user'}`, 'objects');
  cacheDir = writable(preferred) ? preferred : fallback;
  mkdirSync(cacheDir, { recursive: true });
  return cacheDir;
}

/** `__TARGET_ARCH_*` of this machine, as libbpf's `bpf_tracing.h` names it. */
export function bpfTargetArch(): string {
  return process.arch === 'arm64' ? 'arm64' : process.arch === 'x64' ? 'x86' : process.arch;
}

/** Whether clang and libbpf's headers (`bpf/bpf_helpers.h`) are installed. */
export function haveBpfToolchain(): boolean {
  try {
    execFileSync('clang', ['--version'], { stdio: 'ignore' });
    return existsSync('/usr/include/bpf/bpf_helpers.h');
  } catch {
    return false;
  }
}

/**
 * The directory holding `vmlinux.h` of the running kernel (bpftool's C dump of
 * `/sys/kernel/btf/vmlinux`), generated once per kernel BTF and cached.
 * @throws when bpftool fails (not installed, no kernel BTF).
 */
export function vmlinuxHeaderDir(): string {
  const btf = readFileSync('/sys/kernel/btf/vmlinux');
  const dir = join(bpfCacheDir(), `vmlinux-${createHash('sha256').update(btf).digest('hex').slice(0, 16)}`);
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

/** Options of {@link compileBpf}. */
export interface CompileBpfOptions {
  /** The C text; default: the file at `path`. */
  readonly source?: string;
  /** Directories searched for `#include "..."` (absolute, or relative to the cwd). */
  readonly includeDirs?: readonly string[];
  /** Adds the running kernel's `vmlinux.h` to the include path (CO-RE programs). */
  readonly vmlinux?: boolean;
  /** `-D` definitions (`'NAME'` or `'NAME=value'`). */
  readonly defines?: readonly string[];
  /** Also copy the object to this path. */
  readonly out?: string;
}

/**
 * Compiles one BPF C source and returns the path of the cached object. `path` names the source
 * (`dir/prog.c`: its base name is the file name clang records); its text is read from there unless
 * `options.source` gives it. The object is reproducible: the same text, name, flags and clang give
 * the same bytes wherever it is compiled.
 * @throws an `Error` with clang's diagnostics in `stderr` when the source does not compile.
 */
export function compileBpf(path: string, options: CompileBpfOptions = {}): string {
  const fileName = basename(path);
  const name = fileName.replace(/\.c$/, '');
  const source = options.source ?? readFileSync(path, 'utf8');
  clangVersion ??= execFileSync('clang', ['--version'], { encoding: 'utf8' });
  const cache = bpfCacheDir();
  const includeDirs = (options.includeDirs ?? []).map((d) => resolve(d));
  if (options.vmlinux) includeDirs.push(vmlinuxHeaderDir());
  const includes: string[] = [];
  // Debian puts asm/ under the multiarch directory; clang -target bpf does not search it by itself.
  for (const d of ['/usr/include/x86_64-linux-gnu', '/usr/include/aarch64-linux-gnu']) includes.push('-I', d);
  includeDirs.forEach((d, i) => {
    includes.push('-I', d, `-fdebug-prefix-map=${d}=include${i}`);
  });
  const flags = [
    '-target',
    'bpf',
    '-O2',
    '-g',
    '-fdebug-compilation-dir=.',
    `-D__TARGET_ARCH_${bpfTargetArch()}`,
    ...(options.defines ?? []).map((d) => `-D${d}`),
    ...includes,
  ];
  // Paths of include directories are in the flags, so a cache entry is per checkout; the object
  // bytes are not (the prefix maps above).
  const hash = createHash('sha256')
    .update(fileName)
    .update('\0')
    .update(source)
    .update('\0')
    .update(flags.join(' '))
    .update('\0')
    .update(clangVersion)
    .digest('hex')
    .slice(0, 20);
  const object = join(cache, `${name}-${hash}.o`);
  if (!existsSync(object)) {
    const scratch = mkdtempSync(join(cache, `build-${name}-`));
    try {
      writeFileSync(join(scratch, fileName), source);
      execFileSync('clang', [...flags, '-c', fileName, '-o', `${name}.o`], {
        cwd: scratch,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      renameSync(join(scratch, `${name}.o`), object);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }
  if (options.out !== undefined) copyFileSync(object, options.out);
  return object;
}
