// vitest configuration of the kernel-matrix guest: the repository's own configuration (every
// package's tests, the serial group) plus the matrix's guest checks in kernels/guest/.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import base from '../vitest.config.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const projects = base.test?.projects ?? [];

export default defineConfig({
  ...base,
  root,
  test: {
    ...base.test,
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
