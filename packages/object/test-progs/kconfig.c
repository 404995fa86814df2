// .kconfig externs: the kernel version and CONFIG_* values, filled in by the loader.
#include <linux/bpf.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>

extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern bool CONFIG_BPF_SYSCALL __kconfig;
extern enum libbpf_tristate CONFIG_NET_CLS_BPF __kconfig __weak;
extern int CONFIG_HZ __kconfig __weak;
extern bool CONFIG_BPFJS_NO_SUCH_OPTION __kconfig __weak;
extern char CONFIG_DEFAULT_HOSTNAME[16] __kconfig __weak;

__u64 version = 0;
__u64 syscall_on = 0;
__u64 cls_bpf = 0;
__u64 hz = 0;
__u64 missing = 7;
char hostname[16] = {};

SEC("socket")
int read_config(struct __sk_buff *skb)
{
	version = LINUX_KERNEL_VERSION;
	syscall_on = CONFIG_BPF_SYSCALL;
	cls_bpf = CONFIG_NET_CLS_BPF;
	hz = CONFIG_HZ;
	missing = CONFIG_BPFJS_NO_SUCH_OPTION;
	__builtin_memcpy(hostname, CONFIG_DEFAULT_HOSTNAME, sizeof(hostname));
	return 0;
}

char _license[] SEC("license") = "GPL";
