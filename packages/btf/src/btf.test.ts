/**
 * The BTF parser on the running kernel's vmlinux (each kernel of the matrix has its own); the
 * hand-built blobs are in `btf.host.test.ts`.
 */
import { existsSync } from 'node:fs';
import { BTF_KIND_STRUCT } from '@bpfjs/uapi/linux/btf';
import { describe, expect, it } from 'vitest';
import { Btf, KERNEL_BTF_PATH } from './index.js';

// in the kernel matrix (QEMU guests, older kernels with fewer types) only the parse is checked
const inMatrix = Boolean(process.env.BPFJS_KERNEL_MATRIX);

describe.skipIf(!existsSync(KERNEL_BTF_PATH) && !process.env.BPFJS_REQUIRE_KERNEL)(
  'Btf on the running kernel',
  () => {
    it('parses vmlinux (>100k types) and indexes its names', () => {
      const t0 = performance.now();
      const b = Btf.loadKernel();
      expect(b.findByName('bpf_attr')).toHaveLength(1);
      // informational (a test asserts no duration): parse + name index of the whole kernel
      console.info(`vmlinux: ${b.count} ids parsed and indexed in ${Math.round(performance.now() - t0)} ms`);
      expect(b.count).toBeGreaterThan(inMatrix ? 10_000 : 100_000);
      const info = b.type(b.findByName('bpf_link_info', BTF_KIND_STRUCT)[0] as number);
      expect(info.members?.map((m) => m.name).slice(0, 3)).toEqual(['type', 'id', 'prog_id']);
      // every type decodes
      for (let id = 0; id < b.count; id += 97) expect(b.type(id).id).toBe(id);
    });
  },
);
