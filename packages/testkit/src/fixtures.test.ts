import { existsSync, statSync } from 'node:fs';
import { NetNs } from '@bpfjs/netns';
import { isBpffs } from '@bpfjs/sys';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  flowDissectorProgram,
  skLookupProgram,
  socketFilterProgram,
  tempBpffs,
  tempNetNs,
} from './fixtures.js';
import { requireKernel } from './gates.js';
import { deferCleanup, fileScope, register } from './scope.js';

const kernel = requireKernel();

kernel.describe('fixtures', () => {
  describe('tempNetNs', () => {
    let inode = 0;
    let ns: NetNs | undefined;
    it('creates a fresh netns', () => {
      ns = tempNetNs();
      inode = ns.inode;
      using current = NetNs.current();
      expect(inode).not.toBe(current.inode);
      expect(ns.closed).toBe(false);
    });
    it('closed it after the previous test', () => {
      expect(inode).toBeGreaterThan(0);
      expect(ns!.closed).toBe(true);
    });

    let name = '';
    let named: NetNs | undefined;
    it('named: visible under /run/netns', () => {
      named = tempNetNs({ named: true });
      name = named.name!;
      expect(name).toMatch(/^bpfjs-test-\d+-[0-9a-f]{8}$/);
      expect(NetNs.list()).toContain(name);
    });
    it('named: deleted and closed after the previous test', () => {
      expect(named!.closed).toBe(true);
      expect(NetNs.list()).not.toContain(name);
    });

    it('a named netns the test deleted itself is still cleaned up without error', () => {
      const ns = tempNetNs({ named: true });
      ns.delete();
      expect(NetNs.list()).not.toContain(ns.name);
    });

    let failedNs: NetNs | undefined;
    it.fails('cleans up after a failing test too', () => {
      failedNs = tempNetNs();
      throw new Error('deliberate failure');
    });
    it('...which closed its netns', () => {
      expect(failedNs!.closed).toBe(true);
    });

    it('manual cleanup leaves it to the caller', () => {
      const ns2 = tempNetNs({ cleanup: 'manual' });
      onTestFinished(() => ns2.close());
      expect(ns2.closed).toBe(false);
    });
  });

  describe('tempBpffs', () => {
    let path = '';
    it('mounts a private bpffs in a temp dir', () => {
      const fs = tempBpffs();
      path = fs.path;
      expect(isBpffs(fs.path)).toBe(true);
      expect(fs.pinPath('x')).toBe(`${fs.path}/x`);
      expect(() => fs.pinPath('')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    });
    it('unmounted and removed it after the previous test', () => {
      expect(path).not.toBe('');
      expect(existsSync(path)).toBe(false);
    });
    it('dispose() is idempotent and works with using', () => {
      let p: string;
      {
        using fs = tempBpffs({ cleanup: 'manual' });
        p = fs.path;
        expect(statSync(p).isDirectory()).toBe(true);
      }
      expect(existsSync(p)).toBe(false);
    });
  });

  describe('programs', () => {
    it('flowDissectorProgram loads and is closed after the test', () => {
      const p = flowDissectorProgram({ name: 'tk_fd' });
      expect(p.type).toBe('flow_dissector');
      expect(p.info().name).toBe('tk_fd');
    });
    it('skLookupProgram pass/drop load with expected attach type sk_lookup', () => {
      const pass = skLookupProgram();
      const drop = skLookupProgram({ verdict: 'drop' });
      expect(pass.type).toBe('sk_lookup');
      expect(pass.expectedAttachType).toBe('sk_lookup');
      expect(drop.id).not.toBe(pass.id);
    });
    it('socketFilterProgram loads', () => {
      expect(socketFilterProgram().type).toBe('socket_filter');
    });
    let closedAfter: { closed: boolean } | undefined;
    it('program fixture registered for cleanup', () => {
      closedAfter = socketFilterProgram();
    });
    it('...and closed', () => {
      expect(closedAfter!.closed).toBe(true);
    });
  });
});

describe('cleanup scope', () => {
  // Collection time is "outside a test": with the setup file inactive, a fixture must refuse.
  const scope = fileScope();
  const was = scope.active;
  scope.active = false;
  let outside: unknown;
  try {
    deferCleanup('x', () => {});
  } catch (e) {
    outside = e;
  } finally {
    scope.active = was;
  }

  it('refuses a fixture outside a test when the setup file is not active', () => {
    expect(outside).toMatchObject({ code: 'ERR_BPFJS_TESTKIT_NO_SCOPE' });
    expect((outside as Error).message).toMatch(/cleanup: 'manual'/);
  });

  it('refuses a bad cleanup mode', () => {
    expect(() => register('x', { cleanup: 'later' as 'auto' }, () => {})).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
  });
});
