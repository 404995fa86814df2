/**
 * Deadlines that stretch under emulation: the kernel matrix runs the suites in QEMU without KVM
 * (TCG), where starting a node process or a worker takes seconds instead of milliseconds.
 *
 * @module
 */

/** The factor {@link scaleTimeout} applies inside the kernel matrix (`BPFJS_KERNEL_MATRIX` set). */
export const KERNEL_MATRIX_TIMEOUT_FACTOR = 10;

/**
 * A deadline for this run: `ms` on real hardware, `ms * 10` inside the kernel matrix
 * (`BPFJS_KERNEL_MATRIX` set by `pnpm test:kernels`). For deadlines of polling loops and child
 * processes (`spawnSync`'s `timeout`, `waitFor`'s `timeoutMs`), never for sleeps.
 * @throws RangeError `ERR_OUT_OF_RANGE` unless `ms` is a finite number >= 0.
 */
export function scaleTimeout(ms: number, env: NodeJS.ProcessEnv = process.env): number {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
    const err = new RangeError(`ms must be a finite number >= 0, got ${String(ms)}`);
    Object.defineProperty(err, 'code', { value: 'ERR_OUT_OF_RANGE', enumerable: true });
    throw err;
  }
  return env.BPFJS_KERNEL_MATRIX ? ms * KERNEL_MATRIX_TIMEOUT_FACTOR : ms;
}
