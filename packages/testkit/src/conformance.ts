/**
 * `runNetNsLinkConformance(adapter?)`: the kernel's netns-link rules (flow dissector and
 * sk_lookup; see DESIGN "The kernel semantics") as a vitest suite that any library built on bpfjs
 * — or on anything else — can run against its own wrapper through a small adapter. Without an
 * adapter it tests `@bpfjs/link`.
 *
 * Cases that touch the init netns's flow dissector are machine-global; they run only when asked
 * (`{ initNetns: true }`) and only from a `*.serial.test.ts` file.
 *
 * @module
 */
import {
  attachNetNs,
  attachProgram,
  detachProgram,
  type NetNsLink,
  type Program,
  queryPrograms,
} from '@bpfjs/link';
import { NetNs } from '@bpfjs/netns';
import { afterEach, describe, expect, it, type TestContext } from 'vitest';
import { expectCode, TestkitAssertionError, waitFor } from './assert.js';
import { TestkitTypeError } from './errors.js';
import { flowDissectorProgram, skLookupProgram, tempNetNs } from './fixtures.js';
import { requireKernel, requireKernelVersion } from './gates.js';

/** The two netns attach types, by the kernel's (bpftool's) names. */
export type NetNsAttachType = 'flow_dissector' | 'sk_lookup';

/** What an adapter's `linkInfo` returns. */
export interface ConformanceLinkInfo {
  /** Id of the program the link runs. */
  readonly programId: number;
  /** Inode of the netns, 0 once the link is defunct (netns gone or link detached). */
  readonly netnsInode: number;
  /** `'flow_dissector'` or `'sk_lookup'`; kept after the link goes defunct. */
  readonly attachType: string;
}

/**
 * How the suite drives a library. Every method is synchronous (bpf(2) is), and a kernel failure
 * must surface as a thrown error whose `code` is the errno name (`'EEXIST'`). `P` is the
 * library's program handle, `L` its link handle; the netns is a `@bpfjs/netns` `NetNs` (use
 * `netns.fd.fd` for the descriptor, `netns.inode` for identity).
 */
export interface NetNsLinkAdapter<P = unknown, L = unknown> {
  /** Shown in the suite name. */
  readonly name: string;
  /** Loads a minimal program of this type (flow dissector: returns BPF_OK; sk_lookup: SK_PASS). */
  loadProgram(type: NetNsAttachType): P;
  /** The kernel id of a loaded program. */
  programId(program: P): number;
  /** Releases a program handle. */
  closeProgram(program: P): void;
  /** Creates a link (BPF_LINK_CREATE) from `program` to `netns`. */
  attachLink(program: P, netns: NetNs, type: NetNsAttachType): L;
  /** BPF_LINK_UPDATE; with `replace`, BPF_F_REPLACE with that old program. */
  updateLink(link: L, program: P, options?: { replace?: P }): void;
  /** BPF_LINK_DETACH. */
  detachLink(link: L): void;
  /** Releases a link handle (closing the last fd of an unpinned link detaches it). */
  closeLink(link: L): void;
  /** The link's netns info. */
  linkInfo(link: L): ConformanceLinkInfo;
  /**
   * Legacy BPF_PROG_ATTACH to `netns`, or — when `netns` is `undefined` — to the calling thread's
   * netns. Flow dissector only (the kernel acts on the calling thread's netns, target_fd 0).
   */
  attachProgram(program: P, netns: NetNs | undefined, type: NetNsAttachType): void;
  /** Legacy BPF_PROG_DETACH, like `attachProgram`. */
  detachProgram(program: P, netns: NetNs | undefined, type: NetNsAttachType): void;
  /** BPF_PROG_QUERY on the netns: the attached program ids in run order. */
  queryPrograms(netns: NetNs, type: NetNsAttachType): number[];
}

/** The adapter for `@bpfjs/link` (the default of {@link runNetNsLinkConformance}). */
export function linkAdapter(): NetNsLinkAdapter<Program, NetNsLink> {
  return {
    name: '@bpfjs/link',
    loadProgram: (type) =>
      type === 'flow_dissector'
        ? flowDissectorProgram({ cleanup: 'manual' })
        : skLookupProgram({ cleanup: 'manual' }),
    programId: (p) => p.id,
    closeProgram: (p) => p.close(),
    attachLink: (p, ns, type) => attachNetNs(p, ns, type),
    updateLink: (l, p, o) => l.update(p, o?.replace === undefined ? undefined : { replace: o.replace }),
    detachLink: (l) => l.detach(),
    closeLink: (l) => l.close(),
    linkInfo: (l) => {
      const info = l.info();
      if (info.type !== 'netns') throw new TestkitAssertionError(`expected a netns link, got ${info.type}`);
      return { programId: info.programId, netnsInode: info.netnsInode, attachType: info.attachType };
    },
    attachProgram: (p, ns, type) =>
      attachProgram(p, ns === undefined ? { attachType: type } : { attachType: type, netns: ns }),
    detachProgram: (p, ns, type) =>
      detachProgram(p, ns === undefined ? { attachType: type } : { attachType: type, netns: ns }),
    queryPrograms: (ns, type) => queryPrograms(ns, type).programIds,
  };
}

/** Options of {@link runNetNsLinkConformance}. */
export interface ConformanceOptions {
  /**
   * Also run the init-netns cases (the flow dissector exclusion between the init netns and the
   * others, prog attach to the calling thread's init netns). Machine-global: only allowed in a
   * `*.serial.test.ts` file. Default false.
   */
  readonly initNetns?: boolean;
  /** Skip the child-netns cases (e.g. a serial file that runs only the init-netns part). Default false. */
  readonly skipChildNetns?: boolean;
  /** How long to wait for asynchronous netns teardown (default 30 000 ms). */
  readonly teardownTimeoutMs?: number;
}

/** The limit of sk_lookup links per netns (kernel `BPF_SK_LOOKUP_MAX_PROGS`'s role in net_namespace.c). */
export const SK_LOOKUP_MAX_LINKS = 64;

function currentTestFile(): string | undefined {
  return expect.getState().testPath;
}

/**
 * Registers the netns link conformance suite (call it at the top level of a test file, or inside a
 * `describe`). Gated by `requireKernel()` (root) and Linux 5.9 (sk_lookup links, BPF_LINK_DETACH).
 * @throws {TestkitTypeError} `ERR_BPFJS_TESTKIT_NOT_SERIAL` when `initNetns` is asked for outside a
 *   `*.serial.test.ts` file; `ERR_INVALID_ARG_TYPE` for a malformed adapter.
 */
export function runNetNsLinkConformance<P, L>(
  adapter?: NetNsLinkAdapter<P, L>,
  options: ConformanceOptions = {},
): void {
  const impl = (adapter ?? linkAdapter()) as NetNsLinkAdapter<unknown, unknown>;
  const methods = [
    'loadProgram',
    'programId',
    'closeProgram',
    'attachLink',
    'updateLink',
    'detachLink',
    'closeLink',
    'linkInfo',
    'attachProgram',
    'detachProgram',
    'queryPrograms',
  ] as const;
  for (const m of methods) {
    if (typeof (impl as unknown as Record<string, unknown>)[m] !== 'function') {
      throw new TestkitTypeError('ERR_INVALID_ARG_TYPE', `the conformance adapter lacks a ${m}() method`);
    }
  }
  if (options.initNetns) {
    const file = currentTestFile();
    if (file === undefined || !file.endsWith('.serial.test.ts')) {
      throw new TestkitTypeError(
        'ERR_BPFJS_TESTKIT_NOT_SERIAL',
        `init-netns conformance cases touch the machine-wide flow dissector and may only run from a *.serial.test.ts file (this is ${file ?? 'unknown'})`,
      );
    }
  }
  const teardownMs = options.teardownTimeoutMs ?? 30_000;
  const gate = requireKernel().and(requireKernelVersion('5.9', 'sk_lookup links and BPF_LINK_DETACH'));

  gate.describe(`netns link conformance: ${impl.name}`, () => {
    // Handles made by a test, released after it (in reverse), passed or failed.
    const owned: Array<() => void> = [];
    const prog = (type: NetNsAttachType): unknown => {
      const p = impl.loadProgram(type);
      owned.push(() => impl.closeProgram(p));
      return p;
    };
    const link = (p: unknown, ns: NetNs, type: NetNsAttachType): unknown => {
      const l = impl.attachLink(p, ns, type);
      owned.push(() => impl.closeLink(l));
      return l;
    };
    /** A legacy attachment, detached after the test unless the test did it already. */
    const attachProg = (p: unknown, ns: NetNs | undefined, type: NetNsAttachType, at?: NetNs): void => {
      impl.attachProgram(p, ns, type);
      const where = ns ?? at;
      owned.push(() => {
        try {
          if (where === undefined || where.closed) return;
          if (impl.queryPrograms(where, type).includes(impl.programId(p))) impl.detachProgram(p, where, type);
        } catch {
          // the netns may be gone; nothing to detach
        }
      });
    };
    afterEach(() => {
      const errors: unknown[] = [];
      while (owned.length > 0) {
        try {
          owned.pop()!();
        } catch (e) {
          errors.push(e);
        }
      }
      if (errors.length > 0) throw new AggregateError(errors, 'conformance cleanup failed');
    });

    const types: NetNsAttachType[] = ['flow_dissector', 'sk_lookup'];

    if (!options.skipChildNetns) {
      for (const type of types) {
        describe(`${type} in a child netns`, () => {
          it('link: info reports the program, the netns inode and the attach type; query lists it', () => {
            const ns = tempNetNs();
            const p = prog(type);
            const l = link(p, ns, type);
            expect(impl.linkInfo(l)).toEqual({
              programId: impl.programId(p),
              netnsInode: ns.inode,
              attachType: type,
            });
            expect(impl.queryPrograms(ns, type)).toEqual([impl.programId(p)]);
          });

          it('update without replace swaps the program', () => {
            const ns = tempNetNs();
            const [a, b] = [prog(type), prog(type)];
            const l = link(a, ns, type);
            impl.updateLink(l, b);
            expect(impl.linkInfo(l).programId).toBe(impl.programId(b));
            expect(impl.queryPrograms(ns, type)).toEqual([impl.programId(b)]);
          });

          it('update with replace = the attached program succeeds; another program → EPERM, nothing changed', () => {
            const ns = tempNetNs();
            const [a, b, c] = [prog(type), prog(type), prog(type)];
            const l = link(a, ns, type);
            impl.updateLink(l, b, { replace: a });
            expect(impl.linkInfo(l).programId).toBe(impl.programId(b));
            expectCode(() => impl.updateLink(l, c, { replace: a }), 'EPERM');
            expect(impl.linkInfo(l).programId).toBe(impl.programId(b));
          });

          it('update with a program of the other netns type → EINVAL, nothing changed', () => {
            const ns = tempNetNs();
            const a = prog(type);
            const other = prog(type === 'flow_dissector' ? 'sk_lookup' : 'flow_dissector');
            const l = link(a, ns, type);
            expectCode(() => impl.updateLink(l, other), 'EINVAL');
            expect(impl.linkInfo(l).programId).toBe(impl.programId(a));
          });

          it('detach: the link goes defunct (netns inode 0, attach type kept), the hook is empty, update → ENOLINK', () => {
            const ns = tempNetNs();
            const [a, b] = [prog(type), prog(type)];
            const l = link(a, ns, type);
            impl.detachLink(l);
            const info = impl.linkInfo(l);
            expect(info.netnsInode).toBe(0);
            expect(info.attachType).toBe(type);
            expect(impl.queryPrograms(ns, type)).toEqual([]);
            expectCode(() => impl.updateLink(l, b), 'ENOLINK');
          });

          it('closing the last link handle detaches it', () => {
            const ns = tempNetNs();
            const p = prog(type);
            const l = impl.attachLink(p, ns, type);
            expect(impl.queryPrograms(ns, type)).toHaveLength(1);
            impl.closeLink(l);
            expect(impl.queryPrograms(ns, type)).toEqual([]);
          });

          it('the link does not keep the netns alive: netns death auto-detaches it (inode 0, attach type kept; update → ENOLINK)', async () => {
            const ns = tempNetNs();
            const [a, b] = [prog(type), prog(type)];
            const l = link(a, ns, type);
            expect(impl.linkInfo(l).netnsInode).toBe(ns.inode);
            ns.close();
            const info = await waitFor(
              () => {
                const i = impl.linkInfo(l);
                return i.netnsInode === 0 ? i : undefined;
              },
              {
                timeoutMs: teardownMs,
                description: 'netns teardown to auto-detach the link (netns inode 0)',
              },
            );
            expect(info.attachType).toBe(type);
            expect(info.programId).toBe(impl.programId(a));
            expectCode(() => impl.updateLink(l, b), 'ENOLINK');
          });

          it('prog detach while a link holds the hook → EINVAL, the link stays', () => {
            const ns = tempNetNs();
            const p = prog(type);
            const l = link(p, ns, type);
            expectCode(() => impl.detachProgram(p, ns, type), 'EINVAL');
            expect(impl.linkInfo(l).netnsInode).toBe(ns.inode);
            expect(impl.queryPrograms(ns, type)).toEqual([impl.programId(p)]);
          });

          if (type === 'flow_dissector') {
            it('a link while a program is attached directly → EEXIST', () => {
              const ns = tempNetNs();
              const [a, b] = [prog(type), prog(type)];
              attachProg(a, ns, type);
              expectCode(() => link(b, ns, type), 'EEXIST');
              expect(impl.queryPrograms(ns, type)).toEqual([impl.programId(a)]);
            });

            it('a direct attach while a link exists → EEXIST', () => {
              const ns = tempNetNs();
              const [a, b] = [prog(type), prog(type)];
              link(a, ns, type);
              expectCode(() => attachProg(b, ns, type), 'EEXIST');
              expect(impl.queryPrograms(ns, type)).toEqual([impl.programId(a)]);
            });

            it('a second flow dissector link → E2BIG', () => {
              const ns = tempNetNs();
              const [a, b] = [prog(type), prog(type)];
              link(a, ns, type);
              expectCode(() => link(b, ns, type), 'E2BIG');
            });

            it('links and direct attachment are interchangeable one at a time', () => {
              const ns = tempNetNs();
              const [a, b] = [prog(type), prog(type)];
              attachProg(a, ns, type);
              impl.detachProgram(a, ns, type);
              const l = link(b, ns, type);
              impl.closeLink(l);
              attachProg(a, ns, type);
              expect(impl.queryPrograms(ns, type)).toEqual([impl.programId(a)]);
            });

            it('prog attach acts on the target netns only, and the calling thread stays where it was', () => {
              const [ns, other] = [tempNetNs(), tempNetNs()];
              const p = prog(type);
              using before = NetNs.current();
              attachProg(p, ns, type);
              using after = NetNs.current();
              expect(after.inode).toBe(before.inode);
              expect(impl.queryPrograms(ns, type)).toEqual([impl.programId(p)]);
              expect(impl.queryPrograms(other, type)).toEqual([]);
            });

            it('prog attach without a netns acts on the calling thread’s netns', () => {
              const ns = tempNetNs();
              const p = prog(type);
              ns.run(() => attachProg(p, undefined, type, ns));
              expect(impl.queryPrograms(ns, type)).toEqual([impl.programId(p)]);
              ns.run(() => impl.detachProgram(p, undefined, type));
              expect(impl.queryPrograms(ns, type)).toEqual([]);
            });
          }

          if (type === 'sk_lookup') {
            it('several links run in creation order; detaching one keeps the order of the rest', () => {
              const ns = tempNetNs();
              const ps = [prog(type), prog(type), prog(type)];
              const ls = ps.map((p) => link(p, ns, type));
              const ids = ps.map((p) => impl.programId(p));
              expect(impl.queryPrograms(ns, type)).toEqual(ids);
              impl.detachLink(ls[1]);
              expect(impl.queryPrograms(ns, type)).toEqual([ids[0], ids[2]]);
            });

            it(`${SK_LOOKUP_MAX_LINKS} links are allowed, the next → E2BIG`, () => {
              const ns = tempNetNs();
              const p = prog(type);
              for (let i = 0; i < SK_LOOKUP_MAX_LINKS; i++) link(p, ns, type);
              expect(impl.queryPrograms(ns, type)).toHaveLength(SK_LOOKUP_MAX_LINKS);
              expectCode(() => link(p, ns, type), 'E2BIG');
            });
          }
        });
      }
    }

    if (options.initNetns) {
      describe('init netns (serial)', () => {
        const type: NetNsAttachType = 'flow_dissector';

        /** Skips (with the reason) when something outside this suite holds the init netns's flow dissector. */
        const requireFreeInit = (ctx: TestContext): NetNs => {
          const init = NetNs.current();
          owned.push(() => init.close());
          const ids = impl.queryPrograms(init, type);
          if (ids.length > 0) {
            ctx.skip(
              `the init netns already has a flow dissector (program ids ${ids.join(', ')}) that this suite did not attach; detach it to run these cases`,
            );
          }
          return init;
        };

        /** Retries while an earlier test's netns (with a flow dissector) is still being torn down. */
        const whenChildrenGone = <T>(fn: () => T): Promise<T> =>
          waitFor(
            () => {
              try {
                return { v: fn() };
              } catch (e) {
                if ((e as { code?: unknown }).code === 'EEXIST') return undefined;
                throw e;
              }
            },
            {
              timeoutMs: teardownMs,
              description: 'other netns with a flow dissector to be torn down (EEXIST)',
            },
          ).then((r) => r.v);

        it('a flow dissector link in the init netns excludes one in a child netns (EEXIST), link or prog', async (ctx) => {
          const init = requireFreeInit(ctx);
          const [a, b] = [prog(type), prog(type)];
          const l = await whenChildrenGone(() => link(a, init, type));
          expect(impl.linkInfo(l).netnsInode).toBe(init.inode);
          const child = tempNetNs();
          expectCode(() => link(b, child, type), 'EEXIST');
          expectCode(() => attachProg(b, child, type), 'EEXIST');
        });

        it('a flow dissector in a child netns excludes one in the init netns (EEXIST)', async (ctx) => {
          const init = requireFreeInit(ctx);
          const [a, b] = [prog(type), prog(type)];
          const child = tempNetNs();
          link(a, child, type);
          expectCode(() => link(b, init, type), 'EEXIST');
          // and the same for a direct attach to the calling thread's (init) netns
          expectCode(() => attachProg(b, undefined, type, init), 'EEXIST');
        });

        it('prog attach without a netns acts on the calling thread’s (init) netns', async (ctx) => {
          const init = requireFreeInit(ctx);
          const p = prog(type);
          await whenChildrenGone(() => attachProg(p, undefined, type, init));
          expect(impl.queryPrograms(init, type)).toEqual([impl.programId(p)]);
          impl.detachProgram(p, undefined, type);
          expect(impl.queryPrograms(init, type)).toEqual([]);
        });

        it('an sk_lookup link in the init netns reports its inode and detaches', () => {
          const init = NetNs.current();
          owned.push(() => init.close());
          const p = prog('sk_lookup');
          const l = link(p, init, 'sk_lookup');
          expect(impl.linkInfo(l)).toEqual({
            programId: impl.programId(p),
            netnsInode: init.inode,
            attachType: 'sk_lookup',
          });
          impl.detachLink(l);
          expect(impl.linkInfo(l).netnsInode).toBe(0);
          expect(impl.queryPrograms(init, 'sk_lookup')).not.toContain(impl.programId(p));
        });
      });
    }
  });
}
