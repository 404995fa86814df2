// vitest configuration of the kernel-matrix guest: the repository's own configuration (every
// package's projects, the serial group) plus the matrix's guest checks in kernels/guest/, minus the
// test files whose result cannot depend on the kernel (they run in the host suite; under TCG they
// would cost minutes per kernel), with timeouts scaled for an emulated CPU.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
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
    ];

type Project = { test?: { exclude?: string[] } & Record<string, unknown> } & Record<string, unknown>;
const projects = ((base.test?.projects ?? []) as Project[]).map((p) =>
  typeof p === 'object' && p.test
    ? { ...p, test: { ...p.test, exclude: [...(p.test.exclude ?? []), ...HOST_ONLY] } }
    : p,
);

export default defineConfig({
  ...base,
  root,
  test: {
    ...base.test,
    // TCG runs code 10-20x slower than the host: the host's 60 s limits would fail working tests.
    testTimeout: 240_000,
    hookTimeout: 240_000,
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
