import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { allProgramInfos, openProgram } from '../api.js';
import { type Context, parseSelector, printJson } from '../context.js';
import { table } from '../format.js';
import { isoSeconds, type JsonRecord, programRecord } from '../records.js';
import type { Action } from './action.js';
import { printRecordBlock } from './link.js';
import { addLoadAllCommand } from './object.js';

/** Prints program records as a table (ID TYPE NAME TAG LOADED_AT). */
export function printProgramTable(ctx: Context, records: readonly JsonRecord[]): void {
  ctx.io.out(
    table(
      ['ID', 'TYPE', 'NAME', 'TAG', 'LOADED_AT', 'MAPS'],
      records.map((r) => [
        r.id,
        r.type,
        r.name,
        r.tag,
        isoSeconds(r.loaded_at),
        Array.isArray(r.map_ids) && r.map_ids.length > 0 ? r.map_ids.join(',') : undefined,
      ]),
    ),
  );
}

/** A numeric field of `/proc/self/fdinfo/<fd>` (bpftool reads `memlock` there), if present. */
function fdinfoField(fd: number, field: string): number | undefined {
  try {
    const m = new RegExp(`^${field}:\\s*(\\d+)$`, 'm').exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

function listPrograms(ctx: Context): void {
  ctx.needs('CAP_SYS_ADMIN');
  const records = allProgramInfos()
    .map((i) => programRecord(i))
    .sort((a, b) => Number(a.id) - Number(b.id));
  if (ctx.json) printJson(ctx, records);
  else if (records.length === 0) ctx.io.out('no programs\n');
  else printProgramTable(ctx, records);
}

/** Registers `bpfjs prog {list,show}` on `program`. */
export function addProgCommands(program: Command, act: Action): void {
  const prog = program.command('prog').description('show loaded BPF programs (like `bpftool prog`)');

  prog
    .command('list')
    .alias('ls')
    .description('list every loaded program: id, type, name, tag, load time')
    .addHelpText(
      'after',
      '\nExample:\n  bpfjs prog list --json | jq \'.[] | select(.type == "flow_dissector") | .id\'',
    )
    .action(act((ctx) => listPrograms(ctx)));

  prog
    .command('show')
    .description('show one program (by id or pinned path); without an argument, like `list`')
    .argument('[prog]', 'program id or pinned path')
    .addHelpText('after', '\nExamples:\n  bpfjs prog show 41\n  bpfjs prog show /sys/fs/bpf/my_prog --json')
    .action(
      act((ctx, arg?: string) => {
        if (arg === undefined) {
          listPrograms(ctx);
          return;
        }
        const sel = parseSelector(arg, '<prog>');
        if (sel.kind === 'id') ctx.needs('CAP_SYS_ADMIN');
        const p = openProgram(sel);
        try {
          const record = programRecord(p.info());
          const memlock = fdinfoField(p.fd.fd, 'memlock');
          if (memlock !== undefined) record.bytes_memlock = memlock;
          if (sel.kind === 'path') record.pinned = [sel.path];
          if (ctx.json) printJson(ctx, record);
          else {
            const shown = { ...record, loaded_at: isoSeconds(record.loaded_at) ?? record.loaded_at };
            printRecordBlock(ctx, `prog ${record.id}`, shown);
          }
        } finally {
          p.close();
        }
      }),
    );
  addLoadAllCommand(prog, act);
}
