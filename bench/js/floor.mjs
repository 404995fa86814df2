// The floor: the same bpf(2) calls as the C baseline, each through ONE bare koffi call with an attr
// buffer encoded before the timed loop. No bpfjs code at all (not even for setup): this is what
// calling the kernel from JS costs before any library work (encoding, decoding, checks, objects).
//
// koffi is taken from @bpfjs/sys's own dependency so the floor measures the same koffi build.
import { fstatSync, openSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { heapGrowth, serve, timeLoop } from './protocol.mjs';

const root = new URL('../../', import.meta.url);
const require = createRequire(new URL('packages/sys/package.json', root));
const koffi = require('koffi');

function koffiVersion() {
  const main = require.resolve('koffi');
  const pkg = JSON.parse(readFileSync(new URL('package.json', pathToFileURL(main)), 'utf8'));
  return pkg.version;
}

const NR_BPF = { x64: 321, arm64: 280 }[process.arch];
if (NR_BPF === undefined) throw new Error(`no bpf syscall number for ${process.arch}`);
const CLONE_NEWNET = 0x40000000;
// bpf commands, program/attach/link types (linux/bpf.h; stable UAPI numbers)
const BPF_PROG_LOAD = 5;
const BPF_OBJ_GET_INFO_BY_FD = 15;
const BPF_PROG_QUERY = 16;
const BPF_LINK_CREATE = 28;
const BPF_LINK_UPDATE = 29;
const BPF_LINK_GET_FD_BY_ID = 30;
const BPF_LINK_GET_NEXT_ID = 31;
const BPF_PROG_TYPE_SK_LOOKUP = 30;
const BPF_SK_LOOKUP = 36;
const BPF_LINK_TYPE_NETNS = 5;
const ENOENT = 2;
const LISTING_LINKS = 64;

// Attr sizes as the C baseline computed them from its headers (offsetofend), passed by run.mjs.
const sizes = { info: 16, link_update: 16, query: 40, link_create: 48, open_flags: 12, linkInfo: 48 };
const { BENCH_ATTR_SIZES } = process.env;
if (BENCH_ATTR_SIZES) Object.assign(sizes, JSON.parse(BENCH_ATTR_SIZES));

const libc = koffi.load('libc.so.6');
// The same declaration @bpfjs/sys binds (non-variadic; int cmd, unsigned int size).
const syscall4 = libc.func('long syscall(long nr, int cmd, void *attr, unsigned int size)');
const close = libc.func('int close(int fd)');
const unshare = libc.func('int unshare(int flags)');

/** Off-heap buffer whose address never moves (small `new Uint8Array(n)` may live on the V8 heap). */
function stable(size) {
  const bytes = new Uint8Array(new ArrayBuffer(size));
  return { bytes, view: new DataView(bytes.buffer), addr: koffi.address(bytes) };
}

function bpf(cmd, attr, size) {
  const r = syscall4(NR_BPF, cmd, attr.bytes, size);
  if (r < 0) {
    const errno = koffi.errno();
    const err = new Error(`bpf cmd ${cmd} failed: errno ${errno}`);
    err.errno = errno;
    throw err;
  }
  return Number(r);
}

function fail(what) {
  throw new Error(`${what}: errno ${koffi.errno()}`);
}

function enterNewNetns() {
  if (unshare(CLONE_NEWNET) !== 0) throw new Error(`unshare: errno ${koffi.errno()}`);
  const fd = openSync('/proc/thread-self/ns/net', 'r');
  return { fd, ino: Number(fstatSync(fd).ino) };
}

function loadSkLookup(name) {
  const insns = stable(16);
  insns.bytes.set([0xb7, 0x00, 0, 0, 1, 0, 0, 0]); // r0 = 1 (SK_PASS)
  insns.bytes.set([0x95, 0, 0, 0, 0, 0, 0, 0], 8); // exit
  const license = stable(4);
  license.bytes.set([0x47, 0x50, 0x4c, 0]); // "GPL"
  const attr = stable(128);
  attr.view.setUint32(0, BPF_PROG_TYPE_SK_LOOKUP, true);
  attr.view.setUint32(4, 2, true);
  attr.view.setBigUint64(8, insns.addr, true);
  attr.view.setBigUint64(16, license.addr, true);
  attr.bytes.set(new TextEncoder().encode(name), 48);
  attr.view.setUint32(68, BPF_SK_LOOKUP, true);
  return bpf(BPF_PROG_LOAD, attr, 72);
}

function linkCreateAttr(progFd, targetFd) {
  const attr = stable(Math.max(sizes.link_create, 16));
  attr.view.setUint32(0, progFd, true);
  attr.view.setUint32(4, targetFd, true);
  attr.view.setUint32(8, BPF_SK_LOOKUP, true);
  return attr;
}

// --- setup ---------------------------------------------------------------------------------
const netnsA = enterNewNetns();
const netnsB = enterNewNetns();
const progP = loadSkLookup('floor_p');
const progQ = loadSkLookup('floor_q');
const createInA = linkCreateAttr(progP, netnsA.fd);
const primaryLink = bpf(BPF_LINK_CREATE, createInA, sizes.link_create);
const createInB = linkCreateAttr(progP, netnsB.fd);
const listing = [];
for (let i = 0; i < LISTING_LINKS; i++) listing.push(bpf(BPF_LINK_CREATE, createInB, sizes.link_create));

// --- pre-encoded attrs ---------------------------------------------------------------------
const linkInfo = stable(Math.max(sizes.linkInfo, 48));
const infoAttr = stable(16);
infoAttr.view.setUint32(0, primaryLink, true);
infoAttr.view.setUint32(4, linkInfo.bytes.length, true);
infoAttr.view.setBigUint64(8, linkInfo.addr, true);

const updateAttrs = [progQ, progP].map((progFd) => {
  const attr = stable(16);
  attr.view.setUint32(0, primaryLink, true);
  attr.view.setUint32(4, progFd, true);
  return attr;
});

const ids = stable(4 * (LISTING_LINKS + 8));
function queryAttr(targetFd) {
  const attr = stable(Math.max(sizes.query, 32));
  attr.view.setUint32(0, targetFd, true);
  attr.view.setUint32(4, BPF_SK_LOOKUP, true);
  attr.view.setBigUint64(16, ids.addr, true);
  return attr;
}
const queryA = queryAttr(netnsA.fd);
const queryB = queryAttr(netnsB.fd);

const nextIdAttr = stable(16);
const fdByIdAttr = stable(16);
const listInfo = stable(Math.max(sizes.linkInfo, 48));
const listInfoAttr = stable(16);
listInfoAttr.view.setBigUint64(8, listInfo.addr, true);

let updateFlip = 0;

function query(attr, expect, iters) {
  const r = timeLoop(iters, () => {
    attr.view.setUint32(24, LISTING_LINKS + 8, true); // prog_cnt in: capacity (the kernel writes it back)
    if (syscall4(NR_BPF, BPF_PROG_QUERY, attr.bytes, sizes.query) !== 0) fail('PROG_QUERY');
  });
  const cnt = attr.view.getUint32(24, true);
  if (cnt !== expect) throw new Error(`PROG_QUERY returned ${cnt} programs, expected ${expect}`);
  return { ...r, check: { progCount: cnt } };
}

// --- maps ------------------------------------------------------------------------------------
const BPF_MAP_CREATE = 0;
const BPF_MAP_LOOKUP_ELEM = 1;
const BPF_MAP_UPDATE_ELEM = 2;
const BPF_MAP_GET_NEXT_KEY = 4;
const BPF_MAP_LOOKUP_BATCH = 24;
const BPF_MAP_TYPE_HASH = 1;
const BPF_MAP_TYPE_PERCPU_ARRAY = 6;
const DUMP_ENTRIES = 100_000;
const DUMP_BATCH = 4096;
const ELEM_SIZE = 32; // offsetofend(union bpf_attr, flags)
const BATCH_SIZE = 56; // offsetofend(union bpf_attr, batch)

function mapCreate(type, keySize, valueSize, maxEntries) {
  const attr = stable(72);
  attr.view.setUint32(0, type, true);
  attr.view.setUint32(4, keySize, true);
  attr.view.setUint32(8, valueSize, true);
  attr.view.setUint32(12, maxEntries, true);
  return bpf(BPF_MAP_CREATE, attr, 72);
}
function elemAttr(fd, key, value, flags = 0) {
  const attr = stable(ELEM_SIZE);
  // The attr holds only the addresses: keep the buffers alive as long as the attr.
  attr.keep = [key, value];
  attr.view.setUint32(0, fd, true);
  attr.view.setBigUint64(8, key.addr, true);
  attr.view.setBigUint64(16, value.addr, true);
  attr.view.setBigUint64(24, BigInt(flags), true);
  return attr;
}
const possible = readFileSync('/sys/devices/system/cpu/possible', 'utf8').trim();
const ncpus = Math.max(...possible.split(',').map((p) => Number(p.split('-').at(-1)) + 1));
const mapHash = mapCreate(BPF_MAP_TYPE_HASH, 4, 8, 16);
const mapPercpu = mapCreate(BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 1);
const mapDump = mapCreate(BPF_MAP_TYPE_HASH, 4, 8, DUMP_ENTRIES);
const hashKey = stable(4);
hashKey.view.setUint32(0, 1, true);
const hashValue = stable(8);
hashValue.view.setBigUint64(0, 42n, true);
const getAttr = elemAttr(mapHash, hashKey, hashValue);
bpf(BPF_MAP_UPDATE_ELEM, getAttr, ELEM_SIZE);
const setKey = stable(4);
setKey.view.setUint32(0, 2, true);
const setValue = stable(8);
const setAttr = elemAttr(mapHash, setKey, setValue);
const percpuKey = stable(4);
const percpuValue = stable(8 * ncpus);
const percpuAttr = elemAttr(mapPercpu, percpuKey, percpuValue);
{
  const k = stable(4);
  const v = stable(8);
  const a = elemAttr(mapDump, k, v);
  for (let i = 0; i < DUMP_ENTRIES; i++) {
    k.view.setUint32(0, i, true);
    v.view.setBigUint64(0, BigInt(i), true);
    bpf(BPF_MAP_UPDATE_ELEM, a, ELEM_SIZE);
  }
}
const batchIn = stable(8);
const batchOut = stable(8);
const batchKeys = stable(4 * DUMP_BATCH);
const batchValues = stable(8 * DUMP_BATCH);
const batchAttr = stable(BATCH_SIZE);
batchAttr.keep = [batchIn, batchOut, batchKeys, batchValues];
batchAttr.view.setBigUint64(8, batchOut.addr, true);
batchAttr.view.setBigUint64(16, batchKeys.addr, true);
batchAttr.view.setBigUint64(24, batchValues.addr, true);
batchAttr.view.setUint32(36, mapDump, true);
const dumpCursor = stable(4);
const dumpNext = stable(4);
const dumpValue = stable(8);
const nextAttr = stable(24);
nextAttr.keep = [dumpCursor, dumpNext];
nextAttr.view.setUint32(0, mapDump, true);
nextAttr.view.setBigUint64(16, dumpNext.addr, true);
const dumpLookup = elemAttr(mapDump, dumpNext, dumpValue);

const mapOps = {
  map_get(iters) {
    const r = timeLoop(iters, () => {
      if (syscall4(NR_BPF, BPF_MAP_LOOKUP_ELEM, getAttr.bytes, ELEM_SIZE) !== 0) fail('MAP_LOOKUP_ELEM');
    });
    return { ...r, check: { value: Number(hashValue.view.getBigUint64(0, true)) } };
  },
  map_set(iters) {
    return timeLoop(iters, (i) => {
      setValue.view.setBigUint64(0, BigInt(i), true);
      if (syscall4(NR_BPF, BPF_MAP_UPDATE_ELEM, setAttr.bytes, ELEM_SIZE) !== 0) fail('MAP_UPDATE_ELEM');
    });
  },
  map_percpu_get(iters) {
    const r = timeLoop(iters, () => {
      if (syscall4(NR_BPF, BPF_MAP_LOOKUP_ELEM, percpuAttr.bytes, ELEM_SIZE) !== 0) fail('MAP_LOOKUP_ELEM');
    });
    return { ...r, check: { cpus: ncpus } };
  },
  map_dump(iters) {
    let seen = 0;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iters; i++) {
      let first = true;
      for (;;) {
        batchAttr.view.setBigUint64(0, first ? 0n : batchIn.addr, true);
        batchAttr.view.setUint32(32, DUMP_BATCH, true);
        const err = syscall4(NR_BPF, BPF_MAP_LOOKUP_BATCH, batchAttr.bytes, BATCH_SIZE);
        if (err !== 0 && koffi.errno() !== ENOENT) fail('MAP_LOOKUP_BATCH');
        seen += batchAttr.view.getUint32(32, true);
        if (err !== 0) break;
        batchIn.bytes.set(batchOut.bytes);
        first = false;
      }
    }
    const t1 = process.hrtime.bigint();
    return { ns: Number(t1 - t0), count: seen, check: { entriesPerSweep: iters ? seen / iters : 0 } };
  },
  map_dump_elem(iters) {
    let seen = 0;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iters; i++) {
      nextAttr.view.setBigUint64(8, 0n, true);
      while (syscall4(NR_BPF, BPF_MAP_GET_NEXT_KEY, nextAttr.bytes, 24) === 0) {
        if (syscall4(NR_BPF, BPF_MAP_LOOKUP_ELEM, dumpLookup.bytes, ELEM_SIZE) === 0) seen++;
        dumpCursor.bytes.set(dumpNext.bytes);
        nextAttr.view.setBigUint64(8, dumpCursor.addr, true);
      }
    }
    const t1 = process.hrtime.bigint();
    return { ns: Number(t1 - t0), count: seen, check: { entriesPerSweep: iters ? seen / iters : 0 } };
  },
};

await serve(
  'floor',
  {
    ...mapOps,
    info(iters) {
      const r = timeLoop(iters, () => {
        if (syscall4(NR_BPF, BPF_OBJ_GET_INFO_BY_FD, infoAttr.bytes, sizes.info) !== 0)
          fail('OBJ_GET_INFO_BY_FD');
      });
      const type = linkInfo.view.getUint32(0, true);
      const netnsIno = linkInfo.view.getUint32(16, true);
      if (type !== BPF_LINK_TYPE_NETNS || netnsIno !== netnsA.ino) throw new Error('unexpected link info');
      return { ...r, check: { type, netnsIno } };
    },
    update(iters) {
      return timeLoop(iters, () => {
        if (syscall4(NR_BPF, BPF_LINK_UPDATE, updateAttrs[updateFlip].bytes, sizes.link_update) !== 0) {
          fail('LINK_UPDATE');
        }
        updateFlip ^= 1;
      });
    },
    query: (iters) => query(queryA, 1, iters),
    query64: (iters) => query(queryB, LISTING_LINKS, iters),
    links(iters) {
      let seen = 0;
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < iters; i++) {
        let id = 0;
        for (;;) {
          nextIdAttr.view.setUint32(0, id, true);
          if (syscall4(NR_BPF, BPF_LINK_GET_NEXT_ID, nextIdAttr.bytes, sizes.open_flags) !== 0) break;
          id = nextIdAttr.view.getUint32(4, true);
          fdByIdAttr.view.setUint32(0, id, true);
          const fd = syscall4(NR_BPF, BPF_LINK_GET_FD_BY_ID, fdByIdAttr.bytes, sizes.open_flags);
          if (fd < 0) continue; // vanished (ENOENT) or not settled yet (EAGAIN)
          listInfoAttr.view.setUint32(0, fd, true);
          listInfoAttr.view.setUint32(4, listInfo.bytes.length, true);
          const err = syscall4(NR_BPF, BPF_OBJ_GET_INFO_BY_FD, listInfoAttr.bytes, sizes.info);
          close(fd);
          if (err !== 0) fail('OBJ_GET_INFO_BY_FD');
          seen++;
        }
      }
      const t1 = process.hrtime.bigint();
      if (koffi.errno() !== ENOENT) throw new Error(`LINK_GET_NEXT_ID ended with errno ${koffi.errno()}`);
      return {
        ns: Number(t1 - t0),
        count: seen,
        check: { linksPerSweep: iters ? Math.floor(seen / iters) : 0 },
      };
    },
    create_close(iters) {
      return timeLoop(iters, () => {
        const fd = syscall4(NR_BPF, BPF_LINK_CREATE, createInA.bytes, sizes.link_create);
        if (fd < 0) fail('LINK_CREATE');
        close(fd);
      });
    },
    heap(iters) {
      return heapGrowth(iters, () => {
        if (syscall4(NR_BPF, BPF_OBJ_GET_INFO_BY_FD, infoAttr.bytes, sizes.info) !== 0)
          fail('OBJ_GET_INFO_BY_FD');
      });
    },
  },
  { netnsIno: netnsA.ino, koffi: koffiVersion(), listing: listing.length },
);
