#!/usr/bin/env node
// bpfjs benchmarks against a C baseline: `pnpm bench` (see bench/README.md).
//
// Builds bench/c/bench.c with the system compiler, starts three long-lived sides that speak the
// same line protocol (C baseline, koffi floor, bpfjs), runs every operation on every side in
// alternating order for several rounds, and reports the median ns/op per side and the ratios.
import { execFileSync, spawn } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const benchDir = `${root}bench/`;
const buildDir = `${benchDir}build/`;

// --- options -------------------------------------------------------------------------------
// Read once here (not a turbo task input: the bench runs outside turbo).
const { BENCH_PACKAGES_ROOT } = process.env;

const HELP = `usage: node bench/run.mjs [options]   (pnpm bench -- [options])
  --quick            few iterations and 2 rounds (CI smoke; numbers are not meaningful)
  --rounds N         rounds per operation (default 15; quick: 2)
  --scale F          multiply every iteration count by F (default 1)
  --ops a,b          only these operations (${'info,update,query,query64,links,create_close,map_get,map_set,map_percpu_get,map_dump,map_dump_elem'})
  --heap-calls N     link.info() calls for the heap/RSS measurement (default 1000000; quick: 20000; 0 = skip)
  --json             print the JSON report on stdout instead of the table
  --markdown         also print the results as a Markdown table (for bench/README.md)
  --json-out [FILE]  also write the JSON report to FILE (default bench/results.json)
  --cpu-prof         run the JS sides under node --cpu-prof (profiles in bench/build/prof/)
  --no-floor         skip the koffi floor side
  --cpu N            pin every side to CPU N (taskset) to cut migration noise
  --sched MODE       how the sides are scheduled: 'fifo' (default as root: SCHED_FIFO priority 10
                     through chrt, so other load on the machine cannot preempt a timed loop; only
                     one side runs at a time), 'nice' (nice -10), 'normal' (unchanged)
  --help`;

function parseArgs(argv) {
  const o = {
    quick: false,
    rounds: undefined,
    scale: 1,
    ops: undefined,
    heapCalls: undefined,
    json: false,
    markdown: false,
    jsonOut: undefined,
    cpuProf: false,
    cpu: undefined,
    sched: undefined,
    floor: true,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--') continue;
    else if (a === '--quick') o.quick = true;
    else if (a === '--rounds') o.rounds = positiveInt(a, next());
    else if (a === '--scale') o.scale = positiveNumber(a, next());
    else if (a === '--ops') o.ops = next().split(',').filter(Boolean);
    else if (a === '--heap-calls') o.heapCalls = nonNegativeInt(a, next());
    else if (a === '--json') o.json = true;
    else if (a === '--markdown') o.markdown = true;
    else if (a === '--json-out')
      o.jsonOut = argv[i + 1] && !argv[i + 1].startsWith('--') ? argv[++i] : `${benchDir}results.json`;
    else if (a.startsWith('--json-out=')) o.jsonOut = a.slice('--json-out='.length);
    else if (a === '--cpu-prof') o.cpuProf = true;
    else if (a === '--no-floor') o.floor = false;
    else if (a === '--cpu') o.cpu = nonNegativeInt(a, next());
    else if (a === '--sched') o.sched = schedMode(a, next());
    else if (a === '--help' || a === '-h') {
      console.log(HELP);
      process.exit(0);
    } else throw new Error(`unknown option ${a}\n${HELP}`);
  }
  o.rounds ??= o.quick ? 2 : 15;
  o.sched ??= process.getuid?.() === 0 ? 'fifo' : 'normal';
  o.heapCalls ??= o.quick ? 20_000 : 1_000_000;
  return o;
}
function positiveInt(name, v) {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got ${v}`);
  return n;
}
function nonNegativeInt(name, v) {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be an integer >= 0, got ${v}`);
  return n;
}
function schedMode(name, v) {
  if (v !== 'fifo' && v !== 'nice' && v !== 'normal')
    throw new Error(`${name} must be fifo, nice or normal, got ${v}`);
  return v;
}
function positiveNumber(name, v) {
  const n = Number(v);
  if (!(n > 0) || !Number.isFinite(n)) throw new Error(`${name} must be a positive number, got ${v}`);
  return n;
}

// --- operations and targets ----------------------------------------------------------------
// Per side, the command name each side answers to. `sys` and `obj` are both served by the bpfjs side.
// Targets (issue 9, on the reference machine): sys/floor <= 1.10, obj/floor <= 1.20 everywhere;
// bpfjs/C <= 1.4 (sys) and <= 1.5 (object API) for 1-3; <= 1.35 for 4.
const OPS = [
  {
    id: 'info',
    title: '1. OBJ_GET_INFO_BY_FD, netns link',
    sys: 'linkGetInfo(fd)',
    obj: 'link.info()',
    iters: 40_000,
    quick: 500,
    target: { sysC: 1.4, objC: 1.5 },
  },
  {
    id: 'update',
    title: '2. LINK_UPDATE, flip 2 programs',
    sys: 'linkUpdate()',
    obj: 'link.update(prog)',
    iters: 20_000,
    quick: 300,
    target: { sysC: 1.4, objC: 1.5 },
  },
  {
    id: 'query',
    title: '3. PROG_QUERY, netns, 1 program',
    sys: 'progQuery()',
    obj: 'queryPrograms()',
    iters: 20_000,
    quick: 300,
    target: { sysC: 1.4, objC: 1.5 },
  },
  {
    id: 'query64',
    title: '3b. PROG_QUERY, netns, 64 programs',
    sys: 'progQuery()',
    obj: 'queryPrograms()',
    iters: 10_000,
    quick: 100,
    target: {},
  },
  {
    id: 'links',
    title: '4. all links with info, per link',
    sys: 'linkGetNextId + withFdById(linkGetInfo)',
    obj: 'links()',
    iters: 20,
    quick: 2,
    target: { sysC: 1.35, objC: 1.35 },
  },
  {
    id: 'create_close',
    title: '5. sk_lookup LINK_CREATE + close',
    sys: 'linkCreate()+close()',
    obj: 'attachNetNs()+close()',
    iters: 2_000,
    quick: 50,
    target: {},
  },
  // Map rows (issue 16): single operations within 1.20x the floor (object API); reading 100,000
  // entries batched within 1.3x C and at least 5x faster than per element.
  {
    id: 'map_get',
    title: '6. MAP_LOOKUP_ELEM, hash u32 -> u64',
    sys: 'mapLookupElem()',
    obj: 'map.get(k)',
    iters: 40_000,
    quick: 500,
    target: {},
  },
  {
    id: 'map_set',
    title: '7. MAP_UPDATE_ELEM, hash u32 -> u64',
    sys: 'mapUpdateElem()',
    obj: 'map.set(k, v)',
    iters: 40_000,
    quick: 500,
    target: {},
  },
  {
    id: 'map_percpu_get',
    title: '8. MAP_LOOKUP_ELEM, percpu_array u32 -> u64',
    sys: 'mapLookupElem()',
    obj: 'map.get(k) (one bigint per CPU)',
    iters: 40_000,
    quick: 500,
    target: {},
  },
  {
    id: 'map_dump',
    title: '9. 100,000 entries batched, per entry',
    sys: 'mapLookupBatch() loop',
    obj: 'entries({ batchSize: 4096 })',
    iters: 3,
    quick: 1,
    target: { objC: 1.3 },
  },
  {
    id: 'map_dump_elem',
    title: '9b. 100,000 entries per element, per entry',
    sys: 'mapGetNextKey() + mapLookupElem()',
    obj: 'entries()',
    iters: 2,
    quick: 1,
    target: {},
  },
];
const FLOOR_TARGET = { sys: 1.1, obj: 1.2 };
const HEAP_LIMIT_BYTES = 1 << 20; // "no growth": after forced GC, heapUsed within 1 MiB of the start

// --- building the C baseline ---------------------------------------------------------------
/**
 * The UAPI headers the C side compiles against: the ones @bpfjs/uapi is generated from (Debian's
 * linux-libc-dev at the version pinned in packages/uapi/uapi-version.json, synced into a cache by
 * `pnpm --filter @bpfjs/uapi sync`), so both sides use the same attr and info sizes; the system's
 * /usr/include otherwise. BENCH_UAPI_INCLUDE overrides (a directory holding linux/bpf.h).
 */
async function findUapiHeaders() {
  const { BENCH_UAPI_INCLUDE } = process.env; // not a turbo task input: the bench runs outside turbo
  if (BENCH_UAPI_INCLUDE) {
    if (!existsSync(`${BENCH_UAPI_INCLUDE}/linux/bpf.h`))
      throw new Error(`BENCH_UAPI_INCLUDE has no linux/bpf.h: ${BENCH_UAPI_INCLUDE}`);
    return { dir: BENCH_UAPI_INCLUDE, source: BENCH_UAPI_INCLUDE };
  }
  const paths = `${root}packages/uapi/scripts/lib/paths.mjs`;
  if (existsSync(paths)) {
    try {
      const uapi = await import(pathToFileURL(paths).href);
      const pin = uapi.readPin();
      if (uapi.haveHeaders(pin)) {
        return {
          dir: uapi.pinnedIncludeDir(pin),
          source: `${pin.package} ${pin.version} (the headers @bpfjs/uapi is generated from)`,
        };
      }
      console.error(
        `note: ${uapi.missingHeadersMessage?.(pin) ?? 'pinned UAPI headers not synced'}; C side uses /usr/include`,
      );
    } catch (err) {
      console.error(
        `note: could not locate the synced UAPI headers (${err.message}); C side uses /usr/include`,
      );
    }
  }
  return { dir: undefined, source: '/usr/include (system linux-libc-dev)' };
}

async function buildC() {
  mkdirSync(buildDir, { recursive: true });
  const { CC } = process.env;
  const cc = CC || 'cc';
  const headers = await findUapiHeaders();
  // Compile to a private name and rename: another run (a concurrent smoke test) may be executing
  // bench-c right now, and writing over a running binary fails with ETXTBSY.
  const tmp = `${buildDir}bench-c.${process.pid}.tmp`;
  const args = ['-O2', '-Wall', '-Wextra', '-Werror', '-o', tmp, `${benchDir}c/bench.c`];
  if (headers.dir) {
    // Only linux/bpf.h and linux/bpf_common.h come from the synced set; everything else (types,
    // asm) from the system, so a partial header sync still compiles.
    const inc = `${buildDir}uapi-include-${process.pid}/`;
    mkdirSync(`${inc}linux`, { recursive: true });
    for (const h of ['bpf.h', 'bpf_common.h']) copyFileSync(`${headers.dir}/linux/${h}`, `${inc}linux/${h}`);
    args.unshift(`-I${inc}`);
  }
  try {
    execFileSync(cc, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    renameSync(tmp, `${buildDir}bench-c`);
  } finally {
    rmSync(tmp, { force: true });
    if (headers.dir) rmSync(`${buildDir}uapi-include-${process.pid}`, { recursive: true, force: true });
  }
  const version = execFileSync(cc, ['--version'], { encoding: 'utf8' }).split('\n')[0];
  return { cc, version, flags: '-O2', headers: headers.source };
}

// --- sides -----------------------------------------------------------------------------------
class Side {
  constructor(name, command, args, env = {}) {
    this.name = name;
    this.stderr = '';
    this.child = spawn(command, args, {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stderr.on('data', (d) => {
      this.stderr += d;
    });
    this.lines = createInterface({ input: this.child.stdout })[Symbol.asyncIterator]();
    this.exited = new Promise((resolve) =>
      this.child.on('exit', (code, signal) => resolve({ code, signal })),
    );
  }
  async next(what) {
    const timeout = new Promise((_, reject) => {
      this.timer = setTimeout(
        () => reject(new Error(`${this.name}: no answer to ${what} within 300 s`)),
        300_000,
      );
    });
    const line = this.lines.next().then((r) => {
      if (r.done)
        throw new Error(`${this.name} exited during ${what}: ${this.stderr.trim() || '(no stderr)'}`);
      return r.value;
    });
    try {
      const text = await Promise.race([line, timeout]);
      try {
        return JSON.parse(text);
      } catch {
        throw new Error(`${this.name}: not JSON: ${text}`);
      }
    } finally {
      clearTimeout(this.timer);
    }
  }
  ready() {
    return this.next('start-up');
  }
  async run(op, iters) {
    this.child.stdin.write(`${op} ${iters}\n`);
    return this.next(op);
  }
  async quit() {
    if (this.child.exitCode === null) this.child.stdin.end('quit\n');
    return this.exited;
  }
}

// --- statistics and formatting ---------------------------------------------------------------
function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
/** Median over rounds of a[round] / b[round]. */
function paired(a, b) {
  if (!a?.length || !b?.length) return null;
  const byRound = new Map(b.map((x) => [x.round, x.nsPerOp]));
  const rs = a.filter((x) => byRound.get(x.round) > 0).map((x) => x.nsPerOp / byRound.get(x.round));
  return rs.length ? median(rs) : null;
}
const ratio = (a, b) => (a != null && b != null && b > 0 ? a / b : null);
const fmtNs = (x) => (x == null ? 'n/a' : x >= 100_000 ? `${(x / 1000).toFixed(0)}k` : x.toFixed(0));
const fmtRatio = (x, limit) =>
  x == null ? '-' : `${x.toFixed(2)}${limit == null ? ' ' : x <= limit ? ' ' : '!'}`;
const fmtBytes = (b) => `${b < 0 ? '-' : ''}${(Math.abs(b) / 1024).toFixed(0)} KiB`;

function table(rows, headers) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) =>
    cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function cpuMitigations() {
  const dir = '/sys/devices/system/cpu/vulnerabilities';
  const out = {};
  try {
    for (const name of readdirSync(dir).sort()) {
      const text = readFileSync(`${dir}/${name}`, 'utf8').trim();
      if (text !== 'Not affected') out[name] = text;
    }
  } catch {
    return undefined;
  }
  return out;
}

function machineInfo(build, sides) {
  const cpus = os.cpus();
  const gitCommit = (() => {
    try {
      return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    } catch {
      return undefined;
    }
  })();
  return {
    date: new Date().toISOString(),
    host: { cpu: cpus[0]?.model, cpus: cpus.length, memoryBytes: os.totalmem(), arch: process.arch },
    // CPU vulnerability mitigations set the price of every syscall (entry/exit work), so record them.
    kernel: { release: os.release(), version: os.version(), mitigations: cpuMitigations() },
    node: {
      version: process.version,
      v8: process.versions.v8,
      koffi: sides.floor?.koffi ?? sides.bpfjs?.koffi,
    },
    cc: build,
    gitCommit,
  };
}

// --- main --------------------------------------------------------------------------------------
async function main() {
  const opt = parseArgs(process.argv.slice(2));
  if (process.getuid?.() !== 0) console.error('warning: not root; bpf(2) will probably fail with EPERM');
  const ops = OPS.filter((o) => !opt.ops || opt.ops.includes(o.id));
  if (opt.ops) {
    const unknown = opt.ops.filter((id) => !OPS.some((o) => o.id === id));
    if (unknown.length) throw new Error(`unknown operation(s): ${unknown.join(', ')}`);
  }

  const build = await buildC();
  const profDir = `${buildDir}prof`;
  const nodeFlags = [
    '--expose-gc',
    ...(opt.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`, '--cpu-prof-interval=50'] : []),
  ];

  // Optionally pin every side to one CPU: `taskset -c N <command>`.
  const pin = (command, args) => {
    let cmd = [command, ...args];
    if (opt.cpu !== undefined) cmd = ['taskset', '-c', String(opt.cpu), ...cmd];
    if (opt.sched === 'fifo') cmd = ['chrt', '-f', '10', ...cmd];
    else if (opt.sched === 'nice') cmd = ['nice', '-n', '-10', ...cmd];
    return [cmd[0], cmd.slice(1)];
  };
  const c = new Side('c', ...pin(`${buildDir}bench-c`, []));
  const cReady = await c.ready();
  const attrSizes = { ...cReady.attrSizes, linkInfo: cReady.linkInfoSize };
  const sides = { c };
  if (opt.floor) {
    sides.floor = new Side('floor', ...pin(process.execPath, [...nodeFlags, `${benchDir}js/floor.mjs`]), {
      BENCH_ATTR_SIZES: JSON.stringify(attrSizes),
    });
  }
  sides.bpfjs = new Side('bpfjs', ...pin(process.execPath, [...nodeFlags, `${benchDir}js/bpfjs.mjs`]));
  const ready = { c: cReady };
  if (BENCH_PACKAGES_ROOT) console.error(`note: the bpfjs side loads packages from ${BENCH_PACKAGES_ROOT}`);
  for (const [name, side] of Object.entries(sides)) if (name !== 'c') ready[name] = await side.ready();
  if (ready.bpfjs.unavailable) console.error(`warning: ${ready.bpfjs.unavailable}`);

  // (side, command) pairs per operation: sys and obj variants both live in the bpfjs process.
  const variants = (op) => [
    ['c', 'c', op.id],
    ...(sides.floor ? [['floor', 'floor', op.id]] : []),
    ['sys', 'bpfjs', `${op.id}:sys`],
    ['obj', 'bpfjs', `${op.id}:obj`],
  ];
  const samples = {};
  let currentRound = -1;
  const notes = {};
  const errors = [];
  const record = (op, key, res) => {
    samples[op.id] ??= {};
    samples[op.id][key] ??= [];
    if (res.error) {
      errors.push(`${op.id} [${key}]: ${res.error}`);
      notes[op.id] ??= {};
      notes[op.id][key] = `error: ${res.error}`;
    } else if (res.unsupported) {
      notes[op.id] ??= {};
      notes[op.id][key] = res.reason ? `n/a: ${res.reason}` : 'n/a';
    } else {
      samples[op.id][key].push({ round: currentRound, nsPerOp: res.ns / res.count, check: res.check });
    }
  };

  const itersOf = (op) => Math.max(1, Math.round((opt.quick ? op.quick : op.iters) * opt.scale));
  // Warm-up (JIT, caches), not recorded.
  for (const op of ops) {
    for (const [, side, cmd] of variants(op)) {
      const res = await sides[side].run(cmd, Math.max(1, Math.ceil(itersOf(op) / 5)));
      if (res.error) errors.push(`${op.id} warm-up [${side} ${cmd}]: ${res.error}`);
    }
  }
  for (let round = 0; round < opt.rounds; round++) {
    currentRound = round;
    for (const op of ops) {
      const vs = variants(op);
      // Rotate the order every round so no side always runs first or right after another one.
      for (let k = 0; k < vs.length; k++) {
        const [key, side, cmd] = vs[(k + round) % vs.length];
        record(op, key, await sides[side].run(cmd, itersOf(op)));
      }
    }
    if (!opt.json) process.stderr.write(`round ${round + 1}/${opt.rounds} done\n`);
  }

  let heap;
  if (opt.heapCalls > 0) {
    heap = {};
    for (const [key, side, cmd] of [
      ['obj', 'bpfjs', 'heap:obj'],
      ['sys', 'bpfjs', 'heap:sys'],
      ...(sides.floor ? [['floor', 'floor', 'heap']] : []),
      ...(!opt.ops || opt.ops.some((o) => o.startsWith('map'))
        ? [
            ['mapObj', 'bpfjs', 'map_heap:obj'],
            ['mapSys', 'bpfjs', 'map_heap:sys'],
          ]
        : []),
    ]) {
      const res = await sides[side].run(cmd, opt.heapCalls);
      if (res.error) errors.push(`heap [${key}]: ${res.error}`);
      heap[key] = res.error
        ? { error: res.error }
        : res.unsupported
          ? { unsupported: true, reason: res.reason }
          : { calls: res.count, nsPerOp: res.ns / res.count, ...res.heap };
    }
  }

  if (ready.bpfjs.unavailable) errors.push(ready.bpfjs.unavailable);
  const exits = {};
  for (const [name, side] of Object.entries(sides)) {
    const { code, signal } = await side.quit();
    exits[name] = { code, signal };
    if (code !== 0) errors.push(`${name} exited with ${code ?? signal}: ${side.stderr.trim()}`);
  }

  const results = ops.map((op) => {
    const s = samples[op.id] ?? {};
    const med = (key) => (s[key]?.length ? median(s[key].map((x) => x.nsPerOp)) : null);
    const stats = (key) =>
      s[key]?.length
        ? {
            median: med(key),
            min: Math.min(...s[key].map((x) => x.nsPerOp)),
            max: Math.max(...s[key].map((x) => x.nsPerOp)),
            rounds: s[key].length,
            check: s[key].at(-1).check,
          }
        : null;
    const m = { c: med('c'), floor: med('floor'), sys: med('sys'), obj: med('obj') };
    return {
      id: op.id,
      title: op.title,
      calls: { sys: op.sys, obj: op.obj },
      itersPerRound: itersOf(op),
      unit: 'ns/op',
      c: stats('c'),
      floor: stats('floor'),
      sys: stats('sys'),
      obj: stats('obj'),
      notes: notes[op.id] ?? {},
      // Ratios of the per-side medians (what the table shows).
      ratios: {
        floorC: ratio(m.floor, m.c),
        sysC: ratio(m.sys, m.c),
        objC: ratio(m.obj, m.c),
        sysFloor: ratio(m.sys, m.floor),
        objFloor: ratio(m.obj, m.floor),
      },
      // Medians of the per-round ratios (both sides measured in the same round, moments apart):
      // more robust when the machine's load changes during the run.
      pairedRatios: {
        floorC: paired(s.floor, s.c),
        sysC: paired(s.sys, s.c),
        objC: paired(s.obj, s.c),
        sysFloor: paired(s.sys, s.floor),
        objFloor: paired(s.obj, s.floor),
      },
      targets: {
        sysC: op.target.sysC ?? null,
        objC: op.target.objC ?? null,
        sysFloor: FLOOR_TARGET.sys,
        objFloor: FLOOR_TARGET.obj,
      },
    };
  });

  const report = {
    machine: machineInfo(build, ready),
    config: {
      quick: opt.quick,
      rounds: opt.rounds,
      scale: opt.scale,
      heapCalls: opt.heapCalls,
      cpuProf: opt.cpuProf ? profDir : false,
      cpu: opt.cpu ?? null,
      sched: opt.sched,
      packagesRoot: BENCH_PACKAGES_ROOT ?? null,
    },
    sides: {
      c: { attrSizes: cReady.attrSizes, linkInfoSize: cReady.linkInfoSize },
      floor: ready.floor ?? null,
      bpfjs: ready.bpfjs,
    },
    results,
    heap: heap ?? null,
    heapLimitBytes: HEAP_LIMIT_BYTES,
    errors,
  };

  if (opt.json) console.log(JSON.stringify(report, null, 2));
  else printReport(report);
  if (opt.markdown) console.log(`\n${markdown(report)}`);
  if (opt.jsonOut) {
    writeFileSync(opt.jsonOut, `${JSON.stringify(report, null, 2)}\n`);
    if (!opt.json) console.log(`\nJSON written to ${opt.jsonOut}`);
  }
  if (errors.length) {
    console.error(`\n${errors.length} error(s):\n${errors.map((e) => `  ${e}`).join('\n')}`);
    process.exitCode = 1;
  }
}

/** The results as Markdown (machine line, ratio table, heap lines). */
/** "entries() batched is N x faster than per element" (target: at least 5x), when both ran. */
function batchSpeedup(r) {
  const find = (id) => r.results.find((x) => x.id === id);
  const batched = find('map_dump')?.obj?.median;
  const perElement = find('map_dump_elem')?.obj?.median;
  if (!batched || !perElement) return null;
  const x = perElement / batched;
  return `map entries(): batched ${x.toFixed(1)}x faster than per element${x < 5 ? ' ✗ (target: at least 5x)' : ' (target: at least 5x)'}`;
}

function markdown(r) {
  const m = r.machine;
  const out = [
    `${m.date.slice(0, 16).replace('T', ' ')} UTC, commit ${m.gitCommit ?? '?'}: ${m.host.cpu} x${m.host.cpus}, Linux ${m.kernel.release}, Node ${m.node.version}, koffi ${m.node.koffi}, ${m.cc.version}; ${r.config.rounds} rounds, sides ${r.config.sched}.`,
    '',
    '| operation | C ns | floor ns | sys ns | object ns | floor/C | sys/C | obj/C | sys/floor | obj/floor |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const x of r.results) {
    const cell = (v, t) => (v == null ? '–' : `${v.toFixed(2)}${t != null && v > t ? ' ✗' : ''}`);
    const ns = (s) => (s?.median == null ? '–' : s.median.toFixed(0));
    out.push(
      `| ${x.title} | ${ns(x.c)} | ${ns(x.floor)} | ${ns(x.sys)} | ${ns(x.obj)} | ${cell(x.ratios.floorC)} | ${cell(x.ratios.sysC, x.targets.sysC)} | ${cell(x.ratios.objC, x.targets.objC)} | ${cell(x.ratios.sysFloor, x.targets.sysFloor)} | ${cell(x.ratios.objFloor, x.targets.objFloor)} |`,
    );
  }
  const speedup = batchSpeedup(r);
  if (speedup) out.push('', speedup);
  if (r.heap) {
    out.push('', `Heap over ${r.config.heapCalls.toLocaleString('en')} calls (forced GC before/after):`);
    for (const [k, h] of Object.entries(r.heap)) {
      const what = {
        obj: '`link.info()`',
        sys: '`linkGetInfo(fd)`',
        floor: 'floor',
        mapObj: '`map.get(k)` (hash u32 -> u64)',
        mapSys: '`mapLookupElem()`',
      }[k];
      if (h.error || h.unsupported) out.push(`- ${what}: n/a`);
      else
        out.push(
          `- ${what}: heapUsed ${fmtBytes(h.heapUsedGrowth)}, RSS ${fmtBytes(h.rssGrowth)}, ${h.nsPerOp.toFixed(0)} ns/call`,
        );
    }
  }
  return out.join('\n');
}

/** heapUsed at each checkpoint relative to the start, e.g. " heapUsed by quarter: +0 +3 -1 +2 KiB". */
function checkpointText(h) {
  if (!Array.isArray(h.checkpoints) || h.checkpoints.length < 3) return '';
  const base = h.checkpoints[0].heapUsed;
  const parts = h.checkpoints.slice(1).map((c) => {
    const k = Math.round((c.heapUsed - base) / 1024);
    return `${k >= 0 ? '+' : ''}${k}`;
  });
  return `\n  ${''.padEnd(20)} heapUsed after each quarter (GC'd): ${parts.join(' ')} KiB`;
}

function printReport(r) {
  const m = r.machine;
  console.log(`bpfjs benchmarks  ${m.date}${m.gitCommit ? `  commit ${m.gitCommit}` : ''}`);
  console.log(
    `machine: ${m.host.cpu} x${m.host.cpus}, ${(m.host.memoryBytes / 2 ** 30).toFixed(1)} GiB, ${m.host.arch}`,
  );
  console.log(`kernel:  Linux ${m.kernel.release} ${m.kernel.version}`);
  console.log(`node:    ${m.node.version} (V8 ${m.node.v8}), koffi ${m.node.koffi ?? '?'}`);
  console.log(`C:       ${m.cc.version}, ${m.cc.flags}, headers ${m.cc.headers}`);
  console.log(
    `rounds:  ${r.config.rounds}${r.config.quick ? ' (quick: numbers are not meaningful)' : ''}, sides scheduled ${r.config.sched}${r.config.cpu === null ? '' : ` on CPU ${r.config.cpu}`}; median ns/op per side; '!' = target missed\n`,
  );
  const rows = r.results.map((x) => [
    x.title,
    fmtNs(x.c?.median),
    fmtNs(x.floor?.median),
    fmtNs(x.sys?.median),
    fmtNs(x.obj?.median),
    fmtRatio(x.ratios.floorC, null),
    fmtRatio(x.ratios.sysC, x.targets.sysC),
    fmtRatio(x.ratios.objC, x.targets.objC),
    fmtRatio(x.ratios.sysFloor, x.targets.sysFloor),
    fmtRatio(x.ratios.objFloor, x.targets.objFloor),
  ]);
  console.log(
    table(rows, [
      'operation',
      'C',
      'floor',
      'sys',
      'object',
      'floor/C',
      'sys/C',
      'obj/C',
      'sys/floor',
      'obj/floor',
    ]),
  );
  const prow = r.results.map((x) => [
    x.title,
    fmtRatio(x.pairedRatios.floorC, null),
    fmtRatio(x.pairedRatios.sysC, x.targets.sysC),
    fmtRatio(x.pairedRatios.objC, x.targets.objC),
    fmtRatio(x.pairedRatios.sysFloor, x.targets.sysFloor),
    fmtRatio(x.pairedRatios.objFloor, x.targets.objFloor),
  ]);
  console.log(
    '\nthe same ratios as medians of per-round ratios (sides measured moments apart; steadier under load):',
  );
  console.log(table(prow, ['operation', 'floor/C', 'sys/C', 'obj/C', 'sys/floor', 'obj/floor']));
  console.log('\nwhat the bpfjs columns call:');
  for (const x of r.results)
    console.log(
      `  ${x.title.split(' ')[0]} sys: ${x.calls.sys}; object: ${x.calls.obj}; ${x.itersPerRound} iterations/round`,
    );
  // One line per distinct note (an unavailable side says the same thing for every operation).
  const byNote = new Map();
  for (const x of r.results)
    for (const [k, v] of Object.entries(x.notes)) byNote.set(v, [...(byNote.get(v) ?? []), `${x.id}[${k}]`]);
  if (byNote.size)
    console.log(`\nnotes:\n${[...byNote].map(([v, where]) => `  ${v}  (${where.join(', ')})`).join('\n')}`);
  const speedup = batchSpeedup(r);
  if (speedup) console.log(`\n${speedup}`);
  if (r.heap) {
    console.log(
      `\nheap/RSS growth over ${r.config.heapCalls.toLocaleString('en')} calls (forced GC before and after, after a warm-up):`,
    );
    for (const [k, h] of Object.entries(r.heap)) {
      const what = {
        obj: 'link.info()',
        sys: 'linkGetInfo(fd)',
        floor: 'floor (bare koffi)',
        mapObj: 'map.get(k)',
        mapSys: 'mapLookupElem()',
      }[k];
      if (h.error || h.unsupported)
        console.log(
          `  ${what.padEnd(20)} ${h.error ? `error: ${h.error}` : `n/a${h.reason ? `: ${h.reason}` : ''}`}`,
        );
      else
        console.log(
          `  ${what.padEnd(20)} heapUsed ${fmtBytes(h.heapUsedGrowth).padStart(9)}${Math.abs(h.heapUsedGrowth) > r.heapLimitBytes ? '!' : ' '}  RSS ${fmtBytes(h.rssGrowth).padStart(9)}  external ${fmtBytes(h.externalGrowth)}  (${h.nsPerOp.toFixed(0)} ns/call)${checkpointText(h)}`,
        );
    }
  }
  console.log(
    `\ntargets: sys/floor <= ${FLOOR_TARGET.sys}, obj/floor <= ${FLOOR_TARGET.obj}; sys/C <= 1.4 and obj/C <= 1.5 for 1-3; <= 1.35 for 4; heap growth within ${fmtBytes(r.heapLimitBytes)}`,
  );
}

// The object-loading row (open + load of a clang-compiled object vs libbpf) runs in its own script
// after the line-protocol benchmarks: `node bench/object.mjs` (see its header).
function objectBench() {
  const argv = process.argv.slice(2);
  if (argv.includes('--json') || argv.includes('--help')) return;
  execFileSync(
    process.execPath,
    [`${benchDir}object.mjs`, ...(argv.includes('--quick') ? ['--quick'] : [])],
    {
      stdio: 'inherit',
    },
  );
}

main()
  .then(objectBench)
  .catch((err) => {
    console.error(err?.stack ?? err);
    process.exit(1);
  });
