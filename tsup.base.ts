// The one tsup configuration every package builds with: ESM + CJS, declarations (without
// `@internal` members), source maps, for Node 20. A package's own tsup.config.ts names its entry
// points and anything it needs beyond this.
import { rmSync } from 'node:fs';
import { defineConfig, type Options } from 'tsup';

/** What a package may set beyond plain tsup options. */
export interface PackageOptions extends Options {
  /**
   * Entries built as ESM only, with no declarations: executables (`bin`) that nothing `require()`s
   * or imports by type. Their CJS twins would be unused files in the tarball.
   */
  esmOnly?: readonly string[];
  /**
   * Keep `@internal` members in the declarations (default: stripped). Only for a package whose
   * public declarations still name an `@internal` declaration (the dts build fails on those).
   */
  keepInternal?: boolean;
}

/** tsup options for one package: `entry` (default `src/index.ts`) plus any `extra` options. */
export function packageConfig(
  entry: Record<string, string> = { index: 'src/index.ts' },
  { esmOnly = [], keepInternal = false, ...extra }: PackageOptions = {},
) {
  const typed = Object.fromEntries(Object.entries(entry).filter(([name]) => !esmOnly.includes(name)));
  return defineConfig({
    entry,
    format: ['esm', 'cjs'],
    // Declarations only for the entries a consumer imports, without `@internal` members.
    dts: { entry: typed, compilerOptions: { stripInternal: !keepInternal } },
    clean: true,
    sourcemap: true,
    target: 'node20',
    platform: 'node',
    splitting: true,
    ...extra,
    async onSuccess() {
      // tsup builds every entry in every format; drop the CJS output of ESM-only entries.
      for (const name of esmOnly) {
        for (const ext of ['cjs', 'cjs.map']) rmSync(`dist/${name}.${ext}`, { force: true });
      }
    },
  });
}
