import { packageConfig } from '../../tsup.base';

// `bin` is the `bpfjs` executable: ESM only (a CJS copy would be an unused file in the tarball).
export default packageConfig({ index: 'src/index.ts', bin: 'src/bin.ts' }, { esmOnly: ['bin'] });
