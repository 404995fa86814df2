// Every JavaScript/TypeScript example in every README (the repository's and each package's under
// packages/, new packages included) runs as written: the block is the whole program. TypeScript
// blocks are transpiled (TypeScript >= 5.2 for `using`), nothing is added. Each runs in a child
// process inside its own throwaway network and mount namespaces (`unshare --net --mount`), so an
// example that attaches, mounts bpffs or pins does it there; `@bpfjs/*` resolve to the built
// packages (`pnpm build` first), the way an installed copy would.
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireKernel } from '@bpfjs/testkit';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url).pathname;

/** The code blocks of one README: `{ line, lang, code }`. */
export function codeBlocks(markdown: string): Array<{ line: number; lang: string; code: string }> {
  const blocks: Array<{ line: number; lang: string; code: string }> = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w+)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    blocks.push({ line: start + 1, lang: open[1]!, code: `${body.join('\n')}\n` });
  }
  return blocks;
}

const readmes = [
  'README.md',
  ...readdirSync(join(root, 'packages'))
    .map((dir) => `packages/${dir}/README.md`)
    .filter((f) => existsSync(join(root, f))),
];
const examples = readmes.flatMap((file) =>
  codeBlocks(readFileSync(join(root, file), 'utf8'))
    .filter((b) => ['ts', 'js', 'typescript', 'javascript'].includes(b.lang))
    .map((b) => ({ ...b, file })),
);

// A directory whose node_modules/@bpfjs/<dir> point at every workspace package, like an install.
const work = mkdtempSync(join(tmpdir(), 'bpfjs-readme-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
mkdirSync(join(work, 'node_modules/@bpfjs'), { recursive: true });
for (const dir of readdirSync(join(root, 'packages'))) {
  const manifest = join(root, 'packages', dir, 'package.json');
  if (!existsSync(manifest)) continue;
  const name = JSON.parse(readFileSync(manifest, 'utf8')).name as string;
  symlinkSync(join(root, 'packages', dir), join(work, 'node_modules', name));
}
// Examples that use vitest (testkit's) find the workspace's copy.
symlinkSync(join(root, 'node_modules/vitest'), join(work, 'node_modules/vitest'));

const gate = requireKernel();

describe('README examples run as written', () => {
  it('finds the examples of every README', () => {
    expect(examples.length).toBeGreaterThan(0);
  });

  for (const ex of examples) {
    gate.it(`${ex.file}:${ex.line}`, () => {
      const js = ['ts', 'typescript'].includes(ex.lang)
        ? ts.transpileModule(ex.code, {
            compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
          }).outputText
        : ex.code;
      const file = join(work, `${ex.file.replaceAll('/', '_')}_${ex.line}.mjs`);
      writeFileSync(file, js);
      try {
        execFileSync('unshare', ['--net', '--mount', '--propagation', 'private', process.execPath, file], {
          cwd: work,
          stdio: 'pipe',
          encoding: 'utf8',
          timeout: 60_000,
        });
      } catch (err) {
        const e = err as { status: number; stderr: string; stdout: string };
        throw new Error(`${ex.file}:${ex.line} failed (exit ${e.status})\n${e.stderr}${e.stdout}`);
      }
    });
  }
});
