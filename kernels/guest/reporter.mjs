// A vitest reporter for the kernel-matrix guest. It
// - prints one line per finished test file (the serial console is slow; no per-test output),
// - writes one compact JSON file (path in BPFJS_MATRIX_RESULTS) with every test's state, skip note
//   (testkit gates skip with a reason; vitest's own JSON reporter drops notes), errors, and the
//   files or suites that failed to load,
// - and, when the guest's deadline (BPFJS_MATRIX_DEADLINE, epoch seconds) comes before the run ends, writes what it has (tests still
//   running are reported as such, with their files), says which files hang, and ends the process,
//   so that a hanging test costs one kernel's time limit and not the whole answer.
import { writeFileSync } from 'node:fs';
import { relative } from 'node:path';

const MAX_ERROR = 2000;

function errorText(e) {
  const s = String(e?.stack || e?.message || e);
  return s.length > MAX_ERROR ? `${s.slice(0, MAX_ERROR)}…` : s;
}

function stateOf(task) {
  const r = task.result;
  if (r?.state === 'pass' || r?.state === 'fail' || r?.state === 'skip' || r?.state === 'todo')
    return r.state;
  if (task.mode === 'skip' || task.mode === 'todo') return task.mode;
  return r?.state === 'run' ? 'running' : 'notrun';
}

export default class MatrixReporter {
  onInit(ctx) {
    this.ctx = ctx;
    this.start = Date.now();
    this.done = false;
    /** Per test file: its time split into import, setup and tests, and when it ended. */
    this.timings = {};
    // vitest ending without onFinished (a crashed pool, process.exit in a test): keep what ran.
    process.on('exit', (code) => {
      if (this.done) return;
      this.done = true;
      const files = this.ctx?.state?.getFiles?.() ?? [];
      this.write(this.collect(files, [], { aborted: `vitest exited (${code}) before the run ended` }));
    });
    const deadline = Number(process.env.BPFJS_MATRIX_DEADLINE);
    if (deadline > 0) {
      const ms = Math.max(1000, deadline * 1000 - Date.now());
      this.timer = setTimeout(() => this.onWatchdog(Math.round((Date.now() - this.start) / 1000)), ms);
      this.timer.unref();
    }
  }

  onTestRunStart(specifications) {
    // Every file of the run, so a time-limited run can name the files that never started.
    this.specs = [...new Set(specifications.map((spec) => spec.moduleId))];
  }

  root() {
    return this.ctx?.config?.root ?? process.cwd();
  }

  onTestModuleEnd(testModule) {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const t of testModule.children.allTests()) {
      const s = t.result().state;
      if (s === 'passed') passed++;
      else if (s === 'failed') failed++;
      else skipped++;
    }
    const loadFailed = testModule.errors?.().length > 0;
    const mark = failed || loadFailed ? 'FAIL' : 'ok  ';
    const d = testModule.diagnostic?.() ?? {};
    const ms = d.duration ?? 0;
    // Where a file's guest time goes: importing it (collect: the module graph, transformed by Vite),
    // the setup files, and its tests. `at` is when it ended, counted from the run's start.
    const timing = {
      at: Date.now() - this.start,
      ms: Math.round(ms),
      collectMs: Math.round(d.collectDuration ?? 0),
      setupMs: Math.round(d.setupDuration ?? 0),
      prepareMs: Math.round((d.prepareDuration ?? 0) + (d.environmentSetupDuration ?? 0)),
    };
    const file = relative(this.root(), testModule.moduleId);
    this.timings[file] = timing;
    const s = (x) => (x / 1000).toFixed(1);
    console.log(
      `bpfjs-matrix: ${mark} ${file}  ${passed} passed, ${failed} failed, ${skipped} skipped (${s(ms)}s; import ${s(timing.collectMs)}s, setup ${s(timing.setupMs + timing.prepareMs)}s; ended at ${s(timing.at)}s)${loadFailed ? ', file error' : ''}`,
    );
  }

  collect(files, errors, extra = {}) {
    const root = this.root();
    const tests = [];
    const fileErrors = [];
    const walk = (task, file, project, path) => {
      for (const child of task.tasks ?? []) {
        if (child.type === 'suite') {
          if (child.result?.state === 'fail' && child.result.errors?.length) {
            fileErrors.push({
              file,
              suite: [...path, child.name].join(' > '),
              errors: child.result.errors.map(errorText),
            });
          }
          walk(child, file, project, [...path, child.name]);
          continue;
        }
        const r = child.result;
        const entry = { file, project, name: [...path, child.name].join(' > '), state: stateOf(child) };
        entry.ms = Math.round(r?.duration ?? 0);
        let note = r?.note;
        // A suite skipped with a note (suite-level ctx.skip) passes the note down.
        for (let s = child.suite; !note && s; s = s.suite) note = s.result?.note;
        // testkit's gate.it()/gate.describe() put the reason in the name: `name [skipped: reason]`.
        if (!note && entry.state === 'skip') {
          for (const n of [child.name, ...path].reverse()) {
            const m = /\[skipped: (.*)\]\s*$/.exec(n);
            if (m) note = m[1];
          }
        }
        if (note) entry.note = note;
        if (r?.errors?.length) entry.errors = r.errors.map(errorText);
        tests.push(entry);
      }
    };
    for (const f of files) {
      const file = relative(root, f.filepath);
      walk(f, file, f.projectName || undefined, []);
      if (f.result?.errors?.length) fileErrors.push({ file, errors: f.result.errors.map(errorText) });
    }
    return {
      kernel: process.env.BPFJS_KERNEL_MATRIX ?? null,
      release: process.env.BPFJS_KERNEL_RELEASE ?? null,
      ms: Date.now() - this.start,
      files: this.timings,
      tests,
      fileErrors,
      unhandledErrors: errors.map(errorText),
      ...extra,
    };
  }

  write(out) {
    const path = process.env.BPFJS_MATRIX_RESULTS;
    if (path) writeFileSync(path, JSON.stringify(out));
  }

  onFinished(files = [], errors = []) {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.timer);
    this.write(this.collect(files, errors));
  }

  onWatchdog(sec) {
    if (this.done) return;
    this.done = true;
    const files = this.ctx?.state?.getFiles?.() ?? [];
    const out = this.collect(files, [], { watchdog: sec });
    const hanging = [...new Set(out.tests.filter((t) => t.state === 'running').map((t) => t.file))];
    const started = new Set(files.filter((f) => f.result).map((f) => f.filepath));
    const unstarted = (this.specs ?? files.map((f) => f.filepath))
      .filter((f) => !started.has(f))
      .map((f) => relative(this.root(), f));
    out.hanging = hanging;
    out.unstarted = unstarted;
    console.log(`bpfjs-matrix: watchdog: the run did not end within ${sec}s`);
    for (const f of hanging) console.log(`bpfjs-matrix:   still running: ${f}`);
    if (unstarted.length) console.log(`bpfjs-matrix:   ${unstarted.length} file(s) never started`);
    this.write(out);
    process.exit(124);
  }
}
