import { packageConfig } from '../../tsup.base';

// koffi is loaded on first use through createRequire(import.meta.url); the CJS build needs the shim.
export default packageConfig({ index: 'src/index.ts', internal: 'src/internal.ts' }, { shims: true });
