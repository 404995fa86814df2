import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmdirSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
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
import type { Command } from 'commander';
import type { Context } from '../context.js';
import { CliError, errorCode, errorMessage, missingCapabilities, UsageError } from '../errors.js';
import { nextInterrupt } from '../io.js';
import { linkRecord } from '../records.js';
import type { Action } from './action.js';

/** One verified expectation of a demo step. */
interface Check {
  readonly ok: boolean;
  readonly text: string;
}

/** Thrown when the demo cannot go on (a step that later steps build on failed, or Ctrl-C). */
class Stop extends Error {}

/** `BPF_OK` from `enum bpf_ret_code`: what a flow dissector returns when it dissected the packet. */
const BPF_OK = 0;

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** How long to wait for a destroyed netns to be torn down (ms). Default 15000. */
  readonly teardownTimeoutMs?: number;
  /** Pause this long before each step (ms), so a person can follow along. Default 0. */
  readonly paceMs?: number;
}

/**
 * `bpfjs demo`: the netns link story, end to end, in two throwaway anonymous network namespaces
 * and a private bpffs mount, with two built-in flow dissector programs. Prints every step and the
 * kernel's answer, verifies each outcome against the documented kernel behaviour, cleans up
 * everything (also on failure and Ctrl-C) and returns the exit status: 0 only when every step
 * behaved as documented. Never touches the init netns's flow dissector.
 * Needs CAP_SYS_ADMIN, CAP_BPF and CAP_NET_ADMIN; Linux 5.8+ (netns links).
 */
export async function runDemo(ctx: Context, options: DemoOptions = {}): Promise<number> {
  const demo = new Demo(ctx, options.teardownTimeoutMs ?? 15_000, options.paceMs ?? 0);
  return demo.run();
}

class Demo {
  private readonly out: (line?: string) => void;
  private readonly cleanups: Array<[string, () => void]> = [];
  private stepNo = 0;
  /** Where something did not behave as documented: step numbers, `'setup'`, `'cleanup'`. */
  private readonly failedAt = new Set<string>();
  /** Why the demo could not run at all, if so. */
  private blocked: string | undefined;
  private interruptedBy: string | undefined;
  private wake: (() => void) | undefined;
  /** What the demo created, to verify it is gone after cleanup. */
  private readonly made: { linkId?: number; progIds: number[]; bpffs?: string } = { progIds: [] };

  constructor(
    private readonly ctx: Context,
    private readonly teardownTimeoutMs: number,
    private readonly paceMs: number,
  ) {
    this.out = (line = '') => ctx.io.out(`${line}\n`);
  }

  async run(): Promise<number> {
    const missing = missingCapabilities(['CAP_SYS_ADMIN', 'CAP_BPF', 'CAP_NET_ADMIN']);
    if (missing.length > 0) {
      // formatFailure() adds which capabilities are missing and how to get them (ctx.needs).
      throw new CliError(
        'EPERM',
        'the demo creates network namespaces, mounts bpffs, loads and attaches programs',
      );
    }
    const interrupt = nextInterrupt(this.ctx.io);
    interrupt.promise.then((signal) => {
      this.interruptedBy = signal;
      this.wake?.();
    });
    this.out(`bpfjs demo: bpf_link and network namespaces, step by step (Linux ${release()})`);
    this.out('Everything happens in throwaway namespaces and a private bpffs; nothing outside is touched.');
    try {
      await this.story();
    } catch (error) {
      if (!(error instanceof Stop)) {
        this.failedAt.add(this.stepNo === 0 ? 'setup' : String(this.stepNo));
        this.out(`    FAIL unexpected error: ${errorCode(error)}: ${errorMessage(error)}`);
      }
    } finally {
      interrupt.cancel();
      await this.cleanup();
    }
    this.out();
    if (this.interruptedBy !== undefined) {
      this.out(
        `result: interrupted by ${this.interruptedBy} after step ${this.stepNo}; everything was cleaned up`,
      );
      return 130;
    }
    if (this.blocked !== undefined) {
      this.out(`result: not run: ${this.blocked}`);
      throw new CliError(
        'ERR_BPFJS_DEMO_BLOCKED',
        `the demo could not run: ${this.blocked}`,
        'detach the init netns flow dissector (see `bpfjs link list`, `bpftool net show`), or wait for the test holding it to finish',
      );
    }
    if (this.failedAt.size === 0) {
      this.out(`result: all ${this.stepNo} steps behaved as the kernel documents`);
      return 0;
    }
    const where = [...this.failedAt].join(', ');
    this.out(`result: NOT as documented at: ${where} (see the FAIL lines above)`);
    throw new CliError(
      'ERR_BPFJS_DEMO_FAILED',
      `the kernel did not behave as documented at: ${where} (${this.stepNo} steps run)`,
    );
  }

  /** Registers an undo action, run in reverse order at the end (also after failures). */
  private defer(what: string, fn: () => void): void {
    this.cleanups.push([what, fn]);
  }

  private async cleanup(): Promise<void> {
    // A second Ctrl-C during cleanup is absorbed once, so the undo actions can finish.
    const absorb = this.ctx.io.onInterrupt(() => {});
    const problems: string[] = [];
    try {
      for (const [what, fn] of this.cleanups.splice(0).reverse()) {
        try {
          fn();
        } catch (error) {
          problems.push(`${what}: ${errorCode(error)}: ${errorMessage(error)}`);
        }
      }
      this.out();
      if (problems.length === 0)
        this.out('cleanup: closed every fd, unpinned, unmounted the bpffs, released the namespaces');
      for (const p of problems) this.out(`cleanup: FAIL ${p}`);
      if (problems.length === 0) problems.push(...(await this.verifyGone()));
    } finally {
      absorb();
    }
    if (problems.length > 0) this.failedAt.add('cleanup');
  }

  /**
   * Checks that nothing the demo made is left in the kernel: its link and programs are freed (the
   * kernel frees them asynchronously, so this polls with a deadline) and its bpffs is unmounted.
   */
  private async verifyGone(): Promise<string[]> {
    const { linkId, progIds, bpffs } = this.made;
    const gone = (open: () => { close(): void }): boolean => {
      try {
        open().close();
        return false;
      } catch (error) {
        if (errorCode(error) === 'ENOENT') return true;
        throw error;
      }
    };
    const left: string[] = [];
    const deadline = Date.now() + 10_000;
    const pending = [
      ...(linkId === undefined ? [] : [{ what: `link ${linkId}`, open: () => Link.fromId(linkId) }]),
      ...progIds.map((id) => ({ what: `prog ${id}`, open: () => Program.fromId(id) })),
    ];
    while (pending.length > 0 && Date.now() < deadline) {
      for (let i = pending.length - 1; i >= 0; i--) if (gone(pending[i]!.open)) pending.splice(i, 1);
      if (pending.length > 0) await new Promise<void>((resolve) => setTimeout(resolve, 10));
    }
    for (const p of pending) left.push(`${p.what} is still in the kernel after 10 s`);
    if (bpffs !== undefined && isMounted(bpffs)) left.push(`${bpffs} is still mounted`);
    for (const l of left) this.out(`cleanup: FAIL ${l}`);
    if (left.length === 0) {
      const objects = [
        ...(linkId === undefined ? [] : [`link ${linkId}`]),
        ...progIds.map((id) => `prog ${id}`),
      ];
      this.out(
        `cleanup: verified: ${objects.length > 0 ? `${objects.join(', ')} freed by the kernel; ` : ''}nothing mounted, nothing pinned`,
      );
    }
    return left;
  }

  /** Waits `ms` (0: one turn of the event loop), ending early on an interrupt. */
  private async pause(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = ms > 0 ? setTimeout(resolve, ms) : setImmediate(resolve);
      this.wake = () => {
        if (ms > 0) clearTimeout(timer as NodeJS.Timeout);
        resolve();
      };
    });
    this.wake = undefined;
  }

  /** Between steps: lets a pending Ctrl-C through (and paces the demo when asked). */
  private async checkpoint(): Promise<void> {
    await this.pause(this.paceMs);
    if (this.interruptedBy !== undefined) throw new Stop();
  }

  private title(text: string): void {
    this.stepNo++;
    this.out();
    this.out(`${String(this.stepNo).padStart(2)}. ${text}`);
  }

  private report(checks: readonly Check[]): void {
    for (const c of checks) {
      if (!c.ok) this.failedAt.add(this.stepNo === 0 ? 'setup' : String(this.stepNo));
      this.out(`    ${c.ok ? 'ok  ' : 'FAIL'} ${c.text}`);
    }
  }

  /** A step whose call must succeed; the result feeds later steps, so a failure stops the demo. */
  private async expectOk<T>(title: string, call: () => T, verify: (value: T) => Check[]): Promise<T> {
    await this.checkpoint();
    this.title(title);
    let value: T;
    try {
      value = call();
    } catch (error) {
      this.out(`    kernel: ${errorCode(error)}: ${errorMessage(error)}`);
      this.report([{ ok: false, text: 'expected success' }]);
      throw new Stop();
    }
    this.out('    kernel: ok');
    this.report(verify(value));
    return value;
  }

  /** A step whose call the kernel must refuse with `code`; `after` verifies nothing changed. */
  private async expectError(
    title: string,
    code: string,
    why: string,
    call: () => unknown,
    after?: () => Check[],
  ): Promise<void> {
    await this.checkpoint();
    this.title(title);
    try {
      call();
      this.out('    kernel: ok (accepted)');
      this.report([{ ok: false, text: `expected ${code}: ${why}` }]);
    } catch (error) {
      const got = errorCode(error);
      this.out(`    kernel: ${got}: ${errorMessage(error)}`);
      this.report([
        {
          ok: got === code,
          text: got === code ? `refused with ${code}: ${why}` : `expected ${code}: ${why}`,
        },
      ]);
    }
    if (after !== undefined) this.report(after());
  }

  private linkLine(link: Link): string {
    const r = linkRecord(link.info());
    return `link ${r.id}: ${r.type}  prog ${r.prog_id}  netns_ino ${r.netns_ino}  attach_type ${r.attach_type}`;
  }

  private attached(ns: NetNs): number[] {
    return [...queryPrograms(ns, 'flow_dissector').programIds];
  }

  private async story(): Promise<void> {
    // --- setup ---------------------------------------------------------------------------------
    this.out();
    this.out('setup');
    const root = NetNs.current();
    let rootIds: number[];
    try {
      rootIds = this.attached(root);
    } finally {
      root.close();
    }
    if (rootIds.length > 0) {
      this.blocked =
        `the init netns has a flow dissector attached (prog ${rootIds.join(', ')}), and while it does the kernel ` +
        'refuses flow dissectors in every other netns (EEXIST)';
      this.out(`  ${this.blocked}`);
      throw new Stop();
    }
    const nsA = NetNs.create();
    let nsAOpen = true;
    this.defer('close netns A', () => {
      if (nsAOpen) nsA.close();
    });
    const nsB = NetNs.create();
    this.defer('close netns B', () => nsB.close());
    this.out(`  netns A   anonymous, inode ${nsA.inode}, held only by this process's fd`);
    this.out(`  netns B   anonymous, inode ${nsB.inode}`);

    const dir = mkdtempSync(join(tmpdir(), 'bpfjs-demo-'));
    this.defer(`remove ${dir}`, () => rmdirSync(dir));
    execFileSync('mount', ['-t', 'bpf', 'bpf', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.defer(`unmount ${dir}`, () =>
      execFileSync('umount', [dir], { stdio: ['ignore', 'ignore', 'pipe'] }),
    );
    this.made.bpffs = dir;
    this.out(`  bpffs     ${dir} (a private mount of the BPF filesystem)`);

    const insns = assemble([asm.mov64Imm(R0, BPF_OK), asm.exit()]);
    const progA = Program.load({ type: 'flow_dissector', instructions: insns, name: 'bpfjs_demo_a' });
    this.defer('close prog A', () => progA.close());
    const progB = Program.load({ type: 'flow_dissector', instructions: insns, name: 'bpfjs_demo_b' });
    this.defer('close prog B', () => progB.close());
    const a = progA.info().id;
    const b = progB.info().id;
    this.made.progIds.push(a, b);
    this.out(`  programs  ${a} bpfjs_demo_a, ${b} bpfjs_demo_b (flow_dissector: r0 = BPF_OK; exit)`);

    // --- attach by link --------------------------------------------------------------------------
    const link = await this.expectOk(
      `attach prog ${a} to netns A's flow dissector with a link (BPF_LINK_CREATE)`,
      () => attachNetNs(progA, nsA) as NetNsLink,
      (l) => {
        const info = l.info() as { type: string; programId: number; netnsInode: number; attachType: string };
        this.out(`    ${this.linkLine(l)}`);
        return [
          {
            ok:
              info.type === 'netns' &&
              info.programId === a &&
              info.netnsInode === nsA.inode &&
              info.attachType === 'flow_dissector',
            text: `link info names netns A (inode ${nsA.inode}), prog ${a}, attach_type flow_dissector`,
          },
          { ok: sameIds(this.attached(nsA), [a]), text: `the netns query (BPF_PROG_QUERY) shows prog ${a}` },
        ];
      },
    );
    this.defer('close the link fd', () => link.close());
    const linkId = link.info().id;
    this.made.linkId = linkId;

    await this.expectError(
      `attach prog ${b} directly (BPF_PROG_ATTACH) to netns A while the link holds the hook`,
      'EEXIST',
      'links and direct attachments do not mix on one hook',
      () => attachProgram(progB, { attachType: 'flow_dissector', netns: nsA }),
      () => [{ ok: sameIds(this.attached(nsA), [a]), text: `prog ${a} is still the one attached` }],
    );

    await this.expectError(
      `create a second flow dissector link in netns A (prog ${b})`,
      'E2BIG',
      'one flow dissector link per netns',
      () => {
        const second = attachNetNs(progB, nsA);
        second.close();
      },
    );

    await this.expectError(
      `detach prog ${a} the old way (BPF_PROG_DETACH) while the link exists`,
      'EINVAL',
      'a program attached by a link is detached through the link only',
      () => detachProgram(progA, { attachType: 'flow_dissector', netns: nsA }),
      () => [{ ok: sameIds(this.attached(nsA), [a]), text: `the link still holds prog ${a}` }],
    );

    // --- the other direction, in netns B ------------------------------------------------------
    await this.expectOk(
      `in netns B: attach prog ${a} directly (BPF_PROG_ATTACH)`,
      () => attachProgram(progA, { attachType: 'flow_dissector', netns: nsB }),
      () => [{ ok: sameIds(this.attached(nsB), [a]), text: `netns B's query shows prog ${a}` }],
    );
    let bAttached = true;
    this.defer('detach prog A from netns B', () => {
      if (bAttached) detachProgram(progA, { attachType: 'flow_dissector', netns: nsB });
    });
    await this.expectError(
      `in netns B: create a link (prog ${b}) while prog ${a} is attached directly`,
      'EEXIST',
      'the hook is taken by a direct attachment',
      () => {
        const l = attachNetNs(progB, nsB);
        l.close();
      },
    );
    await this.expectOk(
      `in netns B: detach prog ${a} (BPF_PROG_DETACH)`,
      () => detachProgram(progA, { attachType: 'flow_dissector', netns: nsB }),
      () => {
        bAttached = false;
        return [{ ok: this.attached(nsB).length === 0, text: 'netns B has no flow dissector now' }];
      },
    );

    // --- atomic update ---------------------------------------------------------------------------
    await this.expectOk(
      `update link ${linkId} to prog ${b} (BPF_LINK_UPDATE, no expectation about the old program)`,
      () => {
        this.out(`    before: ${this.linkLine(link)}`);
        link.update(progB);
      },
      () => {
        this.out(`    after:  ${this.linkLine(link)}`);
        return [
          { ok: link.info().programId === b, text: `the link now runs prog ${b}` },
          {
            ok: sameIds(this.attached(nsA), [b]),
            text: `netns A's query shows prog ${b}: swapped in one step`,
          },
        ];
      },
    );
    await this.expectError(
      `update link ${linkId} to prog ${a} with replace = prog ${a} (BPF_F_REPLACE), but ${b} is attached`,
      'EPERM',
      'the program to replace is not the one attached',
      () => link.update(progA, { replace: progA }),
      () => [{ ok: link.info().programId === b, text: `the link still runs prog ${b}` }],
    );
    await this.expectOk(
      `update link ${linkId} to prog ${a} with replace = prog ${b} (BPF_F_REPLACE)`,
      () => {
        this.out(`    before: ${this.linkLine(link)}`);
        link.update(progA, { replace: progB });
      },
      () => {
        this.out(`    after:  ${this.linkLine(link)}`);
        return [{ ok: link.info().programId === a, text: `the link runs prog ${a} again` }];
      },
    );

    // --- pin and reload ------------------------------------------------------------------------
    const pinPath = join(dir, 'demo_link');
    await this.expectOk(
      `pin link ${linkId} at ${pinPath} (BPF_OBJ_PIN), reload it from the pin (BPF_OBJ_GET), close the creator's fd`,
      () => {
        link.pin(pinPath);
        this.defer(`unpin ${pinPath}`, () => link.unpin());
        return Link.fromPin(pinPath);
      },
      (reloaded) => {
        this.defer('close the reloaded link fd', () => reloaded.close());
        this.out(`    reloaded: ${this.linkLine(reloaded)}`);
        return [
          { ok: reloaded.info().id === linkId, text: `the pin holds the same link (id ${linkId})` },
          {
            ok: reloaded.constructor.name === link.constructor.name,
            text: `it comes back typed (${reloaded.constructor.name})`,
          },
        ];
      },
    );
    link.close();
    const pinned = Link.fromPin(pinPath) as NetNsLink;
    this.defer('close the pinned link fd', () => pinned.close());
    this.report([
      {
        ok: sameIds(this.attached(nsA), [a]),
        text: "after closing the creator's fd, the pin keeps the link attached",
      },
    ]);

    // --- netns destroyed → defunct → ENOLINK -------------------------------------------------
    await this.checkpoint();
    this.title('destroy netns A: close the only fd holding it (a link does not keep its netns alive)');
    nsA.close();
    nsAOpen = false;
    this.out(
      `    closed; the kernel tears a netns down asynchronously (a workqueue): polling the link's info (deadline ${this.teardownTimeoutMs / 1000} s)`,
    );
    const t0 = Date.now();
    const deadline = t0 + this.teardownTimeoutMs;
    let info = pinned.info() as { netnsInode: number; attachType: string; programId: number };
    while (info.netnsInode !== 0 && Date.now() < deadline) {
      await this.pause(10);
      if (this.interruptedBy !== undefined) throw new Stop();
      info = pinned.info() as typeof info;
    }
    this.out(`    after ${Date.now() - t0} ms: ${this.linkLine(pinned)}`);
    this.report([
      { ok: info.netnsInode === 0, text: 'the link is defunct: netns_ino 0' },
      { ok: info.attachType === 'flow_dissector', text: 'attach_type is kept (flow_dissector)' },
      { ok: pinned.isDefunct() === true, text: 'isDefunct() says so' },
    ]);

    await this.expectError(
      `update the defunct link ${linkId} to prog ${b} (BPF_LINK_UPDATE)`,
      'ENOLINK',
      'a defunct link cannot be updated',
      () => pinned.update(progB),
    );
  }
}

function isMounted(dir: string): boolean {
  try {
    return readFileSync('/proc/self/mounts', 'utf8')
      .split('\n')
      .some((line) => line.split(' ')[1] === dir);
  } catch {
    return false;
  }
}

function sameIds(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Registers `bpfjs demo`. */
export function addDemoCommand(program: Command, act: Action): void {
  program
    .command('demo')
    .description('walk through the netns link story in throwaway namespaces (the main job for a new user)')
    .option('--teardown-timeout <ms>', 'how long to wait for a destroyed netns to go (ms)', '15000')
    .option('--pace <ms>', 'pause before each step, to follow along live (ms)', '0')
    .addHelpText(
      'after',
      '\nSteps: attach by link; prog attach refused (EEXIST); second link (E2BIG); prog detach (EINVAL);\n' +
        'the same rules from the other side; atomic update with and without replace (EPERM on mismatch);\n' +
        'pin and reload; netns destroyed -> link defunct (netns_ino 0) -> update fails with ENOLINK.\n' +
        'Exit status 0 only if every step behaved as the kernel documents. Needs root.\n\nExample:\n  sudo bpfjs demo',
    )
    .action(
      act(async (ctx, opts: { teardownTimeout: string; pace: string }) => {
        if (!/^\d+$/.test(opts.teardownTimeout) || Number(opts.teardownTimeout) <= 0) {
          throw new UsageError(
            `--teardown-timeout: expected a positive integer (ms), got ${opts.teardownTimeout}`,
          );
        }
        if (!/^\d+$/.test(opts.pace) || Number(opts.pace) > 60_000) {
          throw new UsageError(`--pace: expected an integer from 0 to 60000 (ms), got ${opts.pace}`);
        }
        ctx.needs('CAP_SYS_ADMIN', 'CAP_BPF', 'CAP_NET_ADMIN');
        return runDemo(ctx, { teardownTimeoutMs: Number(opts.teardownTimeout), paceMs: Number(opts.pace) });
      }),
    );
}
