/**
 * Test helper: compiles the C programs of `test-progs/` through `@bpfjs/testkit`'s reproducible
 * `compileBpf` (cached by source, flags and clang version; `test-progs/` on the include path).
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bpfCacheDir, compileBpf, haveBpfToolchain, vmlinuxHeaderDir } from '@bpfjs/testkit/compile';

/** Directory of the test C sources. */
export const TEST_PROGS = join(dirname(fileURLToPath(import.meta.url)), '../../test-progs');

/** The cache directory for compiled objects and the generated vmlinux.h (writable; see testkit). */
export const CACHE_DIR = bpfCacheDir();

export { vmlinuxHeaderDir };

/** Whether clang and libbpf's headers are installed (the tests that compile C need them). */
export const haveToolchain = haveBpfToolchain;

/**
 * Compiles `test-progs/<name>.c` (or the given source text under that name) and returns the
 * object's path. `vmlinux` adds the generated vmlinux.h to the include path (CO-RE programs).
 */
export function compile(
  name: string,
  options: { source?: string; vmlinux?: boolean; defines?: string[] } = {},
): string {
  return compileBpf(join(TEST_PROGS, `${name}.c`), {
    ...(options.source !== undefined ? { source: options.source } : {}),
    includeDirs: [TEST_PROGS],
    ...(options.vmlinux ? { vmlinux: true } : {}),
    ...(options.defines ? { defines: options.defines } : {}),
  });
}
