/**
 * Tracing-side and netfilter links against the real kernel, created with the sys wrappers and
 * handled through the object API (`Link.fromFd`/`fromId`, the typed subclasses, `info()` with the
 * name strings, `links()`, `detach()`, `close()`):
 * - a raw tracepoint link on `sys_enter` (link type and info 5.8+);
 * - a BPF iterator link over tasks (5.8+, target name in info 5.9+; needs vmlinux BTF), read
 *   through BPF_ITER_CREATE;
 * - a netfilter link at IPv4 LOCAL_IN in a throwaway netns (6.4+), and on kernels without
 *   netfilter links the library's UnsupportedFeatureError naming 6.4.
 * Each test is gated by the sys probe of its link type ("needs Linux X" as the skip reason).
 */
import { existsSync, readSync } from 'node:fs';
import { asm, assemble, R0, R1, R2, R3, R6, R7, R10 } from '@bpfjs/asm';
import { Btf } from '@bpfjs/btf';
import {
  BpfError,
  iterCreate,
  linkCreate,
  progLoad,
  rawTracepointOpen,
  UnsupportedFeatureError,
} from '@bpfjs/sys';
import { requireFeature, requireKernel, scaleTimeout, waitFor } from '@bpfjs/testkit';
import {
  BPF_FUNC_seq_write,
  BPF_NETFILTER,
  BPF_PROG_TYPE_TRACING,
  BPF_TRACE_ITER,
  BTF_KIND_FUNC,
} from '@bpfjs/uapi';
import { expect, it } from 'vitest';
import { IterLink, Link, links, NetfilterLink, Program, RawTracepointLink } from './index.js';
import { freshNetNs, isRoot, withCleanup } from './test/helpers.js';

const ret = (v: number) => assemble([asm.mov64Imm(R0, v), asm.exit()]);
const VMLINUX = '/sys/kernel/btf/vmlinux';
const NFPROTO_IPV4 = 2;
const NF_INET_LOCAL_IN = 1;
// QEMU/TCG in the kernel matrix is about ten times slower.
const TIMEOUT = scaleTimeout(60_000);

// Probed only as root (the describe below is skipped otherwise).
const rawTpLinks = isRoot ? requireFeature('BPF_LINK_TYPE_RAW_TRACEPOINT') : undefined;
const iterLinks = isRoot ? requireFeature('BPF_LINK_TYPE_ITER') : undefined;
const netfilterLinks = isRoot ? requireFeature('BPF_LINK_TYPE_NETFILTER') : undefined;
// The probe answered "absent" (not: could not probe).
const netfilterAbsent =
  netfilterLinks !== undefined && !netfilterLinks.ok && /not supported/.test(netfilterLinks.reason ?? '');

/** Polls `links()` until no link has this id (the kernel frees a closed link's id on release). */
async function waitForLinkGone(id: number): Promise<void> {
  await waitFor(() => ![...links()].some((i) => i.id === id), { timeoutMs: scaleTimeout(10_000) });
}

/**
 * The iterator program: for every task writes the 4 bytes "task" with bpf_seq_write; the final
 * call (task NULL) writes nothing. ctx is `{ struct bpf_iter_meta *meta; struct task_struct
 * *task }` and `meta->seq` is its first member.
 */
/** A netfilter link for `prog` at IPv4 LOCAL_IN with `priority`, created inside `ns`. */
function netfilterLink(ns: { run<T>(fn: () => T): T }, prog: Program, priority: number): Link {
  return Link.fromFd(
    ns.run(() =>
      linkCreate({
        progFd: prog.fd,
        attachType: BPF_NETFILTER,
        netfilter: { protocolFamily: NFPROTO_IPV4, hooknum: NF_INET_LOCAL_IN, priority },
      }),
    ),
  );
}

function taskIterProgram(): Uint8Array {
  return assemble([
    asm.ldxMem('dw', R6, R1, 0), // meta
    asm.ldxMem('dw', R7, R1, 8), // task
    asm.jeqImm(R7, 0, 'out'),
    asm.ldxMem('dw', R1, R6, 0), // meta->seq
    asm.stMem('w', R10, -8, 0x6b736174), // "task", little-endian
    asm.mov64Reg(R2, R10),
    asm.add64Imm(R2, -8),
    asm.mov64Imm(R3, 4),
    asm.call(BPF_FUNC_seq_write),
    asm.label('out'),
    asm.mov64Imm(R0, 0),
    asm.exit(),
  ]);
}

requireKernel().describe('tracing and netfilter links through the object API (needs root)', () => {
  it(
    'raw tracepoint link on sys_enter: RawTracepointLink, info { tpName }, in links(), gone after close',
    async (ctx) => {
      rawTpLinks?.(ctx);
      let id = 0;
      withCleanup((defer) => {
        const prog = Program.load({ type: 'raw_tracepoint', instructions: ret(0) });
        defer(() => prog.close());
        const link = Link.fromFd(rawTracepointOpen({ progFd: prog.fd, name: 'sys_enter' }));
        defer(() => link.close());
        expect(link).toBeInstanceOf(RawTracepointLink);
        expect(link.type).toBe('raw_tracepoint');
        const info = link.info();
        id = info.id;
        expect(info).toEqual({
          id: expect.any(Number),
          type: 'raw_tracepoint',
          programId: prog.id,
          tpName: 'sys_enter',
          cookie: expect.any(BigInt),
        });
        // The same through links() (one fd per link, opened by id) and through Link.fromId.
        expect([...links()].find((i) => i.id === id)).toEqual(info);
        const again = Link.fromId(id);
        defer(() => again.close());
        expect(again).toBeInstanceOf(RawTracepointLink);
        expect((again as RawTracepointLink).info().tpName).toBe('sys_enter');
        // The kernel cannot detach raw tracepoint links (no detach op): EOPNOTSUPP, explained.
        let err: unknown;
        try {
          link.detach();
        } catch (e) {
          err = e;
        }
        expect(BpfError.isInstance(err), String(err)).toBe(true);
        expect((err as InstanceType<typeof BpfError>).code).toBe('EOPNOTSUPP');
        expect(String((err as Error).message)).toMatch(/raw_tracepoint links cannot be detached/);
        expect((link as RawTracepointLink).info().tpName).toBe('sys_enter');
      });
      // Every fd (link, the fromId copy, the program) is closed: the link goes away.
      await waitForLinkGone(id);
    },
    TIMEOUT,
  );

  it(
    'iter link over tasks: IterLink, info { targetName: "task" }, readable with BPF_ITER_CREATE',
    async (ctx) => {
      iterLinks?.(ctx);
      if (!existsSync(VMLINUX)) {
        ctx.skip(`needs kernel BTF at ${VMLINUX} (CONFIG_DEBUG_INFO_BTF) for the iterator's target`);
        return;
      }
      const btf = Btf.loadKernel(VMLINUX);
      const target = btf.findByName('bpf_iter_task', BTF_KIND_FUNC)[0];
      if (target === undefined) {
        ctx.skip('the kernel BTF has no FUNC bpf_iter_task (task iterator not built in)');
        return;
      }
      let id = 0;
      withCleanup((defer) => {
        const prog = Program.fromFd(
          progLoad({
            type: BPF_PROG_TYPE_TRACING,
            expectedAttachType: BPF_TRACE_ITER,
            attachBtfId: target,
            insns: taskIterProgram(),
            license: 'GPL',
          }),
        );
        defer(() => prog.close());
        expect(prog.info().type).toBe('tracing');
        const link = Link.fromFd(linkCreate({ progFd: prog.fd, attachType: BPF_TRACE_ITER }));
        defer(() => link.close());
        expect(link).toBeInstanceOf(IterLink);
        const info = (link as IterLink).info();
        id = info.id;
        expect(info).toEqual({
          id: expect.any(Number),
          type: 'iter',
          programId: prog.id,
          targetName: 'task',
          mapId: 0,
        });
        expect([...links()].find((i) => i.id === id)).toEqual(info);

        // Read the iterator: "task" once per task (at least this process's threads), then EOF.
        const reader = iterCreate(link.fd);
        defer(() => reader.close());
        const chunks: Buffer[] = [];
        const buf = Buffer.alloc(4096);
        for (let guard = 0; guard < 100_000; guard++) {
          const n = readSync(reader.fd, buf, 0, buf.length, null);
          if (n === 0) break;
          chunks.push(Buffer.from(buf.subarray(0, n)));
        }
        const out = Buffer.concat(chunks).toString('latin1');
        expect(out.length).toBeGreaterThan(0);
        expect(out.length % 4).toBe(0);
        expect(out).toBe('task'.repeat(out.length / 4));
      });
      await waitForLinkGone(id);
    },
    TIMEOUT,
  );

  it(
    'netfilter link at IPv4 LOCAL_IN in a fresh netns: NetfilterLink, info, detach',
    async (ctx) => {
      netfilterLinks?.(ctx);
      let id = 0;
      withCleanup((defer) => {
        const ns = freshNetNs();
        defer(() => ns.close());
        const prog = Program.load({ type: 'netfilter', instructions: ret(1) }); // NF_ACCEPT
        defer(() => prog.close());
        const link = netfilterLink(ns, prog, -128);
        defer(() => link.close());
        expect(link).toBeInstanceOf(NetfilterLink);
        const info = (link as NetfilterLink).info();
        id = info.id;
        const expected = {
          id: expect.any(Number),
          type: 'netfilter',
          programId: prog.id,
          protocolFamily: NFPROTO_IPV4,
          hook: NF_INET_LOCAL_IN,
          priority: -128,
          flags: 0,
        };
        expect(info).toEqual(expected);
        expect([...links()].find((i) => i.id === id)).toEqual(info);
        // A second link at another priority on the same hook is fine.
        const second = netfilterLink(ns, prog, 100);
        defer(() => second.close());
        expect((second as NetfilterLink).info()).toMatchObject({ priority: 100, hook: NF_INET_LOCAL_IN });
        // Detach unregisters the hook; the kernel keeps reporting where it was (pf, hook and
        // priority stay in info), and the link stays listed while its fd is open.
        link.detach();
        expect(link.info()).toEqual(expected);
        expect([...links()].some((i) => i.id === id)).toBe(true);
        // Detaching again is not an error.
        link.detach();
      });
      await waitForLinkGone(id);
    },
    TIMEOUT,
  );

  // Both branches run: where the probe finds no netfilter links (5.10, 6.1 in the kernel matrix)
  // the library must say so with UnsupportedFeatureError naming 6.4; where it finds them, the
  // same program loads and links.
  it(
    'netfilter support: UnsupportedFeatureError (needs 6.4) without netfilter links, a NetfilterLink with them',
    () => {
      return withCleanup((defer) => {
        const ns = freshNetNs();
        defer(() => ns.close());
        let err: unknown;
        try {
          const prog = Program.load({ type: 'netfilter', instructions: ret(1) });
          defer(() => prog.close());
          const link = netfilterLink(ns, prog, 1);
          defer(() => link.close());
          expect(link).toBeInstanceOf(NetfilterLink);
        } catch (e) {
          err = e;
        }
        if (!netfilterAbsent) {
          expect(err, 'the probe found netfilter links, so loading and linking must work').toBeUndefined();
          return;
        }
        expect(UnsupportedFeatureError.isInstance(err), String(err)).toBe(true);
        const u = err as InstanceType<typeof UnsupportedFeatureError>;
        expect(u.code).toBe('ERR_BPFJS_NOT_SUPPORTED');
        // The program type is what fails first: netfilter programs and links came together (6.4).
        expect(u.feature).toBe('program type BPF_PROG_TYPE_NETFILTER');
        expect(u.minKernel).toBe('6.4');
        expect(u.message).toMatch(/needs Linux 6\.4/);
        expect(BpfError.isInstance(u.cause)).toBe(true);
      });
    },
    TIMEOUT,
  );
});
