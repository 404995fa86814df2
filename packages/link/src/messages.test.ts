// Error sentences that pointed the wrong way (issue 19, defect 8): EMFILE while loading is not a
// verifier rejection; a non-netns fd is not a program-type or kernel-version problem; a path that
// is not on bpffs is not a pin (not a security module refusing it).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { mapCreate } from '@bpfjs/sys';
import { requireExecutable, requireKernel, scaleTimeout } from '@bpfjs/testkit';
import { expect, it } from 'vitest';
import { attachNetNs, Link, Program, queryPrograms } from './index.js';
import { catchError, loadSkLookup, withCleanup } from './test/helpers.js';

const DIST = fileURLToPath(new URL('../dist/index.js', import.meta.url));

requireKernel().describe('error sentences (needs root)', () => {
  it('a map fd given as the netns: EINVAL that says it is not a network namespace', () =>
    withCleanup((defer) => {
      const prog = loadSkLookup();
      defer(() => prog.close());
      const map = mapCreate({ type: 2, keySize: 4, valueSize: 4, maxEntries: 1 });
      defer(() => map.close());
      for (const err of [
        catchError(() => attachNetNs(prog, map.fd)),
        catchError(() => queryPrograms(map.fd, 'sk_lookup')),
      ]) {
        expect(err.code).toBe('EINVAL');
        expect(err.hint).toMatch(/is not a namespace, not a network namespace/);
        expect(err.message).not.toMatch(/program type|kernel lacks|Linux 5/);
      }
    }));

  it('a path that is not on bpffs, opened as a pin: says so, not "a security module refused it"', () => {
    for (const open of [() => Link.fromPin('/proc/self/ns/net'), () => Program.fromPin('/etc/hostname')]) {
      const err = catchError(open);
      expect(['EPERM', 'EACCES']).toContain(err.code);
      expect(err.hint).toMatch(/not on a BPF filesystem/);
      expect(err.message).not.toMatch(/security module/);
    }
  });
});

requireKernel()
  .and(requireExecutable('prlimit', 'apt-get install util-linux'))
  .describe('EMFILE while loading (child with a low descriptor limit, built dist)', () => {
    it('says the process is out of descriptors, not that the verifier rejected the program', () => {
      expect(existsSync(DIST), `${DIST} (run pnpm build)`).toBe(true);
      const script = `
        import { openSync } from 'node:fs';
        const { Program } = await import(${JSON.stringify(DIST)});
        // One load first: @bpfjs/sys loads koffi and libc on its first call (which needs descriptors
        // of its own; that case is sys's libc.test). The EMFILE asked for here is PROG_LOAD's.
        Program.load({ type: 'sk_lookup', instructions: new Uint8Array([0xb7, 0, 0, 0, 1, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]) }).close();
        const held = [];
        try { for (;;) held.push(openSync('/dev/null', 'r')); } catch {}
        let out;
        try {
          Program.load({ type: 'sk_lookup', instructions: new Uint8Array([0xb7, 0, 0, 0, 1, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]) });
          out = { ok: true };
        } catch (e) { out = { code: e.code, message: e.message, hint: e.hint }; }
        console.log(JSON.stringify(out));
        process.exit(0);`;
      const r = spawnSync(
        'prlimit',
        ['--nofile=64:64', process.execPath, '--input-type=module', '-e', script],
        {
          encoding: 'utf8',
          timeout: scaleTimeout(30_000),
        },
      );
      expect(r.status, r.stderr).toBe(0);
      const o = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}');
      expect(o.code, r.stdout).toBe('EMFILE');
      expect(o.message).not.toMatch(/verifier/);
      expect(o.hint).toMatch(/too many open files/);
    });
  });
