// The one tsup configuration every package builds with: ESM + CJS, declarations, source maps, for
// Node 20. A package's own tsup.config.ts names its entry points and anything it needs beyond this.
import { defineConfig, type Options } from 'tsup';

/** tsup options for one package: `entry` (default `src/index.ts`) plus any `extra` options. */
export function packageConfig(entry: Options['entry'] = { index: 'src/index.ts' }, extra: Options = {}) {
  return defineConfig({
    entry,
    format: ['esm', 'cjs'],
    dts: true,
    clean: true,
    sourcemap: true,
    target: 'node20',
    platform: 'node',
    splitting: true,
    ...extra,
  });
}
