// linkGetInfo on fds that are not links: a typed error, and nothing of the other object's info
// left in the shared info buffer for the next call (found by tests/reliability's hostile table).

import { requireKernel } from '@bpfjs/testkit';
import {
  BPF_MAP_TYPE_ARRAY,
  BPF_MAP_TYPE_PERCPU_HASH,
  BPF_PROG_TYPE_SCHED_ACT,
  BPF_PROG_TYPE_SK_LOOKUP,
  BPF_SK_LOOKUP,
} from '@bpfjs/uapi/linux/bpf';
import { expect } from 'vitest';
import { linkCreate } from './link.js';
import { linkGetInfo } from './link-info.js';
import { mapCreate } from './map.js';
import { progLoad } from './prog.js';
import { newNetns } from './test/netns.js';
import { returnImm } from './test/progs.js';

const kernel = requireKernel();

kernel.describe('linkGetInfo refuses other bpf objects', () => {
  kernel.it('maps (also of type 5, which reads as a netns link) and programs → ERR_INVALID_ARG_VALUE', () => {
    using ns = newNetns();
    using prog = progLoad({
      type: BPF_PROG_TYPE_SK_LOOKUP,
      insns: returnImm(1),
      license: 'GPL',
      expectedAttachType: BPF_SK_LOOKUP,
    });
    using link = linkCreate({ progFd: prog, targetFd: ns, attachType: BPF_SK_LOOKUP });
    using array = mapCreate({
      type: BPF_MAP_TYPE_ARRAY,
      keySize: 4,
      valueSize: 4,
      maxEntries: 1,
      name: 'not_a_link',
    });
    using hash = mapCreate({
      type: BPF_MAP_TYPE_PERCPU_HASH,
      keySize: 4,
      valueSize: 4,
      maxEntries: 1,
      name: 'type_five',
    });
    using act = progLoad({ type: BPF_PROG_TYPE_SCHED_ACT, insns: returnImm(0), license: 'GPL' });
    for (const fd of [array, hash, prog, act]) {
      expect(() => linkGetInfo(fd)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
      // The next answer for a real link is exact (no stale bytes from the map/program info).
      const info = linkGetInfo(link);
      expect(info).toMatchObject({ type: 'netns', netnsInode: expect.any(Number), attachType: 'sk_lookup' });
    }
  });
});
