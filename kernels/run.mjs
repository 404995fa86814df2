#!/usr/bin/env node
// `pnpm test:kernels`: runs every package's test suites on the pinned Debian kernels (kernels.json)
// under QEMU, one vitest process per kernel, and prints a per-kernel table. See kernels/README.md.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cacheRoot, fetchKernel } from './lib/apt.mjs';
import { buildInitramfs, shQuote } from './lib/initramfs.mjs';
import { formatSummary, summarize } from './lib/report.mjs';
import { boot, findVirtiofsd, INIT_FAILURES, pickAccel } from './lib/vm.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = dirname(here);
const outDir = join(here, '.cache');
const GUEST_RESULTS = '/tmp/bpfjs-matrix-results.json';
/** How long after its limit a guest that has not powered off is killed by the host. */
const HARD_STOP_GRACE_SEC = 60;

const USAGE = `usage: pnpm test:kernels [--kernel 5.10,6.1,6.12,7.x] [options] [-- vitest args]
  --kernel LIST     kernels to run (ids from kernels/kernels.json; default: all)
  --budget SEC      time budget for the whole matrix (default $BPFJS_KERNEL_BUDGET, or --timeout
                    times the number of kernels); each kernel's limit is its fair share of what
                    is left (at most --timeout), so the last kernel is never starved
  --timeout SEC     limit per kernel (default 1000)
  --allow-cut       report a kernel cut by its limit (or not run for lack of budget) instead of
                    failing; ignored when CI is set: in CI a cut always fails
  --mem MIB         guest memory (default 3072)
  --cpus N          guest vCPUs (default 2)
  --workers N       vitest workers in the guest (default 3)
  --parallel N      kernels booted at the same time (default 1: on a 2-core host two TCG guests
                    each run half as fast, so parallel lanes gain nothing)
  --cmd CMD         run CMD in the guest (from the repository root) instead of the suites
  --quiet           do not stream the guest console
  --no-save         do not record the run in kernels/.cache/results.json
  -- ARGS           extra arguments for vitest (e.g. a file filter or --project sys)`;

function parse() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      kernel: { type: 'string' },
      budget: { type: 'string' },
      timeout: { type: 'string' },
      mem: { type: 'string' },
      cpus: { type: 'string' },
      workers: { type: 'string' },
      parallel: { type: 'string' },
      cmd: { type: 'string' },
      quiet: { type: 'boolean' },
      'allow-cut': { type: 'boolean' },
      'no-save': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const num = (v, d, name) => {
    if (v === undefined || v === '') return d;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) {
      console.error(`test:kernels: --${name} must be a positive number, got ${JSON.stringify(v)}\n${USAGE}`);
      process.exit(2);
    }
    return n;
  };
  return {
    kernels: values.kernel
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    budgetSec: num(values.budget ?? process.env.BPFJS_KERNEL_BUDGET, undefined, 'budget'),
    timeoutSec: num(values.timeout, 1000, 'timeout'),
    allowCut: Boolean(values['allow-cut']) && !isCI(),
    memMiB: num(values.mem, 3072, 'mem'),
    cpus: num(values.cpus, 2, 'cpus'),
    workers: num(values.workers, 3, 'workers'),
    parallel: num(values.parallel, 1, 'parallel'),
    cmd: values.cmd,
    quiet: values.quiet ?? false,
    save: !values['no-save'],
    vitestArgs: positionals,
  };
}

/** CI as most CI systems (and .ci/run) set it: any value but '', '0' and 'false'. */
function isCI() {
  const v = process.env.CI;
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}

function preflight() {
  const missing = [];
  if (spawnSync('qemu-system-x86_64', ['--version']).status !== 0) missing.push('qemu-system-x86');
  if (!findVirtiofsd()) missing.push('qemu-system-x86 (virtiofsd)');
  if (!existsSync('/bin/busybox')) missing.push('busybox-static');
  for (const tool of ['apt-get', 'dpkg-deb', 'xz', 'zstd']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) missing.push(tool);
  }
  if (missing.length) {
    throw new Error(
      `missing on the host: ${[...new Set(missing)].join(', ')} (run \`bash scripts/setup-kernels\`)`,
    );
  }
  if (process.getuid?.() !== 0) throw new Error('must run as root (virtiofsd shares the host root)');
}

/**
 * A copy of the working tree (without node_modules, .git and kernels/.cache) that the guest mounts
 * over the repository, with the real node_modules bound into it: the guests see the tree as it was
 * when the matrix started, even if files (a rebuilt dist/) change on the host meanwhile.
 */
function snapshotTree() {
  // One snapshot per run (tree-<pid>): two runs at once (two shells, a helper script) must not
  // replace each other's tree under a running guest (virtiofs then answers ESTALE). Snapshots left by
  // runs that died are removed here.
  for (const name of readdirSync(cacheRoot())) {
    const pid = /^tree(?:-(\d+))?$/.exec(name);
    if (pid && (!pid[1] || !isAlive(Number(pid[1]))))
      rmSync(join(cacheRoot(), name), { recursive: true, force: true });
  }
  const dir = join(cacheRoot(), `tree-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const entries = readdirSync(repo).filter((n) => n !== 'node_modules' && n !== '.git');
  execFileSync('cp', ['-a', '--reflink=auto', ...entries.map((n) => join(repo, n)), dir]);
  rmSync(join(dir, 'kernels', '.cache'), { recursive: true, force: true });
  mkdirSync(join(dir, 'node_modules'));
  return dir;
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

/** Where the host mounts cgroup2, so the guest mirrors it (tests may use the host's layout). */
function hostCgroup2() {
  try {
    for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
      const f = line.split(' ');
      const dash = f.indexOf('-');
      if (dash > 0 && f[dash + 1] === 'cgroup2' && f[4].startsWith('/sys/fs/cgroup')) return f[4];
    }
  } catch {}
  return '/sys/fs/cgroup';
}

/** The extracted kernel package's build configuration, or '' when it ships none. */
function kernelConfig(dir, release) {
  const path = join(dir ?? '', 'root', 'boot', `config-${release}`);
  return dir && existsSync(path) ? path : '';
}

function guestCommand(opts) {
  if (opts.cmd) return opts.cmd;
  const args = [
    shQuote(process.execPath),
    'node_modules/vitest/vitest.mjs',
    'run',
    '--config',
    'kernels/vitest.config.ts',
    '--reporter=./kernels/guest/reporter.mjs',
    ...opts.vitestArgs.map(shQuote),
  ];
  return `exec ${args.join(' ')}`;
}

async function runKernel(k, fetched, opts, timeoutSec) {
  const t0 = Date.now();
  const log = (s) => console.log(`[${k.id}] ${s}`);
  const fetchMs = fetched.ms;
  const dir = join(outDir, k.id);
  mkdirSync(dir, { recursive: true });
  // Per run, so that two runs booting the same kernel at once do not rewrite each other's image.
  const initrd = join(dir, `initramfs-${process.pid}.cpio`);
  const guestTimeout = Math.max(30, Math.floor(timeoutSec - 30));
  const packed = buildInitramfs({
    modulesDir: fetched.modulesDir,
    outPath: initrd,
    env: {
      BPFJS_GUEST_TIMEOUT: guestTimeout,
      BPFJS_GUEST_RESULTS: opts.cmd ? '' : GUEST_RESULTS,
      BPFJS_GUEST_CGROUP2: hostCgroup2(),
      BPFJS_GUEST_REPO: repo,
      BPFJS_GUEST_TREE: opts.tree ?? '',
      // the kernel package's /boot/config-<release>, if it has one (bookworm's and bullseye's do)
      BPFJS_GUEST_KCONFIG: kernelConfig(fetched.dir, k.release),
    },
    guestEnv: {
      PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      HOME: '/root',
      LANG: 'C.UTF-8',
      TERM: 'dumb',
      NO_COLOR: '1',
      CI: process.env.CI ?? '',
      BPFJS_KERNEL_MATRIX: k.id,
      BPFJS_KERNEL_RELEASE: k.release,
      BPFJS_MATRIX_RESULTS: GUEST_RESULTS,
      BPFJS_GUEST_CWD: repo,
      BPFJS_GUEST_CMD: guestCommand(opts),
      // Workers for the parallel projects (kernels/vitest.config.ts); not --maxWorkers on the command
      // line, which would also override the serial project's one-file-at-a-time.
      BPFJS_MATRIX_WORKERS: String(opts.workers),
    },
  });
  log(
    `booting ${k.release} (${pickAccel()}, ${opts.cpus} vCPUs, ${opts.memMiB} MiB; modules: ${packed.modules.join(' ') || 'none'})`,
  );
  const r = await boot({
    vmlinuz: fetched.vmlinuz,
    initrd,
    memMiB: opts.memMiB,
    cpus: opts.cpus,
    // The guest ends its own run (init's kill at the limit less 30 s, counted from its boot; the
    // reporter's watchdog 30 s before that, with the results so far). The host's hard stop comes a
    // grace period after the limit, so that a slow boot or a slow console never turns a cut, with
    // its results, into a run that says nothing.
    timeoutMs: (timeoutSec + HARD_STOP_GRACE_SEC) * 1000,
    bootTimeoutMs: Math.min(120_000, timeoutSec * 1000),
    logPath: join(dir, 'console.log'),
    // Each console line with the seconds since this kernel started (where the time goes, under TCG).
    onLine: opts.quiet
      ? undefined
      : (l) => console.log(`[${k.id} ${Math.round((Date.now() - t0) / 1000)}s] | ${l}`),
    onRetry: (first) =>
      log(
        first.crash !== undefined
          ? `the guest kernel crashed (${first.crash}); booting once more`
          : 'the guest printed no BOOTED marker; booting once more',
      ),
  });
  rmSync(initrd, { force: true });
  let results;
  let problem;
  if (!r.booted)
    problem = r.bootTimedOut
      ? 'the guest never booted (no marker), twice'
      : 'the guest stopped before booting';
  else if (r.timedOut) problem = `timed out: killed ${HARD_STOP_GRACE_SEC}s after its ${timeoutSec}s limit`;
  else if (r.exitCode === undefined)
    problem =
      r.crash !== undefined
        ? `the guest kernel crashed: ${r.crash}${r.crashes.length ? ` (on all ${r.attempts} boots)` : ''}`
        : 'the guest stopped without an exit marker';
  else if (INIT_FAILURES[r.exitCode]) problem = INIT_FAILURES[r.exitCode];
  else if (r.exitCode === 137) problem = `the suites were killed after ${guestTimeout}s`;
  if (r.resultsError) problem = problem ?? r.resultsError;
  if (r.results) {
    try {
      results = JSON.parse(r.results.toString('utf8'));
    } catch (e) {
      problem = problem ?? `results are not JSON: ${e.message}`;
    }
  } else if (!opts.cmd && !problem) {
    problem = `no results from the guest (exit ${r.exitCode})`;
  }
  if (problem) {
    log(`problem: ${problem}; last console lines:`);
    for (const l of r.tail.slice(-25)) console.log(`[${k.id}]   ${l}`);
  }
  const s = summarize({
    kernel: k,
    boot: r,
    results,
    problem,
    fetchMs,
    totalMs: Date.now() - t0,
    limitSec: timeoutSec,
    cmdMode: Boolean(opts.cmd),
  });
  log(
    `${s.status} in ${Math.round(s.totalMs / 1000)}s: ${Math.round(s.limitFraction * 100)}% of its ${timeoutSec}s limit${s.limitFraction > 0.5 ? ' — more than half: a machine twice as slow would be cut' : ''}`,
  );
  return s;
}

function gitHead() {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repo, encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}

async function main() {
  // A closed pipe (`pnpm test:kernels | head`) must not kill the runner before it stops its VMs.
  process.stdout.on('error', () => {});
  const opts = parse();
  const all = JSON.parse(readFileSync(join(here, 'kernels.json'), 'utf8')).kernels;
  const unknown = (opts.kernels ?? []).filter((id) => !all.some((k) => k.id === id));
  if (unknown.length) {
    console.error(
      `test:kernels: unknown kernel ${unknown.join(', ')}; known: ${all.map((k) => k.id).join(', ')}`,
    );
    process.exit(2);
  }
  const selected = opts.kernels ? all.filter((k) => opts.kernels.includes(k.id)) : all;
  preflight();
  mkdirSync(outDir, { recursive: true });
  // The whole matrix's budget: by default every kernel's full limit.
  opts.budgetSec ??= opts.timeoutSec * selected.length;
  console.log(
    `test:kernels: ${selected.map((k) => k.id).join(', ')}; cache ${cacheRoot()}; budget ${opts.budgetSec}s, at most ${opts.timeoutSec}s per kernel; a cut ${opts.allowCut ? 'is reported (--allow-cut)' : 'fails'}`,
  );
  // Each kernel's summary goes into results.json as soon as it is known (an interrupted matrix keeps
  // the kernels that finished).
  const saving = opts.save && !opts.cmd && !opts.vitestArgs.length;
  const commit = gitHead();
  const save = (list) => {
    if (!saving) return;
    const path = join(outDir, 'results.json');
    let previous = { kernels: {} };
    try {
      previous = JSON.parse(readFileSync(path, 'utf8'));
    } catch {}
    const date = new Date().toISOString();
    for (const s of list) if (s && s.status !== 'not-run') previous.kernels[s.id] = { ...s, date, commit };
    writeFileSync(path, `${JSON.stringify(previous, null, 2)}\n`);
  };
  // Fetch first (synchronous apt/dpkg work), then boot the kernels in `--parallel` lanes.
  const byId = new Map();
  const fetched = new Map();
  for (const k of selected) {
    const t0 = Date.now();
    try {
      fetched.set(k.id, {
        ...fetchKernel(k, { log: (s) => console.log(`[${k.id}] ${s}`) }),
        ms: Date.now() - t0,
      });
    } catch (e) {
      console.log(`[${k.id}] error: ${e.message}`);
      byId.set(k.id, { id: k.id, release: k.release, status: 'error', problem: e.message });
    }
  }
  // Oldest and newest first: they differ most from the host, so they matter most when the budget
  // runs short.
  const ordered = selected.length > 2 ? [selected[0], selected.at(-1), ...selected.slice(1, -1)] : selected;
  const queue = ordered.filter((k) => fetched.has(k.id));
  if (queue.length && !process.env.BPFJS_MATRIX_LIVE_TREE) opts.tree = snapshotTree();
  // The budget is for the guests: it starts once the kernels are fetched (a fresh machine downloads
  // ~450 MB first) and the tree is copied.
  const deadline = Date.now() + opts.budgetSec * 1000;
  const removeTree = () => opts.tree && rmSync(opts.tree, { recursive: true, force: true });
  process.once('exit', removeTree);
  const lane = async () => {
    for (let k = queue.shift(); k; k = queue.shift()) {
      const left = Math.floor((deadline - Date.now()) / 1000);
      // This kernel's fair share of what is left: the kernels still waiting (and this one) split
      // the rest over the lanes, so a slow first kernel cannot starve the last.
      const rounds = Math.ceil((queue.length + 1) / opts.parallel);
      const limit = Math.min(opts.timeoutSec, Math.floor(left / rounds));
      if (limit < 90) {
        byId.set(k.id, { id: k.id, release: k.release, status: 'not-run', problem: 'time budget exhausted' });
        console.log(`[${k.id}] not run: the matrix's time budget (${opts.budgetSec}s) is used up`);
        continue;
      }
      try {
        byId.set(k.id, await runKernel(k, fetched.get(k.id), opts, limit));
        save([byId.get(k.id)]);
      } catch (e) {
        console.log(`[${k.id}] error: ${e.message}`);
        byId.set(k.id, { id: k.id, release: k.release, status: 'error', problem: e.message });
      }
    }
  };
  await Promise.all(Array.from({ length: opts.parallel }, lane));
  const summaries = selected.map((k) => byId.get(k.id));
  console.log(`\n${formatSummary(summaries)}`);
  if (saving) console.log(`results: ${join(outDir, 'results.json')} (README table: node kernels/readme.mjs)`);
  const failed = summaries.some((s) => s.status === 'failed' || s.status === 'error');
  const cut = summaries.filter((s) => s.status === 'incomplete' || s.status === 'not-run').map((s) => s.id);
  if (cut.length) {
    console.log(
      `\n${opts.allowCut ? 'note' : 'FAILED'}: ${cut.join(', ')} did not run completely within the time limits (--timeout, --budget)` +
        (opts.allowCut
          ? '; reported, not failed (--allow-cut). Run one kernel with a longer --timeout to see the rest.'
          : `: a cut fails the matrix${isCI() ? ' in CI' : ' (--allow-cut reports it instead, outside CI)'}. The table lists what never ran.`),
    );
  }
  process.exitCode = failed || (cut.length && !opts.allowCut) ? 1 : 0;
}

main().catch((e) => {
  console.error(`test:kernels: ${e.message}`);
  process.exitCode = 1;
});
