import { closeSync, openSync, readlinkSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  describeHolders,
  findNetNsHolders,
  nsfsDev,
  nsTypeOfFd,
  parseMountInfo,
  parseNsLink,
} from './proc.js';

describe('parsers', () => {
  it('parseNsLink reads TYPE:[INODE] and nothing else', () => {
    expect(parseNsLink('net:[4026531833]')).toEqual({ type: 'net', inode: 4026531833 });
    expect(parseNsLink('pid_for_children:[4026531836]')).toEqual({
      type: 'pid_for_children',
      inode: 4026531836,
    });
    expect(parseNsLink('/run/netns/blue')).toBeUndefined();
    expect(parseNsLink('socket:[123]')).toEqual({ type: 'socket', inode: 123 });
    expect(parseNsLink('net:[12')).toBeUndefined();
  });

  it('parseMountInfo takes root, mount point (unescaped) and fs type', () => {
    const text = [
      '42 27 254:0 /run/netns /run/netns rw,relatime shared:1 - ext4 /dev/vda rw',
      '43 42 0:4 net:[4026532177] /run/netns/with\\040space rw shared:2 - nsfs nsfs rw',
      '44 27 0:50 / /x rw - bpf bpf rw,uid=0',
      'garbage line',
      '',
    ].join('\n');
    expect(parseMountInfo(text)).toEqual([
      { root: '/run/netns', mountPoint: '/run/netns', fsType: 'ext4' },
      { root: 'net:[4026532177]', mountPoint: '/run/netns/with space', fsType: 'nsfs' },
      { root: '/', mountPoint: '/x', fsType: 'bpf' },
    ]);
  });

  it('describeHolders names each kind and caps the list', () => {
    const many = Array.from({ length: 10 }, (_, i) => ({ kind: 'fd' as const, pid: 1, fd: i }));
    expect(describeHolders([{ kind: 'thread', pid: 5, tid: 6 }])).toBe('thread 6 of pid 5');
    expect(describeHolders([{ kind: 'mount', pid: 5, mountPoint: '/run/netns/a' }])).toBe(
      'mount /run/netns/a (seen from pid 5)',
    );
    expect(describeHolders(many)).toMatch(/fd 7 of pid 1, and 2 more$/);
  });
});

describe('/proc', () => {
  it('nsfsDev is the device of every namespace file', () => {
    expect(statSync('/proc/self/ns/net').dev).toBe(nsfsDev());
    expect(statSync('/proc/self/ns/mnt').dev).toBe(nsfsDev());
    expect(statSync('/proc/self/exe').dev).not.toBe(nsfsDev());
  });

  it('nsTypeOfFd reads the type from an fd opened through /proc', () => {
    const net = openSync('/proc/thread-self/ns/net', 'r');
    const mnt = openSync('/proc/thread-self/ns/mnt', 'r');
    const plain = openSync('/proc/self/status', 'r');
    try {
      expect(nsTypeOfFd(net)).toBe('net');
      expect(nsTypeOfFd(mnt)).toBe('mnt');
      expect(nsTypeOfFd(plain)).toBeUndefined();
    } finally {
      closeSync(net);
      closeSync(mnt);
      closeSync(plain);
    }
  });

  it('findNetNsHolders sees this thread and an fd of this process in the current netns', () => {
    const link = readlinkSync('/proc/thread-self/ns/net');
    const inode = parseNsLink(link)!.inode;
    const fd = openSync('/proc/thread-self/ns/net', 'r');
    try {
      const holders = findNetNsHolders(inode);
      expect(holders).toContainEqual({ kind: 'fd', pid: process.pid, fd });
      expect(holders.some((h) => h.kind === 'thread' && h.pid === process.pid)).toBe(true);
    } finally {
      closeSync(fd);
    }
    expect(findNetNsHolders(inode)).not.toContainEqual({ kind: 'fd', pid: process.pid, fd });
  });

  it('findNetNsHolders finds nothing for an inode no namespace has', () => {
    // Inode 1 belongs to no namespace (nsfs numbers start at 0xF0000000).
    expect(findNetNsHolders(1)).toEqual([]);
  });
});
