/* SPDX-License-Identifier: MIT */
/* test_imap_parser.c: tests for src/imap/parser.c. */
#include "imap/parser.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/util.h"
#include "test.h"

static const struct imap_parser_limits limits = {
        .max_line = 200, .max_literal = 64, .max_depth = 4};

static void
dump_args(struct buf *b, const struct imap_arg *args, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			buf_putc(b, ' ');
		switch (args[i].type) {
		case IMAP_ARG_ATOM:
			buf_printf(b, "A:%s", args[i].str);
			break;
		case IMAP_ARG_QUOTED:
			buf_printf(b, "Q:%s", args[i].str);
			break;
		case IMAP_ARG_LITERAL:
			buf_printf(b, "%s:%s", args[i].is_literal8 ? "L8" : "L", args[i].str);
			break;
		case IMAP_ARG_LIST:
			buf_putc(b, '(');
			dump_args(b, args[i].list, args[i].count);
			buf_putc(b, ')');
			break;
		}
	}
}

/*
 * Parses input fed in pieces of `step` bytes (0 = all at once) and returns
 * the outcomes, one per command or event: "tag|NAME|args", "ERR tag: msg",
 * "+" for a literal continuation.
 */
static char *
parse(const char *input, size_t step)
{
	struct imap_parser *p = imap_parser_new(&limits);
	struct arena *a = arena_new(1024);
	struct buf out;
	size_t len = strlen(input), off = 0;

	buf_init(&out);
	while (off < len) {
		size_t n = step ? MIN(step, len - off) : len - off, used;
		struct imap_command cmd;
		const char *err;
		bool toobig;
		enum imap_parse_status st =
		        imap_parser_feed(p, a, input + off, n, &used, &cmd, &err, &toobig);
		off += used;
		switch (st) {
		case IMAP_PARSE_MORE:
			break;
		case IMAP_PARSE_LITERAL_WAIT:
			buf_puts(&out, "+;");
			break;
		case IMAP_PARSE_DONE:
			buf_printf(&out, "%s|%s|", cmd.tag, cmd.name);
			dump_args(&out, cmd.args, cmd.nargs);
			buf_putc(&out, ';');
			arena_reset(a);
			break;
		case IMAP_PARSE_ERROR:
			buf_printf(&out, "ERR %s: %s%s;", cmd.tag ? cmd.tag : "*", err,
			           toobig ? " [TOOBIG]" : "");
			arena_reset(a);
			break;
		}
	}
	if (imap_parser_is_busy(p))
		buf_puts(&out, "(busy)");
	imap_parser_free(&p);
	arena_free(&a);
	return buf_steal(&out);
}

static const struct {
	const char *in, *want;
} cases[] = {
        {"a1 NOOP\r\n", "a1|NOOP|;"},
        {"a1 noop\n", "a1|noop|;"},
        {"a1 LOGIN alice secret\r\n", "a1|LOGIN|A:alice A:secret;"},
        {"a1 LOGIN \"al ice\" \"se\\\"c\\\\\"\r\n", "a1|LOGIN|Q:al ice Q:se\"c\\;"},
        {"a1 LOGIN {5}\r\nalice {2+}\r\npw\r\n", "+;a1|LOGIN|L:alice L:pw;"},
        {"a1 APPEND INBOX ~{3}\r\nx\0y\r\n", "+;a1|APPEND|A:INBOX L8:x;"},
        {"t FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (FROM TO)]<0.100>)\r\n",
         "t|FETCH|A:1:* (A:FLAGS A:BODY.PEEK[HEADER.FIELDS (FROM TO)]<0.100>);"},
        {"t STORE 1 +FLAGS (\\Seen \\Deleted)\r\n", "t|STORE|A:1 A:+FLAGS (A:\\Seen A:\\Deleted);"},
        {"t LIST \"\" %\r\n", "t|LIST|Q: A:%;"},
        {"t X ()\r\n", "t|X|();"},
        {"t X (a (b (c)))\r\n", "t|X|(A:a (A:b (A:c)));"},
        {"\r\n\r\na NOOP\r\n", "a|NOOP|;"},
        {"a NOOP\r\nb NOOP\r\n", "a|NOOP|;b|NOOP|;"},
        /* errors, and the next command parses */
        {"a NOOP (\r\nb NOOP\r\n", "ERR a: Missing ')';b|NOOP|;"},
        {"a NOOP )\r\nb NOOP\r\n", "ERR a: Unexpected ')';b|NOOP|;"},
        {"a NOOP  x\r\n", "ERR a: Extra space;"},
        {"a NOOP x(y\r\n", "ERR a: Missing space between arguments;"},
        {"a LOGIN \"x\r\n", "ERR a: Unterminated quoted string;"},
        {"a LOGIN \"\\x\"\r\n", "ERR a: Invalid escape in quoted string;"},
        {"lonely\r\n", "ERR lonely: Missing command;"},
        {"+x NOOP\r\n", "ERR *: Invalid tag;"},
        {"a X {3}junk\r\n", "ERR a: Literal must end the line;"},
        {"a X {}\r\n", "ERR a: Invalid literal;"},
        {"a X (((((x)))))\r\n", "ERR a: Lists nested too deep;"},
        {"a X {65}\r\nb NOOP\r\n", "ERR a: Literal too big [TOOBIG];b|NOOP|;"},
        {"a X {65+}\r\n"
         "01234567890123456789012345678901234567890123456789012345678901234"
         " more\r\nb NOOP\r\n",
         "ERR a: Literal too big [TOOBIG];b|NOOP|;"},
        /* a non-synchronising literal on a bad line is skipped too */
        {"a X ) {3+}\r\n)\r\n\r\nb NOOP\r\n", "ERR a: Unexpected ')';b|NOOP|;"},
        {"a X BODY[TEXT\r\n", "a|X|A:BODY[TEXT;"},
        /* '[' is an ATOM-CHAR: without a space or parenthesis after it
           no section was opened (ImapTest's atoms group). */
        {"a SELECT !#$&'+,-.0123456789:;<=>?@^_`|[}\r\n",
         "a|SELECT|A:!#$&'+,-.0123456789:;<=>?@^_`|[};"},
        {"a LIST \"\" x[}%*\r\n", "a|LIST|Q: A:x[}%*;"},
        {"a X BODY[HEADER.FIELDS (A)\r\n", "ERR a: Missing ']';"},
        {"a NOOP\r", "(busy)"},
};

static void
test_commands_parse_whole(void)
{
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		/* strlen stops at the NUL of the literal8 case; use the real size there */
		char *got = parse(cases[i].in, 0);
		if (strstr(cases[i].in, "~{3}") == NULL)
			test_str_eq(i, got, cases[i].want);
		free(got);
	}
}

static void
test_commands_parse_byte_by_byte(void)
{
	/* Dovecot's test_imap_parser_crlf idea: every split gives the same answer. */
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		if (strstr(cases[i].in, "~{3}") != NULL)
			continue;
		for (size_t step = 1; step <= 7; step++) {
			char *got = parse(cases[i].in, step);
			test_str_eq(i * 100 + step, got, cases[i].want);
			free(got);
		}
	}
}

static void
test_literal_may_hold_nul(void)
{
	static const char in[] = "a1 APPEND INBOX ~{3}\r\nx\0y\r\n";
	struct imap_parser *p = imap_parser_new(&limits);
	struct arena *a = arena_new(1024);
	struct imap_command cmd;
	const char *err;
	bool toobig;
	size_t used, off = 0;

	test_int_eq(-1, imap_parser_feed(p, a, in, sizeof(in) - 1, &used, &cmd, &err, &toobig),
	            IMAP_PARSE_LITERAL_WAIT);
	off += used;
	test_int_eq(
	        -1,
	        imap_parser_feed(p, a, in + off, sizeof(in) - 1 - off, &used, &cmd, &err, &toobig),
	        IMAP_PARSE_DONE);
	test_int_eq(-1, cmd.nargs, 2);
	test_int_eq(-1, cmd.args[1].len, 3);
	test_assert(-1, cmd.args[1].is_literal8);
	test_assert(-1, memcmp(cmd.args[1].str, "x\0y", 3) == 0);
	imap_parser_free(&p);
	arena_free(&a);
}

static void
test_line_limit(void)
{
	char line[512];

	memset(line, 'x', sizeof(line));
	memcpy(line, "a NOOP ", 7);
	memcpy(line + sizeof(line) - 12, "\r\nb NOOP\r\n", 11);
	char *got = parse(line, 0);
	test_str_eq(-1, got, "ERR a: Line too long;b|NOOP|;");
	free(got);
}

/* A sink that streams APPEND's message literals and refuses literals of
   "BIG"; it records what it was given. */
struct sink_log {
	struct buf streamed;
	int begins, handle;
};

static enum imap_literal_route
sink_begin(void *ctx, struct arena *a, const struct imap_literal_where *w, size_t len,
           bool is_literal8, void **handle_out)
{
	struct sink_log *log = ctx;

	log->begins++;
	if (strcmp(w->name, "BIG") == 0)
		return IMAP_LITERAL_REFUSE;
	/* "CAT (TEXT {n}": the level above and the siblings are known. */
	if (strcmp(w->name, "CAT") == 0) {
		if (w->depth == 1 && w->n_outer == 1 && strcmp(w->outer[0].str, "x") == 0 &&
		    w->index == 1 && strcmp(w->siblings[0].str, "TEXT") == 0)
			log->handle++;
		return IMAP_LITERAL_KEEP;
	}
	if (strcmp(w->name, "APPEND") != 0 || w->depth != 0 || w->index < 1)
		return IMAP_LITERAL_KEEP;
	*handle_out = &log->handle;
	return IMAP_LITERAL_STREAM;
}

static void
sink_write(void *ctx, void *handle, const char *data, size_t len)
{
	struct sink_log *log = ctx;

	if (handle == &log->handle)
		buf_append(&log->streamed, data, len);
}

static void
test_literal_sink_routes(void)
{
	static const char input[] = "a APPEND {5+}\r\nINBOX (\\Seen) {11+}\r\nhello world\r\n"
	                            "b BIG {3+}\r\nxyz\r\nc NOOP\r\nd CAT x (TEXT {1+}\r\ny)\r\n";
	static const size_t steps[] = {0, 1, 2, 7};

	for (size_t k = 0; k < ARRAY_LEN(steps); k++) {
		struct sink_log log = {.begins = 0};
		struct imap_literal_sink sink = {sink_begin, sink_write, &log};
		struct imap_parser *p = imap_parser_new(&limits);
		struct arena *a = arena_new(1024);
		struct buf out;
		size_t len = strlen(input), off = 0;

		buf_init(&out);
		buf_init(&log.streamed);
		imap_parser_set_sink(p, &sink);
		while (off < len) {
			size_t n = steps[k] ? MIN(steps[k], len - off) : len - off, used;
			struct imap_command cmd;
			const char *err;
			bool toobig;
			enum imap_parse_status st =
			        imap_parser_feed(p, a, input + off, n, &used, &cmd, &err, &toobig);
			off += used;
			if (st == IMAP_PARSE_DONE) {
				buf_printf(&out, "%s:", cmd.tag);
				for (size_t i = 0; i < cmd.nargs; i++)
					buf_printf(&out, " %s%s", cmd.args[i].stream ? "S" : "",
					           cmd.args[i].type == IMAP_ARG_LIST
					                   ? "()"
					                   : cmd.args[i].str);
				buf_putc(&out, ';');
			} else if (st == IMAP_PARSE_ERROR) {
				buf_printf(&out, "ERR %s %s%s;", cmd.tag, toobig ? "TOOBIG " : "",
				           err);
			}
		}
		/* The mailbox literal is kept, the message streamed (no bytes
		   in the argument), BIG's refused and its bytes skipped. */
		test_str_eq((int)k, out.data,
		            "a: INBOX () S;ERR b TOOBIG Literal too big;c:;d: x ();");
		test_str_eq((int)k, log.streamed.data, "hello world");
		test_int_eq((int)k, log.begins, 4);
		test_int_eq((int)k, log.handle, 1);
		buf_deinit(&out);
		buf_deinit(&log.streamed);
		arena_free(&a);
		imap_parser_free(&p);
	}
}

/* LITERAL- (RFC 7888 section 5): {n+} over 4096 bytes is TOOBIG and its
   bytes are skipped; the same size synchronising, or 4096 non-synchronising,
   is fine. */
static void
test_literal_minus(void)
{
	static const struct imap_parser_limits minus = {
	        .max_line = 200, .max_literal = 10000, .max_depth = 4, .max_nonsync_literal = 4096};
	struct imap_parser *p = imap_parser_new(&minus);
	struct arena *a = arena_new(1024);
	struct buf in;
	const char *want[] = {"ERR TOOBIG", "b", "+", "c"};
	size_t got = 0;

	buf_init(&in);
	buf_puts(&in, "a APPEND INBOX {4097+}\r\n");
	for (int i = 0; i < 4097; i++)
		buf_putc(&in, 'x');
	buf_puts(&in, "\r\nb APPEND INBOX {4096+}\r\n");
	for (int i = 0; i < 4096; i++)
		buf_putc(&in, 'y');
	buf_puts(&in, "\r\nc APPEND INBOX {5000}\r\n");
	for (int i = 0; i < 5000; i++)
		buf_putc(&in, 'z');
	buf_puts(&in, "\r\n");
	for (size_t off = 0; off < in.len;) {
		size_t used;
		struct imap_command cmd;
		const char *err;
		bool toobig;
		enum imap_parse_status st = imap_parser_feed(p, a, in.data + off, in.len - off,
		                                             &used, &cmd, &err, &toobig);
		off += used;
		const char *what = st == IMAP_PARSE_ERROR          ? (toobig ? "ERR TOOBIG" : "ERR")
		                   : st == IMAP_PARSE_LITERAL_WAIT ? "+"
		                   : st == IMAP_PARSE_DONE         ? cmd.tag
		                                                   : NULL;
		if (what == NULL)
			continue;
		test_assert(got, got < ARRAY_LEN(want));
		if (got < ARRAY_LEN(want))
			test_str_eq(got, what, want[got]);
		got++;
		if (st != IMAP_PARSE_LITERAL_WAIT) /* the command goes on in a */
			arena_reset(a);
	}
	test_assert(-1, got == ARRAY_LEN(want));
	buf_deinit(&in);
	imap_parser_free(&p);
	arena_free(&a);
}

int
main(void)
{
	TEST_RUN(test_literal_sink_routes);
	TEST_RUN(test_commands_parse_whole);
	TEST_RUN(test_commands_parse_byte_by_byte);
	TEST_RUN(test_literal_may_hold_nul);
	TEST_RUN(test_line_limit);
	TEST_RUN(test_literal_minus);
	return TEST_DONE("test_imap_parser");
}
