/**
 * Test fixture: a small CO-RE BPF program in C, compiled by clang with BTF and .BTF.ext, with the
 * two sections read back by the parser. Used by ext.host.test.ts (readers of the object file) and
 * ext.test.ts (libbpf's reading of the CO-RE relocations on the kernel).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { arch, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Btf, BtfExt } from '../index.js';

/** The C source of the fixture. */
export const SOURCE = `#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct task_struct {
	int pid;
	int tgid;
} __attribute__((preserve_access_index));

enum pid_type { PIDTYPE_PID, PIDTYPE_TGID };

static __attribute__((noinline)) int twice(int x)
{
	return x * 2;
}

SEC("tp_btf/sched_process_exec")
int on_exec(unsigned long long *ctx)
{
	struct task_struct *t = (void *)bpf_get_current_task();
	int tgid = BPF_CORE_READ(t, tgid);
	int has = bpf_core_field_exists(t->pid);
	int ty = bpf_core_type_exists(struct task_struct);
	int ev = bpf_core_enum_value(enum pid_type, PIDTYPE_TGID);
	return twice(tgid + has + ty + ev);
}

char LICENSE[] SEC("license") = "GPL";
`;

/** Compiles SOURCE in a temp dir and returns the paths and the two BTF sections. */
export function compile(): {
  dir: string;
  src: string;
  obj: string;
  btf: Btf;
  ext: BtfExt;
  extBytes: Uint8Array;
} {
  const dir = mkdtempSync(join(tmpdir(), 'bpfjs-btfext-'));
  const src = join(dir, 'prog.c');
  const obj = join(dir, 'prog.o');
  writeFileSync(src, SOURCE);
  const multiarch = `${arch() === 'arm64' ? 'aarch64' : arch() === 'x64' ? 'x86_64' : arch()}-linux-gnu`;
  execFileSync('clang', ['-g', '-O2', '-target', 'bpf', `-I/usr/include/${multiarch}`, '-c', src, '-o', obj]);
  execFileSync('llvm-objcopy', [
    '--dump-section',
    `.BTF=${join(dir, 'btf.bin')}`,
    '--dump-section',
    `.BTF.ext=${join(dir, 'ext.bin')}`,
    obj,
    join(dir, 'scratch.o'),
  ]);
  const btf = Btf.parse(readFileSync(join(dir, 'btf.bin')));
  const extBytes = new Uint8Array(readFileSync(join(dir, 'ext.bin')));
  return { dir, src, obj, btf, ext: BtfExt.parse(extBytes, btf), extBytes };
}
