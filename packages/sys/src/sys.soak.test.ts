import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { requireKernel } from '@bpfjs/testkit';
import { BPF_PROG_TYPE_SK_LOOKUP, BPF_SK_LOOKUP } from '@bpfjs/uapi/linux/bpf';
import { expect, it } from 'vitest';
import { linkCreate, linkUpdate } from './link.js';
import { linkGetInfo } from './link-info.js';
import { progLoad, progQuery } from './prog.js';
import { openFds } from './test/fds.js';
import { newNetns } from './test/netns.js';
import { returnImm } from './test/progs.js';

// Long soak (pnpm soak): no fd growth and bounded heap over many hot-path and create/close calls.
requireKernel().describe('sys soak (root)', () => {
  it('200k hot-path calls and 20k program loads leave /proc/self/fd and the heap flat', () => {
    using ns = newNetns();
    const load = () =>
      progLoad({
        type: BPF_PROG_TYPE_SK_LOOKUP,
        insns: returnImm(1),
        license: 'GPL',
        expectedAttachType: BPF_SK_LOOKUP,
      });
    using a = load();
    using b = load();
    using link = linkCreate({ progFd: a, targetFd: ns, attachType: BPF_SK_LOOKUP });
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const fds = openFds().size;
    gc();
    const heap = process.memoryUsage().heapUsed;
    for (let i = 0; i < 200_000; i++) {
      linkGetInfo(link);
      linkUpdate({ linkFd: link, newProgFd: i & 1 ? a : b });
      progQuery({ targetFd: ns, attachType: BPF_SK_LOOKUP });
    }
    for (let i = 0; i < 20_000; i++) load().close();
    expect(openFds().size).toBe(fds);
    gc();
    // After a forced GC: a leak of even 20 bytes per call would be 4 MB.
    expect(process.memoryUsage().heapUsed - heap).toBeLessThan(4 * 1024 * 1024);
  });
});
