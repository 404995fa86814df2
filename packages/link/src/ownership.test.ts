// Who owns a descriptor, and which objects count as a Program or a Link (issue 19, defects 3, 5,
// 7 and 13): a refused fromFd leaves the caller's fd open; the ESM and the CommonJS build accept
// each other's objects (Symbol.for brands); a bare brand or an out-of-range fd number is refused
// with a code; Program.id is read once.
import { execFileSync } from 'node:child_process';
import { existsSync, fstatSync, openSync, readdirSync, readlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Fd } from '@bpfjs/sys';
import { requireKernel } from '@bpfjs/testkit';
import { expect, it } from 'vitest';
import { attachNetNs, Link, Program } from './index.js';
import { catchError, freshNetNs, loadFlowDissector, loadSkLookup, withCleanup } from './test/helpers.js';

const distEsm = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const distCjs = fileURLToPath(new URL('../dist/index.cjs', import.meta.url));

/** True while `n` is an open descriptor of this process. */
function isOpen(n: number): boolean {
  try {
    fstatSync(n);
    return true;
  } catch {
    return false;
  }
}

requireKernel().describe('descriptor ownership and brands (needs root)', () => {
  it('a refused Link.fromFd / Program.fromFd leaves the fd open: a netns, a program, a number', () =>
    withCleanup((defer) => {
      const ns = freshNetNs();
      defer(() => ns.close());
      const prog = loadSkLookup();
      defer(() => prog.close());
      expect(catchError(() => Link.fromFd(ns.fd)).code).toBe('ERR_BPFJS_WRONG_OBJECT');
      expect(ns.fd.closed).toBe(false);
      expect(isOpen(ns.fd.fd)).toBe(true);
      // The netns is still usable (before the fix its fd was closed and the netns died).
      const link = attachNetNs(prog, ns);
      defer(() => link.close());
      expect(link.isDefunct()).toBe(false);
      expect(catchError(() => Link.fromFd(prog.fd)).code).toBe('ERR_BPFJS_WRONG_OBJECT');
      expect(prog.info().id).toBe(prog.id);
      expect(catchError(() => Program.fromFd(link.fd)).code).toBe('ERR_BPFJS_WRONG_OBJECT');
      expect(link.info().programId).toBe(prog.id);
      const n = openSync('/proc/self/status', 'r');
      defer(() => new Fd(n).close());
      expect(catchError(() => Link.fromFd(n)).code).toBe('ERR_BPFJS_WRONG_OBJECT');
      expect(catchError(() => Program.fromFd(n)).code).toBe('ERR_BPFJS_WRONG_OBJECT');
      expect(isOpen(n)).toBe(true);
    }));

  it("Link.fromFd(Node's own epoll fd) is refused and the process lives on (child, built dist)", () => {
    expect(existsSync(distEsm), `${distEsm} (run pnpm build)`).toBe(true);
    const script = `
      import { readdirSync, readlinkSync } from 'node:fs';
      const { Link } = await import(${JSON.stringify(distEsm)});
      const epoll = readdirSync('/proc/self/fd').map(Number).find((n) => {
        try { return readlinkSync('/proc/self/fd/' + n) === 'anon_inode:[eventpoll]'; } catch { return false; }
      });
      let code;
      try { Link.fromFd(epoll); } catch (e) { code = e.code; }
      await new Promise((r) => setTimeout(r, 1));
      console.log(JSON.stringify({ epoll, code }));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    const r = JSON.parse(out.trim());
    expect(r.epoll).toBeGreaterThanOrEqual(0);
    expect(r.code).toBe('ERR_BPFJS_WRONG_OBJECT');
    // In this process too: nothing closed.
    const mine = readdirSync('/proc/self/fd')
      .map(Number)
      .find((n) => {
        try {
          return readlinkSync(`/proc/self/fd/${n}`) === 'anon_inode:[eventpoll]';
        } catch {
          return false;
        }
      });
    if (mine !== undefined) {
      expect(catchError(() => Link.fromFd(mine)).code).toBe('ERR_BPFJS_WRONG_OBJECT');
      expect(isOpen(mine)).toBe(true);
    }
  });

  it('a Program and a Link from the CommonJS build work with the ESM build and back (built dist)', async () => {
    expect(existsSync(distCjs), `${distCjs} (run pnpm build)`).toBe(true);
    const cjs = createRequire(import.meta.url)(distCjs) as typeof import('./index.js');
    const esm = (await import(distEsm)) as typeof import('./index.js');
    expect(cjs.Program).not.toBe(esm.Program);
    const ns = freshNetNs();
    const prog = cjs.Program.load({
      type: 'sk_lookup',
      instructions: new Uint8Array([0xb7, 0, 0, 0, 1, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]), // r0 = 1; exit
    });
    try {
      // Before the brands: "The "program" argument must be an instance of Program".
      const link = esm.attachNetNs(prog, ns);
      try {
        expect(prog instanceof esm.Program).toBe(false);
        expect(esm.Program.isInstance(prog)).toBe(true);
        expect(cjs.Link.isInstance(link)).toBe(true);
        expect(esm.queryPrograms(ns, 'sk_lookup').programIds).toEqual([prog.id]);
        link.update(prog);
      } finally {
        link.close();
      }
    } finally {
      prog.close();
      ns.close();
    }
  });

  it('objects that only claim to be a Program, Link or Fd are refused with a code', () =>
    withCleanup((defer) => {
      const ns = freshNetNs();
      defer(() => ns.close());
      const prog = loadFlowDissector();
      defer(() => prog.close());
      const bare = Object.create(Program.prototype);
      const e1 = catchError(() => attachNetNs(bare, ns));
      expect(e1).toBeInstanceOf(TypeError);
      expect(e1.code).toBe('ERR_INVALID_ARG_TYPE');
      const link = attachNetNs(prog, ns);
      defer(() => link.close());
      const e2 = catchError(() => link.update(Object.create(Program.prototype)));
      expect(e2.code).toBe('ERR_INVALID_ARG_TYPE');
      // A fake Fd (it carries the brand) whose number is beyond 32 bits: refused, not truncated to
      // the netns's own fd number by the C call.
      const fakeFd = Object.create(Fd.prototype, {
        fd: { value: 2 ** 32 + ns.fd.fd },
        closed: { value: false },
      });
      const e3 = catchError(() => attachNetNs(prog, fakeFd));
      expect(e3.code).toBe('ERR_OUT_OF_RANGE');
      const e4 = catchError(() => attachNetNs(prog, { fd: fakeFd }));
      expect(e4.code).toBe('ERR_OUT_OF_RANGE');
      const e5 = catchError(() => Link.fromFd(fakeFd));
      expect(e5.code).toBe('ERR_OUT_OF_RANGE');
    }));

  it('Program.id is read once at load/open and still answers after close()', () => {
    const prog = loadFlowDissector();
    const id = prog.info().id;
    expect(prog.id).toBe(id);
    const again = Program.fromId(id);
    again.close();
    prog.close();
    expect(prog.id).toBe(id);
    expect(again.id).toBe(id);
  });
});
