// The bpfjs side: the same operations as the C baseline, through the BUILT packages
// (packages/*/dist, as a user gets them), in two variants per operation:
//   <op>:sys  the @bpfjs/sys wrapper (raw layer),
//   <op>:obj  the @bpfjs/link object API.
// Setup, all through bpfjs: two anonymous netns (NetNs.create), two sk_lookup programs built with
// @bpfjs/asm and loaded with Program.load, one primary link in netns A, 64 links in netns B.
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { heapGrowth, serve, timeLoop } from './protocol.mjs';

// BENCH_PACKAGES_ROOT: a directory with another build's packages/*/dist (e.g. a patched copy of
// the workspace, to measure a proposed change without touching the checkout).
const { BENCH_PACKAGES_ROOT } = process.env;
const root = BENCH_PACKAGES_ROOT
  ? pathToFileURL(`${BENCH_PACKAGES_ROOT.replace(/\/+$/, '')}/`)
  : new URL('../../', import.meta.url);
const LISTING_LINKS = 64;

/** Imports a workspace package's built ESM entry (the same file a dependent package resolves to). */
async function load(name) {
  const file = new URL(`packages/${name}/dist/index.js`, root);
  if (!existsSync(file)) throw new Error(`packages/${name}/dist is not built (run pnpm build)`);
  return import(pathToFileURL(file.pathname).href);
}

let ops;
let reason;
try {
  ops = setup({
    sys: await load('sys'),
    uapi: await load('uapi'),
    asm: await load('asm'),
    netns: await load('netns'),
    link: await load('link'),
    map: await load('map'),
  });
} catch (err) {
  // Keep the protocol alive so the harness reports n/a (with the reason) instead of failing outright.
  reason = `bpfjs side unavailable: ${String(err?.stack ?? err)
    .split('\n')
    .slice(0, 2)
    .join(' ')}`;
}
if (ops) await serve('bpfjs', ops.table, ops.ready);
else await serve('bpfjs', {}, { unavailable: reason }, reason);
ops?.cleanup();

function setup({ sys, uapi, asm, netns, link, map }) {
  const { BpfMap } = map;
  const { NetNs } = netns;
  const { Program, attachNetNs, queryPrograms, links } = link;
  const BPF_SK_LOOKUP = uapi.BPF_SK_LOOKUP ?? uapi.bpf_attach_type?.BPF_SK_LOOKUP;

  // --- setup -------------------------------------------------------------------------------
  const nsA = NetNs.create();
  const nsB = NetNs.create();
  const instructions = [asm.asm.mov64Imm(asm.R0, 1), asm.asm.exit()]; // r0 = SK_PASS; exit
  // The verifier gives up with EAGAIN when a signal is pending (V8's --cpu-prof sampler sends
  // SIGPROF all the time); libbpf retries PROG_LOAD up to 5 times for that reason, so do we here.
  const load = (name) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return Program.load({ type: 'sk_lookup', expectedAttachType: 'sk_lookup', instructions, name });
      } catch (err) {
        if (err?.code !== 'EAGAIN' || attempt >= 5) throw err;
      }
    }
  };
  const progP = load('bpfjs_p');
  const progQ = load('bpfjs_q');
  const primary = attachNetNs(progP, nsA, 'sk_lookup');
  const listing = [];
  for (let i = 0; i < LISTING_LINKS; i++) listing.push(attachNetNs(progP, nsB, 'sk_lookup'));

  const fdOf = (x) => (typeof x.fd === 'number' ? x.fd : x.fd.fd);
  const primaryFd = primary.fd; // Fd (or number), passed as users would pass it
  const progFds = [progQ.fd, progP.fd];
  const progs = [progQ, progP];
  let flipSys = 0;
  let flipObj = 0;

  const checkInfo = (info) => {
    const ino = info.netnsInode ?? info.netns?.netnsIno ?? info.netnsIno;
    if (ino !== nsA.inode) throw new Error(`link info netns inode ${ino}, expected ${nsA.inode}`);
    // sys reports the kernel's number, the object API bpftool's name ('netns'): compare as numbers.
    const type =
      typeof info.type === 'number'
        ? info.type
        : Number(Object.entries(uapi.bpf_link_type_name).find(([, name]) => name === info.type)?.[0]);
    return { type, netnsIno: ino };
  };
  const progCount = (q) => (q.programIds ?? q.progIds ?? q.ids ?? []).length;

  const haveWithFdById = typeof sys.withFdById === 'function';
  // --- maps ----------------------------------------------------------------------------------
  const DUMP_ENTRIES = 100_000;
  const DUMP_BATCH = 4096;
  const hash = BpfMap.create({ type: 'hash', key: 'u32', value: 'u64', maxEntries: 16 });
  hash.set(1, 42n);
  const percpu = BpfMap.create({ type: 'percpu_array', key: 'u32', value: 'u64', maxEntries: 1 });
  const dump = BpfMap.create({ type: 'hash', key: 'u32', value: 'u64', maxEntries: DUMP_ENTRIES });
  for (let i = 0; i < DUMP_ENTRIES; i++) dump.set(i, BigInt(i));
  const u32 = (n) => new Uint8Array(new Uint32Array([n]).buffer);
  const sysKey1 = u32(1);
  const sysKey2 = u32(2);
  const sysValue = new Uint8Array(8);
  const sysSetValue = new Uint8Array(8);
  const sysSetView = new DataView(sysSetValue.buffer);
  const sysPercpuKey = u32(0);
  const sysPercpuValue = new Uint8Array(8 * percpu.cpus);
  const dumpCheck = (seen, iters) => ({ entriesPerSweep: iters ? seen / iters : 0 });
  const mapOps = {
    'map_get:sys'(iters) {
      const r = timeLoop(iters, () => sys.mapLookupElem(hash.fd, sysKey1, sysValue));
      return { ...r, check: { value: Number(new DataView(sysValue.buffer).getBigUint64(0, true)) } };
    },
    'map_get:obj'(iters) {
      let v;
      const r = timeLoop(iters, () => {
        v = hash.get(1);
      });
      return { ...r, check: { value: Number(v) } };
    },
    'map_set:sys': (iters) =>
      timeLoop(iters, (i) => {
        sysSetView.setBigUint64(0, BigInt(i), true);
        sys.mapUpdateElem(hash.fd, sysKey2, sysSetValue);
      }),
    'map_set:obj': (iters) => timeLoop(iters, (i) => hash.set(2, BigInt(i))),
    'map_percpu_get:sys'(iters) {
      const r = timeLoop(iters, () => sys.mapLookupElem(percpu.fd, sysPercpuKey, sysPercpuValue));
      return { ...r, check: { cpus: percpu.cpus } };
    },
    'map_percpu_get:obj'(iters) {
      let v;
      const r = timeLoop(iters, () => {
        v = percpu.get(0);
      });
      return { ...r, check: { cpus: v.length } };
    },
    'map_dump:sys'(iters) {
      const inBatch = new Uint8Array(8);
      const outBatch = new Uint8Array(8);
      const keys = new Uint8Array(4 * DUMP_BATCH);
      const values = new Uint8Array(8 * DUMP_BATCH);
      let seen = 0;
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < iters; i++) {
        let first = true;
        for (;;) {
          const r = sys.mapLookupBatch(dump.fd, {
            inBatch: first ? null : inBatch,
            outBatch,
            keys,
            values,
            count: DUMP_BATCH,
          });
          seen += r.count;
          if (r.done) break;
          inBatch.set(outBatch);
          first = false;
        }
      }
      return { ns: Number(process.hrtime.bigint() - t0), count: seen, check: dumpCheck(seen, iters) };
    },
    'map_dump:obj'(iters) {
      let seen = 0;
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < iters; i++) for (const _ of dump.entries({ batchSize: DUMP_BATCH })) seen++;
      return { ns: Number(process.hrtime.bigint() - t0), count: seen, check: dumpCheck(seen, iters) };
    },
    'map_dump_elem:sys'(iters) {
      const cursor = new Uint8Array(4);
      const next = new Uint8Array(4);
      const value = new Uint8Array(8);
      let seen = 0;
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < iters; i++) {
        let first = true;
        while (sys.mapGetNextKey(dump.fd, first ? null : cursor, next)) {
          sys.mapLookupElem(dump.fd, next, value);
          seen++;
          cursor.set(next);
          first = false;
        }
      }
      return { ns: Number(process.hrtime.bigint() - t0), count: seen, check: dumpCheck(seen, iters) };
    },
    'map_dump_elem:obj'(iters) {
      let seen = 0;
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < iters; i++) for (const _ of dump.entries()) seen++;
      return { ns: Number(process.hrtime.bigint() - t0), count: seen, check: dumpCheck(seen, iters) };
    },
    'map_heap:sys': (iters) => heapGrowth(iters, () => sys.mapLookupElem(hash.fd, sysKey1, sysValue)),
    'map_heap:obj': (iters) => heapGrowth(iters, () => hash.get(1)),
  };
  const ops = {
    ...mapOps,
    'info:sys'(iters) {
      let info;
      const r = timeLoop(iters, () => {
        info = sys.linkGetInfo(primaryFd);
      });
      return { ...r, check: checkInfo(info) };
    },
    'info:obj'(iters) {
      let info;
      const r = timeLoop(iters, () => {
        info = primary.info();
      });
      return { ...r, check: checkInfo(info) };
    },
    'update:sys'(iters) {
      return timeLoop(iters, () => {
        sys.linkUpdate({ linkFd: primaryFd, newProgFd: progFds[flipSys] });
        flipSys ^= 1;
      });
    },
    'update:obj'(iters) {
      return timeLoop(iters, () => {
        primary.update(progs[flipObj]);
        flipObj ^= 1;
      });
    },
    'query:sys': (iters) => querySys(nsA, 1, iters),
    'query64:sys': (iters) => querySys(nsB, LISTING_LINKS, iters),
    'query:obj': (iters) => queryObj(nsA, 1, iters),
    'query64:obj': (iters) => queryObj(nsB, LISTING_LINKS, iters),
    // The sys-level listing: next id, open by id for one info call, close. With withFdById (sys's
    // path for short-lived fds: a raw number closed in finally, no Fd object) when this build has
    // it, else linkGetFdById + Fd.close().
    'links:sys'(iters) {
      const skip = (err) => {
        // ENOENT: gone since GET_NEXT_ID; EAGAIN: still being created (its id is not settled).
        if (err?.code !== 'ENOENT' && err?.code !== 'EAGAIN') throw err;
      };
      const infoOf = (fd) => sys.linkGetInfo(fd);
      let seen = 0;
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < iters; i++) {
        let id = sys.linkGetNextId(0);
        while (id !== undefined) {
          if (haveWithFdById) {
            try {
              sys.withFdById('link', id, infoOf);
              seen++;
            } catch (err) {
              skip(err);
            }
          } else {
            let fd;
            try {
              fd = sys.linkGetFdById(id);
            } catch (err) {
              skip(err);
            }
            if (fd !== undefined) {
              try {
                sys.linkGetInfo(fd);
                seen++;
              } finally {
                fd.close();
              }
            }
          }
          id = sys.linkGetNextId(id);
        }
      }
      const t1 = process.hrtime.bigint();
      return {
        ns: Number(t1 - t0),
        count: seen,
        check: { linksPerSweep: iters ? Math.floor(seen / iters) : 0 },
      };
    },
    'links:obj'(iters) {
      let seen = 0;
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < iters; i++) {
        for (const entry of links()) {
          seen++;
          // An entry that owns an fd must be closed by the caller; one that only carries info needs nothing.
          if (typeof entry?.close === 'function') entry.close();
        }
      }
      const t1 = process.hrtime.bigint();
      return {
        ns: Number(t1 - t0),
        count: seen,
        check: { linksPerSweep: iters ? Math.floor(seen / iters) : 0 },
      };
    },
    'create_close:sys'(iters) {
      const progFd = progP.fd;
      const targetFd = nsA.fd;
      return timeLoop(iters, () => {
        sys.linkCreate({ progFd, targetFd, attachType: BPF_SK_LOOKUP }).close();
      });
    },
    'create_close:obj'(iters) {
      return timeLoop(iters, () => {
        attachNetNs(progP, nsA, 'sk_lookup').close();
      });
    },
    'heap:sys': (iters) => heapGrowth(iters, () => sys.linkGetInfo(primaryFd)),
    'heap:obj': (iters) => heapGrowth(iters, () => primary.info()),
  };

  function querySys(ns, expect, iters) {
    let q;
    const r = timeLoop(iters, () => {
      q = sys.progQuery({ targetFd: ns.fd, attachType: BPF_SK_LOOKUP });
    });
    if (progCount(q) !== expect)
      throw new Error(`progQuery returned ${progCount(q)} programs, expected ${expect}`);
    return { ...r, check: { progCount: progCount(q) } };
  }
  function queryObj(ns, expect, iters) {
    let q;
    const r = timeLoop(iters, () => {
      q = queryPrograms(ns, 'sk_lookup');
    });
    if (progCount(q) !== expect)
      throw new Error(`queryPrograms returned ${progCount(q)} programs, expected ${expect}`);
    return { ...r, check: { progCount: progCount(q) } };
  }

  const cleanup = () => {
    for (const l of listing) l.close();
    primary.close();
    progP.close();
    progQ.close();
    nsA.close();
    nsB.close();
    hash.close();
    percpu.close();
    dump.close();
  };
  return {
    table: ops,
    ready: {
      netnsIno: nsA.inode,
      primaryFd: fdOf(primary),
      listing: listing.length,
      linksSys: haveWithFdById
        ? 'linkGetNextId + withFdById(linkGetInfo)'
        : 'linkGetNextId + linkGetFdById + linkGetInfo + close',
    },
    cleanup,
  };
}
