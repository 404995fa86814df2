/**
 * The `bpfjs` command run as a PROCESS (the built `dist/bin.js`), against real links in throwaway
 * namespaces: tables, JSON (compared with bpftool where it is installed), usage errors, failures,
 * privilege hints, `netns attach --pin/--hold`, and the demo. In-process code (the fixtures) uses
 * @bpfjs/link and @bpfjs/netns from source.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { asm, assemble, R0 } from '@bpfjs/asm';
import {
  attachNetNs,
  attachProgram,
  detachProgram,
  Link,
  type NetNsLink,
  Program,
  queryPrograms,
} from '@bpfjs/link';
import { NetNs } from '@bpfjs/netns';
import { requireExecutable, requireKernel } from '@bpfjs/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bufferedIo, run } from './index.js';

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const kernel = requireKernel();
const bpftool = requireExecutable('bpftool', 'apt-get install bpftool (scripts/setup does)');
const setpriv = requireExecutable('setpriv', 'apt-get install util-linux');
const hasBpftool = bpftool.ok;

// In the kernel matrix's emulated guests a node start costs seconds, and this file would start about
// forty. There the commands run in-process through `run()` (the code `bin.js` calls, on the same
// kernel), and what only a process shows — help and usage exits, a closed stdout, Ctrl-C — is left
// to the host. Commands under a wrapper (setpriv) and the held link still run as processes.
const inMatrix = Boolean(process.env.BPFJS_KERNEL_MATRIX);
const processOnly = (name: string, fn: () => void) => !inMatrix && describe(name, fn);
const processIt = (name: string, fn: () => Promise<void>) => {
  if (!inMatrix) it(name, fn);
};

interface Result {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `bpfjs ...args` as a child process (optionally through a wrapper such as setpriv). */
function bpfjs(
  args: readonly string[],
  options: { prefix?: readonly string[]; timeoutMs?: number } = {},
): Promise<Result> {
  if (inMatrix && !options.prefix) {
    const io = bufferedIo();
    return run(args, io).then((code) => ({ code, signal: null, stdout: io.stdout, stderr: io.stderr }));
  }
  const argv = [...(options.prefix ?? []), process.execPath, BIN, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`bpfjs ${args.join(' ')} timed out\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, options.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Polls `predicate` until it holds or the deadline passes. */
async function until(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Resolves when `child`'s stdout has printed something matching `re`. */
function waitForOutput(child: ChildProcess, re: RegExp, timeoutMs = 15_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`no ${re} in output: ${seen}`)), timeoutMs);
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      seen += d;
      if (re.test(seen)) {
        clearTimeout(timer);
        resolve(seen);
      }
    });
  });
}

function mounted(dir: string): boolean {
  return readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[1] === dir);
}

const SK_PASS = 1;
const BPF_OK = 0;

processOnly('bpfjs without the kernel', () => {
  beforeAll(() => {
    if (!existsSync(BIN))
      throw new Error(`${BIN} is missing: run \`npx turbo run build --filter=@bpfjs/cli\` first`);
  });

  it('prints help for every command and exits 0', async () => {
    const commands: string[][] = [
      [],
      ['link'],
      ['link', 'list'],
      ['link', 'show'],
      ['link', 'pin'],
      ['link', 'update'],
      ['link', 'detach'],
      ['prog'],
      ['prog', 'list'],
      ['prog', 'show'],
      ['netns'],
      ['netns', 'list'],
      ['netns', 'show'],
      ['netns', 'attach'],
      ['demo'],
    ];
    // Separate processes, started together (each is a cold node start).
    const results = await Promise.all(commands.map((cmd) => bpfjs([...cmd, '--help'])));
    commands.forEach((cmd, i) => {
      const r = results[i] as Result;
      expect(r.code, `bpfjs ${cmd.join(' ')} --help`).toBe(0);
      expect(r.stdout).toContain(`Usage: bpfjs${cmd.length > 0 ? ` ${cmd.join(' ')}` : ''}`);
      expect(r.stderr).toBe('');
    });
    const v = await bpfjs(['--version']);
    expect(v.code).toBe(0);
    expect(v.stdout.trim()).toBe(
      JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version,
    );
  });

  it('exits 2 with `bpfjs: usage:` for bad usage', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['bogus'], /unknown command 'bogus'/],
      [['link'], /Usage: bpfjs link/],
      [['link', 'list', 'extra'], /too many arguments/],
      [['link', 'show', '0'], /id 0 is out of range/],
      [['link', 'show', '99999999999'], /out of range/],
      [['link', 'pin', '5'], /missing required argument 'path'/],
      [['link', 'pin', '5', '7'], /expected a path on bpffs/],
      [['link', 'update', '5'], /required option '--prog <prog>'/],
      [['link', '--frobnicate', 'list'], /unknown option '--frobnicate'/],
      [['netns', 'attach', 'x', '--prog', '1'], /needs --pin <path> or --hold/],
      [
        ['netns', 'attach', 'x', '--prog', '1', '--type', 'xdp', '--hold'],
        /Allowed choices are flow_dissector, sk_lookup/,
      ],
      [['demo', '--pace', 'fast'], /--pace: expected an integer/],
    ];
    const results = await Promise.all(cases.map(([args]) => bpfjs(args)));
    for (const [i, [args, re]] of cases.entries()) {
      const r = results[i] as Result;
      expect(r.code, `bpfjs ${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(re);
      if (args[0] !== 'link' || args.length > 1) expect(r.stderr).toMatch(/^bpfjs: usage: |Usage: bpfjs/);
      expect(r.stdout).toBe('');
    }
  });
});

kernel.describe('bpfjs against the kernel', () => {
  const name = `bpfjs-cli-${process.pid}`;
  const directName = `bpfjs-cli-d-${process.pid}`;
  const cleanups: Array<() => void> = [];
  let ns: NetNs;
  let nsDirect: NetNs;
  let bpffs: string;
  let fdProg: Program;
  let skProg1: Program;
  let skProg2: Program;
  let fdLink: NetNsLink;
  let skLink: NetNsLink;

  beforeAll(() => {
    if (!existsSync(BIN))
      throw new Error(`${BIN} is missing: run \`npx turbo run build --filter=@bpfjs/cli\` first`);
    const defer = (fn: () => void) => cleanups.push(fn);
    bpffs = mkdtempSync(join(tmpdir(), 'bpfjs-cli-test-'));
    defer(() => rmdirSync(bpffs));
    execFileSync('mount', ['-t', 'bpf', 'bpf', bpffs]);
    defer(() => execFileSync('umount', [bpffs]));
    ns = NetNs.create({ name });
    defer(() => {
      ns.delete();
      ns.close();
    });
    nsDirect = NetNs.create({ name: directName });
    defer(() => {
      nsDirect.delete();
      nsDirect.close();
    });
    fdProg = Program.load({
      type: 'flow_dissector',
      name: 'cli_test_fd',
      instructions: assemble([asm.mov64Imm(R0, BPF_OK), asm.exit()]),
    });
    defer(() => fdProg.close());
    const sk = assemble([asm.mov64Imm(R0, SK_PASS), asm.exit()]);
    skProg1 = Program.load({ type: 'sk_lookup', name: 'cli_test_sk1', instructions: sk });
    defer(() => skProg1.close());
    skProg2 = Program.load({ type: 'sk_lookup', name: 'cli_test_sk2', instructions: sk });
    defer(() => skProg2.close());
    fdLink = attachNetNs(fdProg, ns);
    defer(() => fdLink.close());
    skLink = attachNetNs(skProg1, ns);
    defer(() => skLink.close());
    attachProgram(fdProg, { attachType: 'flow_dissector', netns: nsDirect });
    defer(() => detachProgram(fdProg, { attachType: 'flow_dissector', netns: nsDirect }));
  });

  afterAll(() => {
    const errors: unknown[] = [];
    for (const fn of cleanups.splice(0).reverse()) {
      try {
        fn();
      } catch (e) {
        errors.push(e);
      }
    }
    if (errors.length > 0) throw errors[0];
  });

  it('link list: a table row per link and JSON with bpftool field names', async () => {
    const table = await bpfjs(['link', 'list']);
    expect(table.code, table.stderr).toBe(0);
    const header = table.stdout.split('\n')[0];
    expect(header).toMatch(/^ID\s+TYPE\s+PROG\s+ATTACH_TYPE\s+DETAILS$/);
    const row = table.stdout.split('\n').find((l) => l.startsWith(`${fdLink.id} `));
    expect(row).toMatch(
      new RegExp(`^${fdLink.id}\\s+netns\\s+${fdProg.id}\\s+flow_dissector\\s+netns_ino ${ns.inode}$`),
    );

    const json = await bpfjs(['link', 'list', '--json']);
    expect(json.code, json.stderr).toBe(0);
    const list = JSON.parse(json.stdout) as Array<Record<string, unknown>>;
    expect(list.find((l) => l.id === fdLink.id)).toEqual({
      id: fdLink.id,
      type: 'netns',
      prog_id: fdProg.id,
      netns_ino: ns.inode,
      attach_type: 'flow_dissector',
    });
    expect(list.find((l) => l.id === skLink.id)).toEqual({
      id: skLink.id,
      type: 'netns',
      prog_id: skProg1.id,
      netns_ino: ns.inode,
      attach_type: 'sk_lookup',
    });
    // `--json` is global: it works before the command too; --pretty indents.
    const pretty = await bpfjs(['--pretty', 'link', 'ls']);
    expect(pretty.code).toBe(0);
    expect(pretty.stdout).toMatch(/^\[\n {2}\{\n {4}"id": /);
  });

  bpftool.it('link list --json matches `bpftool -j link show` on the same links', async () => {
    const ours = JSON.parse((await bpfjs(['link', 'list', '--json'])).stdout) as Array<
      Record<string, unknown>
    >;
    const theirs = JSON.parse(execFileSync('bpftool', ['-j', 'link', 'show'], { encoding: 'utf8' })) as Array<
      Record<string, unknown>
    >;
    for (const id of [fdLink.id, skLink.id]) {
      const a = ours.find((l) => l.id === id);
      const b = theirs.find((l) => l.id === id);
      expect(a, `bpfjs lists link ${id}`).toBeDefined();
      expect(b, `bpftool lists link ${id}`).toBeDefined();
      const shared = Object.keys(b ?? {}).filter((k) => k in (a ?? {}));
      // Every field bpftool prints for a netns link, bpfjs prints too, with the same value.
      expect(shared.sort()).toEqual(['attach_type', 'id', 'netns_ino', 'prog_id', 'type']);
      for (const k of shared) expect(a?.[k], `link ${id} field ${k}`).toEqual(b?.[k]);
    }
    // On every link both saw, the fields both print agree on id and type.
    for (const b of theirs) {
      const a = ours.find((l) => l.id === b.id);
      if (a !== undefined && typeof b.type === 'string') expect(a.type).toBe(b.type);
    }
  });

  it('link show by id and by pinned path; link pin pins', async () => {
    const byId = await bpfjs(['link', 'show', String(skLink.id), '--json']);
    expect(byId.code, byId.stderr).toBe(0);
    expect(JSON.parse(byId.stdout)).toEqual({
      id: skLink.id,
      type: 'netns',
      prog_id: skProg1.id,
      netns_ino: ns.inode,
      attach_type: 'sk_lookup',
    });
    const block = await bpfjs(['link', 'show', String(skLink.id)]);
    expect(block.stdout).toMatch(new RegExp(`^link ${skLink.id}\\n {2}id {11}${skLink.id}\\n`));
    expect(block.stdout).toMatch(/\n {2}attach_type {2}sk_lookup\n/);

    const path = join(bpffs, 'sk_link');
    const pin = await bpfjs(['link', 'pin', String(skLink.id), path]);
    expect(pin.code, pin.stderr).toBe(0);
    expect(pin.stdout).toBe(`link ${skLink.id} pinned at ${path}\n`);
    try {
      const reloaded = Link.fromPin(path);
      expect(reloaded.id).toBe(skLink.id);
      reloaded.close();
      const byPath = await bpfjs(['link', 'show', path, '--json']);
      expect(byPath.code, byPath.stderr).toBe(0);
      expect(JSON.parse(byPath.stdout)).toMatchObject({ id: skLink.id, pinned: [path] });
      // Pinning over an existing pin fails with the kernel's code.
      const again = await bpfjs(['link', 'pin', String(skLink.id), path]);
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/^bpfjs: EEXIST: /);
    } finally {
      rmSync(path, { force: true });
    }
  });

  it('fails with exit 1 and `bpfjs: <code>: <message>`', async () => {
    const missing = await bpfjs(['link', 'show', '4294967295']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^bpfjs: ENOENT: link 4294967295: /);
    expect(missing.stdout).toBe('');
    const noPin = await bpfjs(['link', 'show', join(bpffs, 'nothing-here')]);
    expect(noPin.code).toBe(1);
    expect(noPin.stderr).toMatch(/^bpfjs: ENOENT: link pinned at /);
    const notBpffs = await bpfjs(['link', 'pin', String(skLink.id), join(tmpdir(), 'not-on-bpffs')]);
    expect(notBpffs.code).toBe(1);
    expect(notBpffs.stderr).toMatch(/^bpfjs: ERR_BPFJS_NOT_BPFFS: /);
  });

  setpriv.it('names the missing capability and how to get it', async () => {
    const r = await bpfjs(['link', 'list'], {
      prefix: ['setpriv', '--inh-caps=-all', '--ambient-caps=-all', '--bounding-set=-all', '--'],
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^bpfjs: EPERM: /);
    expect(r.stderr).toContain('this needs CAP_SYS_ADMIN');
    expect(r.stderr).toContain('sudo bpfjs link list');
    const demo = await bpfjs(['demo'], {
      prefix: ['setpriv', '--inh-caps=-all', '--ambient-caps=-all', '--bounding-set=-all', '--'],
    });
    expect(demo.code).toBe(1);
    expect(demo.stderr).toMatch(/^bpfjs: EPERM: /);
    expect(demo.stderr).toMatch(/CAP_SYS_ADMIN \+ CAP_BPF \+ CAP_NET_ADMIN/);
  });

  it('link update with and without --replace, by id and by pinned path', async () => {
    const progPath = join(bpffs, 'sk2');
    skProg2.pin(progPath);
    try {
      const up = await bpfjs(['link', 'update', String(skLink.id), '--prog', progPath]);
      expect(up.code, up.stderr).toBe(0);
      expect(up.stdout).toBe(`link ${skLink.id}: prog ${skProg1.id} -> ${skProg2.id}\n`);
      expect(skLink.info().programId).toBe(skProg2.id);

      const wrong = await bpfjs([
        'link',
        'update',
        String(skLink.id),
        '--prog',
        String(skProg1.id),
        '--replace',
        String(skProg1.id),
      ]);
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toMatch(/^bpfjs: EPERM: /);
      expect(wrong.stderr).not.toContain('this needs CAP'); // root: not a privilege problem
      expect(skLink.info().programId).toBe(skProg2.id);

      const right = await bpfjs([
        'link',
        'update',
        String(skLink.id),
        '--prog',
        String(skProg1.id),
        '--replace',
        progPath,
        '--json',
      ]);
      expect(right.code, right.stderr).toBe(0);
      expect(JSON.parse(right.stdout)).toMatchObject({ id: skLink.id, prog_id: skProg1.id });
      expect(skLink.info().programId).toBe(skProg1.id);

      // A pinned program is shown by `prog show`, and refused by `link show` with a typed error.
      const prog = await bpfjs(['prog', 'show', progPath, '--json']);
      expect(prog.code, prog.stderr).toBe(0);
      expect(JSON.parse(prog.stdout)).toMatchObject({
        id: skProg2.id,
        name: 'cli_test_sk2',
        pinned: [progPath],
      });
      const notLink = await bpfjs(['link', 'show', progPath]);
      expect(notLink.code).toBe(1);
      expect(notLink.stderr).toMatch(/^bpfjs: ERR_BPFJS_WRONG_OBJECT: link pinned at /);
    } finally {
      rmSync(progPath, { force: true });
    }
  });

  it('prog list and prog show: table and JSON', async () => {
    const table = await bpfjs(['prog', 'list']);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+TYPE\s+NAME\s+TAG\s+LOADED_AT\s+MAPS$/);
    const info = fdProg.info();
    const row = table.stdout.split('\n').find((l) => l.startsWith(`${fdProg.id} `));
    expect(row).toMatch(
      new RegExp(`^${fdProg.id}\\s+flow_dissector\\s+cli_test_fd\\s+${info.tag}\\s+\\d{4}-\\d\\d-\\d\\dT`),
    );

    const json = await bpfjs(['prog', 'list', '--json']);
    const list = JSON.parse(json.stdout) as Array<Record<string, unknown>>;
    expect(list.find((p) => p.id === skProg1.id)).toMatchObject({
      type: 'sk_lookup',
      name: 'cli_test_sk1',
      gpl_compatible: true,
    });

    const show = await bpfjs(['prog', 'show', String(fdProg.id), '--json']);
    expect(show.code, show.stderr).toBe(0);
    const ours = JSON.parse(show.stdout) as Record<string, unknown>;
    expect(ours).toMatchObject({
      id: fdProg.id,
      type: 'flow_dissector',
      name: 'cli_test_fd',
      tag: info.tag,
      uid: 0,
    });
    if (hasBpftool) {
      const theirs = JSON.parse(
        execFileSync('bpftool', ['-j', 'prog', 'show', 'id', String(fdProg.id)], { encoding: 'utf8' }),
      );
      for (const k of [
        'id',
        'type',
        'name',
        'tag',
        'gpl_compatible',
        'uid',
        'bytes_xlated',
        'jited',
        'bytes_jited',
      ]) {
        expect(ours[k], `prog field ${k}`).toEqual(theirs[k]);
      }
      // bpftool derives the wall-clock load time from the boot time too: allow a second of rounding.
      expect(Math.abs(Number(ours.loaded_at) - Number(theirs.loaded_at))).toBeLessThanOrEqual(1);
    }
  });

  bpftool.it('prog list --json matches `bpftool -j prog show` on every program both see', async () => {
    const ours = JSON.parse((await bpfjs(['prog', 'list', '--json'])).stdout) as Array<
      Record<string, unknown>
    >;
    const theirs = JSON.parse(execFileSync('bpftool', ['-j', 'prog', 'show'], { encoding: 'utf8' })) as Array<
      Record<string, unknown>
    >;
    const byId = new Map(ours.map((p) => [p.id, p]));
    let compared = 0;
    for (const b of theirs) {
      const a = byId.get(b.id);
      // Programs come and go (other tests); a type this bpftool does not know prints as a number.
      if (a === undefined || typeof b.type !== 'string') continue;
      compared++;
      for (const k of [
        'type',
        'name',
        'tag',
        'gpl_compatible',
        'uid',
        'bytes_xlated',
        'jited',
        'bytes_jited',
        'btf_id',
      ]) {
        expect(a[k], `prog ${b.id} field ${k}`).toEqual(b[k]);
      }
      expect(
        Math.abs(Number(a.loaded_at) - Number(b.loaded_at)),
        `prog ${b.id} loaded_at`,
      ).toBeLessThanOrEqual(1);
    }
    expect(compared).toBeGreaterThanOrEqual(3); // at least this file's own three programs
  });

  it('netns list and show: inode and what is attached, by link or direct', async () => {
    const table = await bpfjs(['netns', 'list']);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^NAME\s+NETNS_INO\s+FLOW_DISSECTOR\s+SK_LOOKUP$/);
    const row = table.stdout.split('\n').find((l) => l.startsWith(`${name} `));
    expect(row).toMatch(
      new RegExp(
        `^${name}\\s+${ns.inode}\\s+prog ${fdProg.id} \\(link ${fdLink.id}\\)\\s+prog ${skProg1.id} \\(link ${skLink.id}\\)$`,
      ),
    );
    const direct = table.stdout.split('\n').find((l) => l.startsWith(`${directName} `));
    expect(direct).toMatch(
      new RegExp(`^${directName}\\s+${nsDirect.inode}\\s+prog ${fdProg.id} \\(direct\\)\\s+-$`),
    );

    const json = JSON.parse((await bpfjs(['netns', 'list', '--json'])).stdout) as Array<
      Record<string, unknown>
    >;
    expect(json.find((n) => n.name === name)).toEqual({
      name,
      netns_ino: ns.inode,
      flow_dissector: [{ id: fdProg.id, attach: 'link', link_id: fdLink.id }],
      sk_lookup: [{ id: skProg1.id, attach: 'link', link_id: skLink.id }],
    });
    expect(json.find((n) => n.name === directName)).toEqual({
      name: directName,
      netns_ino: nsDirect.inode,
      flow_dissector: [{ id: fdProg.id, attach: 'prog' }],
      sk_lookup: [],
    });

    const show = await bpfjs(['netns', 'show', name]);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toContain(`netns ${name}\n`);
    expect(show.stdout).toMatch(new RegExp(`netns_ino\\s+${ns.inode}\\n`));
    const missing = await bpfjs(['netns', 'show', `no-such-netns-${process.pid}`]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^bpfjs: ENOENT: netns no-such-netns-/);
  });

  it('netns attach --pin leaves a pinned link behind', async () => {
    const path = join(bpffs, 'attached');
    const r = await bpfjs([
      'netns',
      'attach',
      name,
      '--prog',
      String(skProg2.id),
      '--type',
      'sk_lookup',
      '--pin',
      path,
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const record = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(record).toMatchObject({
      type: 'netns',
      prog_id: skProg2.id,
      netns_ino: ns.inode,
      attach_type: 'sk_lookup',
      pinned: [path],
    });
    try {
      const link = Link.fromPin(path);
      try {
        expect(link.id).toBe(record.id);
        expect(queryPrograms(ns, 'sk_lookup').programIds).toEqual([skProg1.id, skProg2.id]);
        // detach through the CLI: the link stays (pinned) but defunct
        const d = await bpfjs(['link', 'detach', path]);
        expect(d.code, d.stderr).toBe(0);
        expect(d.stdout).toBe(`link ${record.id} detached (netns_ino 0)\n`);
        expect(link.isDefunct()).toBe(true);
        expect(queryPrograms(ns, 'sk_lookup').programIds).toEqual([skProg1.id]);
      } finally {
        link.close();
      }
    } finally {
      rmSync(path, { force: true });
    }
  });

  it('netns attach --hold keeps the link until SIGINT, then releases it', async () => {
    const child = spawn(
      process.execPath,
      [BIN, 'netns', 'attach', name, '--prog', String(skProg2.id), '--hold'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      const out = await waitForOutput(child, /holding link (\d+)/);
      const linkId = Number(/holding link (\d+)/.exec(out)?.[1]);
      expect(queryPrograms(ns, 'sk_lookup').programIds).toEqual([skProg1.id, skProg2.id]);
      const held = Link.fromId(linkId);
      held.close();
      child.kill('SIGINT');
      expect(await exited, stderr).toBe(0);
      await until(() => queryPrograms(ns, 'sk_lookup').programIds.length === 1, 'the held link to go');
      expect(queryPrograms(ns, 'sk_lookup').programIds).toEqual([skProg1.id]);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});

kernel.describe('bpfjs demo', () => {
  it('walks through every step and exits 0', async () => {
    const r = await bpfjs(['demo'], { timeoutMs: 60_000 });
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stderr).toBe('');
    for (const code of ['EEXIST', 'E2BIG', 'EINVAL', 'EPERM', 'ENOLINK'])
      expect(r.stdout).toContain(`kernel: ${code}: `);
    expect(r.stdout).not.toContain('FAIL');
    expect(r.stdout).toMatch(/netns_ino 0 {2}attach_type flow_dissector/);
    expect(r.stdout).toMatch(/result: all \d+ steps behaved as the kernel documents\n$/);
    const dir = /bpffs {5}(\S+)/.exec(r.stdout)?.[1];
    expect(dir).toBeDefined();
    expect(mounted(dir as string)).toBe(false);
    expect(existsSync(dir as string)).toBe(false);
  });

  processIt('finishes and cleans up when its reader goes away (bpfjs demo | head -1)', async () => {
    const demoMounts = () =>
      readFileSync('/proc/self/mounts', 'utf8')
        .split('\n')
        .filter((l) => l.includes('/bpfjs-demo-')).length;
    const before = demoMounts();
    const child = spawn(process.execPath, [BIN, 'demo'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      await waitForOutput(child, /bpfjs demo:/);
      child.stdout.destroy();
      expect(await exited, stderr).toBe(0);
      expect(stderr).toBe('');
      expect(demoMounts()).toBe(before);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  processIt('cleans up and exits 130 on Ctrl-C', async () => {
    const child = spawn(process.execPath, [BIN, 'demo', '--pace', '2000'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      await until(() => /\n 1\. /.test(stdout), 'step 1', 20_000);
      child.kill('SIGINT');
      expect(await exited).toBe(130);
      expect(stdout).toMatch(/result: interrupted by SIGINT/);
      expect(stdout).toContain('cleanup: closed every fd');
      const dir = /bpffs {5}(\S+)/.exec(stdout)?.[1] as string;
      expect(mounted(dir)).toBe(false);
      expect(existsSync(dir)).toBe(false);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
