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
import { requireKernel, scaleTimeout } from '@bpfjs/testkit';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url).pathname;

/** The code blocks of one README: `{ line, lang, code }`. */
function codeBlocks(markdown: string): Array<{ line: number; lang: string; code: string }> {
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

/**
 * The C sources a README shows: a ```c block named by the last `NAME.c` in the three lines before it.
 * The runner compiles each (clang, as the README says) beside that README's examples.
 */
function cSources(markdown: string): Array<{ name: string; code: string }> {
  const lines = markdown.split('\n');
  return codeBlocks(markdown)
    .filter((b) => b.lang === 'c')
    .flatMap((b) => {
      const before = lines.slice(Math.max(0, b.line - 4), b.line - 1).join('\n');
      const name = [...before.matchAll(/`([\w.-]+\.c)`/g)].at(-1)?.[1];
      return name ? [{ name, code: b.code }] : [];
    });
}

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
    gate.it(
      `${ex.file}:${ex.line}`,
      () => {
        const js = ['ts', 'typescript'].includes(ex.lang)
          ? ts.transpileModule(ex.code, {
              compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
            }).outputText
          : ex.code;
        // A README's examples share a directory under `work` (whose node_modules they resolve), with
        // its C sources compiled there and the skeletons an example imports generated from them.
        const readmeDir = join(work, ex.file.replaceAll('/', '_'));
        mkdirSync(readmeDir, { recursive: true });
        for (const c of cSources(readFileSync(join(root, ex.file), 'utf8'))) {
          const object = c.name.replace(/\.c$/, '.o');
          if (existsSync(join(readmeDir, object))) continue;
          writeFileSync(join(readmeDir, c.name), c.code);
          const multiarch = execFileSync('gcc', ['-print-multiarch'], { encoding: 'utf8' }).trim();
          execFileSync(
            'clang',
            ['-target', 'bpf', '-O2', '-g', `-I/usr/include/${multiarch}`, '-c', c.name, '-o', object],
            {
              cwd: readmeDir,
            },
          );
        }
        for (const m of ex.code.matchAll(/from ['"]\.\/([\w-]+)\.skel\.js['"]/g)) {
          const name = m[1]!;
          if (existsSync(join(readmeDir, `${name}.skel.js`))) continue;
          // bpfjs gen skeleton NAME.o -o NAME.skel.ts, as the README says; transpiled for node.
          execFileSync(
            process.execPath,
            [join(root, 'packages/cli/dist/bin.js'), 'gen', 'skeleton', `${name}.o`, '-o', `${name}.skel.ts`],
            { cwd: readmeDir },
          );
          const skel = readFileSync(join(readmeDir, `${name}.skel.ts`), 'utf8');
          writeFileSync(
            join(readmeDir, `${name}.skel.js`),
            ts.transpileModule(skel, {
              compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
            }).outputText,
          );
        }
        const dir = readmeDir;
        let command: string[];
        if (/from ['"](vitest(\/config)?|@bpfjs\/testkit)['"]/.test(ex.code)) {
          // A vitest example (vitest or testkit imported): a config runs with a trivial test beside it;
          // a test file runs as one, and must pass.
          const isConfig = /from ['"]vitest\/config['"]/.test(ex.code);
          const vdir = join(dir, `vitest_${ex.line}`);
          mkdirSync(vdir);
          writeFileSync(join(vdir, 'vitest.config.mjs'), isConfig ? js : 'export default {};\n');
          writeFileSync(
            join(vdir, isConfig ? 'probe.test.mjs' : 'example.test.mjs'),
            isConfig ? "import { it } from 'vitest';\nit('runs', () => {});\n" : js,
          );
          command = [process.execPath, join(root, 'node_modules/vitest/vitest.mjs'), 'run', '--root', vdir];
        } else {
          writeFileSync(join(dir, `example_${ex.line}.mjs`), js);
          command = [process.execPath, join(dir, `example_${ex.line}.mjs`)];
        }
        try {
          // A private /run/netns too: named netns an example makes (`ip netns add`-style) stay inside.
          const privateRun = 'mkdir -p /run/netns && mount -t tmpfs bpfjs-readme /run/netns && exec "$@"';
          execFileSync(
            'unshare',
            ['--net', '--mount', '--propagation', 'private', 'sh', '-c', privateRun, 'sh', ...command],
            {
              cwd: dir,
              stdio: 'pipe',
              encoding: 'utf8',
              timeout: scaleTimeout(120_000),
            },
          );
        } catch (err) {
          const e = err as { status: number; signal: string; stderr: string; stdout: string };
          throw new Error(
            `${ex.file}:${ex.line} failed (${e.status ?? e.signal})\n${e.stderr}${e.stdout}`.slice(0, 8000),
          );
        }
      },
      scaleTimeout(150_000),
    );
  }
});
