// Config for the child vitest runs of src/leaks.test.ts: the files here deliberately leak (or do not)
// and must be outside the normal include pattern (packages/*/src/**/*.test.ts).
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const packages = readdirSync(`${root}packages`);

export default defineConfig({
  root,
  resolve: {
    alias: [
      { find: /^@bpfjs\/uapi\/linux\/(.+)$/, replacement: `${root}packages/uapi/src/generated/linux/$1.ts` },
      { find: /^@bpfjs\/testkit\/setup$/, replacement: `${root}packages/testkit/src/setup.ts` },
      ...packages.map((dir) => ({
        find: new RegExp(`^@bpfjs/${dir}$`),
        replacement: `${root}packages/${dir}/src/index.ts`,
      })),
    ],
  },
  test: {
    include: ['packages/testkit/test-fixtures/*.fixture.ts'],
    setupFiles: [`${root}packages/testkit/src/setup.ts`],
    testTimeout: 30_000,
  },
});
