import type { Command } from 'commander';
import { allLinkInfos, openLink, openProgram } from '../api.js';
import { type Context, describeSelector, parseSelector, printJson, withContext } from '../context.js';
import { UsageError } from '../errors.js';
import { table } from '../format.js';
import { type JsonRecord, linkDetails, linkRecord, plain } from '../records.js';
import type { Action } from './action.js';

/** Prints one link record as a `key value` block. */
export function printRecordBlock(ctx: Context, title: string, record: JsonRecord): void {
  const keys = Object.keys(record).filter((k) => record[k] !== undefined);
  const width = Math.max(...keys.map((k) => k.length));
  ctx.io.out(`${title}\n${keys.map((k) => `  ${k.padEnd(width)}  ${plain(record[k])}`).join('\n')}\n`);
}

/** Prints link records as a table (ID TYPE PROG ATTACH_TYPE DETAILS). */
export function printLinkTable(ctx: Context, records: readonly JsonRecord[]): void {
  ctx.io.out(
    table(
      ['ID', 'TYPE', 'PROG', 'ATTACH_TYPE', 'DETAILS'],
      records.map((r) => [r.id, r.type, r.prog_id, r.attach_type, linkDetails(r)]),
    ),
  );
}

function listLinks(ctx: Context): void {
  ctx.needs('CAP_SYS_ADMIN');
  const records = allLinkInfos()
    .map((i) => linkRecord(i))
    .sort((a, b) => Number(a.id) - Number(b.id));
  if (ctx.json) printJson(ctx, records);
  else if (records.length === 0) ctx.io.out('no links\n');
  else printLinkTable(ctx, records);
}

/** Registers `bpfjs link {list,show,pin,update,detach}` on `program`. */
export function addLinkCommands(program: Command, act: Action): void {
  const link = program
    .command('link')
    .description('show and manage bpf_links (like `bpftool link`)')
    .addHelpText('after', '\n<link> is a link id or the path the link is pinned at on bpffs.');

  link
    .command('list')
    .alias('ls')
    .description("list every link on the system: id, type, program and the type's details")
    .addHelpText('after', '\nExample:\n  bpfjs link list --json | jq \'.[] | select(.type == "netns")\'')
    .action(
      act((ctx) => {
        listLinks(ctx);
      }),
    );

  link
    .command('show')
    .description('show one link (by id or pinned path); without an argument, like `list`')
    .argument('[link]', 'link id or pinned path')
    .addHelpText('after', '\nExamples:\n  bpfjs link show 17\n  bpfjs link show /sys/fs/bpf/my_link --json')
    .action(
      act((ctx, arg?: string) => {
        if (arg === undefined) {
          listLinks(ctx);
          return;
        }
        const sel = parseSelector(arg, '<link>');
        if (sel.kind === 'id') ctx.needs('CAP_SYS_ADMIN');
        const l = openLink(sel);
        try {
          const record = linkRecord(l.info());
          if (sel.kind === 'path') record.pinned = [sel.path];
          if (ctx.json) printJson(ctx, record);
          else printRecordBlock(ctx, `link ${record.id}`, record);
        } finally {
          l.close();
        }
      }),
    );

  link
    .command('pin')
    .description('pin a link to a path on bpffs, so it outlives every process holding it')
    .argument('<link>', 'link id or pinned path')
    .argument('<path>', 'new path on a bpffs mount')
    .addHelpText('after', '\nExample:\n  bpfjs link pin 17 /sys/fs/bpf/fd_link')
    .action(
      act((ctx, arg: string, path: string) => {
        const sel = parseSelector(arg, '<link>');
        if (sel.kind === 'id') ctx.needs('CAP_SYS_ADMIN');
        const target = parseSelector(path, '<path>');
        if (target.kind !== 'path')
          throw new UsageError(`<path>: expected a path on bpffs, got the number ${path}`);
        const l = openLink(sel);
        try {
          withContext(`pin ${describeSelector(sel, 'link')} at ${target.path}`, () => l.pin(target.path));
          const record = linkRecord(l.info());
          record.pinned = [target.path];
          if (ctx.json) printJson(ctx, record);
          else ctx.io.out(`link ${record.id} pinned at ${target.path}\n`);
        } finally {
          l.close();
        }
      }),
    );

  link
    .command('update')
    .description('atomically replace the program of a link (BPF_LINK_UPDATE)')
    .argument('<link>', 'link id or pinned path')
    .requiredOption('--prog <prog>', 'the new program: id or pinned path')
    .option('--replace <prog>', 'only if this program (id or pinned path) is attached now (BPF_F_REPLACE)')
    .addHelpText(
      'after',
      '\nExamples:\n  bpfjs link update 17 --prog 42\n  bpfjs link update /sys/fs/bpf/fd_link --prog 42 --replace 41',
    )
    .action(
      act((ctx, arg: string, opts: { prog: string; replace?: string }) => {
        const sel = parseSelector(arg, '<link>');
        const progSel = parseSelector(opts.prog, '--prog');
        const replaceSel = opts.replace === undefined ? undefined : parseSelector(opts.replace, '--replace');
        if (sel.kind === 'id' || progSel.kind === 'id' || replaceSel?.kind === 'id')
          ctx.needs('CAP_SYS_ADMIN');
        const l = openLink(sel);
        const prog = (() => {
          try {
            return openProgram(progSel);
          } catch (e) {
            l.close();
            throw e;
          }
        })();
        let replace: ReturnType<typeof openProgram> | undefined;
        try {
          if (replaceSel !== undefined) replace = openProgram(replaceSel);
          const before = linkRecord(l.info());
          withContext(`update link ${before.id}`, () =>
            replace === undefined ? l.update(prog) : l.update(prog, { replace }),
          );
          const after = linkRecord(l.info());
          if (ctx.json) printJson(ctx, after);
          else
            ctx.io.out(
              `link ${after.id}: prog ${before.prog_id} -> ${after.prog_id}` +
                `${replace === undefined ? '' : ` (replaced only because prog ${before.prog_id} was attached)`}\n`,
            );
        } finally {
          replace?.close();
          prog.close();
          l.close();
        }
      }),
    );

  link
    .command('detach')
    .description('detach a link from its target (BPF_LINK_DETACH); the link object stays, defunct')
    .argument('<link>', 'link id or pinned path')
    .addHelpText('after', '\nExample:\n  bpfjs link detach 17')
    .action(
      act((ctx, arg: string) => {
        const sel = parseSelector(arg, '<link>');
        if (sel.kind === 'id') ctx.needs('CAP_SYS_ADMIN');
        const l = openLink(sel);
        try {
          const before = linkRecord(l.info());
          withContext(`detach link ${before.id}`, () => l.detach());
          const after = linkRecord(l.info());
          if (ctx.json) printJson(ctx, after);
          else ctx.io.out(`link ${after.id} detached${after.netns_ino === 0 ? ' (netns_ino 0)' : ''}\n`);
        } finally {
          l.close();
        }
      }),
    );
}
