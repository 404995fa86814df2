#!/usr/bin/env node
// Regenerates an example's committed skeleton: compiles `<dir>/<name>.bpf.c` reproducibly with
// @bpfjs/testkit's compileBpf (the object's bytes do not depend on the checkout's path) and runs
// `bpfjs gen skeleton` on it, writing `<dir>/<name>.skel.ts` beside the source.
//
//   node scripts/gen-skeleton.mjs examples/port-steering/src/steering.bpf.c   (after pnpm build)
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [source] = process.argv.slice(2);
if (!source?.endsWith('.bpf.c')) {
  console.error('usage: node scripts/gen-skeleton.mjs <dir>/<name>.bpf.c');
  process.exit(2);
}
const name = basename(source, '.bpf.c');
// The example's own devDependencies (@bpfjs/cli, @bpfjs/testkit), resolved from its directory.
const require = createRequire(join(resolve(dirname(source)), 'package.json'));
const load = (id) => import(pathToFileURL(require.resolve(id)).href);
const { run } = await load('@bpfjs/cli');
const { compileBpf } = await load('@bpfjs/testkit/compile');
const scratch = mkdtempSync(join(tmpdir(), 'bpfjs-gen-'));
try {
  const object = join(scratch, `${name}.bpf.o`);
  compileBpf(source, { out: object });
  const status = await run([
    'gen',
    'skeleton',
    object,
    '--name',
    name,
    '-o',
    join(dirname(source), `${name}.skel.ts`),
  ]);
  process.exitCode = status;
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
