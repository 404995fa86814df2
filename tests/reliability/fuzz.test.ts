// Seeded randomized run over the sys attr encoders and wrappers (see fixtures/fuzz.mjs): only
// typed errors (TypeError/RangeError with an ERR_* code, or BpfError with a real errno), never a
// crash. The seed is printed; BPFJS_SEED=<seed> replays a run exactly.
import { requireKernel } from '@bpfjs/testkit';
import { expect } from 'vitest';
import { fuzzChild, fuzzInProcess } from './lib/fuzz.js';

const kernel = requireKernel();
// Fewer calls in the kernel matrix's emulated guests (each costs ~20x the host's time there).
const [IN_PROCESS, CHILD] = process.env.BPFJS_KERNEL_MATRIX ? [600, 1_000] : [3_000, 5_000];

kernel.describe('randomized sys wrappers and attr encoders', () => {
  kernel.it(`in-process (source), ${IN_PROCESS} calls: only typed errors`, () => {
    const r = fuzzInProcess(IN_PROCESS);
    // The run reached both the validators and the kernel.
    expect(r.counts.type).toBeGreaterThan(0);
    expect(r.counts.bpf).toBeGreaterThan(0);
  });

  kernel.it(`child process (built dist), ${CHILD} calls: only typed errors, no crash`, () => {
    fuzzChild(CHILD);
  });
});
