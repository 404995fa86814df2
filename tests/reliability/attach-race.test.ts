// Two processes race to attach a flow dissector link to the same named netns (both open it by
// name through @bpfjs/netns): exactly one wins; the other gets E2BIG (or EEXIST) with link's
// explanatory sentence. Repeated for several rounds; nothing stays attached afterwards.
import { requireKernel } from '@bpfjs/testkit';
import { attachRace } from './lib/attach-race.js';

// In the kernel matrix's emulated guests (two node processes per round, seconds apiece under TCG)
// two rounds show the same kernel rule; the host runs eight.
const ROUNDS = process.env.BPFJS_KERNEL_MATRIX ? 2 : 8;
const kernel = requireKernel();

kernel.describe('two processes attach a flow dissector link to one named netns', () => {
  kernel.it(`${ROUNDS} rounds: exactly one wins, the other gets E2BIG/EEXIST explained`, async () => {
    const tally = await attachRace(ROUNDS);
    console.log(`attach race: ${ROUNDS} rounds, loser codes ${JSON.stringify(tally)}`);
  });
});
