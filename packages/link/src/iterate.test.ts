import { requireKernel } from '@bpfjs/testkit';
import { expect, it } from 'vitest';
import { attachNetNs, links, type NetNsLink } from './index.js';
import { freshNetNs, loadSkLookup, withCleanup } from './test/helpers.js';

requireKernel().describe('links() against the kernel (needs root)', () => {
  it('lists our links with their info, in id order', () =>
    withCleanup((defer) => {
      const ns = freshNetNs();
      defer(() => ns.close());
      const prog = loadSkLookup();
      defer(() => prog.close());
      const ours: NetNsLink[] = [];
      defer(() => {
        for (const l of ours) l.close();
      });
      for (let i = 0; i < 3; i++) ours.push(attachNetNs(prog, ns));
      const want = ours.map((l) => l.info());
      const all = [...links()];
      const ids = all.map((i) => i.id);
      expect([...ids].sort((a, b) => a - b)).toEqual(ids);
      for (const w of want) expect(all.find((i) => i.id === w.id)).toEqual(w);
    }));

  it('links that vanish mid-iteration are skipped, not an error', () =>
    withCleanup((defer) => {
      const ns = freshNetNs();
      defer(() => ns.close());
      const prog = loadSkLookup();
      defer(() => prog.close());
      const ours: NetNsLink[] = [];
      defer(() => {
        for (const l of ours) l.close();
      });
      for (let i = 0; i < 4; i++) ours.push(attachNetNs(prog, ns));
      const ids = ours.map((l) => l.info().id);
      const seen: number[] = [];
      for (const info of links()) {
        seen.push(info.id);
        // When the first of ours shows up, close the rest before the iterator reaches them.
        if (info.id === ids[0]) for (const l of ours.slice(1)) l.close();
      }
      expect(seen).toContain(ids[0]);
      for (const gone of ids.slice(1)) expect(seen).not.toContain(gone);
    }));
});
