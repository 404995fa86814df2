#!/usr/bin/env node
// Where the time of a bpfjs call goes: the pieces a wrapper is made of, each timed alone in a
// tight loop (ns per piece). The sampling profiler cannot split a sub-microsecond call whose
// time is mostly inside one native koffi call, so the pieces are measured directly.
//
//   node --expose-gc bench/js/anatomy.mjs          (run as root: it makes real bpf calls)
//   chrt -f 10 node --expose-gc bench/js/anatomy.mjs   (steadier on a loaded machine)
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const root = new URL('../../', import.meta.url);
const pkg = (name) => import(pathToFileURL(new URL(`packages/${name}/dist/index.js`, root).pathname).href);
const sys = await pkg('sys');
const uapi = await pkg('uapi');
const require = createRequire(new URL('packages/sys/package.json', root));
const koffi = require('koffi');

const NR_BPF = { x64: 321, arm64: 280 }[process.arch];
const libc = koffi.load('libc.so.6');
const syscallU8 = libc.func('long syscall(long nr, int cmd, void *attr, unsigned int size)');
const syscallPtr = libc.func('long syscall(long nr, int cmd, intptr_t attr, unsigned int size)');
const getppid = libc.func('int getppid()');

// Results go here so the optimizer cannot drop the work.
globalThis.anatomySink = undefined;
let sink;
const rows = [];
function time(name, fn, n = 300_000) {
  for (let i = 0; i < Math.min(n, 50_000); i++) fn(i);
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 5; round++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) fn(i);
    const ns = Number(process.hrtime.bigint() - t0) / n;
    if (ns < best) best = ns;
  }
  rows.push([name, best]);
}

// A real, cheap bpf call: OBJ_GET_INFO_BY_FD on a closed-range fd fails fast with EBADF in the
// kernel; the happy path needs a link, which the benchmark proper measures.
const attr = new Uint8Array(new ArrayBuffer(16));
const attrView = new DataView(attr.buffer);
attrView.setUint32(0, 0x7ffffff0, true);
const attrAddr = Number(koffi.address(attr));
const info = new Uint8Array(new ArrayBuffer(64));
const infoView = new DataView(info.buffer);
const reg = new FinalizationRegistry(() => {});
class Owner {
  constructor(n) {
    this.n = n;
  }
}

time('koffi: getppid() (cheapest syscall, for scale)', () => getppid());
time('koffi: bpf(EBADF), attr as Uint8Array (void *)', () => syscallU8(NR_BPF, 15, attr, 16));
time('koffi: bpf(EBADF), attr as address number (intptr_t)', () => syscallPtr(NR_BPF, 15, attrAddr, 16));
time(
  'sys.bpf(): checks + getLibc() + the call (EBADF caught)',
  () => {
    try {
      sys.bpf(15, attr, 16);
    } catch (e) {
      sink = e;
    }
  },
  20_000,
);
time(
  'new BpfError(...) (thrown for every failed call)',
  () => {
    sink = new sys.BpfError(2, 'bpf', { command: 'BPF_LINK_GET_NEXT_ID' });
  },
  50_000,
);
time('new ArrayBuffer(16) + Uint8Array + DataView (a new Struct)', () => {
  const b = new Uint8Array(new ArrayBuffer(16));
  sink = new DataView(b.buffer);
});
time('new Uint8Array(16) (on the V8 heap: address not stable)', () => {
  sink = new Uint8Array(16);
});
time('koffi.address(buf) (BigInt)', () => {
  sink = koffi.address(info);
});
time('info.fill(0) (64 bytes)', () => info.fill(0));
time('DataView.setBigUint64 (pointer field)', () => attrView.setBigUint64(8, 0x7f0000001000n, true));
time('DataView.setUint32 x2', (i) => {
  attrView.setUint32(0, i, true);
  attrView.setUint32(4, 64, true);
});
time('decode netns link info into { ..., netns: {...} }', () => {
  const type = infoView.getUint32(0, true);
  const o = { type, id: infoView.getUint32(4, true), progId: infoView.getUint32(8, true) };
  if (type === 0)
    o.netns = { netnsIno: infoView.getUint32(16, true), attachType: infoView.getUint32(20, true) };
  sink = o;
});
time('layout lookup: BpfLinkInfo.fields["netns.netns_ino"].offset', () => {
  sink = uapi.BpfLinkInfo.fields['netns.netns_ino'].offset;
});
time('FinalizationRegistry register + unregister (an Fd lifecycle)', (i) => {
  const o = new Owner(i);
  reg.register(o, { number: i, stack: undefined }, o);
  reg.unregister(o);
  sink = o;
});
time('new sys.Fd(n) + disown() (register + unregister + channels)', () => {
  const fd = new sys.Fd(1_000_000);
  sink = fd.disown();
});
time('64 x getUint32 into a new number[] (PROG_QUERY ids)', () => {
  const a = new Array(64);
  for (let i = 0; i < 64; i++) a[i] = infoView.getUint32((i * 4) & 63, true);
  sink = a;
});

const w = Math.max(...rows.map((r) => r[0].length));
console.log(`anatomy of a bpfjs call (best of 5 loops, ns per piece) — node ${process.version}\n`);
for (const [name, ns] of rows) console.log(`${name.padEnd(w)}  ${ns.toFixed(1).padStart(8)} ns`);
globalThis.anatomySink = sink;
