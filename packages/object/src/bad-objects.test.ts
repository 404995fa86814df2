// Bad objects give a typed BpfObjectError naming where the problem is; nothing else escapes.
import { readFileSync } from 'node:fs';
import { requireExecutable } from '@bpfjs/testkit';
import { expect } from 'vitest';
import { BpfObject, BpfObjectError, sectionDef } from './index.js';
import { compile } from './test/compile.js';

const gate = requireExecutable('clang', 'apt-get install clang');

function failure(bytes: Uint8Array): BpfObjectError {
  try {
    BpfObject.open(bytes);
  } catch (e) {
    if (BpfObjectError.isInstance(e)) return e;
    throw e;
  }
  throw new Error('opened');
}

function sectionHeader(bytes: Uint8Array, name: string): number {
  const v = new DataView(bytes.buffer, bytes.byteOffset);
  const shoff = Number(v.getBigUint64(40, true));
  const shnum = v.getUint16(60, true);
  const strOff = Number(v.getBigUint64(shoff + v.getUint16(62, true) * 64 + 24, true));
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * 64;
    const n = strOff + v.getUint32(o, true);
    const s = Buffer.from(bytes.subarray(n, bytes.indexOf(0, n))).toString();
    if (s === name) return o;
  }
  throw new Error(`no section ${name}`);
}

gate.describe('bad objects', () => {
  const good = () => new Uint8Array(readFileSync(compile('sk_lookup')));

  gate.it('garbage, truncation, class, byte order and machine', () => {
    expect(failure(new Uint8Array(0)).code).toBe('ERR_BPFJS_ELF_INVALID');
    expect(failure(Buffer.from('hello, this is not an ELF object at all')).message).toMatch(/bad magic/);
    const g = good();
    expect(failure(g.subarray(0, 40)).message).toMatch(/truncated/);
    expect(failure(g.subarray(0, g.byteLength - 100)).message).toMatch(/past the end/);
    const be = good();
    be[5] = 2;
    expect(failure(be).message).toMatch(/big-endian/);
    const c32 = good();
    c32[4] = 1;
    expect(failure(c32).message).toMatch(/ELFCLASS64/);
    const x86 = good();
    x86[18] = 62;
    x86[19] = 0;
    const e = failure(x86);
    expect(e.message).toMatch(/machine 62 is not EM_BPF/);
    expect(e.location.offset).toBe(18);
  });

  gate.it('a section past the end names the section', () => {
    const b = good();
    const sh = sectionHeader(b, 'sk_lookup');
    new DataView(b.buffer, b.byteOffset).setBigUint64(sh + 32, 1n << 20n, true);
    const e = failure(b);
    expect(e.code).toBe('ERR_BPFJS_ELF_INVALID');
    expect(e.message).toMatch(/runs past the end of the file/);
    expect(e.location.section).toMatch(/^#\d+$/);
  });

  gate.it('a relocation against a missing symbol', () => {
    const b = good();
    const sh = sectionHeader(b, '.relsk_lookup');
    const v = new DataView(b.buffer, b.byteOffset);
    const off = Number(v.getBigUint64(sh + 24, true));
    v.setUint32(off + 12, 9999, true); // r_info symbol index of the first relocation
    const e = failure(b);
    expect(e.message).toMatch(/symbol #9999/);
    expect(e.location.section).toBe('.relsk_lookup');
  });

  gate.it('BTF that does not parse', () => {
    const b = good();
    const sh = sectionHeader(b, '.BTF');
    const off = Number(new DataView(b.buffer, b.byteOffset).getBigUint64(sh + 24, true));
    b[off] = 0x12;
    const e = failure(b);
    expect(e.code).toBe('ERR_BPFJS_OBJECT_BTF');
    expect(e.location.section).toBe('.BTF');
  });

  gate.it('an unknown program section is named', () => {
    const path = compile('unknown_section', {
      source:
        '#include <linux/bpf.h>\n#include <bpf/bpf_helpers.h>\nSEC("bogus/thing") int f(void *ctx) { return 0; }\nchar _l[] SEC("license") = "GPL";\n',
    });
    const e = failure(readFileSync(path));
    expect(e.code).toBe('ERR_BPFJS_OBJECT_UNKNOWN_SECTION');
    expect(e.message).toMatch(/'bogus\/thing'/);
    expect(e.location.section).toBe('bogus/thing');
  });

  gate.it('a relocation against a map the object does not define', () => {
    const path = compile('extern_map', {
      source:
        '#include <linux/bpf.h>\n#include <bpf/bpf_helpers.h>\nextern int missing;\nSEC("socket") int f(void *ctx) { return missing; }\nchar _l[] SEC("license") = "GPL";\n',
    });
    const obj = BpfObject.open(path);
    // externs other than .kconfig/.ksyms fail at load, naming the symbol, before any syscall
    expect(() => obj.load()).toThrow(
      expect.objectContaining({
        code: 'ERR_BPFJS_OBJECT_RELOCATION',
        location: expect.objectContaining({ symbol: 'missing' }),
      }),
    );
  });

  // Seeded, replayable mutation fuzz: flip bytes of valid objects; open() either works or throws a
  // BpfObjectError — never another error, never a crash. Replay one case with BPFJS_FUZZ_SEED.
  gate.it('mutation fuzz (seeded)', () => {
    const ITERATIONS = Number(process.env.BPFJS_FUZZ_ITERATIONS ?? 600);
    const seed = Number(process.env.BPFJS_FUZZ_SEED ?? 0x5eed);
    let state = seed >>> 0;
    const rand = () => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      return state / 2 ** 32;
    };
    const inputs = ['sk_lookup', 'globals', 'flow_dissector'].map(
      (n) => new Uint8Array(readFileSync(compile(n))),
    );
    let opened = 0;
    let refused = 0;
    for (let i = 0; i < ITERATIONS; i++) {
      const base = inputs[i % inputs.length]!;
      const b = Uint8Array.from(base);
      const flips = 1 + Math.floor(rand() * 8);
      for (let f = 0; f < flips; f++) b[Math.floor(rand() * b.byteLength)] = Math.floor(rand() * 256);
      try {
        BpfObject.open(b);
        opened++;
      } catch (e) {
        if (!BpfObjectError.isInstance(e)) {
          throw new Error(`case ${i} (seed ${seed}): ${(e as Error).stack}`);
        }
        refused++;
      }
    }
    expect(opened + refused).toBe(ITERATIONS);
    expect(refused).toBeGreaterThan(0);
  });
});

gate.describe('SEC() names', () => {
  gate.it('map to libbpf program and attach types', () => {
    expect(sectionDef('sk_lookup')).toMatchObject({ progType: 30, expectedAttachType: 36 });
    expect(sectionDef('kprobe/do_unlinkat')).toMatchObject({ progType: 2, attachTarget: 'do_unlinkat' });
    expect(sectionDef('fentry/tcp_connect')).toMatchObject({
      progType: 26,
      attachBtf: true,
      attachTarget: 'tcp_connect',
    });
    expect(sectionDef('xdp.frags')).toMatchObject({ progType: 6, progFlags: 32 });
    expect(sectionDef('cgroup/connect4')).toMatchObject({ progType: 18 });
    expect(() => sectionDef('kprobex')).toThrow(
      expect.objectContaining({ code: 'ERR_BPFJS_OBJECT_UNKNOWN_SECTION' }),
    );
    expect(() => sectionDef('xdp/foo')).toThrow(/'xdp\/foo'/);
  });
});
