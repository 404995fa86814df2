import { attachNetNs } from '@bpfjs/link';
import { type Command, Option } from 'commander';
import { allLinkInfos, attachedPrograms, netnsNames, openNetNs, openProgram } from '../api.js';
import { type Context, parseSelector, printJson, withContext } from '../context.js';
import { errorCode, errorMessage, UsageError } from '../errors.js';
import { table } from '../format.js';
import { nextInterrupt } from '../io.js';
import { type Attachment, attachmentsOf, type JsonRecord, linkRecord, type NetNsRecord } from '../records.js';
import type { Action } from './action.js';
import { printRecordBlock } from './link.js';

/** The netns attach types bpfjs knows (the kernel's names, as bpftool prints them). */
export const NETNS_ATTACH_TYPES = ['flow_dissector', 'sk_lookup'] as const;

function describeNetNs(nameOrPath: string, links: readonly JsonRecord[]): NetNsRecord {
  const ns = openNetNs(nameOrPath);
  try {
    const inode = ns.inode;
    const record: { [k: string]: unknown } = {};
    if (!nameOrPath.includes('/')) record.name = nameOrPath;
    else record.path = nameOrPath;
    record.netns_ino = inode;
    for (const type of NETNS_ATTACH_TYPES) {
      const ids = withContext(`netns ${nameOrPath}: query ${type}`, () => attachedPrograms(ns, type));
      const onHook = links.filter(
        (r) => r.type === 'netns' && r.netns_ino === inode && r.attach_type === type,
      );
      record[type] = attachmentsOf(ids, onHook);
    }
    return record as unknown as NetNsRecord;
  } finally {
    ns.close();
  }
}

function attachmentText(list: readonly Attachment[]): string {
  if (list.length === 0) return '-';
  return list
    .map((a) => (a.attach === 'link' ? `prog ${a.id} (link ${a.link_id})` : `prog ${a.id} (direct)`))
    .join(', ');
}

function netnsLinks(): JsonRecord[] {
  return allLinkInfos()
    .map((i) => linkRecord(i))
    .filter((r) => r.type === 'netns');
}

/** Registers `bpfjs netns {list,show,attach}` on `program`. */
export function addNetNsCommands(program: Command, act: Action): void {
  const netns = program
    .command('netns')
    .description('named network namespaces (iproute2 `ip netns`) and the BPF programs attached to them');

  netns
    .command('list')
    .alias('ls')
    .description('list named netns with their inode and attached flow_dissector / sk_lookup programs')
    .addHelpText('after', "\nExample:\n  bpfjs netns list --json | jq '.[] | select(.flow_dissector != [])'")
    .action(
      act((ctx) => {
        ctx.needs('CAP_SYS_ADMIN', 'CAP_NET_ADMIN');
        const links = netnsLinks();
        const records = netnsNames()
          .sort()
          .flatMap((name) => {
            try {
              return [describeNetNs(name, links)];
            } catch (error) {
              // A netns deleted between listing and opening is not an error; any other problem with
              // one entry (a stale file under /run/netns, ...) is shown on its row, not fatal.
              if (errorCode(error) === 'ENOENT') return [];
              const broken: NetNsRecord = {
                name,
                netns_ino: 0,
                flow_dissector: [],
                sk_lookup: [],
                error: `${errorCode(error)}: ${errorMessage(error)}`,
              };
              return [broken];
            }
          });
        if (ctx.json) printJson(ctx, records as never);
        else if (records.length === 0) ctx.io.out('no named netns (see `ip netns add`)\n');
        else
          ctx.io.out(
            table(
              ['NAME', 'NETNS_INO', 'FLOW_DISSECTOR', 'SK_LOOKUP'],
              records.map((r) =>
                typeof r.error === 'string'
                  ? [r.name, '-', `(${r.error})`, '-']
                  : [r.name, r.netns_ino, attachmentText(r.flow_dissector), attachmentText(r.sk_lookup)],
              ),
            ),
          );
      }),
    );

  netns
    .command('show')
    .description('show one netns (a name from `ip netns list`, or a path such as /proc/PID/ns/net)')
    .argument('<name>', 'netns name or path')
    .addHelpText('after', '\nExamples:\n  bpfjs netns show blue\n  bpfjs netns show /proc/self/ns/net --json')
    .action(
      act((ctx, name: string) => {
        ctx.needs('CAP_SYS_ADMIN', 'CAP_NET_ADMIN');
        const record = describeNetNs(name, netnsLinks());
        if (ctx.json) printJson(ctx, record as never);
        else {
          const block: JsonRecord = {};
          if (record.name !== undefined) block.name = record.name;
          if (typeof record.path === 'string') block.path = record.path;
          block.netns_ino = record.netns_ino;
          block.flow_dissector = attachmentText(record.flow_dissector);
          block.sk_lookup = attachmentText(record.sk_lookup);
          printRecordBlock(ctx, `netns ${name}`, block);
        }
      }),
    );

  netns
    .command('attach')
    .description('attach a program to a netns with a bpf_link (BPF_LINK_CREATE)')
    .argument('<name>', 'netns name or path')
    .requiredOption('--prog <prog>', 'program id or pinned path')
    .addOption(
      new Option('--type <type>', 'attach type (default: from the program type)').choices([
        ...NETNS_ATTACH_TYPES,
      ]),
    )
    .option('--pin <path>', 'pin the link here (on bpffs) so it outlives this command')
    .option('--hold', 'keep the link (and this process) until Ctrl-C / SIGTERM instead of pinning it')
    .addHelpText(
      'after',
      '\nA link lives only while a process holds it or it is pinned: give --pin, --hold, or both.\n' +
        'Examples:\n  bpfjs netns attach blue --prog 41 --pin /sys/fs/bpf/blue_fd\n' +
        '  bpfjs netns attach blue --prog /sys/fs/bpf/my_sk_lookup --type sk_lookup --hold',
    )
    .action(
      act(async (ctx, name: string, opts: { prog: string; type?: string; pin?: string; hold?: boolean }) => {
        if (opts.pin === undefined && opts.hold !== true) {
          throw new UsageError(
            'netns attach needs --pin <path> or --hold: a link lives only while it is pinned or a process holds it',
          );
        }
        const progSel = parseSelector(opts.prog, '--prog');
        const pinSel = opts.pin === undefined ? undefined : parseSelector(opts.pin, '--pin');
        if (pinSel !== undefined && pinSel.kind !== 'path') {
          throw new UsageError(`--pin: expected a path on bpffs, got the number ${opts.pin}`);
        }
        ctx.needs('CAP_NET_ADMIN', ...(progSel.kind === 'id' ? (['CAP_SYS_ADMIN'] as const) : []));
        await attachAndHold(ctx, name, progSel, opts.type, pinSel?.path, opts.hold === true);
      }),
    );
}

async function attachAndHold(
  ctx: Context,
  name: string,
  progSel: ReturnType<typeof parseSelector>,
  type: string | undefined,
  pinPath: string | undefined,
  hold: boolean,
): Promise<void> {
  // With --hold, listen for Ctrl-C before anything is attached, so a signal at any moment releases
  // the link cleanly. A pending promise does not keep Node running (signal listeners are unref'd):
  // the timer does, until the signal comes.
  const interrupt = hold ? nextInterrupt(ctx.io) : undefined;
  const keepAlive = hold ? setInterval(() => {}, 1 << 30) : undefined;
  try {
    const ns = openNetNs(name);
    try {
      const prog = openProgram(progSel);
      try {
        const link = withContext(`attach to netns ${name}`, () =>
          type === undefined ? attachNetNs(prog, ns) : attachNetNs(prog, ns, type as never),
        );
        try {
          if (pinPath !== undefined) withContext(`pin link at ${pinPath}`, () => link.pin(pinPath));
          const record = linkRecord(link.info());
          if (pinPath !== undefined) record.pinned = [pinPath];
          if (ctx.json) printJson(ctx, record);
          else
            ctx.io.out(
              `link ${record.id}: prog ${record.prog_id} attached to netns ${name} (netns_ino ${record.netns_ino}) ` +
                `as ${record.attach_type}${pinPath === undefined ? '' : `, pinned at ${pinPath}`}\n`,
            );
          if (interrupt !== undefined) {
            if (!ctx.json) ctx.io.out(`holding link ${record.id}; press Ctrl-C to release it\n`);
            const signal = await interrupt.promise;
            if (!ctx.json)
              ctx.io.out(
                `${signal}: releasing link ${record.id}${pinPath === undefined ? ' (it detaches now)' : ' (the pin keeps it)'}\n`,
              );
          }
        } finally {
          link.close();
        }
      } finally {
        prog.close();
      }
    } finally {
      ns.close();
    }
  } finally {
    interrupt?.cancel();
    if (keepAlive !== undefined) clearInterval(keepAlive);
  }
}
