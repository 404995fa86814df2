// Many create/attach/update/pin/unpin/close cycles, then proof that nothing stayed: the fd table
// as before, and none of the programs or links the cycles made left in the kernel's id lists
// (other suites run on this machine at the same time, so the lists are compared for our objects).
import { readdirSync } from 'node:fs';
import { assemble } from '@bpfjs/asm';
import { attachNetNs, Link, links, Program, programs, queryPrograms } from '@bpfjs/link';
import { NetNs } from '@bpfjs/netns';
import { linkGetNextId, progGetNextId } from '@bpfjs/sys';
import { deferCleanup, scaleTimeout, skLookupInstructions, tempBpffs, waitFor } from '@bpfjs/testkit';
import { expect } from 'vitest';

export interface CycleReport {
  cycles: number;
  netns: number;
  programIds: number;
  linkIds: number;
  fdsBefore: number;
  fdsAfter: number;
}

const fdList = () => readdirSync('/proc/self/fd').sort().join();

/** Every id of the kernel's list through the raw *GetNextId walk. */
function allIds(next: (start: number) => number | undefined): Set<number> {
  const ids = new Set<number>();
  for (let id = next(0); id !== undefined; id = next(id)) ids.add(id);
  return ids;
}

export async function leakCycles(cycles: number): Promise<CycleReport> {
  const name = `rl${process.pid % 1_000_000}`;
  const bpffs = tempBpffs();
  const fdsBefore = fdList();
  const progIds = new Set<number>();
  const linkIds = new Set<number>();
  const spare = Program.load({
    type: 'sk_lookup',
    instructions: assemble(skLookupInstructions('drop')),
    name,
  });
  progIds.add(spare.id);
  deferCleanup('spare program', () => spare.close());
  let ns: NetNs | undefined;
  let netnsCount = 0;
  try {
    for (let i = 0; i < cycles; i++) {
      if (i % 250 === 0) {
        // Let the test runner's RPC through now and then (a long synchronous loop times it out in
        // the soak); this is a yield to the event loop, not a wait.
        await new Promise((resolve) => setImmediate(resolve));
        ns?.close();
        ns = NetNs.create();
        netnsCount++;
      }
      const prog = Program.load({
        type: 'sk_lookup',
        instructions: assemble(skLookupInstructions('pass')),
        name,
      });
      progIds.add(prog.id);
      try {
        const link = attachNetNs(prog, ns as NetNs);
        try {
          linkIds.add(link.id);
          link.update(spare);
          link.update(prog, { replace: spare });
          const pin = bpffs.pinPath(`l${i}`);
          link.pin(pin);
          const again = Link.fromPin(pin);
          expect(again.info().id).toBe(link.id);
          again.close();
          link.unpin();
          prog.pin(bpffs.pinPath(`p${i}`));
          prog.unpin();
        } finally {
          link.close();
        }
      } finally {
        prog.close();
      }
    }
    expect(queryPrograms(ns as NetNs, 'sk_lookup').programIds).toEqual([]);
  } finally {
    ns?.close();
    spare.close();
  }
  // The fd table is as it was.
  expect(fdList()).toBe(fdsBefore);
  // None of our links or programs remain (program release is deferred by RCU: poll).
  await waitFor(
    () => {
      const liveLinks = allIds(linkGetNextId);
      const liveProgs = allIds(progGetNextId);
      return [...linkIds].every((id) => !liveLinks.has(id)) && [...progIds].every((id) => !liveProgs.has(id));
    },
    {
      timeoutMs: scaleTimeout(20_000),
      description: 'every link and program of the cycles gone from the id lists',
    },
  );
  // The object API agrees (links()/programs() walk the same lists with info).
  expect([...links()].filter((l) => linkIds.has(l.id))).toEqual([]);
  expect([...programs()].filter((p) => p.name === name)).toEqual([]);
  return {
    cycles,
    netns: netnsCount,
    programIds: progIds.size,
    linkIds: linkIds.size,
    fdsBefore: fdsBefore.split(',').length,
    fdsAfter: fdList().split(',').length,
  };
}
