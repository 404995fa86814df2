import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { makeGate, requireKernel, scaleTimeout } from '@bpfjs/testkit';
import { expect, it } from 'vitest';

// A child process with every capability dropped (setpriv), loading the BUILT package (`pnpm build`
// first, as for every spawned test process).
const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const hasSetpriv = (() => {
  try {
    execFileSync('setpriv', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

const script = `
import * as s from ${JSON.stringify(dist)};
const out = {};
const insns = new Uint8Array(16); insns[0] = 0xb7; insns[8] = 0x95;
try { s.progLoad({ type: 1, insns, license: 'GPL' }); out.load = 'loaded'; }
catch (e) { out.load = { code: e.code, message: e.message, hint: e.hint, log: e.log ?? null, brand: s.BpfError.isInstance(e) }; }
try { s.unshare(s.CLONE_NEWNET); out.unshare = 'ok'; }
catch (e) { out.unshare = { code: e.code, message: e.message, hint: e.hint }; }
try { s.progGetNextId(0); out.ids = 'ok'; }
catch (e) { out.ids = { code: e.code, command: e.command }; }
console.log(JSON.stringify(out));
`;

requireKernel()
  .and(
    makeGate(
      hasSetpriv
        ? undefined
        : 'needs setpriv (util-linux) with --inh-caps support: apt-get install util-linux',
    ),
  )
  .describe('without capabilities (setpriv child, built dist)', () => {
    it('EPERM errors name the missing capabilities and the sysctl', () => {
      expect(existsSync(dist), `${dist} is missing: run pnpm build`).toBe(true);
      const r = spawnSync(
        'setpriv',
        [
          '--inh-caps=-all',
          '--ambient-caps=-all',
          '--bounding-set=-all',
          process.execPath,
          '--input-type=module',
          '-e',
          script,
        ],
        { encoding: 'utf8', timeout: scaleTimeout(30_000) },
      );
      expect(r.status, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
      const unpriv = Number(
        execFileSync('cat', ['/proc/sys/kernel/unprivileged_bpf_disabled'], { encoding: 'utf8' }),
      );
      if (unpriv !== 0) {
        expect(out.load).toMatchObject({
          code: 'EPERM',
          message: 'EPERM: operation not permitted, bpf BPF_PROG_LOAD',
          brand: true,
          log: null, // EPERM is not retried for a verifier log
        });
        expect(out.load.hint).toMatch(/missing capabilities: CAP_BPF, CAP_NET_ADMIN, CAP_SYS_ADMIN/);
        expect(out.load.hint).toContain(`kernel.unprivileged_bpf_disabled=${unpriv}`);
      }
      expect(out.unshare).toMatchObject({
        code: 'EPERM',
        message: 'EPERM: operation not permitted, unshare',
      });
      expect(out.unshare.hint).toBe('missing capabilities: CAP_SYS_ADMIN');
      expect(out.ids).toMatchObject({ code: 'EPERM', command: 'BPF_PROG_GET_NEXT_ID' });
    });
  });
