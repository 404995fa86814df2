// Soak variant of the leak cycles (pnpm soak).
import { requireKernel } from '@bpfjs/testkit';
import { expect } from 'vitest';
import { leakCycles } from './lib/leak-cycles.js';

const kernel = requireKernel();

kernel.describe('leaks soak', () => {
  kernel.it(
    '100000 create/attach/update/pin/unpin/close cycles leave nothing behind',
    async () => {
      const r = await leakCycles(100_000);
      console.log(`leak cycles soak: ${JSON.stringify(r)}`);
      expect(r.fdsAfter).toBe(r.fdsBefore);
    },
    600_000,
  );
});
