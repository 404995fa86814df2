/**
 * The writer: exact round trips of the running kernel's vmlinux (copied records, and every record
 * re-encoded from its decoded form) and split BTF written on vmlinux and read back by bpftool with
 * `-B`. BTF written from scratch (every kind, replacement, refusals) is in `writer.host.test.ts`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireExecutable } from '@bpfjs/testkit';
import { describe, expect, it } from 'vitest';
import { Btf, BtfWriter, KERNEL_BTF_PATH } from './index.js';
import { bpftoolShape, bpftoolTypes } from './test/bpftool.js';

const bpftool = requireExecutable('bpftool', 'apt-get install bpftool (scripts/setup does)');
const haveBtf = existsSync(KERNEL_BTF_PATH) || Boolean(process.env.BPFJS_REQUIRE_KERNEL);

const equalBytes = (a: Uint8Array, b: Uint8Array) =>
  a.byteLength === b.byteLength && Buffer.compare(a, b) === 0;

describe.skipIf(!haveBtf)('BtfWriter on the running kernel', () => {
  const vmlinux = Btf.loadKernel();

  it('round-trips vmlinux exactly, copied and re-encoded from every decoded type', () => {
    expect(equalBytes(BtfWriter.from(vmlinux).encode(), vmlinux.bytes)).toBe(true);
    const w = BtfWriter.from(vmlinux);
    // In the kernel matrix (QEMU/TCG) every 16th type and the first of each kind is re-encoded —
    // the encoder is the same code on every kernel and re-encodes all of them on the host; the
    // guest checks its own kernel's kinds and encodings. Replaced records must give the same bytes.
    const stride = process.env.BPFJS_KERNEL_MATRIX ? 16 : 1;
    const kinds = new Set<number>();
    for (let id = 1; id < vmlinux.count; id++) {
      const kind = vmlinux.kindOf(id);
      if (id % stride === 0 || !kinds.has(kind)) w.set(id, vmlinux.type(id));
      kinds.add(kind);
    }
    expect(equalBytes(w.encode(), vmlinux.bytes)).toBe(true);
  });

  bpftool.it('writes split BTF on vmlinux that bpftool reads with -B, and parses it back', () => {
    const w = new BtfWriter({ base: vmlinux });
    const u32 = vmlinux.get('u32', 'typedef');
    const sk = vmlinux.get('sock', 'struct');
    const ptr = w.add({ kind: 'ptr', type: sk });
    const s = w.add({
      kind: 'struct',
      name: 'bpfjs_split_test',
      size: 16,
      members: [
        { name: 'id', type: u32, bitOffset: 0 },
        { name: 'sk', type: ptr, bitOffset: 64 },
      ],
    });
    // a name the base has is the base's string; a new one goes into the split string section
    expect(w.addString('sock')).toBeLessThan(vmlinux.stringBase + vmlinux.stringsLength);
    const split = w.toBtf();
    expect(split.firstId).toBe(vmlinux.count);
    expect(split.find('bpfjs_split_test', 'struct')).toBe(s);
    expect(split.find('sock', 'struct')).toBe(sk);
    expect(split.member(s, 'sk').bitOffset).toBe(64);
    expect(split.sizeOf(split.type(ptr).type as number)).toBe(vmlinux.sizeOf(sk));
    expect(equalBytes(BtfWriter.from(split).encode(), split.bytes)).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'bpfjs-btf-'));
    try {
      const file = join(dir, 'split.btf');
      writeFileSync(file, split.bytes);
      const theirs = bpftoolTypes(file, KERNEL_BTF_PATH);
      expect(theirs).toEqual([bpftoolShape(split.type(ptr)), bpftoolShape(split.type(s))]);
      // bpftool's C dump of the split types names the base's types
      const c = execFileSync('bpftool', ['-B', KERNEL_BTF_PATH, 'btf', 'dump', 'file', file, 'format', 'c'], {
        encoding: 'utf8',
        maxBuffer: 256 * 1024 * 1024,
      });
      expect(c).toMatch(/struct bpfjs_split_test \{\s+u32 id;\s+struct sock \*sk;\s+\};/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
