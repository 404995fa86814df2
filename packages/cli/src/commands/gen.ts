import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, relative } from 'node:path';
import { checkSkeleton, generateSkeleton } from '@bpfjs/object';
import type { Command } from 'commander';
import { type Context, printJson } from '../context.js';
import { UsageError } from '../errors.js';
import type { Action } from './action.js';

interface SkeletonOptions {
  name?: string;
  output?: string;
  embed?: boolean;
  path?: boolean;
  check?: boolean;
}

function skeleton(ctx: Context, file: string, skel: string | undefined, opts: SkeletonOptions): number {
  const bytes = readFileSync(file);
  if (opts.check) {
    const target = skel ?? opts.output;
    if (target === undefined)
      throw new UsageError('--check needs the skeleton file: bpfjs gen skeleton --check prog.o prog.skel.ts');
    const result = checkSkeleton(bytes, readFileSync(target, 'utf8'));
    if (ctx.json) printJson(ctx, { file, skeleton: target, ...result, recorded: result.recorded ?? null });
    else if (result.current) ctx.io.out(`${target} is current for ${file} (sha256 ${result.actual})\n`);
    else if (result.recorded === undefined)
      ctx.io.err(`bpfjs: ${target} is not a generated skeleton (no OBJECT_SHA256)\n`);
    else {
      ctx.io.err(
        `bpfjs: ${target} is stale: ${file} changed since generation (sha256 ${result.actual}, skeleton ${result.recorded})\n` +
          `  regenerate: bpfjs gen skeleton ${file} -o ${target}\n`,
      );
    }
    return result.current ? 0 : 1;
  }
  if (skel !== undefined)
    throw new UsageError(`unexpected argument '${skel}' (only --check takes a skeleton file)`);
  if (opts.embed && opts.path) throw new UsageError('--embed and --path exclude each other');
  const mode = opts.path ? 'path' : 'embed';
  let objectPath: string | undefined;
  if (mode === 'path') {
    if (opts.output === undefined)
      throw new UsageError('--path needs -o <file>: the object is found relative to it');
    const rel = relative(dirname(opts.output), file);
    objectPath = rel.startsWith('.') ? rel : `./${rel}`;
  }
  const text = generateSkeleton(bytes, {
    ...(opts.name === undefined ? {} : { name: opts.name }),
    mode,
    fileName: basename(file),
    ...(objectPath === undefined ? {} : { objectPath }),
  });
  if (opts.output === undefined) {
    ctx.io.out(text);
    return 0;
  }
  const tmp = `${opts.output}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, opts.output);
  if (ctx.json) printJson(ctx, { file, skeleton: opts.output, mode });
  else ctx.io.out(`wrote ${opts.output} (${mode === 'embed' ? 'object embedded' : `loads ${objectPath}`})\n`);
  return 0;
}

/** Registers `bpfjs gen skeleton` on `program`. */
export function addGenCommands(program: Command, act: Action): void {
  const gen = program.command('gen').description('generate code from BPF objects');
  gen
    .command('skeleton')
    .description(
      'a TypeScript module for a BPF object: open()/load() with typed programs, maps (keys and values from BTF) and global variables',
    )
    .argument('<file>', 'the object file (clang -target bpf -O2 -g -c prog.c)')
    .argument('[skeleton]', 'with --check: the generated module to check')
    .option('--name <name>', 'object name (default: the file name up to its first dot)')
    .option('-o, --output <file>', 'write the module here (default: standard output)')
    .option('--embed', 'embed the object in the module (default)')
    .option('--path', 'load the object from its path relative to the module at run time (needs -o)')
    .option('--check', 'exit 1 when the object changed since the skeleton was generated')
    .addHelpText(
      'after',
      '\nExamples:\n  bpfjs gen skeleton prog.o -o prog.skel.ts\n  bpfjs gen skeleton prog.o --path -o src/prog.skel.ts\n  bpfjs gen skeleton --check prog.o prog.skel.ts',
    )
    .action(
      act((ctx, file: string, skel: string | undefined, opts: SkeletonOptions) =>
        skeleton(ctx, file, skel, opts),
      ),
    );
}
