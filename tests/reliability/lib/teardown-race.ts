// Teardown race helpers (used by teardown-race.test.ts and the soak): a worker thread (built dist) loops update/info/close on netns links (flow
// dissector and sk_lookup) while this thread destroys their netns (anonymous: last fd closed;
// named: delete() + close). Every call succeeds or fails with ENOLINK / reports netnsInode 0; no
// other error, no crash, no fd left open, and no attachment left in the netns that survives.
import { readdirSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { queryPrograms } from '@bpfjs/link';
import { NetNs } from '@bpfjs/netns';
import { scaleTimeout, waitFor } from '@bpfjs/testkit';
import { expect } from 'vitest';

/** Rounds and time budget: small in `pnpm test`; the soak variant raises both. */
export interface RaceBudget {
  rounds: number;
  timeMs: number;
  netnsPerRound: number;
}

// In the kernel matrix's emulated guests a round (a worker thread, four netns) takes seconds: three
// rounds, the least the test accepts, with the time scaled.
export const TEST_BUDGET: RaceBudget = process.env.BPFJS_KERNEL_MATRIX
  ? { rounds: 3, timeMs: scaleTimeout(20_000), netnsPerRound: 4 }
  : { rounds: 12, timeMs: 20_000, netnsPerRound: 4 };

const worker = new URL('../fixtures/teardown-worker.mjs', import.meta.url);

function fdSet(): string[] {
  return readdirSync('/proc/self/fd').sort();
}

interface RoundResult {
  counts: Record<string, number>;
  errors: string[];
  links: number;
}

/** One round: N netns (one survives), the worker races, this thread destroys the others. */
export async function raceRound(n: number, round: number): Promise<RoundResult> {
  const all: NetNs[] = [];
  try {
    for (let i = 0; i < n; i++) {
      // Every other netns is named (destroyed like `ip netns del`), the rest anonymous.
      all.push(
        i % 2 === 1 ? NetNs.create({ name: `bpfjs-race-${process.pid}-${round}-${i}` }) : NetNs.create(),
      );
    }
    const survivor = all[0] as NetNs;
    const w = new Worker(worker, {
      workerData: {
        netnsFds: all.map((ns) => ns.fd.fd),
        survivor: survivor.fd.fd,
        deadlineMs: scaleTimeout(15_000),
        // Every third round closes links at random while the netns go away (close racing teardown).
        closeChance: round % 3 === 0 ? 0.2 : 0,
      },
    });
    const result = await new Promise<RoundResult>((resolve, reject) => {
      let done: RoundResult | undefined;
      w.on('message', (m: { type: string } & RoundResult) => {
        if (m.type === 'ready') {
          // Destroy every netns but the survivor, now, while the worker loops.
          for (const ns of all.slice(1)) {
            if (ns.name !== undefined) ns.delete();
            ns.close();
          }
        } else if (m.type === 'done') done = m;
      });
      w.on('error', reject);
      w.on('exit', (code) => {
        if (code !== 0) reject(new Error(`worker exited with ${code}`));
        else if (done === undefined) reject(new Error('worker exited without a result'));
        else resolve(done);
      });
    });
    // Nothing left attached where the netns survived (the worker closed its links).
    expect(queryPrograms(survivor, 'flow_dissector').programIds).toEqual([]);
    expect(queryPrograms(survivor, 'sk_lookup').programIds).toEqual([]);
    return result;
  } finally {
    for (const ns of all) {
      if (ns.closed) continue;
      if (ns.name !== undefined) ns.delete();
      ns.close();
    }
  }
}

/** Runs rounds within the budget; returns totals. Asserts per round. */
export async function race(budget: RaceBudget): Promise<{ rounds: number; totals: Record<string, number> }> {
  const before = fdSet();
  const totals: Record<string, number> = {};
  const start = Date.now();
  let rounds = 0;
  while (rounds < budget.rounds && Date.now() - start < budget.timeMs) {
    const r = await raceRound(budget.netnsPerRound, rounds);
    expect(r.errors, `round ${rounds}`).toEqual([]);
    expect(r.links).toBe(budget.netnsPerRound * 3);
    for (const [k, v] of Object.entries(r.counts)) totals[k] = (totals[k] ?? 0) + v;
    rounds++;
  }
  // No fd left open by the worker or this thread (fd tables are shared by threads).
  await waitFor(() => fdSet().join() === before.join(), {
    timeoutMs: scaleTimeout(5_000),
    description: 'the fd table back to what it was',
  });
  return { rounds, totals };
}
