// Seeded randomized run over the sys attr encoders and wrappers (see fixtures/fuzz.mjs): only
// typed errors (TypeError/RangeError with an ERR_* code, or BpfError with a real errno), never a
// crash. The seed is printed; BPFJS_SEED=<seed> replays a run exactly.
import { requireKernel } from '@bpfjs/testkit';
import { expect } from 'vitest';
import { fuzzChild, fuzzInProcess } from './lib/fuzz.js';

const kernel = requireKernel();

kernel.describe('randomized sys wrappers and attr encoders', () => {
  kernel.it('in-process (source), 3000 calls: only typed errors', () => {
    const r = fuzzInProcess(3_000);
    // The run reached both the validators and the kernel.
    expect(r.counts.type).toBeGreaterThan(0);
    expect(r.counts.bpf).toBeGreaterThan(0);
  });

  kernel.it('child process (built dist), 5000 calls: only typed errors, no crash', () => {
    fuzzChild(5_000);
  });
});
