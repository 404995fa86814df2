// The libbpf oracle of the object tests and benchmark (built by the tests with `cc ... -lbpf`).
//
//   harness load OBJ PINDIR [MAPPINDIR]  loads OBJ with libbpf, pins every program at
//                                        PINDIR/p_<name> and map at PINDIR/m_<name>, prints JSON
//                                        (name, section, type, expected attach type) and exits.
//                                        MAPPINDIR is libbpf's pin_root_path (pinned-by-name maps).
//   harness bench OBJ N                  opens and loads OBJ N times (closing each), prints the
//                                        total wall time in nanoseconds.
//   harness open OBJ                     opens OBJ without loading it and prints JSON: each
//                                        program's name, section, type and expected attach type
//                                        as libbpf's SEC() table gives them.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int quiet(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_WARN)
		return vfprintf(stderr, fmt, args);
	return 0;
}

// bpffs refuses names with dots: ".rodata" maps are pinned as "m__rodata".
static void pin_path(char *buf, size_t size, const char *dir, const char *prefix, const char *name)
{
	snprintf(buf, size, "%s/%s%s", dir, prefix, name);
	for (char *p = buf + strlen(dir) + 1; *p; p++)
		if (*p == '.')
			*p = '_';
}

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	libbpf_set_print(quiet);
	if (argc >= 4 && strcmp(argv[1], "bench") == 0) {
		int n = atoi(argv[3]);
		long long start = now_ns();
		for (int i = 0; i < n; i++) {
			struct bpf_object *obj = bpf_object__open_file(argv[2], NULL);
			if (!obj || bpf_object__load(obj)) {
				fprintf(stderr, "load failed: %d\n", errno);
				return 1;
			}
			bpf_object__close(obj);
		}
		printf("%lld\n", now_ns() - start);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "open") == 0) {
		struct bpf_object *obj = bpf_object__open_file(argv[2], NULL);
		if (!obj) {
			fprintf(stderr, "open failed: %d\n", errno);
			return 1;
		}
		struct bpf_program *prog;
		int first = 1;
		printf("{\"programs\":[");
		bpf_object__for_each_program(prog, obj) {
			printf("%s{\"name\":\"%s\",\"section\":\"%s\",\"type\":%d,\"expectedAttachType\":%d}",
			       first ? "" : ",", bpf_program__name(prog), bpf_program__section_name(prog),
			       bpf_program__type(prog), bpf_program__expected_attach_type(prog));
			first = 0;
		}
		printf("]}\n");
		bpf_object__close(obj);
		return 0;
	}
	if (argc < 4 || strcmp(argv[1], "load") != 0) {
		fprintf(stderr, "usage: %s load OBJ PINDIR [MAPPINDIR] | bench OBJ N | open OBJ\n", argv[0]);
		return 2;
	}
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = argc > 4 ? argv[4] : NULL);
	struct bpf_object *obj = bpf_object__open_file(argv[2], &opts);
	if (!obj) {
		fprintf(stderr, "open failed: %d\n", errno);
		return 1;
	}
	int err = bpf_object__load(obj);
	if (err) {
		fprintf(stderr, "load failed: %d\n", err);
		return 1;
	}
	char path[4096];
	struct bpf_program *prog;
	struct bpf_map *map;
	printf("{\"programs\":[");
	int first = 1;
	bpf_object__for_each_program(prog, obj) {
		if (!bpf_program__autoload(prog))
			continue;
		pin_path(path, sizeof(path), argv[3], "p_", bpf_program__name(prog));
		if (bpf_obj_pin(bpf_program__fd(prog), path)) {
			fprintf(stderr, "pin %s: %d\n", path, errno);
			return 1;
		}
		printf("%s{\"name\":\"%s\",\"section\":\"%s\",\"type\":%d,\"expectedAttachType\":%d}", first ? "" : ",",
		       bpf_program__name(prog), bpf_program__section_name(prog), bpf_program__type(prog),
		       bpf_program__expected_attach_type(prog));
		first = 0;
	}
	printf("],\"maps\":[");
	first = 1;
	bpf_object__for_each_map(map, obj) {
		pin_path(path, sizeof(path), argv[3], "m_", bpf_map__name(map));
		if (bpf_obj_pin(bpf_map__fd(map), path)) {
			fprintf(stderr, "pin %s: %d\n", path, errno);
			return 1;
		}
		printf("%s{\"name\":\"%s\"}", first ? "" : ",", bpf_map__name(map));
		first = 0;
	}
	printf("]}\n");
	bpf_object__close(obj);
	return 0;
}
