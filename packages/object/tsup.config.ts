import { packageConfig } from '../../tsup.base';

// keepInternal: the declarations of load.ts name btf.ts's @internal KIND table.
export default packageConfig(undefined, { keepInternal: true });
