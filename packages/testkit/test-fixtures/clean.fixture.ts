// Opens and closes: must pass. File-scope cleanups (deferCleanup outside a test) run before the check.
import { openPath } from '@bpfjs/sys';
import { beforeAll, expect, it } from 'vitest';
import { deferCleanup } from '../src/scope.js';

let held: ReturnType<typeof openPath> | undefined;

beforeAll(() => {
  held = openPath('/proc/self/ns/net');
  deferCleanup('the beforeAll fd', () => held!.close());
});

it('closes what it opens', () => {
  const fd = openPath('/proc/self/ns/net');
  fd.close();
  expect(held!.closed).toBe(false);
});

it('test-scoped cleanup', () => {
  const fd = openPath('/proc/self/ns/net');
  deferCleanup('a test fd', () => fd.close());
});
