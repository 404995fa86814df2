// scripts/setup installs what `pnpm demo` and `pnpm test` need, and nothing for the kernel matrix
// (QEMU, busybox, ...): scripts/setup-kernels does that, run by `pnpm test:kernels`.
// Both scripts run for real with a PATH on which nothing is installed and apt-get, dpkg, pnpm and
// npm are stubs that record what they were asked to do.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url).pathname;
const bin = mkdtempSync(join(tmpdir(), 'bpfjs-setup-'));
afterAll(() => rmSync(bin, { recursive: true, force: true }));

const log = join(bin, 'calls.log');
const stub = (name: string, body: string) => {
  writeFileSync(join(bin, name), `#!/bin/bash\necho "${name} $*" >> ${log}\n${body}\n`);
  chmodSync(join(bin, name), 0o755);
};
stub('apt-get', 'exit 0');
stub('dpkg', 'exit 1'); // "not installed"
stub('npm', 'exit 0');
const wantPnpm = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).packageManager.split('@')[1];
stub('pnpm', `[ "$1" = --version ] && echo ${wantPnpm}; exit 0`);
stub('uname', 'echo test');
symlinkSync(process.execPath, join(bin, 'node'));
symlinkSync('/usr/bin/dirname', join(bin, 'dirname'));

function run(script: string): string[] {
  writeFileSync(log, '');
  execFileSync('/bin/bash', [join(root, script)], { env: { PATH: bin }, stdio: 'pipe' });
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('apt-get install'));
}

const matrixPackages = ['qemu-system-x86', 'busybox-static', 'xz-utils', 'zstd'];

describe.skipIf(process.platform !== 'linux')('setup scripts', () => {
  it('scripts/setup installs the test/demo packages and none of the kernel matrix', () => {
    const installs = run('scripts/setup').join(' ').split(' ');
    expect(installs).toEqual(
      expect.arrayContaining([
        'iproute2',
        'bpftool',
        'gcc',
        'libcap2-bin',
        // the object/btf tests: BPF C compiled with clang against libbpf's headers, LLVM tools as oracles
        'clang',
        'llvm',
        'libbpf-dev',
      ]),
    );
    for (const pkg of matrixPackages) expect(installs).not.toContain(pkg);
  });

  it('scripts/setup-kernels installs the kernel matrix packages, and pnpm test:kernels runs it', () => {
    const installs = run('scripts/setup-kernels').join(' ').split(' ');
    expect(installs).toEqual(expect.arrayContaining(matrixPackages));
    const scripts = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts;
    expect(scripts['test:kernels']).toMatch(/^bash scripts\/setup-kernels && /);
  });
});
