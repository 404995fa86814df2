import { openPath } from '@bpfjs/sys';
import { afterEach, describe, expect, it } from 'vitest';
import { fdLeakReport, ignoreFdLeak, startFdTracking, watchedDescriptors } from './leaks.js';
import { root, runFixtures } from './test/child-vitest.js';

// A child vitest run proves testkit's reporting, the same on every kernel, and costs half a minute in
// the kernel matrix's emulated guests: the host runs it; the guests run the tracker below.
const childRuns = (name: string, fn: () => void) => !process.env.BPFJS_KERNEL_MATRIX && describe(name, fn);

childRuns('leak detection in a child vitest run (@bpfjs/testkit/setup)', () => {
  it('fails the leaky files with the leak message and passes the clean one', async () => {
    const { code, report } = await runFixtures('leaky.fixture.ts', 'unowned.fixture.ts', 'clean.fixture.ts');
    const byName = new Map(report.testResults.map((r) => [r.name.replace(`${root}`, ''), r]));
    const leaky = byName.get('packages/testkit/test-fixtures/leaky.fixture.ts');
    const unowned = byName.get('packages/testkit/test-fixtures/unowned.fixture.ts');
    const clean = byName.get('packages/testkit/test-fixtures/clean.fixture.ts');
    expect(code).toBe(1);
    expect(leaky?.status).toBe('failed');
    expect(leaky?.message).toMatch(/bpfjs fd leak: 1 Fd\(s\) opened in this test file were never closed/);
    expect(leaky?.message).toMatch(/\(net:\[\d+\]\) created at:/);
    expect(leaky?.message).toContain('leaky.fixture.ts:');
    expect(unowned?.status).toBe('failed');
    expect(unowned?.message).toMatch(/owned by no Fd:\n\s+fd \d+ -> net:\[\d+\]/);
    expect(clean?.status).toBe('passed');
  }, 120_000);
});

describe('tracker (in process)', () => {
  afterEach(() => startFdTracking());

  it('reports an open Fd with its stack, and nothing once closed', () => {
    startFdTracking();
    const fd = openPath('/proc/self/ns/net');
    const open = fdLeakReport();
    expect(open.fds.map((f) => f.number)).toEqual([fd.fd]);
    expect(open.fds[0]!.stack).toContain('leaks.test.ts');
    expect(open.message).toMatch(/never closed/);
    fd.close();
    expect(fdLeakReport().message).toBeUndefined();
  });

  it('can ignore a deliberate long-lived Fd', () => {
    startFdTracking();
    const fd = openPath('/proc/self/ns/net');
    try {
      ignoreFdLeak(fd);
      expect(fdLeakReport().message).toBeUndefined();
    } finally {
      fd.close();
    }
  });

  it('lists watched descriptors', () => {
    const fd = openPath('/proc/self/ns/net');
    try {
      expect(watchedDescriptors().get(fd.fd)).toMatch(/^net:\[\d+\]$/);
    } finally {
      fd.close();
    }
  });
});
