// Two processes race to attach a flow dissector link to one named netns (used by
// attach-race.test.ts and its soak).
import { queryPrograms } from '@bpfjs/link';
import { NetNs } from '@bpfjs/netns';
import { expect } from 'vitest';
import { startChild } from './child.js';

interface Outcome {
  ok: boolean;
  code?: string;
  message?: string;
  hint?: string;
  linkId?: number;
  progId?: number;
}

/** `rounds` races; asserts each one; returns how often the loser saw E2BIG and EEXIST. */
export async function attachRace(rounds: number): Promise<{ E2BIG: number; EEXIST: number }> {
  const tally = { E2BIG: 0, EEXIST: 0 };
  for (let round = 0; round < rounds; round++) {
    const name = `bpfjs-attach-race-${process.pid}-${round}`;
    const ns = NetNs.create({ name });
    const children = [startChild(['attach-race', name]), startChild(['attach-race', name])];
    try {
      for (const c of children) expect(await c.next()).toMatchObject({ ready: true });
      for (const c of children) c.send('go');
      const outcomes = await Promise.all(children.map((c) => c.next<Outcome>()));
      const winners = outcomes.filter((o) => o.ok);
      const losers = outcomes.filter((o) => !o.ok);
      expect(winners, JSON.stringify(outcomes)).toHaveLength(1);
      const loser = losers[0] as Outcome;
      expect(['E2BIG', 'EEXIST'], JSON.stringify(loser)).toContain(loser.code);
      tally[loser.code as 'E2BIG' | 'EEXIST']++;
      // link's sentence, in the message and as the hint.
      expect(loser.hint, JSON.stringify(loser)).toMatch(
        /flow_dissector link|attached directly|flow dissector/,
      );
      expect(loser.message).toContain(loser.hint as string);
      // The winner's program is the one attached.
      const winner = winners[0] as Outcome;
      expect(queryPrograms(ns, 'flow_dissector').programIds).toEqual([winner.progId]);
      for (const c of children) c.send('exit');
      for (const c of children) expect(await c.exited).toEqual({ code: 0, signal: null });
      // The winner's unpinned link went with its process.
      expect(queryPrograms(ns, 'flow_dissector').programIds).toEqual([]);
    } finally {
      await Promise.all(children.map((c) => c.stop()));
      ns.delete();
      ns.close();
    }
  }
  return tally;
}
