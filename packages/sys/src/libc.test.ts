import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openLibc } from './libc.js';

// Child processes load the built package (`pnpm build` first), as a consumer would.
const dist = fileURLToPath(new URL('../dist/', import.meta.url));

// Whether koffi's native addon is mapped into the process, before and after the first call.
const probe = (load: string) => `
  const { readFileSync } = require('node:fs');
  const mapped = () => readFileSync('/proc/self/maps', 'utf8').includes('koffi');
  (async () => {
    const sys = ${load};
    const before = mapped();
    sys.gettid();
    console.log(JSON.stringify({ before, after: mapped() }));
  })();
`;

describe.skipIf(process.platform !== 'linux')('koffi and libc load on first call', () => {
  it.each([
    ['ESM', `await import(${JSON.stringify(`${dist}index.js`)})`],
    ['CJS', `require(${JSON.stringify(`${dist}index.cjs`)})`],
  ])('importing the %s build loads no native code; the first call does', (_kind, load) => {
    const out = execFileSync(process.execPath, ['-e', probe(load)], { encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ before: false, after: true });
  });

  it('a first call in a process out of descriptors is EMFILE with a hint, not "glibc only"', () => {
    const script = `
      const { openSync } = require('node:fs');
      const sys = require(${JSON.stringify(`${dist}index.cjs`)});
      const held = [];
      try { for (;;) held.push(openSync('/dev/null', 'r')); } catch {}
      let out;
      try { sys.gettid(); out = { ok: true }; } catch (e) { out = { code: e.code, message: e.message, hint: e.hint }; }
      console.log(JSON.stringify(out));`;
    const out = execFileSync('prlimit', ['--nofile=64:64', process.execPath, '-e', script], {
      encoding: 'utf8',
    });
    const o = JSON.parse(out.trim().split('\n').at(-1) ?? '{}');
    expect(o.code, out).toBe('EMFILE');
    expect(o.message).not.toMatch(/glibc/);
    expect(o.hint).toMatch(/too many open files.*first call/);
  });

  it('a libc that cannot be opened (musl has no libc.so.6) is a coded error that says glibc only', () => {
    let error: unknown;
    try {
      openLibc('libc.musl-x86_64.so.1');
    } catch (err) {
      error = err;
    }
    expect(error).toMatchObject({ code: 'ERR_BPFJS_UNSUPPORTED_PLATFORM' });
    expect((error as Error).message).toMatch(/glibc-based Linux only.*musl libc \(Alpine\) is not supported/);
    expect((error as Error).cause).toBeInstanceOf(Error);
  });
});
