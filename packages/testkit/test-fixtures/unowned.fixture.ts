// Leaks a namespace descriptor that no Fd owns any more (disowned): the /proc/self/fd comparison
// must catch it.
import { openPath } from '@bpfjs/sys';
import { expect, it } from 'vitest';

it('disowns a descriptor and forgets it', () => {
  const n = openPath('/proc/self/ns/net').disown();
  expect(n).toBeGreaterThan(2);
});
