import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Tests import the workspace packages from source, so a test run never depends on a stale build.
// Child processes and worker threads started by tests load the built `dist/` instead.
const root = fileURLToPath(new URL('.', import.meta.url));
const packages = readdirSync(`${root}packages`);
// examples/: private workspace packages (runnable examples), one vitest project each, named `example-<dir>`.
const examples = readdirSync(`${root}examples`, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name);
const alias = [
  { find: /^@bpfjs\/uapi\/linux\/(.+)$/, replacement: `${root}packages/uapi/src/generated/linux/$1.ts` },
  { find: /^@bpfjs\/sys\/internal$/, replacement: `${root}packages/sys/src/internal.ts` },
  { find: /^@bpfjs\/testkit\/setup$/, replacement: `${root}packages/testkit/src/setup.ts` },
  { find: /^@bpfjs\/testkit\/compile$/, replacement: `${root}packages/testkit/src/compile.ts` },
  ...packages.map((dir) => ({
    find: new RegExp(`^@bpfjs/${dir}$`),
    replacement: `${root}packages/${dir}/src/index.ts`,
  })),
];

// A test file's name says where it runs (kernels/lib/marks.mjs; kernels/marks.host.test.ts checks
// the names against what the files do):
// - `*.host.test.ts`: kernel-independent (no bpf(2), netns, mount or socket call): here only, not in
//   the kernel matrix's guests;
// - `*.test.ts`: touches the kernel: here and on every kernel of the matrix (kernels/vitest.config.ts);
// - `*.serial.test.ts`: touches machine-global state (the init netns's flow dissector, which excludes
//   flow dissectors in every other netns). Here they run after everything else, one file at a time;
// - `*.soak.test.ts`: long soaks, run only by `pnpm soak`.
export default defineConfig({
  resolve: { alias },
  test: {
    // `.ci/run` reads the pass/fail counts from a JSON report written beside the normal output.
    ...(process.env.BPFJS_VITEST_JSON
      ? { reporters: ['default', 'json'], outputFile: { json: process.env.BPFJS_VITEST_JSON } }
      : {}),
    // Per test file: fails the file that leaves an Fd (or a BPF object / netns descriptor) open, and
    // cleans up testkit fixtures created outside a test. See packages/testkit/src/setup.ts.
    setupFiles: [`${root}packages/testkit/src/setup.ts`],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      ...packages.map((dir) => ({
        extends: true as const,
        test: {
          name: dir,
          include: [`packages/${dir}/src/**/*.test.ts`],
          exclude: ['**/*.serial.test.ts', '**/*.soak.test.ts', '**/node_modules/**'],
          sequence: { groupOrder: 0 },
        },
      })),
      ...examples.map((dir) => ({
        extends: true as const,
        test: {
          name: `example-${dir}`,
          include: [`examples/${dir}/src/**/*.test.ts`],
          exclude: ['**/*.serial.test.ts', '**/*.soak.test.ts', '**/node_modules/**'],
          sequence: { groupOrder: 0 },
        },
      })),
      {
        // tests/reliability: teardown races, leaks, hostile input, least privilege, process lifetime.
        extends: true as const,
        test: {
          name: 'reliability',
          include: ['tests/reliability/**/*.test.ts'],
          exclude: ['**/*.serial.test.ts', '**/*.soak.test.ts', '**/node_modules/**'],
          sequence: { groupOrder: 0 },
        },
      },
      {
        // The kernel matrix's own checks that run on the host (test-file marks, the runner's logic).
        extends: true as const,
        test: { name: 'kernels', include: ['kernels/*.host.test.ts'], sequence: { groupOrder: 0 } },
      },
      {
        // tests/release: what a user gets from npm — setup scripts, README examples run as written.
        extends: true as const,
        test: {
          name: 'release',
          include: ['tests/release/**/*.test.ts'],
          exclude: ['**/*.serial.test.ts', '**/node_modules/**'],
          sequence: { groupOrder: 0 },
        },
      },
      {
        // Smoke run of bench/ (a few iterations; asserts the report's shape, never a duration).
        extends: true as const,
        test: { name: 'bench', include: ['bench/**/*.test.ts'], sequence: { groupOrder: 0 } },
      },
      {
        extends: true as const,
        test: {
          name: 'serial',
          include: [
            'packages/*/src/**/*.serial.test.ts',
            'examples/*/src/**/*.serial.test.ts',
            'tests/reliability/**/*.serial.test.ts',
          ],
          fileParallelism: false,
          // One file at a time even when the run has several workers: vitest takes the worker count
          // from the root config only; a project's single fork/thread is what it honours per project.
          poolOptions: { forks: { singleFork: true }, threads: { singleThread: true } },
          sequence: { groupOrder: 1 },
        },
      },
      ...(process.env.BPFJS_SOAK
        ? [
            {
              extends: true as const,
              test: {
                name: 'soak',
                include: ['packages/*/src/**/*.soak.test.ts', 'tests/reliability/**/*.soak.test.ts'],
                fileParallelism: false,
                sequence: { groupOrder: 2 },
              },
            },
          ]
        : []),
    ],
  },
});
