// Checks of the kernel-matrix guest itself: that the suites really ran on the kernel the host booted,
// as root, with bpffs, BTF and a working bpf(2). Only meaningful inside the guest
// (BPFJS_KERNEL_MATRIX is set by kernels/run.mjs); anywhere else the checks skip with that reason.
import { closeSync, existsSync, readFileSync, statfsSync } from 'node:fs';
import { release } from 'node:os';
import { bpf, progLoad } from '@bpfjs/sys';
import { describe, expect, it } from 'vitest';

const kernel = process.env.BPFJS_KERNEL_MATRIX;
const BPF_FS_MAGIC = 0xcafe4a11;
const BPF_MAP_CREATE = 0;
const BPF_MAP_TYPE_ARRAY = 2;
const BPF_PROG_TYPE_SOCKET_FILTER = 1;

describe.skipIf(!kernel)('kernel-matrix guest (only inside `pnpm test:kernels`)', () => {
  it('runs on the kernel the host booted', () => {
    expect(release()).toBe(process.env.BPFJS_KERNEL_RELEASE);
  });

  it('runs as root with every capability', () => {
    expect(process.getuid?.()).toBe(0);
    const capEff = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    expect(capEff).toBeDefined();
    // CAP_SYS_ADMIN (21), CAP_NET_ADMIN (12) and, where the kernel has it, CAP_BPF (39).
    const caps = BigInt(`0x${capEff}`);
    expect((caps >> 21n) & 1n).toBe(1n);
    expect((caps >> 12n) & 1n).toBe(1n);
  });

  it('has bpffs mounted at /sys/fs/bpf and BTF for vmlinux', () => {
    expect(statfsSync('/sys/fs/bpf').type).toBe(BPF_FS_MAGIC);
    expect(existsSync('/sys/kernel/btf/vmlinux')).toBe(true);
  });

  it('creates a BPF map through @bpfjs/sys', () => {
    // union bpf_attr for BPF_MAP_CREATE starts with map_type, key_size, value_size, max_entries.
    const attr = new Uint8Array(48);
    const view = new DataView(attr.buffer);
    view.setUint32(0, BPF_MAP_TYPE_ARRAY, true);
    view.setUint32(4, 4, true);
    view.setUint32(8, 8, true);
    view.setUint32(12, 1, true);
    const fd = bpf(BPF_MAP_CREATE, attr, attr.length);
    try {
      expect(fd).toBeGreaterThan(2);
      expect(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8')).toMatch(/^map_type:\s+2$/m);
    } finally {
      closeSync(fd);
    }
  });

  it('loads a BPF program through @bpfjs/sys', () => {
    // r0 = 0; exit — BPF_ALU64|BPF_MOV|BPF_K (0xb7), then BPF_JMP|BPF_EXIT (0x95).
    const insns = new Uint8Array(16);
    insns[0] = 0xb7;
    insns[8] = 0x95;
    const fd = progLoad({ type: BPF_PROG_TYPE_SOCKET_FILTER, insns, license: 'GPL', name: 'matrix_sanity' });
    try {
      expect(readFileSync(`/proc/self/fdinfo/${fd.fd}`, 'utf8')).toMatch(/^prog_type:\s+1$/m);
    } finally {
      fd.close();
    }
  });
});
