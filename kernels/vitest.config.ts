// vitest configuration of the kernel-matrix guest: the repository's own configuration (every
// package's projects, the serial group) plus the matrix's guest checks in kernels/guest/, minus the
// test files whose result cannot depend on the kernel (they run in the host suite; under TCG they
// would cost minutes per kernel), with timeouts scaled for an emulated CPU.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import base from '../vitest.config.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * Kernel-independent test files, left out of the guest (BPFJS_MATRIX_ALL=1 keeps them). Each entry
 * says why; a new test file is included by default.
 */
export const HOST_ONLY: readonly string[] = process.env.BPFJS_MATRIX_ALL
  ? []
  : [
      // instruction encoding and formatting: pure functions
      'packages/asm/**',
      // header generator, C compiler oracle, generated-code drift, export surface: build-time checks
      // (btf-oracle and the BTF reader, which read the running kernel's BTF, stay)
      'packages/uapi/src/{api,generator,c-oracle,drift}.test.ts',
      // the CLI spawns node processes per case (tens of seconds each under TCG); its kernel paths are
      // the link/netns layers, which run here
      'packages/cli/**',
      // child vitest runs that test testkit's own machinery (leak reporting, the conformance
      // suite catching a broken adapter), not the kernel
      'packages/testkit/src/leaks.test.ts',
      'packages/testkit/src/conformance-api.test.ts',
      // benchmark smoke test: timings, not semantics
      'bench/**',
      // the reliability suite: stress loops, races between processes, process lifetimes and
      // least-privilege runs — each case spawns node processes (5-10 s apiece under TCG), so the
      // suite alone outlasts a kernel's time limit; the host suite runs it
      'tests/reliability/**',
      // testkit's gate tests run injected versions and a child vitest, not the guest's kernel (the
      // gates meet the real kernel in every gated test here)
      'packages/testkit/src/gates.test.ts',
    ];

type Project = { test?: { exclude?: string[]; include?: string[] } & Record<string, unknown> } & Record<
  string,
  unknown
>;

// Under TCG, starting a fresh worker per test file (vitest's isolation) costs seconds per file, more
// than most files take to run. The guest therefore reuses workers across files (`isolate: false`),
// except for files that replace modules (`vi.mock` & co.), which get an isolated project of their own.
// BPFJS_MATRIX_ISOLATE=1 isolates every file, as the host suite does.
const NEEDS_ISOLATION = /\bvi\.(mock|doMock|unmock|resetModules|stubGlobal|stubEnv)\(/;
function testFiles(dir: string, out: string[] = []): string[] {
  for (const ent of readdirSync(join(root, dir), { withFileTypes: true })) {
    const rel = `${dir}/${ent.name}`;
    if (ent.isDirectory()) {
      if (ent.name !== 'node_modules' && ent.name !== 'dist') testFiles(rel, out);
    } else if (ent.name.endsWith('.test.ts')) out.push(rel);
  }
  return out;
}
const isolateAll = Boolean(process.env.BPFJS_MATRIX_ISOLATE);
const isolated = isolateAll
  ? []
  : ['packages', 'tests']
      .filter((d) => existsSync(join(root, d)))
      .flatMap((d) => testFiles(d))
      .filter((f) => !f.endsWith('.serial.test.ts') && !f.endsWith('.soak.test.ts'))
      .filter((f) => NEEDS_ISOLATION.test(readFileSync(join(root, f), 'utf8')));

// More workers than vCPUs: kernel tests mostly wait (netns teardown, polls, child processes), not
// compute. Set for the whole run (vitest reads the worker count from the root config only); the
// serial project keeps one file at a time through its single fork (see ../vitest.config.ts).
const workers = Number(process.env.BPFJS_MATRIX_WORKERS) || 3;
const projects = ((base.test?.projects ?? []) as Project[]).map((p) =>
  typeof p === 'object' && p.test
    ? {
        ...p,
        test: {
          ...p.test,
          exclude: [...(p.test.exclude ?? []), ...HOST_ONLY, ...isolated],
          ...(isolateAll ? {} : { isolate: false }),
        },
      }
    : p,
);
if (isolated.length) {
  projects.push({
    extends: true,
    test: {
      name: 'isolated',
      include: isolated,
      exclude: [...HOST_ONLY],
      isolate: true,
      sequence: { groupOrder: 0 },
    },
  });
}

// When a kernel's time limit cuts a run short, what ran should be what matters most: the guest's
// own checks, then the link layer (the netns link semantics this project is about), sys, netns,
// testkit, the rest. Within a group, vitest's usual order.
const PRIORITY = ['kernels/', 'packages/link/', 'packages/sys/', 'packages/netns/', 'packages/testkit/'];
class MatrixSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification) => {
      const i = PRIORITY.findIndex((p) => f.moduleId.startsWith(join(root, p)));
      return i < 0 ? PRIORITY.length : i;
    };
    return sorted
      .map((f, i) => ({ f, i, r: rank(f) }))
      .sort((a, b) => a.r - b.r || a.i - b.i)
      .map(({ f }) => f);
  }
}

export default defineConfig({
  ...base,
  root,
  test: {
    ...base.test,
    // TCG runs code 10-20x slower than the host: the host's 60 s limits would fail working tests.
    testTimeout: 240_000,
    hookTimeout: 240_000,
    maxWorkers: workers,
    minWorkers: 1,
    sequence: { ...base.test?.sequence, sequencer: MatrixSequencer },
    projects: [
      ...projects,
      {
        extends: true as const,
        test: {
          name: 'kernels',
          include: ['kernels/guest/**/*.test.ts'],
          sequence: { groupOrder: 0 },
        },
      },
    ],
  },
});
