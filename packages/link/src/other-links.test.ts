/**
 * Link types other than netns, created with the raw sys wrapper and then handled through the
 * object API: the typed subclass chosen from the kernel's link type, `info()` decoding, detach
 * and `isDefunct()`. XDP and tcx links go on the loopback device of a throwaway netns; the cgroup
 * link on a throwaway cgroup v2 directory. Each test is gated on its link type (tcx needs Linux 6.6,
 * XDP links 5.9, cgroup links 5.7), and on a kernel without tcx links the library must say so with
 * UnsupportedFeatureError rather than EINVAL (checked on every kernel: error or working link, as the probe says).
 */
import { mkdirSync, rmdirSync } from 'node:fs';
import { asm, assemble, R0 } from '@bpfjs/asm';
import { BpfError, linkCreate, O_DIRECTORY, O_RDONLY, openPath, UnsupportedFeatureError } from '@bpfjs/sys';
import { requireFeature, requireKernel, requireKernelVersion } from '@bpfjs/testkit';
import { BPF_CGROUP_INET_INGRESS, BPF_TCX_INGRESS, BPF_XDP } from '@bpfjs/uapi';
import { expect, it } from 'vitest';
import { CgroupLink, Link, links, Program, TcxLink, XdpLink } from './index.js';
import { freshNetNs, isRoot, withCleanup } from './test/helpers.js';

const ret = (v: number) => assemble([asm.mov64Imm(R0, v), asm.exit()]);
const CGROUP2 = '/sys/fs/cgroup/unified';

// Probed only as root (the describe below is skipped otherwise). bpfjs has no probe for XDP links.
const tcx = isRoot ? requireFeature('BPF_LINK_TYPE_TCX') : undefined;
const cgroupLinks = isRoot ? requireFeature('BPF_LINK_TYPE_CGROUP') : undefined;
const xdpLinks = requireKernelVersion('5.9', 'XDP links');
// The probe answered "absent" (not: could not probe).
const tcxAbsent = tcx !== undefined && !tcx.ok && /not supported/.test(tcx.reason ?? '');

requireKernel().describe('other link types through the object API (needs root)', () => {
  it('XDP link on lo: XdpLink, info { ifindex }, detach → defunct (ifindex 0)', (ctx) => {
    xdpLinks(ctx);
    return withCleanup((defer) => {
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
    });
  });

  it('tcx link on lo: TcxLink with ifindex and attach type tcx_ingress', (ctx) => {
    tcx?.(ctx);
    return withCleanup((defer) => {
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
    });
  });

  // Both branches run: where the probe finds no tcx links (5.10, 6.1 in the kernel matrix) the library
  // must say so with UnsupportedFeatureError (minimum 6.6, the kernel's EINVAL as cause); where it
  // finds them, the same call must give a working tcx link. So probe and library are checked to agree.
  it('tcx support: UnsupportedFeatureError (needs 6.6) without tcx links, a TcxLink with them', () => {
    return withCleanup((defer) => {
      const ns = freshNetNs();
      defer(() => ns.close());
      const prog = Program.load({ type: 'sched_cls', instructions: ret(-1 >>> 0) });
      defer(() => prog.close());
      let err: unknown;
      try {
        const fd = ns.run(() =>
          linkCreate({ progFd: prog.fd, targetIfindex: 1, attachType: BPF_TCX_INGRESS }),
        );
        const link = Link.fromFd(fd);
        defer(() => link.close());
        expect(link).toBeInstanceOf(TcxLink);
      } catch (e) {
        err = e;
      }
      if (!tcxAbsent) {
        expect(err, 'the probe found tcx links, so linkCreate must work').toBeUndefined();
        return;
      }
      expect(UnsupportedFeatureError.isInstance(err), String(err)).toBe(true);
      const u = err as InstanceType<typeof UnsupportedFeatureError>;
      expect(u.code).toBe('ERR_BPFJS_NOT_SUPPORTED');
      expect(u.feature).toBe('link type BPF_LINK_TYPE_TCX');
      expect(u.minKernel).toBe('6.6');
      expect(BpfError.isInstance(u.cause)).toBe(true);
      expect((u.cause as InstanceType<typeof BpfError>).code).toBe('EINVAL');
    });
  });

  it('cgroup link on a throwaway cgroup: CgroupLink with cgroup id and attach type', (ctx) => {
    cgroupLinks?.(ctx);
    return withCleanup((defer) => {
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
    });
  });
});
