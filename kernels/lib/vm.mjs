// Boots one kernel under QEMU with the host's root filesystem shared through virtiofs, and collects
// what the guest's /init prints on the serial console (see guest/init.sh for the markers).
import { spawn } from 'node:child_process';
import {
  accessSync,
  constants,
  createWriteStream,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

/** The C virtiofsd shipped with bookworm's qemu-system-x86 (newer Debian ships a separate package). */
export const VIRTIOFSD_PATHS = ['/usr/lib/qemu/virtiofsd', '/usr/libexec/virtiofsd'];

/** Exit codes of the guest's /init itself (not of the command). */
export const INIT_FAILURES = {
  200: 'the guest could not mount the host root over virtiofs',
  201: 'the guest could not mount the overlay',
  202: 'the guest could not mount bpffs',
  203: 'the guest could not move the overlay to / (mount --move)',
  204: 'the guest could not mount the repository at its path',
};

export function findVirtiofsd() {
  return VIRTIOFSD_PATHS.find((p) => existsSync(p));
}

/** KVM when the CPU has virtualization and /dev/kvm is usable, else TCG. */
export function pickAccel() {
  if (process.env.BPFJS_KERNEL_ACCEL) return process.env.BPFJS_KERNEL_ACCEL;
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    if (/\b(vmx|svm)\b/.test(readFileSync('/proc/cpuinfo', 'utf8'))) return 'kvm';
  } catch {}
  return 'tcg';
}

// ANSI control sequences (ESC [ ... letter).
const CSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;?]*[A-Za-z]`, 'g');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(pred, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (pred()) return true;
    await sleep(50);
  }
  return pred();
}

// Every qemu and virtiofsd this process started and has not reaped yet: killed when the runner
// exits or is interrupted, so an interrupted matrix leaves no VM behind.
const live = new Set();
let hooked = false;
function track(child) {
  live.add(child);
  child.on('close', () => live.delete(child));
  if (hooked) return;
  hooked = true;
  const killAll = () => {
    for (const c of live) killTree(c);
  };
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      killAll();
      process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1));
    });
  }
}

function killTree(child) {
  if (child && child.exitCode === null && child.signalCode === null) {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {}
  }
}

/**
 * One boot. Resolves to `{ booted, release, exitCode, results, timedOut, bootTimedOut, ms, tail }`:
 * `results` is the decoded results file (Buffer) when the guest printed it.
 * Options: `vmlinuz`, `initrd`, `memMiB`, `cpus`, `bootTimeoutMs` (until the BOOTED marker),
 * `timeoutMs` (whole boot), `logPath` (full console log), `onLine` (each console line),
 * `cmdline` (extra kernel parameters).
 */
export async function bootOnce(opts) {
  const { vmlinuz, initrd, memMiB = 3072, cpus = 2, bootTimeoutMs = 120_000, timeoutMs = 600_000 } = opts;
  const virtiofsd = findVirtiofsd();
  if (!virtiofsd) throw new Error('kernels: virtiofsd not found (apt-get install qemu-system-x86)');
  const dir = mkdtempSync(join(tmpdir(), 'bpfjs-vm-'));
  const sock = join(dir, 'fs.sock');
  const log = opts.logPath ? createWriteStream(opts.logPath) : undefined;
  const start = Date.now();
  const state = {
    booted: false,
    release: undefined,
    exitCode: undefined,
    results: undefined,
    resultsError: undefined,
    timedOut: false,
    bootTimedOut: false,
    crash: undefined,
    tail: [],
  };
  let fsd;
  let qemu;
  try {
    fsd = spawn(
      virtiofsd,
      [
        `--socket-path=${sock}`,
        '-o',
        'source=/',
        '-o',
        'sandbox=chroot',
        '-o',
        // The guest keeps what it has looked up (entries, attributes, data) without asking again: the
        // share is read-only for it, and what it runs (the tree snapshot, node_modules) does not change
        // during a run. With cache=auto every node start revalidated thousands of module paths through
        // virtiofsd, one round trip each: measured in a 5.10 guest on a busy host (load ~30), a node
        // process loading @bpfjs/netns took 20-22 s with auto and 2.5 s with always (bare `node -e 1`:
        // 10.8 s and 2.7 s); the first load, which fills the cache, took 13-15 s either way.
        `cache=${process.env.BPFJS_KERNEL_VIRTIOFS_CACHE || 'always'}`,
        '-o',
        'log_level=err',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    track(fsd);
    fsd.stderr.on('data', (d) => log?.write(`[virtiofsd] ${d}`));
    if (!(await waitFor(() => existsSync(sock) || fsd.exitCode !== null, 10_000)) || !existsSync(sock)) {
      throw new Error(`kernels: virtiofsd did not start (exit ${fsd.exitCode})`);
    }
    const accel = pickAccel();
    const args = [
      '-accel',
      accel,
      '-cpu',
      // Under TCG the plain qemu64 model runs node ~1.7x faster than `max` (no emulated AVX for V8
      // to pick): measured with node/vitest start-up in the guest.
      process.env.BPFJS_KERNEL_CPU || (accel === 'kvm' ? 'host' : 'qemu64'),
      '-machine',
      'q35',
      '-smp',
      String(cpus),
      '-m',
      `${memMiB}M`,
      '-object',
      `memory-backend-memfd,id=mem,size=${memMiB}M,share=on`,
      '-numa',
      'node,memdev=mem',
      '-chardev',
      `socket,id=fs0,path=${sock}`,
      '-device',
      'vhost-user-fs-pci,queue-size=1024,chardev=fs0,tag=hostroot',
      '-kernel',
      vmlinuz,
      '-initrd',
      initrd,
      '-append',
      ['console=ttyS0', 'panic=-1', 'oops=panic', 'loglevel=4', 'rdinit=/init', opts.cmdline ?? '']
        .join(' ')
        .trim(),
      '-display',
      'none',
      '-monitor',
      'none',
      '-serial',
      'stdio',
      '-nodefaults',
      '-no-reboot',
    ];
    log?.write(`$ qemu-system-x86_64 ${args.join(' ')}\n`);
    qemu = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    track(qemu);
    let inResults = false;
    let b64 = [];
    let pending = '';
    const onLine = (raw) => {
      // Strip terminal control sequences a program may leave before a marker on the same line.
      const line = raw.replace(/\r$/, '').replace(CSI, '');
      log?.write(`${line}\n`);
      if (inResults) {
        if (line.endsWith('BPFJS-GUEST-RESULTS-END')) {
          inResults = false;
          try {
            state.results = gunzipSync(Buffer.from(b64.join(''), 'base64'));
          } catch (e) {
            state.resultsError = `results could not be decoded: ${e.message}`;
          }
          b64 = [];
        } else if (/^[A-Za-z0-9+/=]+$/.test(line)) b64.push(line);
        return;
      }
      state.tail.push(line);
      if (state.tail.length > 60) state.tail.shift();
      // The guest kernel's own crash (oops=panic turns any oops into one): the first line says what.
      if (state.crash === undefined && /\] (BUG: |Oops: |Kernel panic - not syncing)/.test(line)) {
        state.crash = line.replace(/^.*?\] /, '');
      }
      const booted = /BPFJS-GUEST-BOOTED (\S+)$/.exec(line);
      const exit = /BPFJS-GUEST-EXIT (\d+)$/.exec(line);
      if (booted) {
        state.booted = true;
        state.release = booted[1];
        state.bootMs = Date.now() - start;
      } else if (line.endsWith('BPFJS-GUEST-RESULTS-BEGIN')) {
        inResults = true;
      } else if (exit) {
        state.exitCode = Number(exit[1]);
      }
      opts.onLine?.(line);
    };
    qemu.stdout.setEncoding('latin1');
    qemu.stdout.on('data', (d) => {
      pending += d;
      const lines = pending.split('\n');
      pending = lines.pop();
      for (const l of lines) onLine(l);
    });
    qemu.stderr.on('data', (d) => {
      log?.write(`[qemu] ${d}`);
      state.tail.push(`[qemu] ${String(d).trim()}`);
    });
    const exited = new Promise((resolve) => qemu.on('close', resolve));
    const bootTimer = setTimeout(() => {
      if (!state.booted) {
        state.bootTimedOut = true;
        killTree(qemu);
      }
    }, bootTimeoutMs);
    const timer = setTimeout(() => {
      state.timedOut = true;
      killTree(qemu);
    }, timeoutMs);
    await exited;
    clearTimeout(bootTimer);
    clearTimeout(timer);
    if (pending) onLine(pending);
  } finally {
    killTree(qemu);
    killTree(fsd);
    log?.end();
    rmSync(dir, { recursive: true, force: true });
  }
  state.ms = Date.now() - start;
  return state;
}

/** How many times a guest whose kernel crashed is booted again (so at most 1 + this boots). */
export const CRASH_RETRIES = 2;

/**
 * Boots, and boots again when the guest never reached its BOOTED marker (a TCG boot very rarely
 * prints nothing at all: once) or its kernel crashed before the exit marker (up to
 * CRASH_RETRIES times). Such crashes were seen under TCG on 6.12 in about one full run of three,
 * at random points and in random kernel code (a NULL dereference in find_vma, a double fault in
 * kmalloc under fuse readahead), with EFLAGS bits no real CPU sets, and once on 7.x during early
 * boot (an int3 oops in the swapper); each time the next boot passed: the emulator, not the tests. Each attempt gets what is left of `timeoutMs`. Returns
 * the last attempt with `attempts` and `crashes` (the first crash line of every earlier attempt
 * that crashed), so a retry is reported, never hidden.
 */
export async function boot(opts) {
  const deadline = Date.now() + (opts.timeoutMs ?? 600_000);
  const crashes = [];
  for (let attempts = 1; ; attempts++) {
    const r = await bootOnce({
      ...opts,
      timeoutMs: Math.max(1000, deadline - Date.now()),
      logPath: opts.logPath && attempts > 1 ? `${opts.logPath}.retry${attempts - 1}` : opts.logPath,
    });
    const noBoot = !r.booted && !r.timedOut;
    const crashed = r.booted && r.exitCode === undefined && !r.timedOut && r.crash !== undefined;
    const again = noBoot
      ? attempts === 1
      : crashed && crashes.length < CRASH_RETRIES && deadline - Date.now() > 60_000;
    if (!again) return { ...r, attempts, crashes };
    if (crashed) crashes.push(r.crash);
    opts.onRetry?.(r);
  }
}
