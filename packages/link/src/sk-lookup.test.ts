/**
 * sk_lookup links: several per netns, run order shown by queryPrograms, the kernel's 64-link
 * limit, update in place, detach. Ports the link scenarios of the kernel selftest
 * tools/testing/selftests/bpf/prog_tests/sk_lookup.c (query_lookup_prog; own code).
 */
import { requireKernel } from '@bpfjs/testkit';
import { expect, it } from 'vitest';
import { attachNetNs, attachProgram, detachProgram, type NetNsLink, queryPrograms } from './index.js';
import { catchError, freshNetNs, loadSkLookup, withCleanup } from './test/helpers.js';

const SKL = 'sk_lookup';

requireKernel().describe('sk_lookup links in a fresh netns (needs root)', () => {
  it('three links (pass, pass, drop): query lists them in attach order, flags 0, info per link', () =>
    withCleanup((defer) => {
      const ns = freshNetNs();
      defer(() => ns.close());
      const pass = loadSkLookup(1, 'pass');
      defer(() => pass.close());
      const drop = loadSkLookup(0, 'drop');
      defer(() => drop.close());
      const links: NetNsLink[] = [];
      defer(() => {
        for (const l of links) l.close();
      });
      links.push(attachNetNs(pass, ns));
      links.push(attachNetNs(pass, ns.fd.fd)); // a raw fd number
      links.push(attachNetNs(drop, ns, 'sk_lookup'));
      const q = queryPrograms(ns, SKL);
      expect(q).toEqual({ programIds: [pass.id, pass.id, drop.id], attachFlags: 0 });
      const infos = links.map((l) => l.info());
      expect(infos.map((i) => i.programId)).toEqual(q.programIds);
      for (const i of infos)
        expect(i).toMatchObject({ type: 'netns', netnsInode: ns.inode, attachType: SKL });
      expect(new Set(infos.map((i) => i.id)).size).toBe(3);
    }));

  it('closing a middle link keeps the order of the others', () =>
    withCleanup((defer) => {
      const ns = freshNetNs();
      defer(() => ns.close());
      const a = loadSkLookup(1, 'a');
      defer(() => a.close());
      const b = loadSkLookup(1, 'b');
      defer(() => b.close());
      const c = loadSkLookup(0, 'c');
      defer(() => c.close());
      const la = attachNetNs(a, ns);
      defer(() => la.close());
      const lb = attachNetNs(b, ns);
      defer(() => lb.close());
      const lc = attachNetNs(c, ns);
      defer(() => lc.close());
      lb.close();
      expect(queryPrograms(ns, SKL).programIds).toEqual([a.id, c.id]);
    }));

  it('update replaces the program at the link’s own position; replace must match', () =>
    withCleanup((defer) => {
      const ns = freshNetNs();
      defer(() => ns.close());
      const a = loadSkLookup(1, 'a');
      defer(() => a.close());
      const b = loadSkLookup(0, 'b');
      defer(() => b.close());
      const l1 = attachNetNs(a, ns);
      defer(() => l1.close());
      const l2 = attachNetNs(a, ns);
      defer(() => l2.close());
      l2.update(b, { replace: a });
      expect(queryPrograms(ns, SKL).programIds).toEqual([a.id, b.id]);
      expect(catchError(() => l1.update(b, { replace: b })).code).toBe('EPERM');
      l1.update(b);
      expect(queryPrograms(ns, SKL).programIds).toEqual([b.id, b.id]);
    }));

  it('64 links fit; the 65th → E2BIG with a sentence; after a detach one fits again', () =>
    withCleanup((defer) => {
      const ns = freshNetNs();
      defer(() => ns.close());
      const prog = loadSkLookup();
      defer(() => prog.close());
      const links: NetNsLink[] = [];
      defer(() => {
        for (const l of links) l.close();
      });
      for (let i = 0; i < 64; i++) links.push(attachNetNs(prog, ns));
      expect(queryPrograms(ns, SKL).programIds).toHaveLength(64);
      const err = catchError(() => attachNetNs(prog, ns).close());
      expect(err.code).toBe('E2BIG');
      expect(err.message).toMatch(/64 sk_lookup links/);
      links[10]!.detach();
      expect(links[10]!.isDefunct()).toBe(true);
      expect(queryPrograms(ns, SKL).programIds).toHaveLength(63);
      links.push(attachNetNs(prog, ns));
      expect(queryPrograms(ns, SKL).programIds).toHaveLength(64);
    }));

  it('legacy prog attach of sk_lookup is refused before the syscall; prog detach while linked → EINVAL', () =>
    withCleanup((defer) => {
      const ns = freshNetNs();
      defer(() => ns.close());
      const prog = loadSkLookup();
      defer(() => prog.close());
      const e1 = catchError(() => attachProgram(prog, { attachType: SKL, netns: ns }));
      expect(e1).toBeInstanceOf(TypeError);
      expect(e1.code).toBe('ERR_INVALID_ARG_VALUE');
      const link = attachNetNs(prog, ns);
      defer(() => link.close());
      const e2 = catchError(() => detachProgram(prog, { attachType: SKL, netns: ns }));
      expect(e2.code).toBe('EINVAL');
      expect(e2.hint).toMatch(/bpf_link holds/);
    }));

  it('the link’s netns given as a path works and the path fd is not leaked', () =>
    withCleanup((defer) => {
      const ns = freshNetNs();
      defer(() => ns.close());
      const prog = loadSkLookup();
      defer(() => prog.close());
      // A path the test process can open: our own fd of the netns through /proc.
      const path = `/proc/self/fd/${ns.fd.fd}`;
      const link = attachNetNs(prog, path);
      defer(() => link.close());
      expect(link.info().netnsInode).toBe(ns.inode);
      expect(queryPrograms(path, SKL).programIds).toEqual([prog.id]);
    }));
});
