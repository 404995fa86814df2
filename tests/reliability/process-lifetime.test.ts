// Process lifetime: an unpinned link goes with its process, even one killed by SIGKILL (the
// kernel releases the fd table); a pinned one survives its process, and another process can open
// it from the pin, update it and detach it.
import { Link, queryPrograms } from '@bpfjs/link';
import { NetNs } from '@bpfjs/netns';
import { expectErrno, requireKernel, scaleTimeout, tempBpffs, waitFor } from '@bpfjs/testkit';
import { expect } from 'vitest';
import { startChild } from './lib/child.js';

const kernel = requireKernel();

/** True once no link has this id (Link.fromId → ENOENT). */
function linkGone(id: number): boolean {
  try {
    Link.fromId(id).close();
    return false;
  } catch (err) {
    expectErrno(() => {
      throw err;
    }, 'ENOENT');
    return true;
  }
}

kernel.describe('process lifetime of netns links', () => {
  // In the kernel matrix's emulated guests (a node process per case, seconds apiece) SIGKILL alone —
  // the kernel releasing the fd table of a process that did nothing — stands for the three endings.
  const endings = process.env.BPFJS_KERNEL_MATRIX
    ? (['SIGKILL'] as const)
    : (['SIGKILL', 'SIGTERM', 'exit'] as const);
  for (const how of endings) {
    kernel.it(`an unpinned link is gone after its process ends (${how})`, async () => {
      const name = `bpfjs-lifetime-${process.pid}-${how}`;
      const ns = NetNs.create({ name });
      const child = startChild(['attach-hold', name]);
      try {
        const { linkId, progId } = await child.next<{ linkId: number; progId: number }>();
        // Alive while the process is.
        const alive = Link.fromId(linkId);
        expect(alive.info()).toMatchObject({ id: linkId, programId: progId, netnsInode: ns.inode });
        alive.close();
        expect(queryPrograms(ns, 'flow_dissector').programIds).toEqual([progId]);
        if (how === 'exit') child.send('exit');
        else child.proc.kill(how);
        const end = await child.exited;
        if (how === 'exit') expect(end).toEqual({ code: 0, signal: null });
        else expect(end.signal).toBe(how);
        await waitFor(() => linkGone(linkId), {
          timeoutMs: scaleTimeout(10_000),
          description: `link ${linkId} released`,
        });
        expect(queryPrograms(ns, 'flow_dissector').programIds).toEqual([]);
      } finally {
        await child.stop();
        ns.delete();
        ns.close();
      }
    });
  }

  kernel.it('a pinned link survives SIGKILL; another process loads, updates and detaches it', async () => {
    const fs = tempBpffs();
    const pin = fs.pinPath('lifetime_link');
    const name = `bpfjs-lifetime-${process.pid}-pinned`;
    const ns = NetNs.create({ name });
    const holder = startChild(['attach-hold', name, pin]);
    const updater = { child: undefined as ReturnType<typeof startChild> | undefined };
    try {
      const { linkId, progId } = await holder.next<{ linkId: number; progId: number }>();
      holder.proc.kill('SIGKILL');
      expect((await holder.exited).signal).toBe('SIGKILL');
      // Still attached: the pin holds the link.
      const still = Link.fromId(linkId);
      expect(still.info()).toMatchObject({ id: linkId, programId: progId, netnsInode: ns.inode });
      still.close();
      expect(queryPrograms(ns, 'flow_dissector').programIds).toEqual([progId]);
      // Another process opens it from the pin, updates and detaches it.
      updater.child = startChild(['update-pinned', pin]);
      const r = await updater.child.next<{
        ok: boolean;
        before: { id: number; programId: number };
        after: { programId: number; netnsInode: number };
        detached: { netnsInode: number; attachType: string };
        newProgId: number;
      }>();
      expect(r.ok, JSON.stringify(r)).toBe(true);
      expect(r.before).toMatchObject({ id: linkId, programId: progId });
      expect(r.after).toMatchObject({ programId: r.newProgId, netnsInode: ns.inode });
      expect(r.detached).toMatchObject({ netnsInode: 0, attachType: 'flow_dissector' });
      expect(await updater.child.exited).toEqual({ code: 0, signal: null });
      expect(queryPrograms(ns, 'flow_dissector').programIds).toEqual([]);
      // Pinned but detached: the link object lives until the pin goes.
      expect(linkGone(linkId)).toBe(false);
      const pinned = Link.fromPin(pin);
      pinned.unpin(pin);
      pinned.close();
      await waitFor(() => linkGone(linkId), {
        timeoutMs: scaleTimeout(10_000),
        description: `link ${linkId} released`,
      });
    } finally {
      await holder.stop();
      await updater.child?.stop();
      ns.delete();
      ns.close();
    }
  });
});
