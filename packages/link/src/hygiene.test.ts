/**
 * Input refused before any syscall, and no fd leaked on any path (success or failure): every `Fd`
 * sys opens is published on `bpfjs:fd:open` / `bpfjs:fd:close`, so the test can tell which ones
 * are still open after a scenario.
 */
import diagnostics_channel from 'node:diagnostics_channel';
import { join } from 'node:path';
import type { FdChannelMessage } from '@bpfjs/sys';
import { requireKernel } from '@bpfjs/testkit';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { attachNetNs, attachProgram, Link, Program, queryPrograms } from './index.js';
import {
  catchError,
  freshNetNs,
  loadFlowDissector,
  loadSkLookup,
  loadSocketFilter,
  privateBpffs,
  withCleanup,
} from './test/helpers.js';

const open = new Set<unknown>();
const onOpen = (m: unknown) => open.add((m as FdChannelMessage).fd);
const onClose = (m: unknown) => open.delete((m as FdChannelMessage).fd);

requireKernel().describe('input checks and fd hygiene (needs root)', () => {
  beforeEach(() => {
    open.clear();
    diagnostics_channel.subscribe('bpfjs:fd:open', onOpen);
    diagnostics_channel.subscribe('bpfjs:fd:close', onClose);
  });
  afterEach(() => {
    diagnostics_channel.unsubscribe('bpfjs:fd:open', onOpen);
    diagnostics_channel.unsubscribe('bpfjs:fd:close', onClose);
  });

  it('attach types and program types are checked before the syscall', () =>
    withCleanup((defer) => {
      const ns = freshNetNs();
      defer(() => ns.close());
      const fd = loadFlowDissector();
      defer(() => fd.close());
      const sf = loadSocketFilter();
      defer(() => sf.close());
      const e1 = catchError(() => attachNetNs(fd, ns, 'xdp'));
      expect(e1).toBeInstanceOf(TypeError);
      expect(e1.code).toBe('ERR_INVALID_ARG_VALUE');
      const e2 = catchError(() => attachNetNs(sf, ns));
      expect(e2.code).toBe('ERR_INVALID_ARG_VALUE');
      expect(catchError(() => attachNetNs(fd, { fd: -1 } as never)).code).toBe('ERR_OUT_OF_RANGE');
      expect(catchError(() => attachNetNs(fd, null as never)).code).toBe('ERR_INVALID_ARG_TYPE');
      expect(catchError(() => attachProgram(fd, { attachType: 'cgroup_inet_ingress', netns: ns })).code).toBe(
        'ERR_INVALID_ARG_VALUE',
      );
      expect(catchError(() => attachProgram(fd, undefined as never)).code).toBe('ERR_INVALID_ARG_TYPE');
      // The kernel refuses a flow dissector program on the sk_lookup hook: EINVAL, explained.
      const e3 = catchError(() => attachNetNs(fd, ns, 'sk_lookup').close());
      expect(e3.code).toBe('EINVAL');
      expect(e3.hint).toMatch(/wrong program type/);
      expect(queryPrograms(ns, 'sk_lookup').programIds).toEqual([]);
    }));

  it('no fd stays open after success and failure paths', () => {
    withCleanup((defer) => {
      const fs = privateBpffs();
      defer(fs.dispose);
      const ns = freshNetNs();
      defer(() => ns.close());
      const prog = loadSkLookup();
      defer(() => prog.close());
      const path = `/proc/self/fd/${ns.fd.fd}`;
      const link = attachNetNs(prog, path); // opens and closes the path
      defer(() => link.close());
      queryPrograms(path, 'sk_lookup');
      link.pin(join(fs.dir, 'l'));
      defer(() => link.unpin());
      prog.pin(join(fs.dir, 'p'));
      defer(() => prog.unpin());
      // fromPin of the wrong kind opens, checks, and closes again.
      expect(catchError(() => Link.fromPin(join(fs.dir, 'p'))).code).toBe('ERR_BPFJS_WRONG_OBJECT');
      expect(catchError(() => Program.fromPin(join(fs.dir, 'l'))).code).toBe('ERR_BPFJS_WRONG_OBJECT');
      Link.fromPin(join(fs.dir, 'l')).close();
      Program.fromId(prog.id).close();
      // The channels do see our fds (ns, prog, link at least), so the check below means something.
      expect(open.size).toBeGreaterThanOrEqual(3);
    });
    expect([...open].filter((fd) => fd !== null && !(fd as { closed: boolean }).closed)).toEqual([]);
  });
});
