import { packageConfig } from '../../tsup.base';

// ESM only: testkit imports vitest, which is ESM only, so a CJS build could only throw on require().
export default packageConfig(
  { index: 'src/index.ts', setup: 'src/setup.ts', compile: 'src/compile.ts' },
  { format: ['esm'] },
);
