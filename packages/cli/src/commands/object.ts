import { join } from 'node:path';
import { BpfObject } from '@bpfjs/object';
import type { Command } from 'commander';
import { type Context, printJson } from '../context.js';
import { type JsonValue, table } from '../format.js';
import type { Action } from './action.js';

const hex = (n: number) => `0x${n.toString(16)}`;

function showObject(ctx: Context, file: string): void {
  const spec = BpfObject.open(file).describe();
  if (ctx.json) {
    printJson(ctx, spec as unknown as JsonValue);
    return;
  }
  ctx.io.out(`object ${spec.name}  license ${JSON.stringify(spec.license)}\n\nprograms:\n`);
  ctx.io.out(
    table(
      ['NAME', 'SECTION', 'TYPE', 'ATTACH_TYPE', 'TARGET', 'INSNS'],
      spec.programs.map((p) => [p.name, p.section, p.type, p.expectedAttachType, p.attachTo, p.instructions]),
    ),
  );
  ctx.io.out('\nmaps:\n');
  ctx.io.out(
    table(
      ['NAME', 'TYPE', 'KEY', 'VALUE', 'MAX_ENTRIES', 'FLAGS', 'PINNING', 'FROM'],
      spec.maps.map((m) => [
        m.name,
        m.type,
        m.keySize,
        m.valueSize,
        m.maxEntries,
        hex(m.flags),
        m.pinning === 1 ? 'by_name' : undefined,
        m.origin,
      ]),
    ),
  );
  if (spec.variables.length > 0) {
    ctx.io.out('\nvariables:\n');
    ctx.io.out(
      table(
        ['NAME', 'MAP', 'OFFSET', 'SIZE'],
        spec.variables.map((v) => [v.name, v.map, v.offset, v.size]),
      ),
    );
  }
}

function loadAll(ctx: Context, file: string, dir: string, opts: { pinmaps?: string }): void {
  ctx.needs('CAP_BPF', 'CAP_SYS_ADMIN');
  const spec = BpfObject.open(file);
  const coll = spec.load(opts.pinmaps === undefined ? {} : { pinPath: opts.pinmaps });
  const pinned: string[] = [];
  try {
    for (const [name, prog] of coll.programs) {
      const path = join(dir, name);
      prog.pin(path);
      pinned.push(path);
    }
    if (opts.pinmaps !== undefined) {
      for (const [name, map] of coll.maps) {
        if (map.pinnedPath !== undefined) continue; // pinned by name already
        const path = join(opts.pinmaps, name.replaceAll('.', '_'));
        map.pin(path);
        pinned.push(path);
      }
    }
  } catch (e) {
    for (const p of coll.programs.values()) p.unpin();
    for (const m of coll.maps.values()) if (pinned.includes(m.pinnedPath ?? '')) m.unpin();
    throw e;
  } finally {
    coll.close();
  }
  if (ctx.json) printJson(ctx, { pinned });
  else ctx.io.out(`${pinned.map((p) => `pinned ${p}`).join('\n')}\n`);
}

/** Registers `bpfjs object show` and `bpfjs prog loadall` on `program`. */
export function addObjectCommands(program: Command, act: Action): void {
  const object = program.command('object').description('BPF ELF objects compiled by clang');
  object
    .command('show')
    .description('show what an object holds: programs (SEC() names, types), maps, global variables')
    .argument('<file>', 'the object file (clang -target bpf -O2 -g -c prog.c)')
    .addHelpText('after', '\nExamples:\n  bpfjs object show prog.o\n  bpfjs object show prog.o --json')
    .action(act((ctx, file: string) => showObject(ctx, file)));
}

/** Registers `bpfjs prog loadall` on the `prog` command. */
export function addLoadAllCommand(prog: Command, act: Action): void {
  prog
    .command('loadall')
    .description(
      'load every program of an object and pin them in a bpffs directory (like `bpftool prog loadall`)',
    )
    .argument('<file>', 'the object file')
    .argument('<dir>', 'bpffs directory for the programs (pinned as <dir>/<program name>)')
    .option(
      '--pinmaps <dir>',
      'also pin the maps in this bpffs directory (and look for pinned-by-name maps there)',
    )
    .addHelpText(
      'after',
      '\nExample:\n  bpfjs prog loadall prog.o /sys/fs/bpf/myprog --pinmaps /sys/fs/bpf/myprog_maps',
    )
    .action(
      act((ctx, file: string, dir: string, opts: { pinmaps?: string }) => loadAll(ctx, file, dir, opts)),
    );
}
