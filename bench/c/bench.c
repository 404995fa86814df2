// SPDX-License-Identifier: MIT
//
// C baseline for the bpfjs benchmarks (bench/run.mjs builds and drives it).
//
// Calls bpf(2) the way libbpf's bpf.c does: a union bpf_attr on the stack, memset to the
// size the command needs (offsetofend of the command's last field), the fields set, then
// syscall(__NR_bpf, cmd, &attr, size). No libbpf: the point is the cost of the raw syscall.
//
// Setup (not timed), all inside this process's own network namespaces:
//   unshare(CLONE_NEWNET) -> netns A (the process stays in it), unshare again -> netns B;
//   two sk_lookup programs (r0 = SK_PASS; exit) P and Q;
//   one sk_lookup link of P in netns A (the "primary" link: info, update, query);
//   64 sk_lookup links of P in netns B (the "listing" population for op links).
//
// Protocol: one command per line on stdin, one JSON object per line on stdout.
//   "<op> <iterations>"  -> {"op":..., "iters":N, "ns":total_ns, "count":units}
//   "quit"               -> exit 0
// "count" is the number of units the ns cover (iterations, or links seen for op links).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef offsetofend
#define offsetofend(TYPE, FIELD) (offsetof(TYPE, FIELD) + sizeof(((TYPE *)0)->FIELD))
#endif

#define LISTING_LINKS 64

static inline uint64_t ptr_to_u64(const void *p) { return (uint64_t)(uintptr_t)p; }

// --- the libbpf-style layer -------------------------------------------------------------

static inline int sys_bpf(enum bpf_cmd cmd, union bpf_attr *attr, unsigned int size) {
  return (int)syscall(__NR_bpf, cmd, attr, size);
}

// libbpf's ensure_fd(): never hand out 0, 1 or 2.
static inline int sys_bpf_fd(enum bpf_cmd cmd, union bpf_attr *attr, unsigned int size) {
  int fd = sys_bpf(cmd, attr, size);
  if (fd >= 0 && fd < 3) {
    int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    int saved = errno;
    close(fd);
    errno = saved;
    fd = dup_fd;
  }
  return fd;
}

static int obj_get_info_by_fd(int bpf_fd, void *info, uint32_t *info_len) {
  const size_t attr_sz = offsetofend(union bpf_attr, info);
  union bpf_attr attr;
  memset(&attr, 0, attr_sz);
  attr.info.bpf_fd = bpf_fd;
  attr.info.info_len = *info_len;
  attr.info.info = ptr_to_u64(info);
  int err = sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &attr, attr_sz);
  if (!err) *info_len = attr.info.info_len;
  return err;
}

static int link_update(int link_fd, int new_prog_fd) {
  const size_t attr_sz = offsetofend(union bpf_attr, link_update);
  union bpf_attr attr;
  memset(&attr, 0, attr_sz);
  attr.link_update.link_fd = link_fd;
  attr.link_update.new_prog_fd = new_prog_fd;
  attr.link_update.flags = 0;
  return sys_bpf(BPF_LINK_UPDATE, &attr, attr_sz);
}

static int prog_query(int target_fd, enum bpf_attach_type type, uint32_t *attach_flags, uint32_t *prog_ids,
                      uint32_t *prog_cnt) {
  const size_t attr_sz = offsetofend(union bpf_attr, query);
  union bpf_attr attr;
  memset(&attr, 0, attr_sz);
  attr.query.target_fd = target_fd;
  attr.query.attach_type = type;
  attr.query.query_flags = 0;
  attr.query.prog_cnt = *prog_cnt;
  attr.query.prog_ids = ptr_to_u64(prog_ids);
  int err = sys_bpf(BPF_PROG_QUERY, &attr, attr_sz);
  *attach_flags = attr.query.attach_flags;
  *prog_cnt = attr.query.prog_cnt;
  return err;
}

static int link_create(int prog_fd, int target_fd, enum bpf_attach_type type) {
  const size_t attr_sz = offsetofend(union bpf_attr, link_create);
  union bpf_attr attr;
  memset(&attr, 0, attr_sz);
  attr.link_create.prog_fd = prog_fd;
  attr.link_create.target_fd = target_fd;
  attr.link_create.attach_type = type;
  attr.link_create.flags = 0;
  return sys_bpf_fd(BPF_LINK_CREATE, &attr, attr_sz);
}

static int link_get_next_id(uint32_t start_id, uint32_t *next_id) {
  const size_t attr_sz = offsetofend(union bpf_attr, open_flags);
  union bpf_attr attr;
  memset(&attr, 0, attr_sz);
  attr.start_id = start_id;
  int err = sys_bpf(BPF_LINK_GET_NEXT_ID, &attr, attr_sz);
  if (!err) *next_id = attr.next_id;
  return err;
}

static int link_get_fd_by_id(uint32_t id) {
  const size_t attr_sz = offsetofend(union bpf_attr, open_flags);
  union bpf_attr attr;
  memset(&attr, 0, attr_sz);
  attr.link_id = id;
  attr.open_flags = 0;
  return sys_bpf_fd(BPF_LINK_GET_FD_BY_ID, &attr, attr_sz);
}

static int prog_load_sk_lookup(const char *name) {
  // r0 = SK_PASS (1); exit
  struct bpf_insn insns[2];
  memset(insns, 0, sizeof(insns));
  insns[0].code = BPF_ALU64 | BPF_MOV | BPF_K;
  insns[0].dst_reg = BPF_REG_0;
  insns[0].imm = 1;
  insns[1].code = BPF_JMP | BPF_EXIT;
  const size_t attr_sz = offsetofend(union bpf_attr, fd_array);
  union bpf_attr attr;
  memset(&attr, 0, attr_sz);
  attr.prog_type = BPF_PROG_TYPE_SK_LOOKUP;
  attr.expected_attach_type = BPF_SK_LOOKUP;
  attr.insns = ptr_to_u64(insns);
  attr.insn_cnt = 2;
  attr.license = ptr_to_u64("GPL");
  strncpy(attr.prog_name, name, sizeof(attr.prog_name) - 1);
  return sys_bpf_fd(BPF_PROG_LOAD, &attr, attr_sz);
}

// --- setup --------------------------------------------------------------------------------

static int netns_a = -1, netns_b = -1;
static int prog_p = -1, prog_q = -1;
static int primary_link = -1;
static int listing_links[LISTING_LINKS];
static unsigned long netns_a_ino;
static int primary_prog_is_p = 1;

static void die(const char *what) {
  fprintf(stderr, "bench-c: %s: %s\n", what, strerror(errno));
  exit(2);
}

static int enter_new_netns(unsigned long *ino) {
  if (unshare(CLONE_NEWNET) != 0) die("unshare(CLONE_NEWNET)");
  int fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (fd < 0) die("open /proc/self/ns/net");
  struct stat st;
  if (fstat(fd, &st) != 0) die("fstat netns");
  if (ino) *ino = (unsigned long)st.st_ino;
  return fd;
}

static void setup(void) {
  netns_a = enter_new_netns(&netns_a_ino);
  netns_b = enter_new_netns(NULL);
  prog_p = prog_load_sk_lookup("bench_p");
  if (prog_p < 0) die("BPF_PROG_LOAD P");
  prog_q = prog_load_sk_lookup("bench_q");
  if (prog_q < 0) die("BPF_PROG_LOAD Q");
  primary_link = link_create(prog_p, netns_a, BPF_SK_LOOKUP);
  if (primary_link < 0) die("BPF_LINK_CREATE primary");
  for (int i = 0; i < LISTING_LINKS; i++) {
    listing_links[i] = link_create(prog_p, netns_b, BPF_SK_LOOKUP);
    if (listing_links[i] < 0) die("BPF_LINK_CREATE listing");
  }
}

// --- timing -------------------------------------------------------------------------------

static inline uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void fail_op(const char *op, const char *what) {
  printf("{\"op\":\"%s\",\"error\":\"%s: %s\"}\n", op, what, strerror(errno));
  fflush(stdout);
}

static void report(const char *op, long iters, uint64_t ns, long count, const char *extra) {
  printf("{\"op\":\"%s\",\"iters\":%ld,\"ns\":%llu,\"count\":%ld%s%s}\n", op, iters, (unsigned long long)ns, count,
         extra ? "," : "", extra ? extra : "");
  fflush(stdout);
}

static void op_info(long iters) {
  struct bpf_link_info info;
  uint32_t len = sizeof(info);
  uint64_t t0 = now_ns();
  for (long i = 0; i < iters; i++) {
    memset(&info, 0, sizeof(info));
    len = sizeof(info);
    if (obj_get_info_by_fd(primary_link, &info, &len) != 0) return fail_op("info", "BPF_OBJ_GET_INFO_BY_FD");
  }
  uint64_t t1 = now_ns();
  if (info.type != BPF_LINK_TYPE_NETNS || info.netns.netns_ino != netns_a_ino ||
      info.netns.attach_type != BPF_SK_LOOKUP) {
    errno = EPROTO;
    return fail_op("info", "unexpected link info");
  }
  char extra[96];
  snprintf(extra, sizeof(extra), "\"check\":{\"type\":%u,\"netnsIno\":%u}", info.type, info.netns.netns_ino);
  report("info", iters, t1 - t0, iters, extra);
}

static void op_update(long iters) {
  uint64_t t0 = now_ns();
  for (long i = 0; i < iters; i++) {
    int next = primary_prog_is_p ? prog_q : prog_p;
    if (link_update(primary_link, next) != 0) return fail_op("update", "BPF_LINK_UPDATE");
    primary_prog_is_p = !primary_prog_is_p;
  }
  uint64_t t1 = now_ns();
  report("update", iters, t1 - t0, iters, NULL);
}

static void op_query(const char *op, int target, uint32_t expect, long iters) {
  uint32_t ids[LISTING_LINKS + 8];
  uint32_t cnt = 0, flags = 0;
  uint64_t t0 = now_ns();
  for (long i = 0; i < iters; i++) {
    cnt = LISTING_LINKS + 8;
    if (prog_query(target, BPF_SK_LOOKUP, &flags, ids, &cnt) != 0) return fail_op(op, "BPF_PROG_QUERY");
  }
  uint64_t t1 = now_ns();
  if (cnt != expect) {
    errno = EPROTO;
    return fail_op(op, "unexpected prog count");
  }
  char extra[64];
  snprintf(extra, sizeof(extra), "\"check\":{\"progCount\":%u}", cnt);
  report(op, iters, t1 - t0, iters, extra);
}

static void op_links(long iters) {
  struct bpf_link_info info;
  long seen = 0, vanished = 0;
  uint64_t t0 = now_ns();
  for (long i = 0; i < iters; i++) {
    uint32_t id = 0;
    for (;;) {
      if (link_get_next_id(id, &id) != 0) {
        if (errno == ENOENT) break;
        return fail_op("links", "BPF_LINK_GET_NEXT_ID");
      }
      int fd = link_get_fd_by_id(id);
      if (fd < 0) {
        // ENOENT: gone since GET_NEXT_ID; EAGAIN: still being created (id not settled yet).
        if (errno == ENOENT || errno == EAGAIN) {
          vanished++;
          continue;
        }
        return fail_op("links", "BPF_LINK_GET_FD_BY_ID");
      }
      memset(&info, 0, sizeof(info));
      uint32_t len = sizeof(info);
      int err = obj_get_info_by_fd(fd, &info, &len);
      close(fd);
      if (err != 0) return fail_op("links", "BPF_OBJ_GET_INFO_BY_FD");
      seen++;
    }
  }
  uint64_t t1 = now_ns();
  char extra[96];
  snprintf(extra, sizeof(extra), "\"check\":{\"linksPerSweep\":%ld,\"vanished\":%ld}", iters ? seen / iters : 0,
           vanished);
  report("links", iters, t1 - t0, seen, extra);
}

static void op_create_close(long iters) {
  uint64_t t0 = now_ns();
  for (long i = 0; i < iters; i++) {
    int fd = link_create(prog_p, netns_a, BPF_SK_LOOKUP);
    if (fd < 0) return fail_op("create_close", "BPF_LINK_CREATE");
    close(fd);
  }
  uint64_t t1 = now_ns();
  report("create_close", iters, t1 - t0, iters, NULL);
}


// --- maps (issue: map rows) ----------------------------------------------------------------
// hash u32 -> u64 (16 slots, key 1 present), percpu_array u32 -> u64 (1 slot), and a hash of
// DUMP_ENTRIES u32 -> u64 entries read whole (batch lookup, or next key + lookup per element).
#define DUMP_ENTRIES 100000
#define DUMP_BATCH 4096

static int map_hash = -1, map_percpu = -1, map_dump = -1;
static int ncpus = 0;

static int map_create(enum bpf_map_type type, uint32_t key, uint32_t value, uint32_t max) {
  const size_t attr_sz = offsetofend(union bpf_attr, map_extra);
  union bpf_attr attr;
  memset(&attr, 0, attr_sz);
  attr.map_type = type;
  attr.key_size = key;
  attr.value_size = value;
  attr.max_entries = max;
  return sys_bpf_fd(BPF_MAP_CREATE, &attr, attr_sz);
}

// libbpf's bpf_map_lookup_elem / bpf_map_update_elem / bpf_map_get_next_key / bpf_map_lookup_batch.
static int map_lookup_elem(int fd, const void *key, void *value) {
  const size_t attr_sz = offsetofend(union bpf_attr, flags);
  union bpf_attr attr;
  memset(&attr, 0, attr_sz);
  attr.map_fd = fd;
  attr.key = ptr_to_u64(key);
  attr.value = ptr_to_u64(value);
  return sys_bpf(BPF_MAP_LOOKUP_ELEM, &attr, attr_sz);
}

static int map_update_elem(int fd, const void *key, const void *value, uint64_t flags) {
  const size_t attr_sz = offsetofend(union bpf_attr, flags);
  union bpf_attr attr;
  memset(&attr, 0, attr_sz);
  attr.map_fd = fd;
  attr.key = ptr_to_u64(key);
  attr.value = ptr_to_u64(value);
  attr.flags = flags;
  return sys_bpf(BPF_MAP_UPDATE_ELEM, &attr, attr_sz);
}

static int map_get_next_key(int fd, const void *key, void *next) {
  const size_t attr_sz = offsetofend(union bpf_attr, next_key);
  union bpf_attr attr;
  memset(&attr, 0, attr_sz);
  attr.map_fd = fd;
  attr.key = ptr_to_u64(key);
  attr.next_key = ptr_to_u64(next);
  return sys_bpf(BPF_MAP_GET_NEXT_KEY, &attr, attr_sz);
}

static int map_lookup_batch(int fd, void *in, void *out, void *keys, void *values, uint32_t *count) {
  const size_t attr_sz = offsetofend(union bpf_attr, batch);
  union bpf_attr attr;
  memset(&attr, 0, attr_sz);
  attr.batch.map_fd = fd;
  attr.batch.in_batch = ptr_to_u64(in);
  attr.batch.out_batch = ptr_to_u64(out);
  attr.batch.keys = ptr_to_u64(keys);
  attr.batch.values = ptr_to_u64(values);
  attr.batch.count = *count;
  int err = sys_bpf(BPF_MAP_LOOKUP_BATCH, &attr, attr_sz);
  *count = attr.batch.count;
  return err;
}

static int possible_cpus(void) {
  FILE *f = fopen("/sys/devices/system/cpu/possible", "r");
  if (!f) die("open /sys/devices/system/cpu/possible");
  char buf[256];
  if (!fgets(buf, sizeof(buf), f)) die("read possible cpus");
  fclose(f);
  int max = 0;
  for (char *p = strtok(buf, ","); p; p = strtok(NULL, ",")) {
    char *dash = strchr(p, '-');
    int hi = atoi(dash ? dash + 1 : p);
    if (hi + 1 > max) max = hi + 1;
  }
  return max;
}

static void setup_maps(void) {
  ncpus = possible_cpus();
  map_hash = map_create(BPF_MAP_TYPE_HASH, 4, 8, 16);
  map_percpu = map_create(BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 1);
  map_dump = map_create(BPF_MAP_TYPE_HASH, 4, 8, DUMP_ENTRIES);
  if (map_hash < 0 || map_percpu < 0 || map_dump < 0) die("BPF_MAP_CREATE");
  uint32_t k = 1;
  uint64_t v = 42;
  if (map_update_elem(map_hash, &k, &v, BPF_ANY) != 0) die("BPF_MAP_UPDATE_ELEM");
  for (uint32_t i = 0; i < DUMP_ENTRIES; i++) {
    uint64_t val = i;
    if (map_update_elem(map_dump, &i, &val, BPF_ANY) != 0) die("BPF_MAP_UPDATE_ELEM dump");
  }
}

static void op_map_get(long iters) {
  uint32_t k = 1;
  uint64_t v = 0;
  uint64_t t0 = now_ns();
  for (long i = 0; i < iters; i++)
    if (map_lookup_elem(map_hash, &k, &v) != 0) return fail_op("map_get", "BPF_MAP_LOOKUP_ELEM");
  uint64_t t1 = now_ns();
  char extra[64];
  snprintf(extra, sizeof(extra), "\"check\":{\"value\":%llu}", (unsigned long long)v);
  report("map_get", iters, t1 - t0, iters, extra);
}

static void op_map_set(long iters) {
  uint32_t k = 2;
  uint64_t t0 = now_ns();
  for (long i = 0; i < iters; i++) {
    uint64_t v = (uint64_t)i;
    if (map_update_elem(map_hash, &k, &v, BPF_ANY) != 0) return fail_op("map_set", "BPF_MAP_UPDATE_ELEM");
  }
  uint64_t t1 = now_ns();
  report("map_set", iters, t1 - t0, iters, NULL);
}

static void op_map_percpu_get(long iters) {
  uint32_t k = 0;
  uint64_t values[512];
  if (ncpus > 512) die("too many CPUs");
  uint64_t t0 = now_ns();
  for (long i = 0; i < iters; i++)
    if (map_lookup_elem(map_percpu, &k, values) != 0) return fail_op("map_percpu_get", "BPF_MAP_LOOKUP_ELEM");
  uint64_t t1 = now_ns();
  char extra[64];
  snprintf(extra, sizeof(extra), "\"check\":{\"cpus\":%d}", ncpus);
  report("map_percpu_get", iters, t1 - t0, iters, extra);
}

static void op_map_dump(long iters) {
  static uint32_t keys[DUMP_BATCH];
  static uint64_t values[DUMP_BATCH];
  long seen = 0;
  uint64_t t0 = now_ns();
  for (long i = 0; i < iters; i++) {
    uint64_t in = 0, out = 0;
    int first = 1;
    for (;;) {
      uint32_t count = DUMP_BATCH;
      int err = map_lookup_batch(map_dump, first ? NULL : &in, &out, keys, values, &count);
      if (err != 0 && errno != ENOENT) return fail_op("map_dump", "BPF_MAP_LOOKUP_BATCH");
      seen += count;
      if (err != 0) break;
      in = out;
      first = 0;
    }
  }
  uint64_t t1 = now_ns();
  char extra[64];
  snprintf(extra, sizeof(extra), "\"check\":{\"entriesPerSweep\":%ld}", iters ? seen / iters : 0);
  report("map_dump", iters, t1 - t0, seen, extra);
}

static void op_map_dump_elem(long iters) {
  long seen = 0;
  uint64_t t0 = now_ns();
  for (long i = 0; i < iters; i++) {
    uint32_t key = 0, next = 0;
    uint64_t v;
    int first = 1;
    while (map_get_next_key(map_dump, first ? NULL : &key, &next) == 0) {
      if (map_lookup_elem(map_dump, &next, &v) == 0) seen++;
      key = next;
      first = 0;
    }
    if (errno != ENOENT) return fail_op("map_dump_elem", "BPF_MAP_GET_NEXT_KEY");
  }
  uint64_t t1 = now_ns();
  char extra[64];
  snprintf(extra, sizeof(extra), "\"check\":{\"entriesPerSweep\":%ld}", iters ? seen / iters : 0);
  report("map_dump_elem", iters, t1 - t0, seen, extra);
}

int main(void) {
  setup();
  setup_maps();
  printf("{\"ready\":true,\"side\":\"c\",\"netnsIno\":%lu,\"attrSizes\":{\"info\":%zu,\"link_update\":%zu,"
         "\"query\":%zu,\"link_create\":%zu,\"open_flags\":%zu},\"linkInfoSize\":%zu}\n",
         netns_a_ino, offsetofend(union bpf_attr, info), offsetofend(union bpf_attr, link_update),
         offsetofend(union bpf_attr, query), offsetofend(union bpf_attr, link_create),
         offsetofend(union bpf_attr, open_flags), sizeof(struct bpf_link_info));
  fflush(stdout);

  char line[256];
  while (fgets(line, sizeof(line), stdin)) {
    char op[64];
    long iters = 0;
    if (strncmp(line, "quit", 4) == 0) break;
    if (sscanf(line, "%63s %ld", op, &iters) != 2 || iters < 0) {
      printf("{\"error\":\"bad command\"}\n");
      fflush(stdout);
      continue;
    }
    if (strcmp(op, "info") == 0) op_info(iters);
    else if (strcmp(op, "update") == 0) op_update(iters);
    else if (strcmp(op, "query") == 0) op_query("query", netns_a, 1, iters);
    else if (strcmp(op, "query64") == 0) op_query("query64", netns_b, LISTING_LINKS, iters);
    else if (strcmp(op, "links") == 0) op_links(iters);
    else if (strcmp(op, "create_close") == 0) op_create_close(iters);
    else if (strcmp(op, "map_get") == 0) op_map_get(iters);
    else if (strcmp(op, "map_set") == 0) op_map_set(iters);
    else if (strcmp(op, "map_percpu_get") == 0) op_map_percpu_get(iters);
    else if (strcmp(op, "map_dump") == 0) op_map_dump(iters);
    else if (strcmp(op, "map_dump_elem") == 0) op_map_dump_elem(iters);
    else {
      printf("{\"op\":\"%s\",\"unsupported\":true}\n", op);
      fflush(stdout);
    }
  }
  return 0;
}
