import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { requireKernel, scaleTimeout } from '@bpfjs/testkit';
import { expect, it } from 'vitest';

// A child process (built dist) with stdin closed: the kernel then hands out fd 0 for the next
// object, which bpfjs must move to >= 3 (the kernel reads fd 0 as "absent" in some attrs).
const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const script = `
import { closeSync, openSync, readlinkSync } from 'node:fs';
import * as s from ${JSON.stringify(dist)};
closeSync(0);
s.progGetNextId(0); // loads libc first, so the next fd the kernel gives is the bpf one
const free = openSync('/dev/null', 'r'); // the lowest free number: 0
closeSync(free);
const insns = new Uint8Array(16); insns[0] = 0xb7; insns[8] = 0x95;
const prog = s.progLoad({ type: 1, insns, license: 'GPL' });
const zero = (() => { try { return readlinkSync('/proc/self/fd/0'); } catch { return null; } })();
const f = s.openPath('/dev/null');
console.log(JSON.stringify({ free, prog: prog.fd, path: f.fd, zero }));
`;

requireKernel().describe('fds below 3 (child with stdin closed, built dist)', () => {
  it('a kernel fd 0 is moved to >= 3 and fd 0 is not left open', () => {
    expect(existsSync(dist), `${dist} is missing: run pnpm build`).toBe(true);
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: scaleTimeout(30_000),
    });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(out.free).toBe(0);
    expect(out.prog).toBeGreaterThanOrEqual(3);
    expect(out.path).toBeGreaterThanOrEqual(3);
    expect(out.zero).toBeNull();
  });
});
