// .ksyms externs: a typeless kernel symbol, a weak absent one, and kfuncs. (Typed kernel variables
// need a kernel whose kallsyms lists data symbols, CONFIG_KALLSYMS_ALL, which this one lacks.)
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

extern const void _stext __ksym;
extern const int bpfjs_no_such_symbol __ksym __weak;
extern struct task_struct *bpf_task_acquire(struct task_struct *p) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;

__u64 cpu = 0;
__u64 active_addr = 0;
__u64 weak_addr = 1;
__u64 pid = 0;

SEC("tp_btf/task_newtask")
int BPF_PROG(on_newtask, struct task_struct *task, u64 clone_flags)
{
	struct task_struct *t;

	cpu = bpf_get_smp_processor_id();
	active_addr = (__u64)&_stext;
	weak_addr = (__u64)&bpfjs_no_such_symbol;
	t = bpf_task_acquire(task);
	if (t) {
		pid = t->pid;
		bpf_task_release(t);
	}
	return 0;
}

char _license[] SEC("license") = "GPL";
