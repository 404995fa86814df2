// Round trips with iproute2: what `ip netns add` makes, NetNs reads, and the other way round.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { makeGate, requireKernel } from '@bpfjs/testkit';
import { afterEach, expect, it } from 'vitest';
import { NetNs } from './netns.js';
import { findNetNsHolders } from './proc.js';
import { waitForTeardown } from './teardown.js';

const IP = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'].find((p) => existsSync(p));

let counter = 0;
const names: string[] = [];
/** A name no other test (or test run) uses: `bpfjs-test-<pid>-<n>`; deleted after the test. */
function uniqueName(): string {
  const name = `bpfjs-test-${process.pid}-${counter++}`;
  names.push(name);
  return name;
}

function ip(...args: string[]): string {
  return execFileSync(IP!, args, { encoding: 'utf8' });
}

const ipNetnsList = (): string[] =>
  ip('netns', 'list')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split(' ')[0]!);
const mountLines = (name: string): string[] =>
  readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l.includes(` /run/netns/${name} `));
const statInode = (path: string): number =>
  Number(execFileSync('stat', ['-L', '-c', '%i', path]).toString().trim());
const threadNs = (): string => readlinkSync('/proc/thread-self/ns/net');

const opened: NetNs[] = [];
afterEach(() => {
  for (const ns of opened.splice(0)) ns.close();
  for (const name of names.splice(0)) {
    if (existsSync(`/run/netns/${name}`)) spawnSync(IP!, ['netns', 'del', name]);
  }
});
function track(ns: NetNs): NetNs {
  opened.push(ns);
  return ns;
}

requireKernel()
  .and(makeGate(IP === undefined ? 'needs ip (iproute2): apt-get install iproute2' : undefined))
  .describe('iproute2 interop (needs root and ip)', () => {
    it('ip netns add NAME, then fromName(NAME): same netns, same inode as stat -L', () => {
      const name = uniqueName();
      ip('netns', 'add', name);
      const ns = track(NetNs.fromName(name));
      expect(ns.name).toBe(name);
      expect(ns.path).toBe(`/run/netns/${name}`);
      expect(ns.inode).toBe(statInode(`/run/netns/${name}`));
      expect(NetNs.list()).toContain(name);
      // The same netns as `ip netns exec` enters.
      const inside = ip('netns', 'exec', name, 'readlink', '/proc/self/ns/net').trim();
      expect(inside).toBe(`net:[${ns.inode}]`);
      // open() of the iproute2 path is the same thing, with the name recognised.
      const again = track(NetNs.open(`/run/netns/${name}`));
      expect(again.name).toBe(name);
      expect(again.equals(ns)).toBe(true);
    });

    it('create({ name }) is what ip netns add makes: listed, exec-able, a bind mount, thread unmoved', () => {
      const before = threadNs();
      const name = uniqueName();
      const ns = track(NetNs.create({ name }));
      expect(threadNs()).toBe(before);
      expect(ns.name).toBe(name);
      expect(ns.path).toBe(`/run/netns/${name}`);
      expect(`net:[${ns.inode}]`).not.toBe(before);
      expect(ns.inode).toBe(statInode(`/run/netns/${name}`));
      expect(ipNetnsList()).toContain(name);
      expect(NetNs.list()).toContain(name);
      // The file is an nsfs bind mount (root net:[INODE]) and /run/netns is a shared mount, as iproute2 does it.
      const lines = mountLines(name);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(` net:[${ns.inode}] /run/netns/${name} `);
      expect(lines[0]).toMatch(/ shared:\d+ .*- nsfs /);
      const runDir = readFileSync('/proc/self/mountinfo', 'utf8')
        .split('\n')
        .filter((l) => l.split(' ')[4] === '/run/netns');
      expect(runDir.length).toBeGreaterThan(0);
      expect(runDir.at(-1)).toMatch(/ shared:\d+ /);
      // Inside: only a loopback, down.
      const links = ip('netns', 'exec', name, 'ip', '-o', 'link', 'show')
        .split('\n')
        .filter((l) => l !== '');
      expect(links).toHaveLength(1);
      expect(links[0]).toMatch(/^1: lo: <LOOPBACK>/);
      expect(ip('netns', 'exec', name, 'readlink', '/proc/self/ns/net').trim()).toBe(`net:[${ns.inode}]`);
      expect(ip('netns', 'identify', String(process.pid)).trim()).toBe('');
      // ip netns del removes it; fromName then fails with ENOENT.
      ip('netns', 'del', name);
      expect(ipNetnsList()).not.toContain(name);
      expect(() => NetNs.fromName(name)).toThrow(expect.objectContaining({ code: 'ENOENT' }));
      expect(ns.run(threadNs)).toBe(`net:[${ns.inode}]`);
    });

    it('delete() is ip netns del: no file, no mount; the netns ends with the last reference', async () => {
      const name = uniqueName();
      const ns = NetNs.create({ name });
      const { inode } = ns;
      try {
        expect(findNetNsHolders(inode).map((h) => h.kind)).toEqual(expect.arrayContaining(['mount', 'fd']));
        ns.delete();
        expect(existsSync(`/run/netns/${name}`)).toBe(false);
        expect(mountLines(name)).toEqual([]);
        expect(ipNetnsList()).not.toContain(name);
        expect(NetNs.list()).not.toContain(name);
        expect(() => ns.delete()).toThrow(expect.objectContaining({ code: 'ENOENT' }));
        // Still alive through this object's fd.
        expect(findNetNsHolders(inode)).toEqual([{ kind: 'fd', pid: process.pid, fd: ns.fd.fd }]);
      } finally {
        ns.close();
      }
      await waitForTeardown(inode, { timeoutMs: 10_000 });
    });

    it('delete() works on a netns opened by name, also after close()', () => {
      const name = uniqueName();
      ip('netns', 'add', name);
      const ns = NetNs.fromName(name);
      ns.close();
      ns.delete();
      expect(ipNetnsList()).not.toContain(name);
    });

    it('create({ name }) of a taken name fails with EEXIST and leaves the existing one intact', () => {
      const name = uniqueName();
      ip('netns', 'add', name);
      const inode = statInode(`/run/netns/${name}`);
      const before = threadNs();
      expect(() => NetNs.create({ name })).toThrow(expect.objectContaining({ code: 'EEXIST', errno: 17 }));
      expect(threadNs()).toBe(before);
      expect(statInode(`/run/netns/${name}`)).toBe(inode);
      expect(mountLines(name)).toHaveLength(1);
      expect(ip('netns', 'exec', name, 'readlink', '/proc/self/ns/net').trim()).toBe(`net:[${inode}]`);
    });

    it('fromName of a plain file under /run/netns (nothing mounted) is ERR_BPFJS_NOT_NETNS', () => {
      const name = uniqueName();
      // What a crashed `ip netns add` could leave: the empty file without the mount.
      ip('netns', 'add', name);
      execFileSync('umount', [`/run/netns/${name}`]);
      expect(statSync(`/run/netns/${name}`).size).toBe(0);
      expect(() => NetNs.fromName(name)).toThrow(expect.objectContaining({ code: 'ERR_BPFJS_NOT_NETNS' }));
      // And create() will not take over the name.
      expect(() => NetNs.create({ name })).toThrow(expect.objectContaining({ code: 'EEXIST' }));
    });
  });
