/**
 * BPF_RAW_TRACEPOINT_OPEN (`rawTracepointOpen`), netfilter links through `linkCreate` and link
 * names through `linkGetInfoWithName`: input checks first (refused before any syscall), then
 * against the kernel (raw tracepoint links 5.8+, netfilter links 6.4+, cookies 6.10+).
 */
import { release } from 'node:os';
import { requireFeature, requireKernel } from '@bpfjs/testkit';
import {
  BPF_LINK_TYPE_NETFILTER,
  BPF_NETFILTER,
  BPF_PROG_TYPE_NETFILTER,
  BPF_PROG_TYPE_RAW_TRACEPOINT,
  BPF_PROG_TYPE_SOCKET_FILTER,
  BPF_TRACE_ITER,
  BpfLinkInfo,
} from '@bpfjs/uapi/linux/bpf';
import { describe, expect, it } from 'vitest';
import { BpfError, UnsupportedFeatureError } from './errors.js';
import type { Fd } from './fd.js';
import { linkCreate, linkDetach, rawTracepointOpen } from './link.js';
import { linkGetInfo, linkGetInfoWithName } from './link-info.js';
import { haveRawTracepointCookie } from './probe.js';
import { progLoad } from './prog.js';
import { openPath } from './syscalls.js';
import { expectBpfError, expectInputError } from './test/expect.js';
import { leakedSince, openFds } from './test/fds.js';
import { inNetns, newNetns } from './test/netns.js';
import { returnImm } from './test/progs.js';

const NFPROTO_IPV4 = 2;
const NF_INET_LOCAL_IN = 1;

function atLeast(v: string): boolean {
  const [a = 0, b = 0] = release().split(/[.-]/).map(Number);
  const [x = 0, y = 0] = v.split('.').map(Number);
  return a > x || (a === x && b >= y);
}

describe('rawTracepointOpen input checks (no syscall)', () => {
  it('refuses bad options before the kernel sees them', () => {
    const before = openFds();
    expectInputError(() => rawTracepointOpen(undefined as never), 'ERR_INVALID_ARG_TYPE');
    expectInputError(() => rawTracepointOpen({ progFd: 3, nmae: 'x' } as never), 'ERR_INVALID_ARG_VALUE');
    expectInputError(() => rawTracepointOpen({ progFd: -1, name: 'sys_enter' }), 'ERR_OUT_OF_RANGE');
    expectInputError(() => rawTracepointOpen({ progFd: 3, name: 5 as never }), 'ERR_INVALID_ARG_TYPE');
    expectInputError(() => rawTracepointOpen({ progFd: 3, name: 'sys\0enter' }), 'ERR_INVALID_ARG_VALUE');
    expectInputError(() => rawTracepointOpen({ progFd: 3, name: '' }), 'ERR_INVALID_ARG_VALUE');
    // 127 bytes fit the kernel's 128-byte buffer; 128 do not (also counted in UTF-8 bytes).
    expectInputError(() => rawTracepointOpen({ progFd: 3, name: 'x'.repeat(128) }), 'ERR_OUT_OF_RANGE');
    expectInputError(() => rawTracepointOpen({ progFd: 3, name: 'é'.repeat(64) }), 'ERR_OUT_OF_RANGE');
    expectInputError(() => rawTracepointOpen({ progFd: 3, name: 'a', cookie: -1 }), 'ERR_OUT_OF_RANGE');
    expectInputError(
      () => rawTracepointOpen({ progFd: 3, name: 'a', cookie: 2n ** 64n }),
      'ERR_OUT_OF_RANGE',
    );
    expectInputError(
      () => rawTracepointOpen({ progFd: 3, name: 'a', cookie: '1' as never }),
      'ERR_INVALID_ARG_TYPE',
    );
    const closed = openPath('/dev/null');
    closed.close();
    expectInputError(() => rawTracepointOpen({ progFd: closed, name: 'a' }), 'ERR_BPFJS_FD_CLOSED');
    expect(leakedSince(before)).toEqual([]);
  });
});

describe('linkCreate netfilter input checks (no syscall)', () => {
  const base = { progFd: 3, attachType: BPF_NETFILTER };
  const nf = { protocolFamily: NFPROTO_IPV4, hooknum: NF_INET_LOCAL_IN, priority: -128 };
  it('refuses bad netfilter options', () => {
    expectInputError(() => linkCreate({ ...base, netfilter: null as never }), 'ERR_INVALID_ARG_TYPE');
    expectInputError(
      () => linkCreate({ ...base, netfilter: { ...nf, prio: 1 } as never }),
      'ERR_INVALID_ARG_VALUE',
    );
    expectInputError(
      () => linkCreate({ ...base, netfilter: { protocolFamily: 2, hooknum: 1 } as never }),
      'ERR_INVALID_ARG_TYPE',
    );
    expectInputError(
      () => linkCreate({ ...base, netfilter: { ...nf, protocolFamily: -1 } }),
      'ERR_OUT_OF_RANGE',
    );
    expectInputError(() => linkCreate({ ...base, netfilter: { ...nf, hooknum: 1.5 } }), 'ERR_OUT_OF_RANGE');
    expectInputError(
      () => linkCreate({ ...base, netfilter: { ...nf, priority: 2 ** 31 } }),
      'ERR_OUT_OF_RANGE',
    );
    // INT_MIN and INT_MAX are netfilter's reserved first/last priorities (the kernel: ERANGE).
    expectInputError(
      () => linkCreate({ ...base, netfilter: { ...nf, priority: -(2 ** 31) } }),
      'ERR_OUT_OF_RANGE',
    );
    expectInputError(
      () => linkCreate({ ...base, netfilter: { ...nf, priority: 2 ** 31 - 1 } }),
      'ERR_OUT_OF_RANGE',
    );
    expectInputError(() => linkCreate({ ...base, netfilter: { ...nf, flags: -1 } }), 'ERR_OUT_OF_RANGE');
  });
  it('netfilter is exclusive with targetBtfId and iterInfo', () => {
    expectInputError(() => linkCreate({ ...base, netfilter: nf, targetBtfId: 1 }), 'ERR_INVALID_ARG_VALUE');
    expectInputError(
      () => linkCreate({ ...base, netfilter: nf, iterInfo: new Uint8Array(8) }),
      'ERR_INVALID_ARG_VALUE',
    );
  });
});

describe('linkGetInfoWithName input checks', () => {
  it('refuses a buffer smaller than struct bpf_link_info and a bad fd', () => {
    expectInputError(() => linkGetInfoWithName(3, new Uint8Array(BpfLinkInfo.size - 1)), 'ERR_OUT_OF_RANGE');
    expectInputError(() => linkGetInfoWithName(-1, new Uint8Array(BpfLinkInfo.size)), 'ERR_OUT_OF_RANGE');
    expectInputError(() => linkGetInfoWithName(3, [] as never), 'ERR_INVALID_ARG_TYPE');
  });
});

const rawTpLinks = requireFeature('BPF_LINK_TYPE_RAW_TRACEPOINT');
const netfilterLinks = requireFeature('BPF_LINK_TYPE_NETFILTER');

requireKernel().describe('raw tracepoints and netfilter links against the kernel (root)', () => {
  it('rawTracepointOpen: a raw tracepoint link on sys_enter, its name from linkGetInfoWithName', (ctx) => {
    rawTpLinks(ctx);
    const before = openFds();
    const prog = progLoad({ type: BPF_PROG_TYPE_RAW_TRACEPOINT, insns: returnImm(0), license: 'GPL' });
    try {
      const link = rawTracepointOpen({ progFd: prog, name: 'sys_enter' });
      try {
        const info = linkGetInfo(link);
        expect(info).toMatchObject({ type: 'raw_tracepoint', tpName: 'sys_enter' });
        expect(info.id).toBeGreaterThan(0);
        const buf = new Uint8Array(BpfLinkInfo.size);
        const r = linkGetInfoWithName(link, buf);
        expect(r.name).toBe('sys_enter');
        expect(r.infoLen).toBeGreaterThan(0);
        const v = new DataView(buf.buffer);
        // The name pointer is cleared; the length the kernel reported is left (with the NUL).
        expect(v.getBigUint64(BpfLinkInfo.fields['raw_tracepoint.tp_name'].offset, true)).toBe(0n);
        expect(v.getUint32(BpfLinkInfo.fields['raw_tracepoint.tp_name_len'].offset, true)).toBe(10);
        expect(v.getUint32(BpfLinkInfo.fields.id.offset, true)).toBe(info.id);
      } finally {
        link.close();
      }
    } finally {
      prog.close();
    }
    expect(leakedSince(before)).toEqual([]);
  });

  it('rawTracepointOpen: an unknown tracepoint is ENOENT, a program of another type EINVAL', (ctx) => {
    rawTpLinks(ctx);
    const raw = progLoad({ type: BPF_PROG_TYPE_RAW_TRACEPOINT, insns: returnImm(0), license: 'GPL' });
    const sock = progLoad({ type: BPF_PROG_TYPE_SOCKET_FILTER, insns: returnImm(0), license: 'GPL' });
    try {
      expectBpfError(
        () => rawTracepointOpen({ progFd: raw, name: 'bpfjs_no_such_tracepoint' }),
        'ENOENT',
        'BPF_RAW_TRACEPOINT_OPEN',
      );
      expectBpfError(() => rawTracepointOpen({ progFd: sock, name: 'sys_enter' }), 'EINVAL');
    } finally {
      raw.close();
      sock.close();
    }
  });

  // Both branches run: before 6.10 a cookie is refused (the kernel's EINVAL for a field it does
  // not know) as an UnsupportedFeatureError naming 6.10; from 6.10 on it is accepted. The probe
  // must agree with the kernel version.
  it('rawTracepointOpen cookie: UnsupportedFeatureError (6.10) or accepted, by kernel version', (ctx) => {
    rawTpLinks(ctx);
    const prog = progLoad({ type: BPF_PROG_TYPE_RAW_TRACEPOINT, insns: returnImm(0), license: 'GPL' });
    try {
      let link: Fd | undefined;
      let err: unknown;
      try {
        link = rawTracepointOpen({ progFd: prog, name: 'sys_enter', cookie: 0x1234n });
      } catch (e) {
        err = e;
      } finally {
        link?.close();
      }
      expect(haveRawTracepointCookie()).toBe(atLeast('6.10'));
      if (atLeast('6.10')) {
        expect(err).toBeUndefined();
      } else {
        expect(UnsupportedFeatureError.isInstance(err), String(err)).toBe(true);
        expect(err).toMatchObject({ minKernel: '6.10', feature: 'BPF_RAW_TRACEPOINT_OPEN cookie' });
        expect((err as { cause?: BpfError }).cause?.code).toBe('EINVAL');
      }
    } finally {
      prog.close();
    }
  });

  it('linkGetInfoWithName refuses a program fd before giving the kernel a pointer', () => {
    const prog = progLoad({ type: BPF_PROG_TYPE_SOCKET_FILTER, insns: returnImm(0), license: 'GPL' });
    try {
      expectInputError(
        () => linkGetInfoWithName(prog, new Uint8Array(BpfLinkInfo.size)),
        'ERR_INVALID_ARG_VALUE',
      );
    } finally {
      prog.close();
    }
  });

  it('linkCreate netfilter: a link at IPv4 LOCAL_IN in a fresh netns, its info, detach', (ctx) => {
    netfilterLinks(ctx);
    const before = openFds();
    const ns = newNetns();
    const prog = progLoad({
      type: BPF_PROG_TYPE_NETFILTER,
      insns: returnImm(1), // NF_ACCEPT
      license: 'GPL',
      expectedAttachType: BPF_NETFILTER,
    });
    try {
      const link = inNetns(ns, () =>
        linkCreate({
          progFd: prog,
          attachType: BPF_NETFILTER,
          netfilter: { protocolFamily: NFPROTO_IPV4, hooknum: NF_INET_LOCAL_IN, priority: -128 },
        }),
      );
      try {
        const buf = new Uint8Array(BpfLinkInfo.size);
        const r = linkGetInfoWithName(link, buf);
        expect(r.name).toBeUndefined();
        const v = new DataView(buf.buffer);
        const f = BpfLinkInfo.fields;
        expect(v.getUint32(f.type.offset, true)).toBe(BPF_LINK_TYPE_NETFILTER);
        expect(v.getUint32(f['netfilter.pf'].offset, true)).toBe(NFPROTO_IPV4);
        expect(v.getUint32(f['netfilter.hooknum'].offset, true)).toBe(NF_INET_LOCAL_IN);
        expect(v.getInt32(f['netfilter.priority'].offset, true)).toBe(-128);
        linkDetach(link);
        expect(linkGetInfo(link).type).toBe('netfilter');
      } finally {
        link.close();
      }
      // An unknown protocol family and a bad hook number are the kernel's to refuse.
      inNetns(ns, () => {
        expectBpfError(
          () =>
            linkCreate({
              progFd: prog,
              attachType: BPF_NETFILTER,
              netfilter: { protocolFamily: 99, hooknum: 1, priority: 1 },
            }),
          'EAFNOSUPPORT',
          'BPF_LINK_CREATE',
        );
        expectBpfError(
          () =>
            linkCreate({
              progFd: prog,
              attachType: BPF_NETFILTER,
              netfilter: { protocolFamily: NFPROTO_IPV4, hooknum: 9, priority: 1 },
            }),
          'EPROTO',
        );
      });
    } finally {
      prog.close();
      ns.close();
    }
    expect(leakedSince(before)).toEqual([]);
  });

  it('linkCreate with BPF_TRACE_ITER maps to the iter link type on the error path', () => {
    // A socket filter cannot make an iter link: the kernel's EINVAL stays a BpfError here
    // (5.8+ has iter links), never an UnsupportedFeatureError.
    const prog = progLoad({ type: BPF_PROG_TYPE_SOCKET_FILTER, insns: returnImm(0), license: 'GPL' });
    try {
      let err: unknown;
      try {
        linkCreate({ progFd: prog, attachType: BPF_TRACE_ITER, iterInfo: new Uint8Array(8) }).close();
      } catch (e) {
        err = e;
      }
      expect(BpfError.isInstance(err) || UnsupportedFeatureError.isInstance(err), String(err)).toBe(true);
      if (atLeast('5.8')) expect(BpfError.isInstance(err), String(err)).toBe(true);
    } finally {
      prog.close();
    }
  });
});
