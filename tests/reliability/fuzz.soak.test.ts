// Soak variant of the randomized run (pnpm soak).
import { requireKernel } from '@bpfjs/testkit';
import { fuzzChild, fuzzInProcess } from './lib/fuzz.js';

const kernel = requireKernel();

kernel.describe('randomized sys wrappers soak', () => {
  kernel.it('in-process, 200000 calls', () => void fuzzInProcess(200_000), 600_000);
  kernel.it('child process, 1000000 calls', () => void fuzzChild(1_000_000), 600_000);
});
