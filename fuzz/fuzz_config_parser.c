/* SPDX-License-Identifier: MIT */
/*
 * fuzz_config_parser.c: libFuzzer harness for src/lib/config.c, the
 * tern.conf parser. The input is a whole file, handed to config_load()
 * through a memfd (the parser reads a path, as tern serve does). The key
 * table has one key of every type, with bounds and choices like the real
 * one in src/cli/conf.c. Checks the contract SIGHUP relies on: a failed
 * load leaves the settings exactly as they were and names "path:line:";
 * a successful one leaves every number within its bounds and every enum
 * within its choices.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct settings {
	char *name;
	uint64_t count, size, timeout;
	bool flag;
	int mode;
	char *path;
};

#define F(f) offsetof(struct settings, f)
static const struct config_key keys[] = {
        {"server.name", CONFIG_STRING, F(name), "localhost", 0, 0, NULL, ""},
        {"server.count", CONFIG_UINT, F(count), "4", 1, 256, NULL, ""},
        {"limits.size", CONFIG_SIZE, F(size), "64k", 1024, 1ull << 30, NULL, ""},
        {"limits.timeout", CONFIG_DURATION, F(timeout), "30s", 0, 86400000, NULL, ""},
        {"imap.flag", CONFIG_BOOL, F(flag), "no", 0, 0, NULL, ""},
        {"auth.mode", CONFIG_ENUM, F(mode), "loopback", 0, 0, "never|loopback|always", ""},
        {"tls.path", CONFIG_STRING, F(path), "", 0, 0, NULL, ""},
};

static bool
same(const struct settings *x, const struct settings *y)
{
	return strcmp(x->name, y->name) == 0 && strcmp(x->path, y->path) == 0 &&
	       x->count == y->count && x->size == y->size && x->timeout == y->timeout &&
	       x->flag == y->flag && x->mode == y->mode;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	struct settings s, before;
	char *err = NULL;

	if (fd < 0) {
		fd = memfd_create("tern.conf", 0);
		if (fd < 0)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	config_defaults(keys, sizeof(keys) / sizeof(keys[0]), &s);
	before = s;
	before.name = strdup(s.name);
	before.path = strdup(s.path);
	if (config_load(path, keys, sizeof(keys) / sizeof(keys[0]), &s, &err) < 0) {
		if (err == NULL || strncmp(err, path, strlen(path)) != 0 || !same(&s, &before))
			abort();
		free(err);
	} else if (s.count < 1 || s.count > 256 || s.size < 1024 || s.size > (1ull << 30) ||
	           s.timeout > 86400000 || s.mode < 0 || s.mode > 2 || s.name == NULL ||
	           s.path == NULL) {
		abort();
	}
	free(before.name);
	free(before.path);
	config_free(keys, sizeof(keys) / sizeof(keys[0]), &s);
	return 0;
}
