// A world-readable copy of the built packages and the fixtures, for children that run as another
// user (uid 65534 through setpriv). The checkout may sit where that user cannot read it — root
// clones into /root (mode 0700) by default — so the child cannot load anything from the tree
// itself. The copy holds each package's package.json and dist/, the npm dependencies they need
// (dereferenced out of pnpm's store), `node_modules/@bpfjs/*` links to the copied packages, and
// tests/reliability/fixtures/ at the same relative place, so fixtures/dist.mjs works unchanged.
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../../../', import.meta.url));

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

function manifest(dir: string): Manifest {
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;
}

/**
 * Node's lookup of `node_modules/<name>` from `from` upwards (which also finds what pnpm's store
 * puts beside a package); the real path of the package. `undefined` if not installed (an optional
 * dependency for another platform).
 */
function findPackage(from: string, name: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate);
    if (dirname(dir) === dir) return undefined;
  }
}

/** What a package needs at run time (optional dependencies only where installed). */
function runtimeDeps(m: Manifest): Array<[string, boolean]> {
  return [
    ...Object.keys(m.dependencies ?? {}).map((d): [string, boolean] => [d, false]),
    ...Object.keys(m.optionalDependencies ?? {}).map((d): [string, boolean] => [d, true]),
  ];
}

/** Directories 0755, files readable by everyone: what another user needs to load the copy. */
function openUp(path: string): void {
  const st = statSync(path);
  if (st.isDirectory()) {
    chmodSync(path, 0o755);
    for (const e of readdirSync(path)) openUp(join(path, e));
  } else {
    chmodSync(path, st.mode | 0o444);
  }
}

export interface Stage {
  /** The copy's root (a fresh directory under the system temp directory, mode 0755). */
  readonly root: string;
  /** The path of `tests/reliability/fixtures/<file>` inside the copy. */
  fixture(file: string): string;
  /** Removes the copy. */
  dispose(): void;
}

/**
 * Copies the built workspace packages `names` (directory names under packages/, e.g. 'link') and
 * everything they depend on at run time, plus the reliability fixtures, to a directory another
 * user can read. Run `pnpm build` first.
 */
export function stageForOtherUser(names: readonly string[]): Stage {
  const root = mkdtempSync(join(tmpdir(), 'bpfjs-stage-'));
  try {
    const workspace = new Map<string, string>(); // package name -> directory under packages/
    for (const dir of readdirSync(join(repo, 'packages'))) {
      const p = join(repo, 'packages', dir);
      if (existsSync(join(p, 'package.json'))) workspace.set(manifest(p).name, dir);
    }
    const done = new Set<string>();
    const stageWorkspace = (dir: string): void => {
      if (done.has(dir)) return;
      done.add(dir);
      const src = join(repo, 'packages', dir);
      const dst = join(root, 'packages', dir);
      if (!existsSync(join(src, 'dist'))) throw new Error(`stage: ${src}/dist is missing (run pnpm build)`);
      cpSync(join(src, 'package.json'), join(dst, 'package.json'));
      cpSync(join(src, 'dist'), join(dst, 'dist'), { recursive: true });
      const m = manifest(src);
      const link = join(root, 'node_modules', m.name);
      mkdirSync(dirname(link), { recursive: true });
      symlinkSync(relative(dirname(link), dst), link);
      for (const [dep, optional] of runtimeDeps(m)) {
        const ws = workspace.get(dep);
        if (ws !== undefined) stageWorkspace(ws);
        else stageExternal(src, dep, optional);
      }
    };
    const stageExternal = (from: string, name: string, optional: boolean): void => {
      const dst = join(root, 'node_modules', name);
      if (existsSync(dst)) return;
      const real = findPackage(from, name);
      if (real === undefined) {
        if (optional) return;
        throw new Error(`stage: cannot find ${name} from ${from}`);
      }
      cpSync(real, dst, { recursive: true, dereference: true });
      for (const [dep, opt] of runtimeDeps(manifest(real))) stageExternal(real, dep, opt);
    };
    for (const n of names) stageWorkspace(n);
    cpSync(join(repo, 'tests/reliability/fixtures'), join(root, 'tests/reliability/fixtures'), {
      recursive: true,
    });
    openUp(root);
  } catch (err) {
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
  return {
    root,
    fixture: (file) => join(root, 'tests/reliability/fixtures', file),
    dispose: () => rmSync(root, { recursive: true, force: true }),
  };
}
