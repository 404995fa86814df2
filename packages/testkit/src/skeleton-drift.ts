/**
 * The two checks every committed skeleton gets (`bpfjs gen skeleton --check` in CI): the skeleton
 * is current for its C source, and an edit of the source without regenerating is caught. The source
 * is compiled with {@link compileBpf} (reproducible: the committed hash holds on any checkout); the
 * edit is made on a temporary copy, never on the committed files.
 *
 * @module
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileBpf, haveBpfToolchain } from './compile.js';
import { makeGate } from './gates.js';

/** Options of {@link runSkeletonDriftChecks}. */
export interface SkeletonDriftOptions {
  /** The committed C source (`<name>.bpf.c`). */
  readonly source: string;
  /** The committed skeleton generated from it. */
  readonly skeleton: string;
  /**
   * Runs the drift check on an object file and the skeleton, returning its exit status (0 current,
   * 1 drifted): e.g. `(o, s) => run(['gen', 'skeleton', '--check', o, s], bufferedIo())` of
   * `@bpfjs/cli`.
   */
  readonly check: (object: string, skeleton: string) => number | Promise<number>;
}

/**
 * Registers a suite that compiles `source`, expects `check` to pass against the committed skeleton,
 * then compiles an edited copy of the source (one line inserted at the top, so the line info moves)
 * and expects `check` to fail. Skipped with a reason without clang and libbpf's headers.
 */
export function runSkeletonDriftChecks(options: SkeletonDriftOptions): void {
  const gate = haveBpfToolchain()
    ? makeGate(undefined)
    : makeGate('needs clang and libbpf headers (apt-get install clang libbpf-dev)');
  describe(`skeleton of ${basename(options.source)}`, () => {
    it('is current: `bpfjs gen skeleton --check` passes for the committed source', async (ctx) => {
      gate(ctx);
      const dir = mkdtempSync(join(tmpdir(), 'bpfjs-skel-check-'));
      try {
        const object = join(dir, basename(options.source).replace(/\.c$/, '.o'));
        compileBpf(options.source, { out: object });
        expect(await options.check(object, options.skeleton)).toBe(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
    it('a changed C source without regenerating fails the check', async (ctx) => {
      gate(ctx);
      const dir = mkdtempSync(join(tmpdir(), 'bpfjs-skel-drift-'));
      try {
        const copy = join(dir, basename(options.source));
        const original = readFileSync(options.source, 'utf8');
        writeFileSync(copy, `/* edited after the skeleton was generated */\n${original}`);
        const object = join(dir, basename(options.source).replace(/\.c$/, '.o'));
        compileBpf(copy, { out: object });
        expect(readFileSync(object).equals(readFileSync(compileBpf(options.source)))).toBe(false);
        expect(await options.check(object, options.skeleton)).toBe(1);
        expect(readFileSync(options.source, 'utf8')).toBe(original); // the committed file is untouched
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
