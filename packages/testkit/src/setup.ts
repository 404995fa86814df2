/**
 * `@bpfjs/testkit/setup` — a vitest `setupFiles` entry. Per test file it:
 *
 * - records every `Fd` opened (with its creation stack, from the `bpfjs:fd:open` /
 *   `bpfjs:fd:close` diagnostics channels of `@bpfjs/sys`) and snapshots `/proc/self/fd`;
 * - enables file-scope fixture cleanup (fixtures created outside a test are cleaned up at the end
 *   of the file);
 * - in `afterAll`, runs those cleanups, then FAILS the file if an `Fd` is still open or a BPF
 *   object / namespace descriptor appeared that nothing owns, printing where each was created.
 *
 * Set `BPFJS_LEAK_CHECK=0` to keep the cleanups but skip the check.
 *
 * ```ts
 * // vitest.config.ts
 * export default defineConfig({ test: { setupFiles: ['@bpfjs/testkit/setup'] } });
 * ```
 *
 * @module
 */
import { afterAll } from 'vitest';
import { fdLeakReport, startFdTracking } from './leaks.js';
import { fileScope, runFileCleanups } from './scope.js';

startFdTracking();
fileScope().active = true;

afterAll(async () => {
  let cleanupError: unknown;
  try {
    await runFileCleanups();
  } catch (e) {
    cleanupError = e;
  }
  if (process.env.BPFJS_LEAK_CHECK !== '0') {
    const report = fdLeakReport();
    if (report.message !== undefined) {
      const err = new Error(report.message);
      err.name = 'FdLeakError';
      (err as Error & { code: string }).code = 'ERR_BPFJS_FD_LEAK';
      err.stack = `${err.name}: ${err.message}`;
      throw err;
    }
  }
  if (cleanupError !== undefined) throw cleanupError;
});
