import { packageConfig } from '../../tsup.base';

// Built so the service and the CLI run as plain Node processes (the restart test starts them).
export default packageConfig(
  { index: 'src/index.ts', bin: 'src/bin.ts', server: 'src/server.ts' },
  { dts: false },
);
