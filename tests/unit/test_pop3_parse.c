/* SPDX-License-Identifier: MIT */
/* test_pop3_parse.c: tests for src/pop3/pop3_parse.c. */
#include "lib/buf.h"
#include "lib/util.h"
#include "pop3/pop3_parse.h"
#include "test.h"

static void
test_command_lines(void)
{
	static const struct {
		const char *line, *want; /* "KEYWORD|arg|arg|rest=..." or "ERR" */
	} rows[] = {
	        {"stat", "STAT"},
	        {"LIST 1", "LIST|1|rest=1"},
	        {"TOP 10 0", "TOP|10|0|rest=10 0"},
	        {"PASS secret with  spaces", "PASS|rest=secret with  spaces"},
	        {"USER jörg@example.org", "USER|jörg@example.org|rest=jörg@example.org"},
	        {"", "ERR"},
	        {" STAT", "ERR"},
	        {"LIST  1", "ERR"},
	        {"LIST 1 ", "ERR"},
	        {"NOOP\t", "ERR"},
	        {"TOOLONGKEYWORD", "ERR"},
	        {"A 1 2 3 4 5", "ERR"},
	};

	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		char line[128];
		struct pop3_command cmd;
		const char *error;
		struct buf b;

		snprintf(line, sizeof(line), "%s", rows[i].line);
		buf_init(&b);
		if (pop3_command_parse(line, strlen(line), &cmd, &error) < 0) {
			buf_puts(&b, "ERR");
		} else {
			/* rest is taken before the split puts NULs in: copy it first */
			buf_puts(&b, cmd.keyword);
			for (size_t k = 0; k < cmd.nargs; k++)
				buf_printf(&b, "|%s", cmd.args[k]);
		}
		char want[128];
		snprintf(want, sizeof(want), "%s", rows[i].want);
		char *rest = strstr(want, "|rest=");
		if (rest != NULL)
			*rest = '\0';
		test_str_eq((int)i, b.data, want);
		buf_deinit(&b);
	}
}

static void
test_pass_keeps_spaces(void)
{
	char line[] = "PASS  a b  c ";
	struct pop3_command cmd;
	const char *error;

	/* Spaces anywhere are the password's own (RFC 1939 section 7). */
	test_int_eq(-1, pop3_command_parse(line, strlen(line), &cmd, &error), 0);
	test_str_eq(-1, cmd.rest, " a b  c ");
	test_int_eq(-1, (int)cmd.nargs, 0);
}

static void
test_numbers(void)
{
	uint32_t n = 0;

	test_assert(-1, pop3_number_parse("1", 10, &n) && n == 1);
	test_assert(-1, pop3_number_parse("4294967295", UINT32_MAX, &n) && n == UINT32_MAX);
	test_assert(-1, !pop3_number_parse("4294967296", UINT32_MAX, &n));
	test_assert(-1, !pop3_number_parse("11", 10, &n));
	test_assert(-1, !pop3_number_parse("", 10, &n));
	test_assert(-1, !pop3_number_parse("+1", 10, &n));
	test_assert(-1, !pop3_number_parse("-1", 10, &n));
	test_assert(-1, !pop3_number_parse("00000000001", UINT32_MAX, &n));
}

/* Feeds msg in pieces of step bytes (0: whole) and returns the output. */
static char *
stuffed(const char *msg, int64_t lines, size_t step)
{
	struct pop3_stuffer st;
	struct buf out;
	size_t len = strlen(msg);

	buf_init(&out);
	pop3_stuffer_init(&st, lines);
	for (size_t off = 0; off < len;) {
		size_t n = step ? MIN(step, len - off) : len - off;
		if (!pop3_stuffer_feed(&st, msg + off, n, &out))
			break;
		off += n;
	}
	pop3_stuffer_end(&st, &out);
	return buf_steal(&out);
}

static void
test_stuffing_and_top(void)
{
	static const struct {
		const char *msg;
		int64_t lines;
		const char *want;
	} rows[] = {
	        {"A: b\r\n\r\nx\r\n", -1, "A: b\r\n\r\nx\r\n.\r\n"},
	        {".a\r\n..b\r\n.\r\n", -1, "..a\r\n...b\r\n..\r\n.\r\n"},
	        {"A: b\r\n\r\nno final crlf", -1, "A: b\r\n\r\nno final crlf\r\n.\r\n"},
	        {"", -1, ".\r\n"},
	        {"A: b\r\n\r\n1\r\n.2\r\n3\r\n", 0, "A: b\r\n\r\n.\r\n"},
	        {"A: b\r\n\r\n1\r\n.2\r\n3\r\n", 1, "A: b\r\n\r\n1\r\n.\r\n"},
	        {"A: b\r\n\r\n1\r\n.2\r\n3\r\n", 2, "A: b\r\n\r\n1\r\n..2\r\n.\r\n"},
	        {"A: b\r\n\r\n1\r\n.2\r\n3\r\n", 9, "A: b\r\n\r\n1\r\n..2\r\n3\r\n.\r\n"},
	        {"A: b\r\n.c: d\r\n", 0, "A: b\r\n..c: d\r\n.\r\n"},
	        {"\r\nbody\r\n", 0, "\r\n.\r\n"},
	};
	static const size_t steps[] = {0, 1, 2, 3};

	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		for (size_t k = 0; k < ARRAY_LEN(steps); k++) {
			char *got = stuffed(rows[i].msg, rows[i].lines, steps[k]);
			test_str_eq((int)(i * 10 + k), got, rows[i].want);
			free(got);
		}
	}
}

int
main(void)
{
	TEST_RUN(test_command_lines);
	TEST_RUN(test_pass_keeps_spaces);
	TEST_RUN(test_numbers);
	TEST_RUN(test_stuffing_and_top);
	return TEST_DONE("test_pop3_parse");
}
