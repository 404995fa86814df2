/**
 * Link types other than netns, created with the raw sys wrapper and then handled through the
 * object API: the typed subclass chosen from the kernel's link type, `info()` decoding, detach
 * and `isDefunct()`. XDP and tcx links go on the loopback device of a throwaway netns; the cgroup
 * link on a throwaway cgroup v2 directory.
 */
import { mkdirSync, rmdirSync } from 'node:fs';
import { asm, assemble, R0 } from '@bpfjs/asm';
import { linkCreate, O_DIRECTORY, O_RDONLY, openPath } from '@bpfjs/sys';
import { BPF_CGROUP_INET_INGRESS, BPF_TCX_INGRESS, BPF_XDP } from '@bpfjs/uapi';
import { describe, expect, it } from 'vitest';
import { CgroupLink, Link, links, Program, TcxLink, XdpLink } from './index.js';
import { freshNetNs, isRoot, withCleanup } from './test/helpers.js';

const ret = (v: number) => assemble([asm.mov64Imm(R0, v), asm.exit()]);
const CGROUP2 = '/sys/fs/cgroup/unified';

describe.skipIf(!isRoot)('other link types through the object API (needs root)', () => {
  it('XDP link on lo: XdpLink, info { ifindex }, detach → defunct (ifindex 0)', () =>
    withCleanup((defer) => {
      const ns = freshNetNs();
      defer(() => ns.close());
      const prog = Program.load({ type: 'xdp', instructions: ret(2) }); // XDP_PASS
      defer(() => prog.close());
      // lo is ifindex 1 in every new netns; the link must be created from inside it.
      const fd = ns.run(() => linkCreate({ progFd: prog.fd, targetIfindex: 1, attachType: BPF_XDP }));
      const link = Link.fromFd(fd);
      defer(() => link.close());
      expect(link).toBeInstanceOf(XdpLink);
      expect(link.type).toBe('xdp');
      expect(link.info()).toEqual({ id: expect.any(Number), type: 'xdp', programId: prog.id, ifindex: 1 });
      expect(link.isDefunct()).toBe(false);
      expect([...links()].find((i) => i.id === link.id)).toEqual(link.info());
      link.detach();
      expect(link.isDefunct()).toBe(true);
      expect((link.info() as { ifindex: number }).ifindex).toBe(0);
    }));

  it('tcx link on lo: TcxLink with ifindex and attach type tcx_ingress', () =>
    withCleanup((defer) => {
      const ns = freshNetNs();
      defer(() => ns.close());
      const prog = Program.load({ type: 'sched_cls', instructions: ret(-1 >>> 0) }); // TCX_NEXT (-1)
      defer(() => prog.close());
      const fd = ns.run(() => linkCreate({ progFd: prog.fd, targetIfindex: 1, attachType: BPF_TCX_INGRESS }));
      const link = Link.fromFd(fd);
      defer(() => link.close());
      expect(link).toBeInstanceOf(TcxLink);
      expect(link.info()).toMatchObject({
        type: 'tcx',
        programId: prog.id,
        ifindex: 1,
        attachType: 'tcx_ingress',
      });
      const again = Link.fromId(link.id);
      defer(() => again.close());
      expect(again).toBeInstanceOf(TcxLink);
      link.detach();
      expect(again.isDefunct()).toBe(true);
    }));

  it('cgroup link on a throwaway cgroup: CgroupLink with cgroup id and attach type', () =>
    withCleanup((defer) => {
      const dir = `${CGROUP2}/bpfjs-link-test-${process.pid}`;
      mkdirSync(dir);
      defer(() => rmdirSync(dir));
      const cg = openPath(dir, O_RDONLY | O_DIRECTORY);
      defer(() => cg.close());
      const prog = Program.load({
        type: 'cgroup_skb',
        instructions: ret(1),
        expectedAttachType: 'cgroup_inet_ingress',
      });
      defer(() => prog.close());
      const link = Link.fromFd(
        linkCreate({ progFd: prog.fd, targetFd: cg, attachType: BPF_CGROUP_INET_INGRESS }),
      );
      defer(() => link.close());
      expect(link).toBeInstanceOf(CgroupLink);
      const info = link.info() as { cgroupId: bigint; attachType: string };
      expect(info.attachType).toBe('cgroup_inet_ingress');
      expect(info.cgroupId).toBeGreaterThan(0n);
      expect(link.isDefunct()).toBe(false);
      // A cgroup link cannot be updated to a program of another type.
      const other = Program.load({ type: 'xdp', instructions: ret(2) });
      defer(() => other.close());
      expect(() => link.update(other)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
      link.detach();
      expect(link.isDefunct()).toBe(true);
    }));
});
