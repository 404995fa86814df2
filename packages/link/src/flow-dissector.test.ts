/**
 * The netns link story for the flow dissector, each rule in a fresh network namespace. Several
 * cases port the scenarios of the kernel's selftest
 * tools/testing/selftests/bpf/prog_tests/flow_dissector_reattach.c (own code, same rules).
 * The init-netns variants live in netns-link.serial.test.ts.
 */
import { statSync } from 'node:fs';
import { BpfError } from '@bpfjs/sys';
import { requireKernel } from '@bpfjs/testkit';
import { expect, it } from 'vitest';
import { attachNetNs, attachProgram, detachProgram, Link, NetNsLink, queryPrograms } from './index.js';
import {
  catchError,
  freshNetNs,
  loadFlowDissector,
  loadSocketFilter,
  pollUntil,
  withCleanup,
} from './test/helpers.js';

const FD = 'flow_dissector';

function attachedIds(ns: Parameters<typeof queryPrograms>[0]): number[] {
  return queryPrograms(ns, FD).programIds;
}

requireKernel().describe('flow dissector links in a fresh netns (needs root)', () => {
  it('link create → query shows the program; close → detached', () =>
    withCleanup((defer) => {
      const ns = freshNetNs();
      defer(() => ns.close());
      const prog = loadFlowDissector();
      defer(() => prog.close());
      const link = attachNetNs(prog, ns);
      defer(() => link.close());
      expect(link).toBeInstanceOf(NetNsLink);
      expect(link.type).toBe('netns');
      expect(attachedIds(ns)).toEqual([prog.id]);
      expect(queryPrograms(ns, FD).attachFlags).toBe(0);
      link.close();
      expect(link.closed).toBe(true);
      expect(attachedIds(ns)).toEqual([]);
    }));

  it('info: id, type netns, programId, netnsInode, attachType as bpftool names it', () =>
    withCleanup((defer) => {
      const ns = freshNetNs();
      defer(() => ns.close());
      const prog = loadFlowDissector();
      defer(() => prog.close());
      const link = attachNetNs(prog, ns, 'flow_dissector');
      defer(() => link.close());
      const info = link.info();
      expect(info).toEqual({
        id: expect.any(Number),
        type: 'netns',
        programId: prog.id,
        netnsInode: ns.inode,
        attachType: 'flow_dissector',
      });
      expect(info.id).toBeGreaterThan(0);
      expect(link.id).toBe(info.id);
      expect(link.isDefunct()).toBe(false);
    }));

  it('a second flow dissector link → E2BIG with a sentence; the first stays', () =>
    withCleanup((defer) => {
      const ns = freshNetNs();
      defer(() => ns.close());
      const p1 = loadFlowDissector('p1');
      defer(() => p1.close());
      const p2 = loadFlowDissector('p2');
      defer(() => p2.close());
      const l1 = attachNetNs(p1, ns);
      defer(() => l1.close());
      const err = catchError(() => attachNetNs(p2, ns).close());
      expect(BpfError.isInstance(err)).toBe(true);
      expect(err.code).toBe('E2BIG');
      expect(err.errno).toBe(7);
      expect(err.syscall).toBe('bpf');
      expect(err.command).toBe('BPF_LINK_CREATE');
      expect(err.message).toMatch(/^E2BIG: .*BPF_LINK_CREATE: .*only one/);
      expect(err.hint).toMatch(/already has a flow_dissector link/);
      expect(attachedIds(ns)).toEqual([p1.id]);
    }));

  it('prog attach, then link create → EEXIST explained; prog stays attached', () =>
    withCleanup((defer) => {
      const ns = freshNetNs();
      defer(() => ns.close());
      const p1 = loadFlowDissector('p1');
      defer(() => p1.close());
      const p2 = loadFlowDissector('p2');
      defer(() => p2.close());
      attachProgram(p1, { attachType: FD, netns: ns });
      defer(() => detachProgram(p1, { attachType: FD, netns: ns }));
      expect(attachedIds(ns)).toEqual([p1.id]);
      const err = catchError(() => attachNetNs(p2, ns).close());
      expect(err.code).toBe('EEXIST');
      expect(err.message).toMatch(/attached directly/);
      expect(err.context).toMatchObject({ operation: 'attachNetNs', attachType: FD, netnsInode: ns.inode });
      expect(attachedIds(ns)).toEqual([p1.id]);
    }));

  it('link create, then prog attach → EEXIST explained; link stays', () =>
    withCleanup((defer) => {
      const ns = freshNetNs();
      defer(() => ns.close());
      const p1 = loadFlowDissector('p1');
      defer(() => p1.close());
      const p2 = loadFlowDissector('p2');
      defer(() => p2.close());
      const link = attachNetNs(p1, ns);
      defer(() => link.close());
      const err = catchError(() => attachProgram(p2, { attachType: FD, netns: ns }));
      expect(err.code).toBe('EEXIST');
      expect(err.command).toBe('BPF_PROG_ATTACH');
      expect(err.message).toMatch(/bpf_link holds/);
      expect(attachedIds(ns)).toEqual([p1.id]);
    }));

  it('link create, then prog detach → EINVAL explained; link stays', () =>
    withCleanup((defer) => {
      const ns = freshNetNs();
      defer(() => ns.close());
      const p1 = loadFlowDissector();
      defer(() => p1.close());
      const link = attachNetNs(p1, ns);
      defer(() => link.close());
      const err = catchError(() => detachProgram(p1, { attachType: FD, netns: ns }));
      expect(err.code).toBe('EINVAL');
      expect(err.command).toBe('BPF_PROG_DETACH');
      expect(err.hint).toMatch(/link\.detach\(\)/);
      expect(attachedIds(ns)).toEqual([p1.id]);
    }));

  it('prog attach, prog attach (replace), same prog twice → EINVAL, detach', () =>
    withCleanup((defer) => {
      const ns = freshNetNs();
      defer(() => ns.close());
      const p1 = loadFlowDissector('p1');
      defer(() => p1.close());
      const p2 = loadFlowDissector('p2');
      defer(() => p2.close());
      attachProgram(p1, { attachType: FD, netns: ns });
      expect(attachedIds(ns)).toEqual([p1.id]);
      attachProgram(p2, { attachType: FD, netns: ns });
      expect(attachedIds(ns)).toEqual([p2.id]);
      const err = catchError(() => attachProgram(p2, { attachType: FD, netns: ns }));
      expect(err.code).toBe('EINVAL');
      expect(attachedIds(ns)).toEqual([p2.id]);
      // Detaching a program that is not the attached one → ENOENT.
      expect(catchError(() => detachProgram(p1, { attachType: FD, netns: ns })).code).toBe('ENOENT');
      detachProgram(p2, { attachType: FD, netns: ns });
      expect(attachedIds(ns)).toEqual([]);
    }));

  it('legacy attach enters the target netns and returns: the calling thread stays where it was', () =>
    withCleanup((defer) => {
      const ns = freshNetNs();
      defer(() => ns.close());
      const p1 = loadFlowDissector();
      defer(() => p1.close());
      const before = freshInode();
      attachProgram(p1, { attachType: FD, netns: ns });
      defer(() => detachProgram(p1, { attachType: FD, netns: ns.fd }));
      expect(freshInode()).toBe(before);
      expect(attachedIds(ns)).toEqual([p1.id]);
    }));

  it('update without replace, with the same program, with replace; EPERM on a wrong replace', () =>
    withCleanup((defer) => {
      const ns = freshNetNs();
      defer(() => ns.close());
      const p1 = loadFlowDissector('p1');
      defer(() => p1.close());
      const p2 = loadFlowDissector('p2');
      defer(() => p2.close());
      const link = attachNetNs(p1, ns);
      defer(() => link.close());
      const id = link.info().id;

      link.update(p2);
      expect(attachedIds(ns)).toEqual([p2.id]);
      expect(link.info()).toMatchObject({ id, programId: p2.id, netnsInode: ns.inode, attachType: FD });

      link.update(p2); // same program again: fine
      expect(attachedIds(ns)).toEqual([p2.id]);

      link.update(p1, { replace: p2 });
      expect(attachedIds(ns)).toEqual([p1.id]);

      const err = catchError(() => link.update(p2, { replace: p2 }));
      expect(err.code).toBe('EPERM');
      expect(err.command).toBe('BPF_LINK_UPDATE');
      expect(err.hint).toMatch(/`replace` is not the one attached/);
      expect(attachedIds(ns)).toEqual([p1.id]);
    }));

  it('update with a program of another type → EINVAL explained', () =>
    withCleanup((defer) => {
      const ns = freshNetNs();
      defer(() => ns.close());
      const p1 = loadFlowDissector();
      defer(() => p1.close());
      const other = loadSocketFilter();
      defer(() => other.close());
      const link = attachNetNs(p1, ns);
      defer(() => link.close());
      const err = catchError(() => link.update(other));
      expect(err.code).toBe('EINVAL');
      expect(err.hint).toMatch(/same type/);
      expect(attachedIds(ns)).toEqual([p1.id]);
    }));

  it('detach: the hook is free, the link is defunct (inode 0, attach type kept), update → ENOLINK', () =>
    withCleanup((defer) => {
      const ns = freshNetNs();
      defer(() => ns.close());
      const p1 = loadFlowDissector('p1');
      defer(() => p1.close());
      const p2 = loadFlowDissector('p2');
      defer(() => p2.close());
      const link = attachNetNs(p1, ns);
      defer(() => link.close());
      link.detach();
      expect(attachedIds(ns)).toEqual([]);
      expect(link.isDefunct()).toBe(true);
      expect(link.info()).toMatchObject({ type: 'netns', netnsInode: 0, attachType: FD, programId: p1.id });
      const err = catchError(() => link.update(p2));
      expect(err.code).toBe('ENOLINK');
      expect(err.message).toMatch(/defunct/);
      // After a detach the hook takes a new link.
      const again = attachNetNs(p2, ns);
      defer(() => again.close());
      expect(attachedIds(ns)).toEqual([p2.id]);
    }));

  it('the link does not keep its netns alive: after the netns dies, inode 0 and ENOLINK (polled)', async () => {
    const p1 = loadFlowDissector('p1');
    const p2 = loadFlowDissector('p2');
    const ns = freshNetNs();
    let link: NetNsLink | undefined;
    try {
      link = attachNetNs(p1, ns);
      const before = link.info();
      expect(before.netnsInode).toBe(ns.inode);
      ns.close(); // last reference: the kernel tears the netns down asynchronously
      const l = link;
      const after = await pollUntil('the netns link to turn defunct', () => {
        const i = l.info();
        return i.netnsInode === 0 ? i : undefined;
      });
      expect(after).toEqual({ ...before, netnsInode: 0 });
      expect(l.isDefunct()).toBe(true);
      expect(catchError(() => l.update(p2)).code).toBe('ENOLINK');
    } finally {
      link?.close();
      ns.close();
      p1.close();
      p2.close();
    }
  });

  it('Link.fromId returns the typed subclass with the same info', () =>
    withCleanup((defer) => {
      const ns = freshNetNs();
      defer(() => ns.close());
      const p1 = loadFlowDissector();
      defer(() => p1.close());
      const link = attachNetNs(p1, ns);
      defer(() => link.close());
      const again = Link.fromId(link.id);
      defer(() => again.close());
      expect(again).toBeInstanceOf(NetNsLink);
      expect(again.info()).toEqual(link.info());
    }));
});

function freshInode(): number {
  return statSync('/proc/thread-self/ns/net').ino;
}
