import { describe, expect, it } from 'vitest';
import { memlockHint, memlockPlan } from './memlock-plan.js';

// The decision with the probe's answer injected: a kernel without memcg accounting (before 5.11)
// cannot be had on this machine; the kernel matrix's 5.10 guest runs memlock.test.ts for real.
const INF = 0xffff_ffff_ffff_ffffn;
const KiB64 = 64n * 1024n;

describe('memlockPlan (what to do before the first creation)', () => {
  it('memcg accounting (5.11+): leaves the limit alone', () => {
    expect(memlockPlan('memcg', INF, { cur: 0n, max: 0n })).toBeUndefined();
    expect(memlockPlan('memcg', INF, { cur: KiB64, max: KiB64 })).toBeUndefined();
  });

  it('rlimit accounting: raises soft and hard limit to infinity', () => {
    expect(memlockPlan('rlimit', INF, { cur: KiB64, max: KiB64 })).toEqual({ cur: INF, max: INF });
    expect(memlockPlan('rlimit', INF, undefined)).toEqual({ cur: INF, max: INF });
  });

  it('a failed probe (EPERM: limit already exhausted on an old kernel) raises as libbpf does', () => {
    expect(memlockPlan('unknown', INF, { cur: 0n, max: 0n })).toEqual({ cur: INF, max: INF });
  });

  it('a chosen limit: raised to it, the hard limit never lowered', () => {
    const MiB = 1n << 20n;
    expect(memlockPlan('rlimit', 512n * MiB, { cur: KiB64, max: INF })).toEqual({
      cur: 512n * MiB,
      max: INF,
    });
    expect(memlockPlan('rlimit', 512n * MiB, { cur: KiB64, max: KiB64 })).toEqual({
      cur: 512n * MiB,
      max: 512n * MiB,
    });
  });

  it('already high enough, or the raise turned off: nothing', () => {
    expect(memlockPlan('rlimit', INF, { cur: INF, max: INF })).toBeUndefined();
    expect(memlockPlan('rlimit', 1n << 20n, { cur: 8n << 20n, max: INF })).toBeUndefined();
    expect(memlockPlan('rlimit', 0n, { cur: 0n, max: 0n })).toBeUndefined();
  });
});

describe('memlockHint (the EPERM sentence of MAP_CREATE / PROG_LOAD / BTF_LOAD)', () => {
  it('names RLIMIT_MEMLOCK, the limit and the way out on a kernel that charges it', () => {
    const h = memlockHint('rlimit', { cur: KiB64, max: KiB64 }, true, false);
    expect(h).toMatch(/RLIMIT_MEMLOCK/);
    expect(h).toMatch(/limit is 64 KiB/);
    expect(h).toMatch(/5\.11/);
    expect(h).toMatch(/CAP_SYS_RESOURCE/);
    expect(memlockHint('rlimit', { cur: 0n, max: 0n }, false, true)).toMatch(
      /limit is 0 bytes: bpfjs's automatic raise is off \(setMemlockLimit\(false\)\)/,
    );
  });

  it('an unknown probe answer blames the limit only when the capabilities are held', () => {
    expect(memlockHint('unknown', { cur: 0n, max: 0n }, true, false)).toMatch(/RLIMIT_MEMLOCK/);
    expect(memlockHint('unknown', { cur: 0n, max: 0n }, false, false)).toBeUndefined();
  });

  it('says nothing with memcg accounting or an unlimited limit', () => {
    expect(memlockHint('memcg', { cur: 0n, max: 0n }, true, true)).toBeUndefined();
    expect(memlockHint('rlimit', { cur: INF, max: INF }, true, false)).toBeUndefined();
  });
});
