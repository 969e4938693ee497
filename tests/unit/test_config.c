/* SPDX-License-Identifier: MIT */
/* test_config.c: tests for src/lib/config.c. */
#include <stddef.h>
#include <unistd.h>

#include "cli/conf.h"
#include "lib/config.h"
#include "lib/util.h"
#include "test.h"

struct settings {
	char *name;
	uint64_t count;
	bool flag;
	uint64_t size;
	uint64_t timeout_ms;
	int mode;
};

static const struct config_key keys[] = {
        {"name", CONFIG_STRING, offsetof(struct settings, name), "tern", 0, 0, NULL, ""},
        {"a.count", CONFIG_UINT, offsetof(struct settings, count), "3", 1, 100, NULL, ""},
        {"a.flag", CONFIG_BOOL, offsetof(struct settings, flag), "no", 0, 0, NULL, ""},
        {"b.size", CONFIG_SIZE, offsetof(struct settings, size), "64k", 0, 0, NULL, ""},
        {"b.timeout", CONFIG_DURATION, offsetof(struct settings, timeout_ms), "30m", 0, 0, NULL,
         ""},
        {"b.mode", CONFIG_ENUM, offsetof(struct settings, mode), "loopback", 0, 0,
         "never|loopback|always", ""},
};

static char *
write_tmp(const char *text)
{
	char *path = xstrdup("/tmp/tern-test-config-XXXXXX");
	int fd = mkstemp(path);
	if (write(fd, text, strlen(text)) < 0)
		abort();
	close(fd);
	return path;
}

static void
test_defaults_apply(void)
{
	struct settings s;

	config_defaults(keys, ARRAY_LEN(keys), &s);
	test_str_eq(-1, s.name, "tern");
	test_int_eq(-1, s.count, 3);
	test_int_eq(-1, s.flag, 0);
	test_int_eq(-1, s.size, 65536);
	test_int_eq(-1, s.timeout_ms, 30 * 60 * 1000);
	test_int_eq(-1, s.mode, 1);
	config_free(keys, ARRAY_LEN(keys), &s);
}

static void
test_sections_and_values(void)
{
	struct settings s;
	char *err = NULL;
	char *path = write_tmp("# comment\nname = \"mail server\"\n[a]\ncount=7\nflag = on\n"
	                       "[b]\nsize = 2M\ntimeout = 90s\nmode = ALWAYS\n");

	config_defaults(keys, ARRAY_LEN(keys), &s);
	test_int_eq(-1, config_load(path, keys, ARRAY_LEN(keys), &s, &err), 0);
	test_str_eq(-1, s.name, "mail server");
	test_int_eq(-1, s.count, 7);
	test_int_eq(-1, s.flag, 1);
	test_int_eq(-1, s.size, 2 * 1024 * 1024);
	test_int_eq(-1, s.timeout_ms, 90000);
	test_int_eq(-1, s.mode, 2);
	config_free(keys, ARRAY_LEN(keys), &s);
	unlink(path);
	free(path);
}

static void
test_errors_name_file_and_line(void)
{
	static const struct {
		const char *text, *want_suffix;
	} cases[] = {
	        {"name = x\nbogus = 1\n", ":2: unknown key 'bogus'"},
	        {"[a]\ncount = 0\n", ":2: a.count: value out of range"},
	        {"[a]\ncount = 12x\n", ":2: a.count: expected a whole number"},
	        {"[a]\nflag = maybe\n", ":2: a.flag: expected yes or no"},
	        {"[b]\nsize = 3q\n", ":2: b.size: bad size suffix (use k, m or g)"},
	        {"[b]\nmode = sometimes\n", ":2: b.mode: value not one of the choices"},
	        {"just words\n", ":1: expected key = value"},
	        {"[broken\n", ":1: bad section header"},
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct settings s;
		char *err = NULL, *path = write_tmp(cases[i].text);
		config_defaults(keys, ARRAY_LEN(keys), &s);
		test_int_eq(i, config_load(path, keys, ARRAY_LEN(keys), &s, &err), -1);
		test_assert(i, err != NULL && strncmp(err, path, strlen(path)) == 0);
		test_str_eq(i, err ? err + strlen(path) : NULL, cases[i].want_suffix);
		/* A failed load leaves the settings as they were. */
		test_str_eq(i, s.name, "tern");
		free(err);
		config_free(keys, ARRAY_LEN(keys), &s);
		unlink(path);
		free(path);
	}
}

static void
test_missing_file_is_an_error(void)
{
	struct settings s;
	char *err = NULL;

	config_defaults(keys, ARRAY_LEN(keys), &s);
	test_int_eq(-1, config_load("/nonexistent/tern.conf", keys, ARRAY_LEN(keys), &s, &err), -1);
	test_str_eq(-1, err, "/nonexistent/tern.conf: No such file or directory");
	free(err);
	config_free(keys, ARRAY_LEN(keys), &s);
}

/* conf_load() over a struct full of garbage (the callers' live on the
   stack): a protocol that is off is left out of what autoconfiguration and
   `tern dns-records` advertise, whatever the bytes were before. */
static void
test_conf_load_starts_from_zero(void)
{
	char dir[] = "/tmp/tern-test-conf-XXXXXX";
	if (mkdtemp(dir) == NULL)
		abort();
	char *path = xasprintf("%s/tern.conf", dir);
	FILE *f = fopen(path, "w");
	fputs("[server]\nport_base = 20000\n[pop3]\nenabled = no\n", f);
	fclose(f);

	struct tern_conf conf;
	char *err = NULL;
	memset(&conf, 0x5a, sizeof(conf));
	test_int_eq(0, conf_load(dir, &conf, &err), 0);
	struct http_settings h = conf_http_settings(&conf);
	test_int_eq(1, h.pop3s_port, 0);
	test_int_eq(2, h.pop3_port, 0);
	test_int_eq(3, h.imaps_port, 20993);
	conf_free(&conf);
	unlink(path);
	free(path);
	rmdir(dir);
}

int
main(void)
{
	TEST_RUN(test_defaults_apply);
	TEST_RUN(test_sections_and_values);
	TEST_RUN(test_errors_name_file_and_line);
	TEST_RUN(test_missing_file_is_an_error);
	TEST_RUN(test_conf_load_starts_from_zero);
	return TEST_DONE("test_config");
}
