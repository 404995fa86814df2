#!/bin/busybox sh
# /init of the kernel-matrix guest (packed by kernels/lib/initramfs.mjs).
# Mounts the host's root filesystem read-only over virtiofs, puts a tmpfs overlay on top, mounts
# proc/sys/dev, bpffs, cgroup2 and tmpfs on /run and /tmp inside it, moves it to / and runs the
# command from /bpfjs.env with the environment from /guest.env. Prints marker lines the host parses:
#   BPFJS-GUEST-BOOTED <release>
#   BPFJS-GUEST-RESULTS-BEGIN / base64(gzip(results file)) / BPFJS-GUEST-RESULTS-END
#   BPFJS-GUEST-EXIT <exit code>
# then powers off. Exit codes >= 200 are the init's own failures (see the host's vm.mjs).
/bin/busybox --install -s /bin
export PATH=/bin
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t proc proc /proc
mount -t sysfs sysfs /sys
. /bpfjs.env

say() { echo "bpfjs-init: $*"; }
finish() {
  echo "BPFJS-GUEST-EXIT $1"
  sync
  poweroff -f
  sleep 5
}

for m in $(cat /modules.order); do
  insmod "/lib/modules/$m.ko" || say "insmod $m failed"
done

mkdir -p /mnt/host /mnt/rw /mnt/root
mount -t virtiofs -o ro hostroot /mnt/host || { say 'cannot mount the host root (virtiofs)'; finish 200; }
mount -t tmpfs -o mode=0755 tmpfs /mnt/rw
mkdir -p /mnt/rw/upper /mnt/rw/work
mount -t overlay overlay -o lowerdir=/mnt/host,upperdir=/mnt/rw/upper,workdir=/mnt/rw/work /mnt/root ||
  { say 'cannot mount the overlay'; finish 201; }

R=/mnt/root
mount -t proc proc $R/proc
mount -t sysfs sysfs $R/sys
mount -t devtmpfs devtmpfs $R/dev
mkdir -p $R/dev/pts $R/dev/shm
mount -t devpts devpts $R/dev/pts
mount -t tmpfs -o mode=1777 tmpfs $R/dev/shm
mount -t bpf bpf $R/sys/fs/bpf || { say 'cannot mount bpffs'; finish 202; }
# cgroup2 where the host has it (a hybrid host keeps it at /sys/fs/cgroup/unified on a tmpfs).
cg=${BPFJS_GUEST_CGROUP2:-/sys/fs/cgroup}
[ "$cg" != /sys/fs/cgroup ] && mount -t tmpfs -o mode=0755 tmpfs $R/sys/fs/cgroup && mkdir -p "$R$cg"
mount -t cgroup2 cgroup2 "$R$cg" 2>/dev/null || say 'no cgroup2'
mount -t debugfs debugfs $R/sys/kernel/debug 2>/dev/null
mount -t tracefs tracefs $R/sys/kernel/tracing 2>/dev/null
# The guest kernel's build configuration where its package ships one (/boot/config-<release>, read
# by libbpf-style .kconfig externs): the host's /boot has only the host kernel's.
if [ -n "$BPFJS_GUEST_KCONFIG" ] && [ -f "$R$BPFJS_GUEST_KCONFIG" ]; then
  mkdir -p $R/boot && cp "$R$BPFJS_GUEST_KCONFIG" "$R/boot/config-$(uname -r)"
fi
# What the guest runs: the host's snapshot of the working tree (with the real node_modules bound
# inside), or the live repository. Held on a bind mount first, because the tmpfs on /run and /tmp
# below would hide a repository (a CI clone) or a cache that lives there; put back at the
# repository's path afterwards.
src="$R$BPFJS_GUEST_REPO"
if [ -n "$BPFJS_GUEST_TREE" ]; then
  if mount --bind "$R$BPFJS_GUEST_REPO/node_modules" "$R$BPFJS_GUEST_TREE/node_modules"; then
    src="$R$BPFJS_GUEST_TREE"
  else
    say 'cannot mount the tree snapshot; the guest sees the live tree'
  fi
fi
mkdir -p /mnt/repo
mount -o rbind "$src" /mnt/repo || { say "cannot hold the repository $src"; finish 204; }
mount -t tmpfs -o mode=0755 tmpfs $R/run
mount -t tmpfs -o mode=1777 tmpfs $R/tmp
mkdir -p "$R$BPFJS_GUEST_REPO"
mount -o rbind /mnt/repo "$R$BPFJS_GUEST_REPO" || { say 'cannot mount the repository'; finish 204; }
ip link set lo up
cp /guest.env $R/run/bpfjs-guest.env
# The reporter's watchdog ends the run (with the results so far) 30 s before the hard limit below.
echo "export BPFJS_MATRIX_DEADLINE=$(($(date +%s) + BPFJS_GUEST_TIMEOUT - 30))" >>$R/run/bpfjs-guest.env

# Make the overlay the root of the mount namespace (as switch_root does) before entering it: a
# process under a plain chroot counts as "chrooted" for the kernel, which refuses it user
# namespaces (unshare -U → EPERM). This shell keeps its own root (the initramfs, whose paths it
# still uses) and reaches the new root through its working directory.
cd $R && mount --move . / || { say 'cannot move the overlay to /'; finish 203; }
echo "BPFJS-GUEST-BOOTED $(uname -r)"
timeout -s KILL "$BPFJS_GUEST_TIMEOUT" chroot . /usr/bin/env -i /bin/sh -c \
  '. /run/bpfjs-guest.env && cd "$BPFJS_GUEST_CWD" && exec /bin/sh -c "$BPFJS_GUEST_CMD"' </dev/null
rc=$?
[ $rc -eq 137 ] && say "the command was killed after ${BPFJS_GUEST_TIMEOUT}s"

dmesg -n 1
echo
if [ -n "$BPFJS_GUEST_RESULTS" ] && [ -f ".$BPFJS_GUEST_RESULTS" ]; then
  echo 'BPFJS-GUEST-RESULTS-BEGIN'
  gzip -c ".$BPFJS_GUEST_RESULTS" | base64
  echo 'BPFJS-GUEST-RESULTS-END'
fi
finish $rc
