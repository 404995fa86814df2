import { release } from 'node:os';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  capabilityReason,
  compareVersions,
  effectiveCapabilities,
  kernelRequired,
  makeGate,
  requireCapabilities,
  requireKernel,
  requireKernelVersion,
} from './gates.js';

const STATUS = (capEff: string) =>
  `Name:\tnode\nCapInh:\t0000000000000000\nCapEff:\t${capEff}\nCapBnd:\t000001ffffffffff\n`;

describe('capabilities', () => {
  it('decodes CapEff from /proc status text', () => {
    const all = effectiveCapabilities(STATUS('000001ffffffffff'))!;
    expect(all.has('CAP_BPF')).toBe(true);
    expect(all.has('CAP_NET_ADMIN')).toBe(true);
    expect(all.has('CAP_SYS_ADMIN')).toBe(true);
    const netAdminOnly = effectiveCapabilities(STATUS('0000000000001000'))!;
    expect([...netAdminOnly]).toEqual(['CAP_NET_ADMIN']);
    // CAP_BPF is bit 39: 0x80_0000_0000
    expect([...effectiveCapabilities(STATUS('0000008000000000'))!]).toEqual(['CAP_BPF']);
    expect(effectiveCapabilities('no caps here')).toBeUndefined();
  });

  it('reads this process', () => {
    const held = effectiveCapabilities();
    expect(held).toBeInstanceOf(Set);
    const gate = requireCapabilities('CAP_NET_ADMIN');
    expect(gate.ok).toBe(held!.has('CAP_NET_ADMIN'));
  });

  it('says what is missing and how to run', () => {
    expect(capabilityReason(['CAP_BPF', 'CAP_NET_ADMIN'], new Set(['CAP_NET_ADMIN']))).toBe(
      'needs CAP_BPF and CAP_NET_ADMIN (missing CAP_BPF): run as root, e.g. sudo pnpm test',
    );
    expect(capabilityReason(['CAP_BPF', 'CAP_NET_ADMIN'], new Set())).toMatch(
      /missing CAP_BPF and CAP_NET_ADMIN/,
    );
    expect(capabilityReason(['CAP_BPF'], new Set(['CAP_BPF']))).toBeUndefined();
  });

  it('accepts short names and refuses unknown ones', () => {
    expect(() => requireCapabilities('bpf', 'net_admin')).not.toThrow();
    expect(() => requireCapabilities('CAP_FLY')).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
    expect(() => requireCapabilities(42 as unknown as string)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }),
    );
  });
});

describe('kernel version', () => {
  it('compares versions', () => {
    expect(compareVersions('5.9', '5.9.0')).toBe(0);
    expect(compareVersions('6.18.2-amd64', '5.9')).toBeGreaterThan(0);
    expect(compareVersions('5.4.0-150-generic', '5.9')).toBeLessThan(0);
    expect(compareVersions('5.10', '5.9')).toBeGreaterThan(0);
  });

  it('gates on the running version', () => {
    expect(requireKernelVersion('5.9', 'sk_lookup', '6.18.0').ok).toBe(true);
    const old = requireKernelVersion('5.9', 'sk_lookup links', '5.4.0');
    expect(old.ok).toBe(false);
    expect(old.reason).toBe(
      'needs Linux 5.9 or newer for sk_lookup links; this kernel is 5.4.0: run on a newer kernel',
    );
    expect(() => requireKernelVersion('five')).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
  });
});

describe('gate behaviour', () => {
  const saved = process.env.BPFJS_REQUIRE_KERNEL;
  afterEach(() => {
    if (saved === undefined) delete process.env.BPFJS_REQUIRE_KERNEL;
    else process.env.BPFJS_REQUIRE_KERNEL = saved;
  });

  it('an open gate does nothing', () => {
    const g = makeGate(undefined);
    expect(g.ok).toBe(true);
    expect(g.skip).toBe(false);
    expect(g.reason).toBeUndefined();
    const skip = vi.fn();
    g({ skip });
    g.check();
    expect(skip).not.toHaveBeenCalled();
  });

  it('a closed gate skips with its reason', () => {
    delete process.env.BPFJS_REQUIRE_KERNEL;
    const g = makeGate('needs CAP_BPF: run as root');
    expect(g.ok).toBe(false);
    expect(g.skip).toBe(true);
    const skip = vi.fn((note?: string) => {
      throw new Error(`skipped: ${note}`);
    });
    expect(() => g({ skip })).toThrow('skipped: needs CAP_BPF: run as root');
    expect(skip).toHaveBeenCalledWith('needs CAP_BPF: run as root');
    // without a test context (e.g. beforeAll) it cannot skip, so it fails with the reason
    expect(() => g()).toThrow(/needs CAP_BPF: run as root/);
    expect(() => g.check()).toThrow(expect.objectContaining({ code: 'ERR_BPFJS_TESTKIT_REQUIREMENT' }));
  });

  it('BPFJS_REQUIRE_KERNEL=1 turns a skip into a failure', () => {
    process.env.BPFJS_REQUIRE_KERNEL = '1';
    expect(kernelRequired()).toBe(true);
    const g = makeGate('needs CAP_BPF: run as root');
    expect(g.skip).toBe(false);
    const skip = vi.fn();
    expect(() => g({ skip })).toThrow(
      expect.objectContaining({
        code: 'ERR_BPFJS_TESTKIT_REQUIREMENT',
        message: 'BPFJS_REQUIRE_KERNEL=1 forbids skipping: needs CAP_BPF: run as root',
      }),
    );
    expect(skip).not.toHaveBeenCalled();
    process.env.BPFJS_REQUIRE_KERNEL = '0';
    expect(kernelRequired()).toBe(false);
  });

  it('combines gates', () => {
    delete process.env.BPFJS_REQUIRE_KERNEL;
    const both = makeGate('needs A').and(makeGate(undefined), makeGate('needs B'));
    expect(both.reason).toBe('needs A; needs B');
    expect(makeGate(undefined).and(makeGate(undefined)).ok).toBe(true);
  });
});

describe('requireKernel', () => {
  it('asks for CAP_BPF, CAP_NET_ADMIN and CAP_SYS_ADMIN by default', () => {
    const held = effectiveCapabilities()!;
    const want = ['CAP_BPF', 'CAP_NET_ADMIN', 'CAP_SYS_ADMIN'];
    expect(requireKernel().ok).toBe(want.every((c) => held.has(c)));
    expect(requireKernel({ capabilities: [] }).ok).toBe(true);
    expect(requireKernel({ capabilities: [], minVersion: '99.0' }).reason).toMatch(
      /needs Linux 99.0 or newer/,
    );
  });
});

// The gate in vitest positions: this suite is skipped with the reason in its name (visible in the
// verbose reporter), and the test inside never runs.
const closed = makeGate('needs an imaginary capability: run on another planet');
describe('gate in vitest positions', () => {
  if (!kernelRequired()) {
    closed.describe('a skipped suite', () => {
      it('never runs', () => {
        throw new Error('ran a test behind a closed gate');
      });
    });
    closed.it('a skipped test', () => {
      throw new Error('ran a test behind a closed gate');
    });
    describe('skipped through beforeEach', () => {
      beforeEach(closed);
      it('never runs either', () => {
        throw new Error('ran a test behind a closed gate');
      });
    });
  }
  const open = makeGate(undefined);
  let ran = false;
  open.describe('an open suite', () => {
    it('runs', () => {
      ran = true;
    });
  });
  open.it('an open test runs', (ctx) => {
    expect(ctx.task.name).toBe('an open test runs');
    expect(ran).toBe(true);
  });
});

describe('BPFJS_REQUIRE_KERNEL in a child vitest run', () => {
  it('closed gates skip with their reason, and fail instead under BPFJS_REQUIRE_KERNEL=1', async () => {
    const { fileResult, runFixturesWithEnv } = await import('./test/child-vitest.js');
    const [lenient, strict] = await Promise.all([
      runFixturesWithEnv({ BPFJS_REQUIRE_KERNEL: '0' }, 'gated.fixture.ts'),
      runFixturesWithEnv({ BPFJS_REQUIRE_KERNEL: '1' }, 'gated.fixture.ts'),
    ]);
    const l = fileResult(lenient.report, 'gated.fixture.ts')!;
    expect(lenient.code).toBe(0);
    expect(l.assertionResults.map((a) => a.status)).toEqual(['skipped', 'skipped', 'skipped']);
    expect(l.assertionResults.map((a) => a.fullName)).toContain(
      'suite behind a closed gate [skipped: needs Linux 999.0 or newer for a kernel from the future; this kernel is ' +
        release() +
        ': run on a newer kernel] would run',
    );
    const s = fileResult(strict.report, 'gated.fixture.ts')!;
    expect(strict.code).toBe(1);
    expect(s.assertionResults.map((a) => a.status)).toEqual(['failed', 'failed', 'failed']);
    for (const a of s.assertionResults) {
      expect(a.failureMessages.join('\n')).toMatch(
        /BPFJS_REQUIRE_KERNEL=1 forbids skipping: needs Linux 999.0 or newer/,
      );
    }
  }, 120_000);
});

describe('requireExecutable', () => {
  it('finds a command on PATH, or explains how to get it', async () => {
    const { findExecutable, requireExecutable } = await import('./gates.js');
    expect(findExecutable('sh')).toMatch(/\/sh$/);
    expect(findExecutable('sh', '/nonexistent')).toBeUndefined();
    expect(findExecutable('/bin/sh')).toBe('/bin/sh');
    expect(requireExecutable('sh').ok).toBe(true);
    const missing = requireExecutable('bpfjs-no-such-tool', 'apt-get install nothing');
    expect(missing.reason).toBe('needs the `bpfjs-no-such-tool` command on PATH: apt-get install nothing');
    expect(() => findExecutable('')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
  });
});

describe('gate options pass through', () => {
  const open = makeGate(undefined);
  open.describe(
    'a suite with a timeout',
    () => {
      open.it('sees the suite timeout', (ctx) => {
        expect(ctx.task.timeout).toBe(1234);
      });
    },
    { timeout: 1234 },
  );
  open.it(
    'a test with a timeout',
    (ctx) => {
      expect(ctx.task.timeout).toBe(4321);
    },
    4321,
  );
});
