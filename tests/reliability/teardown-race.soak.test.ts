// Soak variant of the teardown race (pnpm soak): many more rounds and netns per round.
import { requireKernel } from '@bpfjs/testkit';
import { expect } from 'vitest';
import { race } from './lib/teardown-race.js';

const kernel = requireKernel();

kernel.describe('teardown race soak', () => {
  kernel.it(
    'up to 400 rounds × 8 netns within 4 minutes',
    async () => {
      const { rounds, totals } = await race({ rounds: 400, timeMs: 240_000, netnsPerRound: 8 });
      console.log(`teardown race soak: ${rounds} rounds, ${JSON.stringify(totals)}`);
      expect(rounds).toBeGreaterThan(10);
      expect(totals.infoDefunct).toBeGreaterThan(0);
    },
    300_000,
  );
});
