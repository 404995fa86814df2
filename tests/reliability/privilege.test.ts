// Least privilege: the netns link story runs as a non-root user (uid 65534) holding only CAP_BPF,
// CAP_NET_ADMIN and CAP_SYS_ADMIN (setpriv, built dist). With none of them, every call that needs
// one fails with EPERM and its hint names the missing capability; with partial sets, the hint
// names what is still missing. Calls on descriptors handed over by a privileged process need no
// capability on Linux 6.x (the fd is the permission) — asserted too, so the READMEs stay true.
// uid 65534 may not be able to read the checkout (root clones into /root, mode 0700): the child
// runs from a world-readable copy of the built packages and fixtures (lib/stage.ts).
import { spawnSync } from 'node:child_process';
import { attachNetNs } from '@bpfjs/link';
import {
  deferCleanup,
  flowDissectorProgram,
  requireExecutable,
  requireKernel,
  scaleTimeout,
  tempNetNs,
} from '@bpfjs/testkit';
import { afterAll, beforeAll, expect } from 'vitest';
import { type Stage, stageForOtherUser } from './lib/stage.js';

const gate = requireKernel().and(requireExecutable('setpriv', 'apt-get install util-linux'));

type Cap = 'bpf' | 'net_admin' | 'sys_admin';
interface Outcome {
  ok: boolean;
  code?: string;
  syscall?: string;
  hint?: string;
  message?: string;
  value?: unknown;
}

/** Runs the child as uid/gid 65534 with exactly `caps` (effective, inheritable, ambient, bounding). */
function runAs(caps: Cap[], mode: 'story' | 'calls', fds: number[] = []) {
  const set = ['-all', ...caps.map((c) => `+${c}`)].join(',');
  const res = spawnSync(
    'setpriv',
    [
      '--reuid=65534',
      '--regid=65534',
      '--clear-groups',
      `--inh-caps=${set}`,
      `--ambient-caps=${set}`,
      `--bounding-set=${set}`,
      '--',
      process.execPath,
      stage!.fixture('privilege-child.mjs'),
      mode,
    ],
    { encoding: 'utf8', timeout: scaleTimeout(60_000), stdio: ['ignore', 'pipe', 'pipe', ...fds] },
  );
  const out = `${res.stdout}\n${res.stderr}`;
  expect(res.status, out).toBe(0);
  return { out, ...JSON.parse(res.stdout.trim().split('\n').at(-1) ?? '{}') };
}

/**
 * A netns with a flow dissector link: its netns, program and link fds become the child's fds 3, 4
 * and 5. testkit closes the netns and program after the test; the link is closed here.
 */
function handOver(): number[] {
  const ns = tempNetNs();
  const prog = flowDissectorProgram();
  const link = attachNetNs(prog, ns);
  deferCleanup('handed-over link', () => link.close());
  return [ns.fd.fd, prog.fd.fd, link.fd.fd];
}

/** The capability names listed after "missing capabilities:" in a sys EPERM hint. */
function missingIn(hint: string | undefined): string[] {
  const m = /missing capabilities: ([A-Z_, ]+)/.exec(hint ?? '');
  return m ? (m[1] as string).split(',').map((c) => c.trim()) : [];
}

let stage: Stage | undefined;

gate.describe('least privilege (setpriv, uid 65534)', () => {
  beforeAll(() => {
    stage = stageForOtherUser(['sys', 'link', 'netns', 'asm', 'cli', 'uapi']);
  });
  afterAll(() => stage?.dispose());

  gate.it('the netns link story passes with only CAP_BPF, CAP_NET_ADMIN and CAP_SYS_ADMIN', () => {
    const r = runAs(['bpf', 'net_admin', 'sys_admin'], 'story');
    expect(r.ids, r.out).toMatchObject({ uid: 65534, gid: 65534, caps: '0000008000201000' });
    const s = r.steps as Record<string, Outcome & { inode?: number }>;
    expect(s.error, r.out).toBeUndefined();
    expect(s.info?.value, r.out).toMatchObject({
      type: 'netns',
      attachType: 'flow_dissector',
      netnsInode: s.create?.inode,
    });
    expect(s.secondFlowLink, r.out).toMatchObject({ ok: false, code: 'E2BIG' });
    expect(s.update?.ok, r.out).toBe(true);
    expect(s.updateWrongReplace, r.out).toMatchObject({ ok: false, code: 'EPERM' });
    // An EPERM that is not about privileges carries link's sentence, not a capability hint.
    expect(s.updateWrongReplace?.hint).toMatch(/replace/);
    expect(s.updateReplace?.ok, r.out).toBe(true);
    const q = s.query?.value as { flow: number[]; sk: number[]; flowProg: number; skProg: number };
    expect(q.flow).toEqual([q.flowProg]);
    expect(q.sk).toEqual([q.skProg]);
    expect(s.fromId?.ok, r.out).toBe(true);
    expect(s.closeDetaches?.value).toEqual([]);
    expect(s.defunct?.ok, r.out).toBe(true);
    expect(s.updateDefunct, r.out).toMatchObject({ ok: false, code: 'ENOLINK' });
  });

  // What each call needs on this kernel (also in the READMEs' Capabilities sections).
  const NEEDS: Record<string, Cap[]> = {
    'NetNs.create': ['sys_admin'],
    'NetNs.run': ['sys_admin'],
    'Program.load flow_dissector': ['bpf', 'net_admin'],
    'Program.load sk_lookup': ['bpf'],
    queryPrograms: ['net_admin'],
    'Link.fromId': ['sys_admin'],
    links: ['sys_admin'],
    programs: ['sys_admin'],
    'Program.fromId': ['sys_admin'],
    // Legacy attach enters the netns (setns): CAP_SYS_ADMIN, which also covers the kernel's check.
    attachProgram: ['sys_admin'],
  };
  const CAP_NAME: Record<Cap, string> = {
    bpf: 'CAP_BPF',
    net_admin: 'CAP_NET_ADMIN',
    sys_admin: 'CAP_SYS_ADMIN',
  };

  gate.it('with none of them: every call fails with EPERM and the hint names the missing capability', () => {
    {
      const r = runAs([], 'calls', handOver());
      expect(r.ids.caps).toBe('0000000000000000');
      const res = r.results as Record<string, Outcome>;
      for (const [call, caps] of Object.entries(NEEDS)) {
        const o = res[call] as Outcome;
        expect(o, `${call}: ${r.out}`).toMatchObject({ ok: false, code: 'EPERM' });
        for (const c of caps) expect(missingIn(o.hint), `${call} hint: ${o.hint}`).toContain(CAP_NAME[c]);
      }
      // Calls whose kernel check is one capability name only that one (#19 defect 8: links()
      // listed CAP_BPF and CAP_NET_ADMIN too).
      for (const call of ['links', 'programs', 'Link.fromId', 'Program.fromId', 'queryPrograms']) {
        const o = res[call] as Outcome;
        expect(missingIn(o.hint), `${call} hint: ${o.hint}`).toEqual(
          (NEEDS[call] ?? []).map((c) => CAP_NAME[c]),
        );
      }
      // Descriptors handed over by a privileged process are the permission: no capability needed.
      expect(res['linkUpdate (sys)']?.ok, r.out).toBe(true);
      expect(res['linkGetInfo (sys)']?.ok, r.out).toBe(true);
      expect(res['Program.fromFd']?.ok, r.out).toBe(true);
      expect(res['linkDetach (sys)']?.ok, r.out).toBe(true);
      // The netns already has a flow dissector link: the kernel got as far as the E2BIG rule.
      expect(res.attachNetNs, r.out).toMatchObject({ ok: false, code: 'E2BIG' });
    }
  });

  // The partial sets check the hints' arithmetic over what the kernel answered; in the kernel matrix's
  // emulated guests (a node process per set, seconds apiece) the full and the empty set above show
  // each kernel's capability checks, and the host runs the partial sets.
  const partial = process.env.BPFJS_KERNEL_MATRIX
    ? []
    : [['bpf'], ['net_admin'], ['sys_admin'], ['bpf', 'net_admin']];
  for (const held of partial as Cap[][]) {
    gate.it(
      `with only ${held.map((c) => CAP_NAME[c]).join(' + ')}: the EPERM hints name what is missing`,
      () => {
        {
          const r = runAs(held, 'calls', handOver());
          const res = r.results as Record<string, Outcome>;
          for (const [call, caps] of Object.entries(NEEDS)) {
            const o = res[call] as Outcome;
            // CAP_SYS_ADMIN stands in for CAP_BPF and CAP_NET_ADMIN in the kernel's checks.
            const ok = held.includes('sys_admin') || caps.every((c) => held.includes(c));
            if (ok) {
              expect(o.code, `${call}: ${r.out}`).not.toBe('EPERM');
              continue;
            }
            expect(o, `${call}: ${r.out}`).toMatchObject({ ok: false, code: 'EPERM' });
            const missing = missingIn(o.hint);
            for (const c of caps)
              if (!held.includes(c)) expect(missing, `${call}: ${o.hint}`).toContain(CAP_NAME[c]);
            for (const c of held) expect(missing, `${call}: ${o.hint}`).not.toContain(CAP_NAME[c]);
          }
        }
      },
    );
  }
});
