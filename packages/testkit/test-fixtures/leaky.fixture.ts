// Deliberately leaks an Fd: the testkit setup file must fail this file.
import { openPath } from '@bpfjs/sys';
import { expect, it } from 'vitest';

const kept: unknown[] = [];

it('opens an Fd and never closes it', () => {
  const fd = openPath('/proc/self/ns/net');
  kept.push(fd);
  expect(fd.fd).toBeGreaterThan(2);
});
