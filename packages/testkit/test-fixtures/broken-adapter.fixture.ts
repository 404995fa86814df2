// A wrapper that gets two netns rules wrong: its update ignores `replace` (no BPF_F_REPLACE) and
// its info never reports a defunct link. The conformance suite must fail exactly those cases.
import { linkAdapter, runNetNsLinkConformance } from '../src/conformance.js';

const good = linkAdapter();
const remembered = new WeakMap<object, number>();

runNetNsLinkConformance(
  {
    ...good,
    name: 'broken wrapper',
    updateLink: (l, p) => good.updateLink(l, p),
    linkInfo: (l) => {
      const info = good.linkInfo(l);
      if (info.netnsInode !== 0) remembered.set(l, info.netnsInode);
      return { ...info, netnsInode: info.netnsInode === 0 ? (remembered.get(l) ?? 1) : info.netnsInode };
    },
  },
  { teardownTimeoutMs: 300 },
);
