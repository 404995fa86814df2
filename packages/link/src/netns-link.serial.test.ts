/**
 * Init-netns variants of the flow dissector rules (machine-global state: runs in the serial group,
 * one file at a time). Before touching anything it checks whether the init netns already has a
 * flow dissector and, if so, says so and skips; it waits (polls) for earlier namespaces with flow
 * dissectors to finish tearing down; every attachment is detached in `finally`.
 * Ports run_tests(init_net) of the kernel selftest flow_dissector_reattach.c (own code).
 */
import { statSync } from 'node:fs';
import { BpfError } from '@bpfjs/sys';
import { requireKernel } from '@bpfjs/testkit';
import { describe, expect, it } from 'vitest';
import {
  attachNetNs,
  attachProgram,
  detachProgram,
  type NetNsLink,
  type Program,
  queryPrograms,
} from './index.js';
import { isInitNetNsInode } from './netns.js';
import { catchError, freshNetNs, loadFlowDissector, pollUntil, withCleanup } from './test/helpers.js';

const FD = 'flow_dissector';
const SELF = '/proc/thread-self/ns/net';
/** This thread's netns inode (the init netns's, when the file runs). */
const INIT_INO = statSync(SELF).ino;

function initState(): { skip: string | undefined } {
  const kernel = requireKernel();
  if (!kernel.ok) {
    kernel(); // fails under BPFJS_REQUIRE_KERNEL=1
    return { skip: kernel.reason };
  }
  if (!isInitNetNsInode(INIT_INO)) {
    return {
      skip: `this process is not in the init netns (inode ${INIT_INO}), or the init netns cannot be told (no fixed init inode and /proc/1/ns/net unreadable)`,
    };
  }
  const attached = queryPrograms(SELF, FD).programIds;
  if (attached.length > 0) {
    const msg = `the init netns already has a flow dissector attached (program ids ${attached.join(', ')}); not touching it`;
    console.warn(`[link serial] ${msg}`);
    return { skip: msg };
  }
  console.info('[link serial] the init netns has no flow dissector: running the init-netns variants');
  return { skip: undefined };
}

const state = initState();

/**
 * Links `prog` to the init netns, polling while EEXIST says some other netns (perhaps one still
 * being torn down after an earlier test) has a flow dissector.
 */
async function linkInitWhenFree(prog: Program): Promise<NetNsLink> {
  let last: unknown;
  try {
    return await pollUntil(
      'other namespaces to drop their flow dissectors',
      () => {
        try {
          return attachNetNs(prog, SELF);
        } catch (err) {
          if (BpfError.isInstance(err) && err.code === 'EEXIST') {
            last = err;
            return undefined;
          }
          throw err;
        }
      },
      30_000,
    );
  } catch (err) {
    throw last ?? err;
  }
}

describe.skipIf(state.skip !== undefined)(
  `flow dissector in the init netns${state.skip ? ` [skipped: ${state.skip}]` : ''}`,
  () => {
    it('link, second link → E2BIG, prog attach → EEXIST, prog detach → EINVAL, update, close', async () => {
      const p1 = loadFlowDissector('p1');
      const p2 = loadFlowDissector('p2');
      let link: NetNsLink | undefined;
      try {
        link = await linkInitWhenFree(p1);
        const l = link;
        expect(queryPrograms(SELF, FD).programIds).toEqual([p1.id]);
        expect(l.info()).toMatchObject({ type: 'netns', netnsInode: INIT_INO, attachType: FD });
        expect(catchError(() => attachNetNs(p2, SELF).close()).code).toBe('E2BIG');
        const e = catchError(() => attachProgram(p2, { attachType: FD }));
        expect(e.code).toBe('EEXIST');
        expect(e.hint).toMatch(/bpf_link holds/);
        expect(catchError(() => detachProgram(p1, { attachType: FD })).code).toBe('EINVAL');
        l.update(p2, { replace: p1 });
        expect(queryPrograms(SELF, FD).programIds).toEqual([p2.id]);
        l.close();
        expect(queryPrograms(SELF, FD).programIds).toEqual([]);
      } finally {
        link?.close();
        p1.close();
        p2.close();
      }
    });

    it('prog attach in the init netns, then link → EEXIST (attached directly); detach', async () => {
      const p1 = loadFlowDissector('p1');
      const p2 = loadFlowDissector('p2');
      let attached = false;
      try {
        // Wait until no other netns has a flow dissector, then swap the probe link for a prog attach.
        (await linkInitWhenFree(p1)).close();
        attachProgram(p1, { attachType: FD });
        attached = true;
        expect(queryPrograms(SELF, FD).programIds).toEqual([p1.id]);
        const e = catchError(() => attachNetNs(p2, SELF).close());
        expect(e.code).toBe('EEXIST');
        expect(e.hint).toMatch(/attached directly/);
      } finally {
        if (attached) detachProgram(p1, { attachType: FD });
        p1.close();
        p2.close();
      }
      expect(queryPrograms(SELF, FD).programIds).toEqual([]);
    });

    it('init netns has one → a child netns link fails with EEXIST, explained', async () => {
      const p1 = loadFlowDissector('p1');
      const p2 = loadFlowDissector('p2');
      let link: NetNsLink | undefined;
      try {
        link = await linkInitWhenFree(p1);
        withCleanup((defer) => {
          const child = freshNetNs();
          defer(() => child.close());
          const e = catchError(() => attachNetNs(p2, child).close());
          expect(e.code).toBe('EEXIST');
          expect(e.hint).toMatch(/init network namespace has a flow dissector/);
          const e2 = catchError(() => attachProgram(p2, { attachType: FD, netns: child }));
          expect(e2.code).toBe('EEXIST');
        });
      } finally {
        link?.close();
        p1.close();
        p2.close();
      }
    });

    it('a child netns has one → the init netns link fails with EEXIST, explained', async () => {
      const p1 = loadFlowDissector('p1');
      const p2 = loadFlowDissector('p2');
      try {
        (await linkInitWhenFree(p1)).close();
        withCleanup((defer) => {
          const child = freshNetNs();
          defer(() => child.close());
          const childLink = attachNetNs(p1, child);
          defer(() => childLink.close());
          const e = catchError(() => attachNetNs(p2, SELF).close());
          expect(e.code).toBe('EEXIST');
          expect(e.hint).toMatch(
            /this is the init network namespace and another namespace has a flow dissector/,
          );
        });
      } finally {
        p1.close();
        p2.close();
      }
      expect(queryPrograms(SELF, FD).programIds).toEqual([]);
    });
  },
);
