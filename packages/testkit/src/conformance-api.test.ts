import { describe, expect, it } from 'vitest';
import { type linkAdapter, runNetNsLinkConformance } from './conformance.js';
import { requireKernel } from './gates.js';
import { fileResult, runFixtures } from './test/child-vitest.js';

describe('runNetNsLinkConformance arguments', () => {
  it('refuses an adapter without the methods', () => {
    expect(() => runNetNsLinkConformance({ name: 'x' } as unknown as ReturnType<typeof linkAdapter>)).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_ARG_TYPE',
        message: expect.stringMatching(/lacks a loadProgram\(\)/),
      }),
    );
  });

  it('refuses init-netns cases outside a *.serial.test.ts file', () => {
    expect(() => runNetNsLinkConformance(undefined, { initNetns: true })).toThrow(
      expect.objectContaining({ code: 'ERR_BPFJS_TESTKIT_NOT_SERIAL' }),
    );
  });
});

// A child vitest run (half a minute in the kernel matrix's emulated guests) that proves the suite's
// verdicts on a broken adapter; the suite itself runs against the real wrappers on every kernel
// (conformance.test.ts, conformance-init.serial.test.ts): the host runs this one.
const childRuns = (name: string, fn: () => void) =>
  !process.env.BPFJS_KERNEL_MATRIX && requireKernel().describe(name, fn);

childRuns('the conformance suite catches a wrong wrapper', () => {
  it('fails exactly the cases a broken adapter gets wrong (child vitest run)', async () => {
    const { code, report } = await runFixtures('broken-adapter.fixture.ts');
    expect(code).toBe(1);
    const file = fileResult(report, 'broken-adapter.fixture.ts');
    expect(file).toBeDefined();
    const failed = file!.assertionResults.filter((a) => a.status === 'failed').map((a) => a.fullName);
    const passed = file!.assertionResults.filter((a) => a.status === 'passed').length;
    // update ignores `replace`: the EPERM case fails for both attach types
    expect(failed.filter((n) => n.includes('another program → EPERM'))).toHaveLength(2);
    // info never reports netns inode 0: detach and netns-death cases fail for both attach types
    expect(failed.filter((n) => n.includes('detach: the link goes defunct'))).toHaveLength(2);
    expect(failed.filter((n) => n.includes('netns death auto-detaches'))).toHaveLength(2);
    expect(failed).toHaveLength(6);
    expect(passed).toBeGreaterThan(10);
  }, 120_000);
});
