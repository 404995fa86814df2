// Turns what one guest reported into a per-kernel summary, and prints the matrix table.

/**
 * A skip whose reason is about privileges is a failure in the guest: the suites run there as root
 * with every capability, so only a missing kernel feature may skip a test.
 */
export const PRIVILEGE_SKIP =
  /(missing CAP_[A-Z_]+|\b(run|needs?|requires?) (as )?root\b|without privileges|\bunprivileged\b|\bEPERM\b|permission denied)/i;

const secs = (ms) => (ms === undefined ? '-' : `${(ms / 1000).toFixed(1)}s`);
const firstLine = (s) =>
  String(s ?? '')
    .split('\n')
    .find((l) => l.trim()) ?? '';

/** Builds the summary of one kernel's run (see run.mjs for the inputs). */
export function summarize({ kernel, boot, results, problem, fetchMs, totalMs, limitSec, cmdMode }) {
  const s = {
    id: kernel.id,
    release: kernel.release,
    suite: kernel.suite,
    status: 'passed',
    problem,
    exitCode: boot.exitCode,
    attempts: boot.attempts,
    ...(boot.crashes?.length ? { crashes: boot.crashes } : {}),
    fetchMs,
    bootMs: boot.bootMs,
    testMs: results?.ms,
    totalMs,
    // The kernel's time limit and how much of it the run used (boot, suites and any crash retry):
    // above 0.5 a machine twice as slow would cut it.
    limitSec,
    limitFraction: limitSec ? Math.round((totalMs / 1000 / limitSec) * 1000) / 1000 : undefined,
    passed: 0,
    failed: 0,
    skipped: 0,
    unfinished: 0,
    skipReasons: {},
    failures: [],
    tests: [],
    // Per test file: guest time (tests, import, setup) and when it ended — where the time goes.
    files: results?.files ?? {},
  };
  if (cmdMode) {
    s.status = problem || boot.exitCode !== 0 ? 'failed' : 'passed';
    return s;
  }
  for (const t of results?.tests ?? []) {
    const entry = { project: t.project, file: t.file, name: t.name, state: t.state, ms: t.ms };
    if (t.note) entry.note = t.note;
    s.tests.push(entry);
    if (t.state === 'pass') s.passed++;
    else if (t.state === 'skip' || t.state === 'todo') {
      const reason = t.note || (t.state === 'todo' ? 'todo' : 'no reason given');
      if (t.note && PRIVILEGE_SKIP.test(t.note)) {
        s.failed++;
        s.failures.push({
          file: t.file,
          name: t.name,
          error: `skipped for a privilege reason inside the root guest: ${t.note}`,
        });
      } else {
        s.skipped++;
        s.skipReasons[reason] = (s.skipReasons[reason] ?? 0) + 1;
      }
    } else if (t.state !== 'fail' && results.watchdog) {
      // Cut by the kernel's time limit (see below), not failed.
      s.unfinished++;
    } else {
      s.failed++;
      s.failures.push({
        file: t.file,
        name: t.name,
        error: t.state === 'fail' ? firstLine(t.errors?.[0]) : `did not finish (${t.state})`,
      });
    }
  }
  for (const fe of results?.fileErrors ?? []) {
    s.failures.push({ file: fe.file, name: fe.suite ?? '(file)', error: firstLine(fe.errors?.[0]) });
  }
  for (const e of results?.unhandledErrors ?? [])
    s.failures.push({ file: '', name: '(unhandled)', error: firstLine(e) });
  if (results?.aborted) s.problem = s.problem ?? results.aborted;
  if (results?.watchdog) {
    // The time limit ended the run: what ran is reported, the rest is listed. Under TCG a slow
    // machine, not a bug, is the usual cause, so this alone is not a failure ("incomplete"); a test
    // that really hangs still fails through vitest's per-test timeout.
    const running = results.hanging?.length ? `; still running: ${results.hanging.join(', ')}` : '';
    const unstarted = results.unstarted?.length ? `; not started: ${results.unstarted.join(', ')}` : '';
    s.problem = `time limit: the suites were stopped after ${results.watchdog}s${running}${unstarted}`;
    s.unstarted = results.unstarted ?? [];
  }
  if (results && !results.watchdog && !s.failures.length && !s.problem && boot.exitCode !== 0) {
    s.problem = `vitest exited with ${boot.exitCode}`;
  }
  if (!results) s.status = 'error';
  else if (s.failures.length || results.aborted) s.status = 'failed';
  else if (results.watchdog) s.status = 'incomplete';
  else if (s.problem || boot.exitCode !== 0) s.status = 'failed';
  return s;
}

function table(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => String(c).padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** The matrix table with skip reasons and failures below it. */
export function formatSummary(summaries) {
  const rows = [
    [
      'kernel',
      'release',
      'boot',
      'suites',
      'total',
      'of limit',
      'passed',
      'failed',
      'skipped',
      'unfinished',
      'result',
    ],
  ];
  for (const s of summaries) {
    rows.push([
      s.id,
      s.release ?? '',
      secs(s.bootMs),
      secs(s.testMs),
      secs(s.totalMs),
      s.limitFraction === undefined ? '-' : `${Math.round(s.limitFraction * 100)}% of ${s.limitSec}s`,
      s.passed ?? '-',
      s.failed ?? '-',
      s.skipped ?? '-',
      s.unfinished ?? '-',
      s.status + (s.attempts > 1 ? ` (boot ${s.attempts})` : ''),
    ]);
  }
  const out = [table(rows)];
  const slow = summaries.filter((s) => s.limitFraction > 0.5);
  if (slow.length)
    out.push(
      `\nover half of the time limit: ${slow.map((s) => `${s.id} (${Math.round(s.limitFraction * 100)}%)`).join(', ')} — a machine twice as slow would cut ${slow.length > 1 ? 'them' : 'it'}`,
    );
  for (const s of summaries) {
    const reasons = Object.entries(s.skipReasons ?? {}).sort((a, b) => b[1] - a[1]);
    if (reasons.length) {
      out.push(`\n${s.id}: skipped`);
      for (const [reason, n] of reasons) out.push(`  ${String(n).padStart(4)} × ${reason}`);
    }
    for (const [i, c] of (s.crashes ?? []).entries()) {
      out.push(`\n${s.id}: boot ${i + 1}: the guest kernel crashed (${c}); booted again`);
    }
    if (s.problem) out.push(`\n${s.id}: ${s.status === 'not-run' ? 'not run' : 'problem'}: ${s.problem}`);
    if (s.failures?.length) {
      out.push(`\n${s.id}: ${s.failures.length} failure(s)`);
      for (const f of s.failures.slice(0, 30)) out.push(`  FAIL ${f.file} > ${f.name}\n       ${f.error}`);
      if (s.failures.length > 30)
        out.push(`  … and ${s.failures.length - 30} more (see kernels/.cache/results.json)`);
    }
  }
  return out.join('\n');
}
