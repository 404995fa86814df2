// Leaks: thousands of create/attach/update/pin/unpin/close cycles leave the fd table and the
// kernel's link and program id lists as they were; an Fd dropped without close() is closed by the
// FinalizationRegistry safety net and warned about (child process, node --expose-gc, built dist).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { requireKernel, scaleTimeout } from '@bpfjs/testkit';
import { expect } from 'vitest';
import { leakCycles } from './lib/leak-cycles.js';

// Fewer cycles in the kernel matrix's emulated guests (each cycle is ~15 syscalls and a netns-free
// sk_lookup attach; 5 000 of them take minutes under TCG).
const CYCLES = process.env.BPFJS_KERNEL_MATRIX ? 300 : 5_000;
const kernel = requireKernel();

kernel.describe('leaks', () => {
  kernel.it(`${CYCLES} create/attach/update/pin/unpin/close cycles leave nothing behind`, async () => {
    const r = await leakCycles(CYCLES);
    console.log(`leak cycles: ${JSON.stringify(r)}`);
    expect(r.linkIds).toBe(CYCLES);
    expect(r.programIds).toBe(CYCLES + 1);
    expect(r.fdsAfter).toBe(r.fdsBefore);
  });

  kernel.it('an Fd dropped without close() is closed by the safety net, with a BPFJS_FD_LEAK warning', () => {
    const script = fileURLToPath(new URL('./fixtures/gc-child.mjs', import.meta.url));
    const res = spawnSync(process.execPath, ['--expose-gc', script], {
      encoding: 'utf8',
      timeout: scaleTimeout(60_000),
    });
    const out = `${res.stdout}\n${res.stderr}`;
    expect(res.status, out).toBe(0);
    const r = JSON.parse(res.stdout.trim().split('\n').at(-1) ?? '{}');
    expect(r.before, out).toEqual([true, true, true]);
    expect(r.after, out).toEqual([false, false, false]);
    const leaks = r.warnings.filter((w: { code: string }) => w.code === 'BPFJS_FD_LEAK');
    expect(leaks, out).toHaveLength(3);
    for (const n of r.dropped) {
      expect(
        leaks.some((w: { message: string }) => w.message.includes(`file descriptor ${n} `)),
        out,
      ).toBe(true);
    }
    // The dropped link's fd was its only reference: closing it detached the program.
    expect(r.attached).toEqual([]);
  });

  kernel.it("the safety net leaves a number alone that was closed behind the Fd's back and reused", () => {
    const script = fileURLToPath(new URL('./fixtures/gc-stranger-child.mjs', import.meta.url));
    const res = spawnSync(process.execPath, ['--expose-gc', script], { encoding: 'utf8', timeout: 60_000 });
    const out = `${res.stdout}\n${res.stderr}`;
    expect(res.status, out).toBe(0);
    const r = JSON.parse(res.stdout.trim().split('\n').at(-1) ?? '{}');
    expect(r.stranger, out).toBe(r.number);
    const leaks = r.warnings.filter((w: { code: string }) => w.code === 'BPFJS_FD_LEAK');
    expect(leaks, out).toHaveLength(1);
    expect(leaks[0].message, out).toMatch(/now refers to another file.*left it alone/);
    // The stranger's descriptor is still open and still its file.
    expect(r.target, out).toMatch(/^\/proc\/\d+\/cmdline$/);
  });
});
