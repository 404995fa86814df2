// vitest configuration of the kernel-matrix guest: the repository's own configuration (every
// package's projects, the serial group) plus the matrix's guest checks in kernels/guest/, minus the
// kernel-independent test files, with timeouts scaled for an emulated CPU. A test file's name says
// where it runs (kernels/lib/marks.mjs): `*.host.test.ts` is kernel-independent and runs once, on the
// host; every other `*.test.ts` touches the kernel and runs here too. `kernels/marks.host.test.ts`
// fails when a name and what the file does disagree.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import base from '../vitest.config.ts';
// @ts-expect-error plain ESM shared with the runner and the check
import { markOf, testFiles } from './lib/marks.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Kernel-independent files (by name) and long soaks: never run in the guest. */
const HOST = ['**/*.host.test.ts', '**/*.soak.test.ts'];

type Project = { test?: { exclude?: string[]; include?: string[] } & Record<string, unknown> } & Record<
  string,
  unknown
>;

// Under TCG, starting a fresh worker per test file (vitest's isolation) costs seconds per file, more
// than most files take to run. The guest therefore reuses workers across files (`isolate: false`),
// except for files that replace modules (`vi.mock` & co.), which get an isolated project of their own.
// BPFJS_MATRIX_ISOLATE=1 isolates every file, as the host suite does.
const NEEDS_ISOLATION = /\bvi\.(mock|doMock|unmock|resetModules|stubGlobal|stubEnv)\(/;
const isolateAll = Boolean(process.env.BPFJS_MATRIX_ISOLATE);
const isolated: string[] = isolateAll
  ? []
  : (testFiles(root) as string[])
      .filter((f) => markOf(f) === 'kernel' && !f.startsWith('kernels/'))
      .filter((f) => NEEDS_ISOLATION.test(readFileSync(join(root, f), 'utf8')));

// More workers than vCPUs: kernel tests mostly wait (netns teardown, polls, child processes), not
// compute. Set for the whole run (vitest reads the worker count from the root config only); the
// serial project keeps one file at a time through its single fork (see ../vitest.config.ts).
const workers = Number(process.env.BPFJS_MATRIX_WORKERS) || 3;
// Group 0: the serial files (the init netns's flow dissector: the seed's semantics) and the guest's
// own checks run first, so that a run cut by its time limit has always done them; group 1: the rest.
// The host's per-package projects are merged into one `kernel` project here: every vitest project is
// a Vite server of its own, and under TCG a dozen of them took minutes to start before the first
// test ran. Their settings are the shared root ones (include/exclude/order only differ).
const baseProjects = (base.test?.projects ?? []) as Project[];
const nameOf = (p: Project) => (p.test as { name?: string } | undefined)?.name;
const serial = baseProjects.find((p) => nameOf(p) === 'serial');
if (!serial?.test) throw new Error('kernels/vitest.config.ts: the root config has no serial project');
const reuse = isolateAll ? {} : { isolate: false };

// The workspace packages from their built `dist/` (what `pnpm test:kernels` builds right before the
// guest starts, and what child processes and worker threads load anyway), loaded by Node itself
// instead of being transformed from TypeScript by Vite: under TCG, importing the sources of the
// layers a test file uses took most of the guest's time (a link test file: ~50 s before its first
// test, a worker's first file each). Only the package under test comes from source, through the
// test file's relative imports; a layer loaded twice (its source and its dist) is fine by design
// (brands and the fd tracker are `Symbol.for` globals). Files that replace modules (`isolated`)
// keep the host's source aliases, so what they mock is what the code under test imports.
// BPFJS_MATRIX_SOURCE=1 keeps the sources everywhere.
const distAlias = readdirSync(join(root, 'packages')).flatMap((dir) => {
  const pkg = JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8')) as {
    name: string;
    exports: Record<string, string | { import?: { default?: string } }>;
  };
  return Object.entries(pkg.exports).flatMap(([sub, target]) => {
    const file = typeof target === 'object' ? target.import?.default : undefined;
    if (!file?.endsWith('.js')) return [];
    const name = sub === '.' ? pkg.name : `${pkg.name}/${sub.slice(2)}`;
    return [
      {
        find: new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`),
        replacement: join(root, 'packages', dir, file),
      },
    ];
  });
});
const useDist = !process.env.BPFJS_MATRIX_SOURCE;
const fromDist = useDist ? { resolve: { alias: distAlias } } : {};
const externalDist = useDist ? { server: { deps: { external: [/\/packages\/[^/]+\/dist\//] } } } : {};
const projects: Project[] = [
  {
    ...serial,
    test: {
      ...serial.test,
      exclude: [...(serial.test.exclude ?? []), ...HOST],
      sequence: { groupOrder: 0 },
      ...reuse,
      ...externalDist,
    },
    ...fromDist,
  },
  {
    extends: true,
    test: {
      name: 'kernel',
      // every parallel project of the host (packages, reliability), not the host-only `kernels`, and
      // not `bench`: its smoke run checks the benchmark harness and report shape (the numbers of a
      // TCG guest mean nothing), on the host only; nor `release` (README examples run as written,
      // setup scripts: on the host, the kernel a user has)
      include: baseProjects
        .filter((p) => !['serial', 'kernels', 'soak', 'bench', 'release'].includes(nameOf(p) ?? ''))
        .flatMap((p) => p.test?.include ?? []),
      exclude: ['**/node_modules/**', '**/*.serial.test.ts', ...HOST, ...isolated],
      sequence: { groupOrder: 1 },
      ...reuse,
      ...externalDist,
    },
    ...fromDist,
  },
];
if (isolated.length) {
  projects.push({
    extends: true,
    test: { name: 'isolated', include: isolated, exclude: HOST, isolate: true, sequence: { groupOrder: 1 } },
  });
}

// Within group 1, what matters most starts first, so a cut can only skip the long tail: the netns
// link semantics this project is about (link's netns, flow dissector, sk_lookup and pin files,
// testkit's conformance suite, netns teardown with links), then the other files of the kernel-facing
// layers, then the rest, then the process-heavy long tail (the CLI's spawning tests, tests/, bench/).
// Within a tier, vitest's usual order.
const PRIORITY = [
  /^kernels\//,
  /^packages\/link\/src\/(flow-dissector|sk-lookup|netns|pin|iterate)[.-]/,
  /^packages\/testkit\/src\/conformance/,
  /^packages\/netns\/src\/teardown/,
  /^packages\/(link|sys|netns|map|object|btf|features)\//,
  /^packages\//,
];
const LAST = /^(tests|bench)\/|^packages\/cli\/src\/cli\.test\.ts$/;
function matrixRank(file: string): number {
  if (LAST.test(file)) return PRIORITY.length + 1;
  const i = PRIORITY.findIndex((p) => p.test(file));
  return i < 0 ? PRIORITY.length : i;
}
class MatrixSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    return sorted
      .map((f, i) => ({ f, i, r: matrixRank(relative(root, f.moduleId).split(sep).join('/')) }))
      .sort((a, b) => a.r - b.r || a.i - b.i)
      .map(({ f }) => f);
  }
}

export default defineConfig({
  ...base,
  root,
  test: {
    ...base.test,
    // testkit's setup (fd-leak check, file-scope cleanups) from dist too: it runs before every file,
    // and its state lives in `Symbol.for` globals, so it sees the fds of every copy of @bpfjs/sys.
    ...(useDist ? { setupFiles: [join(root, 'packages/testkit/dist/setup.js')] } : {}),
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
          name: 'guest',
          include: ['kernels/guest/**/*.test.ts'],
          sequence: { groupOrder: 0 },
          ...externalDist,
        },
        ...fromDist,
      },
    ],
  },
});
