// Teardown race: a worker thread (built dist) loops update/info/close on netns links (flow
// dissector and sk_lookup) while this thread destroys their netns (anonymous: last fd closed;
// named: delete() + close). Every call succeeds or fails with ENOLINK / reports netnsInode 0; no
// other error, no crash, no fd left open, and no attachment left in the netns that survives.
import { requireKernel } from '@bpfjs/testkit';
import { expect } from 'vitest';
import { race, TEST_BUDGET } from './lib/teardown-race.js';

const kernel = requireKernel();

kernel.describe('teardown race (worker thread loops, main thread destroys the netns)', () => {
  kernel.it(
    `${TEST_BUDGET.rounds} rounds × ${TEST_BUDGET.netnsPerRound} netns: only success, ENOLINK or netnsInode 0`,
    async () => {
      const { rounds, totals } = await race(TEST_BUDGET);
      console.log(`teardown race: ${rounds} rounds, ${JSON.stringify(totals)}`);
      expect(rounds).toBeGreaterThanOrEqual(3);
      // The race was real: links were seen both alive and defunct, and updates hit ENOLINK.
      expect(totals.infoDefunct).toBeGreaterThan(0);
      expect(totals.updateEnolink).toBeGreaterThan(0);
      expect(totals.update).toBeGreaterThan(0);
    },
  );
});
