import { packageConfig } from '../../tsup.base';

// The CJS build needs import.meta.url (the worker resolves @bpfjs/sys from this package).
export default packageConfig(undefined, { shims: true });
