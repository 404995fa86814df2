// Soak variant of the two-process attach race (pnpm soak).
import { requireKernel } from '@bpfjs/testkit';
import { attachRace } from './lib/attach-race.js';

const kernel = requireKernel();

kernel.describe('two-process attach race soak', () => {
  kernel.it(
    '300 rounds',
    async () => {
      const tally = await attachRace(300);
      console.log(`attach race soak: 300 rounds, loser codes ${JSON.stringify(tally)}`);
    },
    600_000,
  );
});
