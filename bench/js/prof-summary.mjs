#!/usr/bin/env node
// Summarizes a V8 .cpuprofile (from `pnpm bench -- --cpu-prof`): self and inclusive time per
// function (name, file:line), so a missed target can be traced to the code that costs.
//
//   node bench/js/prof-summary.mjs bench/build/prof/<file>.cpuprofile [--top 30] [--filter packages/]
//     [--lines FUNCTION]   ticks per source line inside the matching functions
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('--') && !/^\d+$/.test(a));
const top = Number(args[args.indexOf('--top') + 1]) || 30;
const filterIdx = args.indexOf('--filter');
const filter = filterIdx >= 0 ? args[filterIdx + 1] : undefined;
if (!file) {
  console.error('usage: node bench/js/prof-summary.mjs FILE.cpuprofile [--top N] [--filter SUBSTRING]');
  process.exit(2);
}

const prof = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const keyOf = (n) => {
  const f = n.callFrame;
  const url = f.url.replace(/^file:\/\//, '').replace(/^.*\/work\/main\//, '');
  return `${f.functionName || '(anonymous)'}  ${url ? `${url}:${f.lineNumber + 1}` : ''}`.trim();
};

const self = new Map();
const incl = new Map();
let total = 0;
for (let i = 0; i < prof.samples.length; i++) {
  const dt = prof.timeDeltas[i] ?? 0;
  total += dt;
  const leaf = byId.get(prof.samples[i]);
  const k = keyOf(leaf);
  self.set(k, (self.get(k) ?? 0) + dt);
  const seen = new Set();
  for (let id = leaf.id; id !== undefined; id = parent.get(id)) {
    const kk = keyOf(byId.get(id));
    if (seen.has(kk)) continue;
    seen.add(kk);
    incl.set(kk, (incl.get(kk) ?? 0) + dt);
  }
}

const show = (title, map) => {
  console.log(`\n${title} (of ${(total / 1000).toFixed(0)} ms sampled)`);
  const rows = [...map]
    .filter(([k]) => !filter || k.includes(filter))
    .sort((a, b) => b[1] - a[1])
    .slice(0, top);
  for (const [k, v] of rows)
    console.log(
      `${((100 * v) / total).toFixed(1).padStart(6)}%  ${(v / 1000).toFixed(1).padStart(8)} ms  ${k}`,
    );
};
show('self time', self);
show('inclusive time', incl);

// Per-line ticks of the functions matching --lines (V8 records positionTicks per node).
const linesIdx = args.indexOf('--lines');
if (linesIdx >= 0) {
  const want = args[linesIdx + 1];
  const perLine = new Map();
  for (const n of prof.nodes) {
    if (!n.positionTicks || !keyOf(n).includes(want)) continue;
    for (const t of n.positionTicks) {
      const k = `${keyOf(n).split('  ')[1]?.replace(/:\d+$/, '') ?? ''}:${t.line}`;
      perLine.set(k, (perLine.get(k) ?? 0) + t.ticks);
    }
  }
  const all = [...perLine.values()].reduce((a, b) => a + b, 0);
  console.log(`\nticks per source line in functions matching '${want}' (${all} ticks)`);
  for (const [k, v] of [...perLine].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${((100 * v) / all).toFixed(1).padStart(6)}%  ${String(v).padStart(6)}  ${k}`);
  }
}
