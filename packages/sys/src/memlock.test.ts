import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { requireKernel, scaleTimeout } from '@bpfjs/testkit';
import { BPF_MAP_TYPE_ARRAY } from '@bpfjs/uapi/linux/bpf';
import { expect, it } from 'vitest';
import { mapCreate } from './map.js';
import { memlockAccounting, memlockRlimit, setMemlockLimit } from './memlock.js';

// Child processes started with RLIMIT_MEMLOCK 0 (dash's `ulimit -l 0` sets soft and hard), loading
// the BUILT package (`pnpm build` first). With the raise off, creating a map under a zero limit
// works exactly when the kernel accounts BPF memory to the memory cgroup: an oracle for the probe
// that does not use the probe. On this 6.18 kernel that is 'memcg'; in the kernel matrix's 5.10
// guest it is the other branch (the limit raised to infinity, the EPERM naming RLIMIT_MEMLOCK).
const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const INF = '18446744073709551615';

function child(body: string): Record<string, unknown> {
  const script = `
import * as s from ${JSON.stringify(dist)};
const out = {};
${body}
out.accounting = s.memlockAccounting();
const r = s.memlockRlimit(); out.after = r && { cur: String(r.cur), max: String(r.max) };
console.log(JSON.stringify(out));
`;
  const r = spawnSync(
    '/bin/sh',
    ['-c', 'ulimit -l 0 && exec "$0" "$@"', process.execPath, '--input-type=module', '-e', script],
    { encoding: 'utf8', timeout: scaleTimeout(30_000) },
  );
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

// A 1 MiB preallocated hash: far over a zero limit on a kernel that charges RLIMIT_MEMLOCK.
const CREATE = `
try { s.mapCreate({ type: 1, keySize: 4, valueSize: 1024, maxEntries: 1024 }).close(); out.created = true; }
catch (e) { out.created = false; out.code = e.code; out.hint = e.hint; }
`;

requireKernel().describe('RLIMIT_MEMLOCK on kernels with and without memcg accounting', () => {
  it('the probe answers, and the limit is left alone when the kernel has memcg accounting', () => {
    const kind = memlockAccounting();
    expect(['memcg', 'rlimit', 'unknown']).toContain(kind);
    const before = memlockRlimit();
    expect(before).toMatchObject({ cur: expect.any(BigInt), max: expect.any(BigInt) });
    mapCreate({ type: BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 4, maxEntries: 1 }).close();
    if (kind === 'memcg') expect(memlockRlimit()).toEqual(before);
    else expect(memlockRlimit()?.cur).toBe(2n ** 64n - 1n);
    // A map was created: too late to change the limit.
    expect(() => setMemlockLimit(false)).toThrow(
      expect.objectContaining({ code: 'ERR_BPFJS_MEMLOCK_TOO_LATE' }),
    );
  });

  it('with RLIMIT_MEMLOCK 0, a 1 MiB map is still created (raised to infinity only without memcg accounting)', () => {
    expect(existsSync(dist), `${dist} is missing: run pnpm build`).toBe(true);
    const out = child(CREATE);
    expect(out).toMatchObject({ created: true });
    if (out.accounting === 'memcg') expect(out.after).toEqual({ cur: '0', max: '0' });
    else expect(out.after).toEqual({ cur: INF, max: INF });
  });

  it('with the raise off (setMemlockLimit(false)), creation under limit 0 works exactly with memcg accounting; else EPERM names RLIMIT_MEMLOCK', () => {
    const out = child(`s.setMemlockLimit(false);\n${CREATE}`);
    expect(out.after).toEqual({ cur: '0', max: '0' });
    expect(out.created).toBe(out.accounting === 'memcg');
    if (!out.created) {
      expect(out.code).toBe('EPERM');
      expect(out.hint).toMatch(/RLIMIT_MEMLOCK .*limit is 0 bytes: bpfjs's automatic raise is off/);
    }
  });
});
