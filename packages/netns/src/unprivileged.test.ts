// Without CAP_SYS_ADMIN: every switching call fails with EPERM (with a hint), and nothing is left
// behind. Runs the built package (packages/netns/dist) in a child process whose capability
// bounding set lacks CAP_SYS_ADMIN (`capsh --drop`), still as uid 0.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { makeGate, requireKernel } from '@bpfjs/testkit';
import { expect, it } from 'vitest';

const CAPSH = ['/usr/sbin/capsh', '/sbin/capsh', '/usr/bin/capsh'].find((p) => existsSync(p));
const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));

const script = `
import { readlinkSync } from 'node:fs';
import { NetNs } from ${JSON.stringify(dist)};
const name = process.argv[1];
const before = readlinkSync('/proc/thread-self/ns/net');
const out = {};
const codeOf = (fn) => { try { fn(); return 'ok'; } catch (e) { return { code: e.code, syscall: e.syscall, hint: e.hint }; } };
out.named = codeOf(() => NetNs.create({ name }));
out.anonymous = codeOf(() => NetNs.create());
const cur = NetNs.current();
out.run = codeOf(() => cur.run(() => 1));
cur.close();
out.moved = readlinkSync('/proc/thread-self/ns/net') !== before;
process.stdout.write(JSON.stringify(out));
`;

requireKernel()
  .and(makeGate(CAPSH === undefined ? 'needs capsh: apt-get install libcap2-bin' : undefined))
  .describe('without CAP_SYS_ADMIN (needs root, capsh, built dist)', () => {
    it('create() and run() fail with EPERM and leave nothing behind', () => {
      expect(existsSync(dist), `${dist} (run pnpm build)`).toBe(true);
      const name = `bpfjs-test-${process.pid}-noadmin`;
      const stdout = execFileSync(
        CAPSH!,
        [
          '--drop=cap_sys_admin',
          '--',
          '-c',
          'exec "$0" --input-type=module -e "$1" "$2"',
          process.execPath,
          script,
          name,
        ],
        { encoding: 'utf8' },
      );
      const out = JSON.parse(stdout);
      expect(out.named).toMatchObject({ code: 'EPERM', syscall: 'mount' });
      expect(out.named.hint).toMatch(/CAP_SYS_ADMIN/);
      expect(out.anonymous).toMatchObject({ code: 'EPERM', syscall: 'unshare' });
      expect(out.run).toMatchObject({ code: 'EPERM', syscall: 'setns' });
      expect(out.moved).toBe(false);
      expect(existsSync(`/run/netns/${name}`)).toBe(false);
    });
  });

// A create that fails half-way: in a user namespace whose netns limit is 0, unshare(CLONE_NEWNET)
// fails with ENOSPC after /run/netns/NAME was created; the file must be gone again, and no mount
// added (making /run/netns shared, as iproute2 does, only changes its propagation).
const halfwayScript = `
const { existsSync, readFileSync } = require('node:fs');
const { NetNs } = require(process.argv[2]);
const name = process.argv[1];
const mounts = () => readFileSync('/proc/self/mountinfo', 'utf8').split('\\n').filter(Boolean)
  .map((l) => l.split(' ').slice(0, 5).join(' '));
const before = mounts();
const codeOf = (fn) => { try { fn(); return 'ok'; } catch (e) { return { code: e.code, syscall: e.syscall }; } };
const out = { named: codeOf(() => NetNs.create({ name })), anonymous: codeOf(() => NetNs.create()) };
const after = mounts();
out.exists = existsSync('/run/netns/' + name);
out.added = after.filter((m) => !before.includes(m));
out.removed = before.filter((m) => !after.includes(m));
process.stdout.write(JSON.stringify(out));
`;
const UNSHARE = ['/usr/bin/unshare', '/bin/unshare'].find((p) => existsSync(p));
const distCjs = fileURLToPath(new URL('../dist/index.cjs', import.meta.url));

requireKernel()
  .and(makeGate(UNSHARE === undefined ? 'needs unshare (util-linux): apt-get install util-linux' : undefined))
  .describe('a create that fails half-way (needs root, unshare, built dist)', () => {
    it('removes the file it made and adds no mount', () => {
      expect(existsSync(distCjs), `${distCjs} (run pnpm build)`).toBe(true);
      const name = `bpfjs-test-${process.pid}-halfway`;
      const stdout = execFileSync(
        UNSHARE!,
        [
          '-Urm',
          'sh',
          '-c',
          'echo 0 > /proc/sys/user/max_net_namespaces && exec "$0" -e "$1" "$2" "$3"',
          process.execPath,
          halfwayScript,
          name,
          distCjs,
        ],
        { encoding: 'utf8' },
      );
      expect(JSON.parse(stdout)).toEqual({
        named: { code: 'ENOSPC', syscall: 'unshare' },
        anonymous: { code: 'ENOSPC', syscall: 'unshare' },
        exists: false,
        added: [],
        removed: [],
      });
      expect(existsSync(`/run/netns/${name}`)).toBe(false);
    });
  });
