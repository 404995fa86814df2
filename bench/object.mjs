#!/usr/bin/env node
// Object loading benchmark (`pnpm bench` runs it after run.mjs; alone: `node bench/object.mjs`):
// open + load + close of a clang-compiled object with 10 programs and 10 maps, @bpfjs/object
// (the built dist/) against libbpf (the system's libbpf-dev through the C harness of
// packages/object/src/test/libbpf-harness.c), alternating sides for several rounds; reports the
// median per load and the ratio (target: bpfjs within 1.5x of libbpf).
//   --quick        few loads and 2 rounds (smoke; numbers not meaningful)
//   --json         print the JSON report instead of the table
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const buildDir = `${root}bench/build/`;
const quick = process.argv.includes('--quick');
const json = process.argv.includes('--json');
const loads = quick ? 3 : 40;
const rounds = quick ? 2 : 7;
const TARGET = 1.5;
// Read once here (not a turbo task input: the bench runs outside turbo).
const { CC } = process.env;

function build(name, inputs, make) {
  mkdirSync(buildDir, { recursive: true });
  const hash = createHash('sha256');
  for (const i of inputs) hash.update(i);
  const out = `${buildDir}${name}-${hash.digest('hex').slice(0, 16)}`;
  if (!existsSync(out)) {
    make(`${out}.${process.pid}`);
    renameSync(`${out}.${process.pid}`, out);
  }
  return out;
}

/** The C source of the benchmark object: 10 hash/array maps, 10 socket programs using them. */
function source() {
  let c = '#include <linux/bpf.h>\n#include <bpf/bpf_helpers.h>\n';
  for (let i = 0; i < 10; i++) {
    c += `struct { __uint(type, ${i % 2 ? 'BPF_MAP_TYPE_HASH' : 'BPF_MAP_TYPE_ARRAY'}); __uint(max_entries, 64);
  __type(key, __u32); __type(value, __u64); } map${i} SEC(".maps");\n`;
  }
  c +=
    'static __noinline __u64 bump(void *m, __u32 k) { __u64 *v = bpf_map_lookup_elem(m, &k); if (v) return ++*v; return 0; }\n';
  for (let i = 0; i < 10; i++) {
    c += `SEC("socket") int prog${i}(struct __sk_buff *skb) { __u32 k = skb->len & 63; __u64 one = 1;
  bpf_map_update_elem(&map${(i + 1) % 10}, &k, &one, BPF_ANY); return bump(&map${i}, k) > ${i}; }\n`;
  }
  return `${c}char _license[] SEC("license") = "GPL";\n`;
}

const src = source();
// Compiled like every test object (@bpfjs/testkit's compileBpf: cached by source, flags and clang).
const { compileBpf } = await import(pathToFileURL(`${root}packages/testkit/dist/compile.js`).href);
const obj = compileBpf(`${buildDir}object10.c`, { source: src });
const harnessSrc = `${root}packages/object/src/test/libbpf-harness.c`;
const harness = build('libbpf-harness', [readFileSync(harnessSrc)], (out) =>
  execFileSync(CC || 'cc', ['-O2', '-o', out, harnessSrc, '-lbpf']),
);

const { BpfObject } = await import(pathToFileURL(`${root}packages/object/dist/index.js`).href);

function bpfjsRound() {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < loads; i++) {
    const coll = BpfObject.open(obj).load();
    coll.close();
  }
  return Number(process.hrtime.bigint() - t0) / loads;
}
function libbpfRound() {
  return Number(execFileSync(harness, ['bench', obj, String(loads)], { encoding: 'utf8' }).trim()) / loads;
}

// Warm-up (JIT, kernel caches), then alternate.
bpfjsRound();
libbpfRound();
const b = [];
const l = [];
for (let r = 0; r < rounds; r++) {
  if (r % 2 === 0) {
    b.push(bpfjsRound());
    l.push(libbpfRound());
  } else {
    l.push(libbpfRound());
    b.push(bpfjsRound());
  }
}
const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
const report = {
  id: 'object_load',
  title: 'open + load + close, 10 programs + 10 maps',
  config: { quick, loads, rounds },
  bpfjs: { median: median(b), min: Math.min(...b), max: Math.max(...b) },
  libbpf: { median: median(l), min: Math.min(...l), max: Math.max(...l) },
};
report.ratio = report.bpfjs.median / report.libbpf.median;
report.target = TARGET;
if (json) console.log(JSON.stringify(report));
else {
  const us = (ns) => `${(ns / 1000).toFixed(0)} µs`;
  console.log(`\n${report.title}${quick ? ' (quick: not meaningful)' : ''}`);
  console.log(
    `  libbpf ${us(report.libbpf.median)}   bpfjs ${us(report.bpfjs.median)}   bpfjs/libbpf ${report.ratio.toFixed(2)} (target <= ${TARGET})`,
  );
}
