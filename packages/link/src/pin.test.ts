/**
 * Pinning on a private bpffs per test, across processes: the child processes run a small script
 * that imports the BUILT package (packages/link/dist/index.js; `npx turbo run build
 * --filter=@bpfjs/link` first, which `pnpm test` does).
 */

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { asm, assemble, R0 } from '@bpfjs/asm';
import { requireKernel, scaleTimeout } from '@bpfjs/testkit';
import { expect, it } from 'vitest';
import { attachNetNs, Link, NetNsLink, Program, queryPrograms } from './index.js';
import {
  catchError,
  freshNetNs,
  loadFlowDissector,
  loadSkLookup,
  pollUntil,
  privateBpffs,
  withCleanup,
} from './test/helpers.js';

const DIST = fileURLToPath(new URL('../dist/index.js', import.meta.url));

const CHILD = `
import { Link, Program, attachNetNs, queryPrograms } from ${JSON.stringify(DIST)};
const [cmd, ...args] = process.argv.slice(2);
const out = (v) => process.stdout.write(JSON.stringify(v));
if (cmd === 'open') {
  const link = Link.fromPin(args[0]);
  out({ cls: link.constructor.name, info: link.info() });
  link.close();
} else if (cmd === 'attach') {
  // args: netns path, instructions hex, pin path or '-'
  const prog = Program.load({ type: 'sk_lookup', instructions: Buffer.from(args[1], 'hex'), name: 'bpfjs_child' });
  const link = attachNetNs(prog, args[0]);
  if (args[2] !== '-') link.pin(args[2]);
  out({ linkId: link.info().id, progId: prog.info().id, query: queryPrograms(args[0], 'sk_lookup') });
  // exit without closing: the process's exit closes the fds
}
`;

function runChild(dir: string, args: string[]): Record<string, unknown> {
  const script = join(dir, 'child.mjs');
  if (!existsSync(script)) writeFileSync(script, CHILD);
  const r = spawnSync(process.execPath, [script, ...args], {
    encoding: 'utf8',
    timeout: scaleTimeout(30_000),
  });
  if (r.status !== 0) throw new Error(`child failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

requireKernel().describe('pinning (needs root)', () => {
  it('pin, fromPin (typed), unpin; unpinning a missing path is not an error', () =>
    withCleanup(async (defer) => {
      const fs = privateBpffs();
      defer(fs.dispose);
      const ns = freshNetNs();
      defer(() => ns.close());
      const prog = loadFlowDissector();
      defer(() => prog.close());
      const link = attachNetNs(prog, ns);
      defer(() => link.close());
      const path = join(fs.dir, 'fd_link');
      link.pin(path);
      defer(() => link.unpin(path));
      expect(link.pinnedPath).toBe(path);
      const again = Link.fromPin(path);
      defer(() => again.close());
      expect(again).toBeInstanceOf(NetNsLink);
      expect(again.info()).toEqual(link.info());
      expect(again.pinnedPath).toBe(path);
      // The pin keeps the link attached after every fd is closed.
      again.close();
      link.close();
      expect(queryPrograms(ns, 'flow_dissector').programIds).toEqual([prog.id]);
      const third = Link.fromPin(path);
      expect(third.unpin()).toBe(true);
      expect(existsSync(path)).toBe(false);
      expect(third.unpin()).toBe(false);
      expect(third.unpin(join(fs.dir, 'never-there'))).toBe(false);
      third.close();
      // With the pin and every fd gone the link is released — on older kernels (5.10) the bpffs
      // inode drops its reference from an RCU callback (then a work item), a moment after unpin and
      // close() return: poll.
      await pollUntil(
        'the unpinned, closed link to detach',
        () => (queryPrograms(ns, 'flow_dissector').programIds.length === 0 ? true : undefined),
        scaleTimeout(10_000),
      );
    }));

  it('pinning over an existing path → EEXIST unless replace; replace swaps atomically', () =>
    withCleanup((defer) => {
      const fs = privateBpffs();
      defer(fs.dispose);
      const ns = freshNetNs();
      defer(() => ns.close());
      const prog = loadSkLookup();
      defer(() => prog.close());
      const l1 = attachNetNs(prog, ns);
      defer(() => l1.close());
      const l2 = attachNetNs(prog, ns);
      defer(() => l2.close());
      const path = join(fs.dir, 'l');
      l1.pin(path);
      const err = catchError(() => l2.pin(path));
      expect(err.code).toBe('EEXIST');
      expect(err.command).toBe('BPF_OBJ_PIN');
      expect(err.hint).toMatch(/replace: true/);
      l2.pin(path, { replace: true });
      const opened = Link.fromPin(path);
      defer(() => opened.close());
      expect(opened.info().id).toBe(l2.info().id);
      expect(l1.unpin(path)).toBe(true);
    }));

  it('the target directory must be on bpffs (checked first); fromPin checks it is a link', () =>
    withCleanup((defer) => {
      const fs = privateBpffs();
      defer(fs.dispose);
      const plain = mkdtempSync(join(tmpdir(), 'bpfjs-link-plain-'));
      defer(() => rmSync(plain, { recursive: true, force: true }));
      const prog = loadFlowDissector();
      defer(() => prog.close());
      const e1 = catchError(() => prog.pin(join(plain, 'p')));
      expect(e1).toBeInstanceOf(TypeError);
      expect(e1.code).toBe('ERR_BPFJS_NOT_BPFFS');
      const e2 = catchError(() => prog.pin(join(plain, 'missing-dir', 'p')));
      expect(e2.code).toBe('ERR_BPFJS_NOT_BPFFS');
      // unpin never deletes files outside bpffs; a missing directory is simply nothing to remove.
      expect(catchError(() => prog.unpin(join(plain, 'p'))).code).toBe('ERR_BPFJS_NOT_BPFFS');
      expect(prog.unpin(join(plain, 'missing-dir', 'p'))).toBe(false);
      const dotted = catchError(() => prog.pin(join(fs.dir, 'a.b')));
      expect(dotted.code).toBe('EPERM');
      expect(dotted.hint).toMatch(/reserves names with a dot/);
      const progPath = join(fs.dir, 'prog');
      prog.pin(progPath);
      defer(() => prog.unpin());
      const e3 = catchError(() => Link.fromPin(progPath));
      expect(e3.code).toBe('ERR_BPFJS_WRONG_OBJECT');
      expect(e3.message).toMatch(/program, not a BPF link/);
      const p2 = Program.fromPin(progPath);
      defer(() => p2.close());
      expect(p2.id).toBe(prog.id);
      expect(catchError(() => Link.fromPin(join(fs.dir, 'nothing'))).code).toBe('ENOENT');
    }));

  it('a link pinned by one process is opened by another (Link.fromPin in a child)', () =>
    withCleanup((defer) => {
      const fs = privateBpffs();
      defer(fs.dispose);
      const tmp = mkdtempSync(join(tmpdir(), 'bpfjs-link-child-'));
      defer(() => rmSync(tmp, { recursive: true, force: true }));
      const ns = freshNetNs();
      defer(() => ns.close());
      const prog = loadFlowDissector();
      defer(() => prog.close());
      const link = attachNetNs(prog, ns);
      defer(() => link.close());
      const path = join(fs.dir, 'shared');
      link.pin(path);
      defer(() => link.unpin(path));
      const child = runChild(tmp, ['open', path]);
      expect(child.cls).toBe('NetNsLink');
      expect(child.info).toEqual({ ...link.info() });
    }));

  it('a pinned link survives its creator’s exit; an unpinned one does not', async () => {
    const fs = privateBpffs();
    const tmp = mkdtempSync(join(tmpdir(), 'bpfjs-link-child-'));
    const ns = freshNetNs();
    const hex = Buffer.from(assemble([asm.mov64Imm(R0, 1), asm.exit()])).toString('hex');
    const nsPath = `/proc/${process.pid}/fd/${ns.fd.fd}`;
    const pinPath = join(fs.dir, 'survivor');
    let survivor: Link | undefined;
    try {
      const pinned = runChild(tmp, ['attach', nsPath, hex, pinPath]) as { linkId: number; progId: number };
      // The child exited; its pinned link still runs its program in our netns.
      expect(queryPrograms(ns, 'sk_lookup').programIds).toEqual([pinned.progId]);
      survivor = Link.fromPin(pinPath);
      expect(survivor.info()).toMatchObject({
        id: pinned.linkId,
        programId: pinned.progId,
        netnsInode: ns.inode,
      });

      const unpinned = runChild(tmp, ['attach', nsPath, hex, '-']) as { linkId: number; progId: number };
      expect((unpinned as { query?: { programIds: number[] } }).query?.programIds).toHaveLength(2);
      // The child's exit closed the only fd of the unpinned link: it goes away (polled).
      await pollUntil('the unpinned link to go away', () => {
        const ids = queryPrograms(ns, 'sk_lookup').programIds;
        return ids.length === 1 ? ids : undefined;
      });
      expect(queryPrograms(ns, 'sk_lookup').programIds).toEqual([pinned.progId]);
      // Its id is freed once the kernel deallocates it (after an RCU grace period): poll.
      await pollUntil('the unpinned link id to be freed', () => {
        try {
          Link.fromId(unpinned.linkId).close();
          return undefined;
        } catch (err) {
          return (err as { code?: string }).code === 'ENOENT' ? true : undefined;
        }
      });
    } finally {
      survivor?.unpin();
      survivor?.close();
      ns.close();
      rmSync(tmp, { recursive: true, force: true });
      fs.dispose();
    }
  });
});
