/**
 * sk_lookup links acting on real traffic, after the multi-program scenarios of the kernel
 * selftest prog_tests/sk_lookup.c (test_multi_prog_lookup; own code): every attached program
 * runs in link order and one SK_DROP refuses the connection (the SYN meets a RST, so connect()
 * fails with ECONNREFUSED at once). The client and server run in a child process inside the
 * throwaway netns (nsenter), with lo brought up there; the parent attaches and updates links.
 */

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireKernel, scaleTimeout } from '@bpfjs/testkit';
import { expect, it } from 'vitest';
import { attachNetNs, queryPrograms } from './index.js';
import { freshNetNs, loadSkLookup, withCleanup } from './test/helpers.js';

const CLIENT = `
import { execFileSync } from 'node:child_process';
import net from 'node:net';
execFileSync('ip', ['link', 'set', 'lo', 'up']);
const server = net.createServer((s) => s.end()).listen(0, '127.0.0.1', () => {
  const c = net.connect(server.address().port, '127.0.0.1');
  c.on('connect', () => { process.stdout.write('connected'); c.destroy(); server.close(); });
  c.on('error', (e) => { process.stdout.write(String(e.code)); server.close(); });
});
`;

function connectInside(nsPath: string, dir: string): string {
  const script = join(dir, 'client.mjs');
  writeFileSync(script, CLIENT);
  const r = spawnSync('nsenter', [`--net=${nsPath}`, process.execPath, script], {
    encoding: 'utf8',
    timeout: scaleTimeout(20_000),
  });
  if (r.status !== 0) throw new Error(`client failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

requireKernel().describe('sk_lookup links on real connections (needs root, nsenter, ip)', () => {
  it('pass,pass connects; updating the second link to drop refuses; back to pass connects', () =>
    withCleanup((defer) => {
      const dir = mkdtempSync(join(tmpdir(), 'bpfjs-link-skl-'));
      defer(() => rmSync(dir, { recursive: true, force: true }));
      const ns = freshNetNs();
      defer(() => ns.close());
      const nsPath = `/proc/${process.pid}/fd/${ns.fd.fd}`;
      const pass = loadSkLookup(1, 'pass');
      defer(() => pass.close());
      const drop = loadSkLookup(0, 'drop');
      defer(() => drop.close());

      expect(connectInside(nsPath, dir)).toBe('connected'); // no program at all
      const l1 = attachNetNs(pass, ns);
      defer(() => l1.close());
      const l2 = attachNetNs(pass, ns);
      defer(() => l2.close());
      expect(connectInside(nsPath, dir)).toBe('connected');

      l2.update(drop, { replace: pass });
      expect(queryPrograms(ns, 'sk_lookup').programIds).toEqual([pass.id, drop.id]);
      expect(connectInside(nsPath, dir)).toBe('ECONNREFUSED');

      l2.update(pass);
      l1.update(drop); // drop first, pass second: still refused
      expect(connectInside(nsPath, dir)).toBe('ECONNREFUSED');

      l1.detach(); // only the pass program is left
      expect(connectInside(nsPath, dir)).toBe('connected');
    }));
});
