// The marks that decide where a test file runs (kernels/lib/marks.mjs): `*.host.test.ts` only on the
// host, every other `*.test.ts` on the host and on each kernel of the matrix. Checked against what the
// files do, so a file that touches the kernel can never drop out of the matrix by its name, and a
// kernel-independent one does not cost guest time on four emulated kernels.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM shared with the vitest configs
import { checkMarks, createScanner, markOf, testFiles } from './lib/marks.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
type Problem = { file: string; problem: string };
const line = (p: Problem) => `${p.file}: ${p.problem}`;

describe('test-file marks of this repository', () => {
  it('no file that touches the kernel is marked host-only', () => {
    const { errors, notes } = checkMarks(root) as Record<'errors' | 'notes', Problem[]>;
    // Guest files that look pure cost guest time; they are listed, not failed (the guest is safe).
    if (notes.length)
      console.warn(`guest test files that touch no kernel interface:\n${notes.map(line).join('\n')}`);
    expect(errors.map(line)).toEqual([]);
  });

  it('finds the files of every package, the reliability suite and bench', () => {
    const files: string[] = testFiles(root);
    expect(files).toContain('packages/link/src/netns-link.serial.test.ts');
    expect(files).toContain('packages/testkit/src/conformance-init.serial.test.ts');
    expect(files).toContain('bench/bench.test.ts');
    expect(files.some((f) => f.startsWith('tests/reliability/'))).toBe(true);
    expect(files.filter((f) => markOf(f) === 'host').length).toBeGreaterThan(5);
  });

  it('the guest configuration leaves out exactly the host files, and runs the serial group first', async () => {
    const { default: guest } = await import('./vitest.config.ts');
    const projects = (guest.test?.projects ?? []) as {
      test: { name: string; exclude?: string[]; sequence?: { groupOrder?: number } };
    }[];
    expect(projects.map((p) => p.test.name)).not.toContain('kernels');
    for (const p of projects.filter((p) => p.test.name !== 'guest')) {
      expect(p.test.exclude, p.test.name).toContain('**/*.host.test.ts');
    }
    const order = Object.fromEntries(projects.map((p) => [p.test.name, p.test.sequence?.groupOrder]));
    expect(order).toMatchObject({ serial: 0, guest: 0, kernel: 1 });
  });
});

describe('the scan behind the check', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bpfjs-marks-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (files: Record<string, string>) => {
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
  };
  // The fixtures' kernel-facing names are put together at run time, so that this file itself is not
  // what it describes.
  const [SYS, LINK, TESTKIT, BTF] = ['sys', 'link', 'testkit']
    .map((p) => `@bpfjs/${p}`)
    .concat(`/sys/kernel/${'btf'}`);
  write({
    'packages/x/src/lib.ts': `import { linkCreate } from '${SYS}';\nexport const f = linkCreate;\n`,
    'packages/x/src/pure.ts': "import { asm } from '@bpfjs/asm';\nexport const g = asm;\n",
    'packages/x/src/a.host.test.ts': `import { progLoad } from '${SYS}';\n`,
    'packages/x/src/b.host.test.ts': "import { f } from './lib.js';\n",
    'packages/x/src/c.host.test.ts':
      "import { execFileSync } from 'node:child_process';\nexecFileSync('bpftool', ['prog']);\n",
    'packages/x/src/d.host.test.ts': `import { readFileSync } from 'node:fs';\nconst b = readFileSync('${BTF}/vmlinux');\n`,
    'packages/x/src/e.host.test.ts': "const w = new URL('../../netns/dist/index.js', import.meta.url);\n",
    'packages/x/src/f.host.test.ts': "import { createServer } from 'node:net';\n",
    'packages/x/src/g.host.test.ts': `const m = await import('${LINK}');\n`,
    'packages/x/src/ok.host.test.ts': `import type { Fd } from '${SYS}';\nimport { g } from './pure.js';\nconst s = parse('/sys/fs/bpf/x');\n`,
    'packages/x/src/pure.test.ts': "import { g } from './pure.js';\n",
    'packages/x/src/kernel.test.ts': "import { f } from './lib.js';\n",
    'packages/x/src/k.serial.test.ts': `import { requireKernel } from '${TESTKIT}';\n`,
    'packages/x/src/long.soak.test.ts': "import { g } from './pure.js';\n",
    // a fake of the kernel-facing module (a factory mock) is what the file loads, not the module
    'packages/x/src/fake.host.test.ts':
      "import { vi } from 'vitest';\nvi.mock('./lib.js', () => ({ f: () => 0 }));\nconst { f } = await import('./lib.js');\n",
    'packages/x/src/automock.host.test.ts':
      "import { vi } from 'vitest';\nvi.mock('./lib.js');\nimport { f } from './lib.js';\n",
  });
  const problems = () => {
    const { errors, notes } = checkMarks(dir) as Record<'errors' | 'notes', Problem[]>;
    const byFile = (list: Problem[]) =>
      Object.fromEntries(list.map((p) => [p.file.replace('packages/x/src/', ''), p.problem]));
    return { errors: byFile(errors), notes: byFile(notes) };
  };

  it('fails a host-marked file that imports, runs, reads or loads something kernel-facing', () => {
    const p = problems().errors;
    expect(p['a.host.test.ts']).toMatch(/must run in the guest.*imports @bpfjs\/sys/);
    expect(p['b.host.test.ts']).toMatch(/packages\/x\/src\/lib\.ts imports @bpfjs\/sys/);
    expect(p['c.host.test.ts']).toMatch(/runs bpftool/);
    expect(p['d.host.test.ts']).toMatch(/uses \/sys\/kernel\/btf/);
    expect(p['e.host.test.ts']).toMatch(/loads the built @bpfjs\/netns/);
    expect(p['f.host.test.ts']).toMatch(/opens sockets/);
    expect(p['g.host.test.ts']).toMatch(/imports @bpfjs\/link/);
    // vi.mock without a factory keeps the real module's imports: still kernel-facing
    expect(p['automock.host.test.ts']).toMatch(/packages\/x\/src\/lib\.ts imports @bpfjs\/sys/);
    expect(p['fake.host.test.ts']).toBeUndefined();
  });

  it('notes a guest file that touches no kernel interface, and leaves correct marks and soaks alone', () => {
    const { errors, notes } = problems();
    expect(notes).toEqual({ 'pure.test.ts': expect.stringMatching(/rename it to \*\.host\.test\.ts/) });
    expect(Object.keys(errors).sort()).toEqual(
      ['a', 'automock', 'b', 'c', 'd', 'e', 'f', 'g'].map((x) => `${x}.host.test.ts`),
    );
  });

  it('says which imported module touches the kernel', () => {
    expect(createScanner(dir).kernelReasons('packages/x/src/kernel.test.ts')).toEqual([
      'packages/x/src/lib.ts imports @bpfjs/sys',
    ]);
  });
});
