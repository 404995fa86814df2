// pnpm hooks for this workspace.
//
// beforePacking: what `pnpm pack` / `pnpm publish` (and so `changeset publish`) put in a tarball's
// package.json. The scripts (`tsup`, `vitest run --root ../..`, the uapi generator) and the
// devDependencies only work inside this monorepo, so they are not published.
module.exports = {
  hooks: {
    beforePacking(pkg) {
      delete pkg.scripts;
      delete pkg.devDependencies;
      return pkg;
    },
  },
};
