/* SPDX-License-Identifier: MIT */
/* test_imap_convert_parse.c: tests for src/imap/imap_convert_parse.c. */
#include <string.h>

#include "imap/imap_convert_parse.h"
#include "lib/arena.h"
#include "lib/util.h"
#include "test.h"

/* The arguments of one command line, through the command parser. */
static bool
parse_line(struct arena *a, const char *line, struct imap_command *cmd)
{
	struct imap_parser_limits lim = {.max_line = 8192, .max_literal = 8192, .max_depth = 8};
	struct imap_parser *p = imap_parser_new(&lim);
	size_t used = 0;
	const char *err;
	bool toobig;
	enum imap_parse_status st =
	        imap_parser_feed(p, a, line, strlen(line), &used, cmd, &err, &toobig);
	imap_parser_free(&p);
	return st == IMAP_PARSE_DONE;
}

/* "CONVERT 1 <args>" parsed as a request. */
static bool
parse_request(struct arena *a, const char *args, struct imap_convert_request *req,
              const char **error)
{
	struct imap_command cmd;
	char *line = arena_printf(a, "t CONVERT 1 %s\r\n", args);

	*error = "command parser";
	if (!parse_line(a, line, &cmd) || cmd.nargs < 1)
		return false;
	return imap_convert_request_parse(a, cmd.args + 1, cmd.nargs - 1, req, error);
}

static void
test_items(void)
{
	static const struct {
		const char *atom, *name, *path;
		int kind;
		long long off, len; /* partial, -1 = none */
	} cases[] = {
	        {"BINARY[2]", "BINARY[2]", "2", IMAP_CONVERT_BINARY, -1, -1},
	        {"binary[1.2.3]", "BINARY[1.2.3]", "1.2.3", IMAP_CONVERT_BINARY, -1, -1},
	        {"BINARY[]", "BINARY[]", "", IMAP_CONVERT_BINARY, -1, -1},
	        {"BINARY[3]<10.20>", "BINARY[3]", "3", IMAP_CONVERT_BINARY, 10, 20},
	        {"Binary.Size[1]", "BINARY.SIZE[1]", "1", IMAP_CONVERT_BINARY_SIZE, -1, -1},
	        {"BODYPARTSTRUCTURE[4.1]", "BODYPARTSTRUCTURE[4.1]", "4.1",
	         IMAP_CONVERT_BODYPARTSTRUCTURE, -1, -1},
	        {"bodypartstructure[]", "BODYPARTSTRUCTURE[]", "", IMAP_CONVERT_BODYPARTSTRUCTURE,
	         -1, -1},
	        {"AVAILABLECONVERSIONS[2]", "AVAILABLECONVERSIONS[2]", "2",
	         IMAP_CONVERT_AVAILABLECONVERSIONS, -1, -1},
	        {"BODY[HEADER]", "BODY[HEADER]", "", IMAP_CONVERT_HEADER, -1, -1},
	        {"body[2.header]", "BODY[2.HEADER]", "2", IMAP_CONVERT_HEADER, -1, -1},
	        {"BODY[1.MIME]", "BODY[1.MIME]", "1", IMAP_CONVERT_MIME, -1, -1},
	        {"UID", "UID", "", IMAP_CONVERT_UID, -1, -1},
	};
	struct arena *a = arena_new(1024);

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct imap_convert_item it;
		const char *error = NULL;
		bool ok = imap_convert_item_parse(a, cases[i].atom, &it, &error);
		test_assert(i, ok);
		if (!ok) {
			printf("  error: %s\n", error);
			continue;
		}
		test_int_eq(i, it.kind, cases[i].kind);
		test_str_eq(i, it.name, cases[i].name);
		char path[64] = "";
		for (size_t k = 0; k < it.path_len; k++)
			snprintf(path + strlen(path), sizeof(path) - strlen(path), "%s%u",
			         k > 0 ? "." : "", it.path[k]);
		test_str_eq(i, path, cases[i].path);
		test_int_eq(i, it.has_partial, cases[i].off >= 0);
		if (cases[i].off >= 0) {
			test_int_eq(i, it.partial_offset, cases[i].off);
			test_int_eq(i, it.partial_length, cases[i].len);
		}
	}
	arena_free(&a);
}

static void
test_bad_items(void)
{
	static const char *const bad[] = {
	        "BINARY[1 (\"text/plain\")]", /* the old per-item syntax */
	        "BINARY[1",
	        "BINARY[1]x",
	        "BINARY[1]<1.0>",
	        "BINARY[1]<01.2>",
	        "BINARY.SIZE[1]<0.1>",
	        "BODYPARTSTRUCTURE[1]<0.1>",
	        "BINARY[0]",
	        "BINARY[1.]",
	        "BINARY[1.0]",
	        "BINARY[99999999999]",
	        "BINARY[1.TEXT]",
	        "BINARY.PEEK[1]",
	        "BODYPARTSTRUCTURE[HEADER]",
	        "AVAILABLECONVERSIONS[1.MIME]",
	        "BODY[1]",
	        "BODY[]",
	        "BODY[TEXT]",
	        "BODY[HEADER.FIELDS (SUBJECT)]",
	        "BODY[HEADER]<0.10>",
	        "BODY.PEEK[HEADER]",
	        "BODYSTRUCTURE",
	        "FLAGS",
	        "",
	};
	struct arena *a = arena_new(1024);

	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		struct imap_convert_item it;
		const char *error = NULL;
		test_assert(i, !imap_convert_item_parse(a, bad[i], &it, &error));
		test_assert(i, error != NULL);
	}
	arena_free(&a);
}

static void
test_params(void)
{
	static const struct {
		const char *args;
		bool is_default;
		const char *type, *charset, *encoding, *bad;
		size_t n_params;
	} cases[] = {
	        {"(\"text/plain\") BINARY[1]", false, "text/plain", NULL, NULL, NULL, 0},
	        {"(\"Text/HTML\" (\"CHARSET\" \"UTF-8\")) BINARY[1]", false, "text/html", "UTF-8",
	         NULL, NULL, 1},
	        {"(NIL) BINARY[1]", true, NULL, NULL, NULL, NULL, 0},
	        {"(nil (charset \"koi8-r\")) BODY[HEADER]", true, NULL, "koi8-r", NULL, NULL, 1},
	        {"(\"text/plain\" (\"charset\" \"koi8-r\" \"content-transfer-encoding\" "
	         "\"base64\")) BINARY[1]",
	         false, "text/plain", "koi8-r", "base64", NULL, 2},
	        {"(\"text/plain\" (\"pix-x\" \"10\" \"charset\" \"utf-8\")) BINARY[1]", false,
	         "text/plain", "utf-8", NULL, "pix-x", 2},
	        {"(\"text/plain\" (\"charset\" \"a\" \"charset\" \"b\")) BINARY[1]", false,
	         "text/plain", "a", NULL, "charset", 2},
	        {"(\"text/plain\" (\"charset\" \"q\\\"x\")) BINARY[1]", false, "text/plain", "q\"x",
	         NULL, NULL, 1},
	        {"(\"text/plain\" ({5+}\r\nutf-8 \"x\")) BINARY[1]", false, "text/plain", NULL,
	         NULL, "utf-8", 1},
	        /* The data items first, as clients written from the examples do. */
	        {"(BINARY[1] UID) (\"text/plain\" (\"charset\" \"utf-8\"))", false, "text/plain",
	         "utf-8", NULL, NULL, 1},
	        {"BINARY[1] (NIL)", true, NULL, NULL, NULL, NULL, 0},
	};
	struct arena *a = arena_new(1024);

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct imap_convert_request req;
		const char *error = NULL;
		bool ok = parse_request(a, cases[i].args, &req, &error);
		test_assert(i, ok);
		if (!ok) {
			printf("  error: %s\n", error);
			continue;
		}
		const struct imap_convert_params *p = &req.params;
		test_int_eq(i, p->is_default, cases[i].is_default);
		if (cases[i].type != NULL)
			test_str_eq(i, arena_printf(a, "%s/%s", p->target.type, p->target.subtype),
			            cases[i].type);
		else
			test_assert(i, p->target.type == NULL);
		test_str_eq(i, p->target.charset, cases[i].charset);
		test_str_eq(i, p->target.encoding, cases[i].encoding);
		test_str_eq(i, p->bad_param, cases[i].bad);
		test_int_eq(i, p->n_params, cases[i].n_params);
	}
	arena_free(&a);
}

static void
test_request(void)
{
	struct arena *a = arena_new(4096);
	struct imap_convert_request req;
	const char *error;

	test_assert(0, parse_request(a,
	                             "(\"text/plain\") (UID BINARY[1] BINARY.SIZE[1] "
	                             "BODYPARTSTRUCTURE[1] AVAILABLECONVERSIONS[2] BINARY[2])",
	                             &req, &error));
	test_int_eq(0, req.n, 6);
	test_int_eq(0, req.n_parts, 2); /* 1 and 2; AVAILABLECONVERSIONS converts nothing */
	test_int_eq(0, req.items[4].kind, IMAP_CONVERT_AVAILABLECONVERSIONS);
	test_assert(1, parse_request(a,
	                             "(NIL (\"charset\" \"utf-8\")) (BODY[HEADER] BODY[1.MIME] "
	                             "BINARY[1] BODY[1.MIME])",
	                             &req, &error));
	test_int_eq(1, req.n_parts, 3); /* HEADER, 1.MIME, 1 */
	test_assert(2, parse_request(a, "(NIL) BINARY[1]", &req, &error));
	test_int_eq(2, req.n, 1);

	static const char *const bad[] = {
	        "(\"text/plain\") UID",                     /* nothing to convert */
	        "(\"text/plain\") ()",                      /* no items */
	        "(\"text/plain\") (\"UID\")",               /* an item is an atom */
	        "(\"text/plain\") BODY[HEADER]",            /* header items: NIL only */
	        "(\"text/plain\") BODY[1.MIME]",            /* the same */
	        "(text/plain) BINARY[1]",                   /* the target is quoted */
	        "\"text/plain\" BINARY[1]",                 /* in a list */
	        "() BINARY[1]",                             /* with something in it */
	        "(\"textplain\") BINARY[1]",                /* a media type */
	        "(\"text/\") BINARY[1]",                    /* with a subtype */
	        "(\"*/*\") BINARY[1]",                      /* wildcards only for CONVERSIONS */
	        "(\"text/pl ain\") BINARY[1]",              /* of token characters */
	        "(\"text/plain\" (\"charset\")) BINARY[1]", /* parameters in pairs */
	        "(\"text/plain\" (\"charset\" NIL)) BINARY[1]",
	        "(\"text/plain\" \"charset\" \"utf-8\") BINARY[1]",
	        "(\"text/plain\" (\"charset\" \"\x01\")) BINARY[1]",
	        "(\"text/plain\" ((\"charset\") \"utf-8\")) BINARY[1]",
	        "(\"text/plain\") BINARY[1] BINARY[2]", /* two arguments */
	        "(\"text/plain\")",
	        "BINARY[1] BINARY[2]",
	        "(\"text/plain\") (\"text/plain\")",
	};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		error = NULL;
		test_assert(10 + i, !parse_request(a, bad[i], &req, &error));
		test_assert(10 + i, error != NULL);
	}

	/* Bounds: a token too long, too many parameters, too many items. */
	char *long_type = arena_alloc(a, 600);
	strcpy(long_type, "(\"text/");
	memset(long_type + 7, 'x', 300);
	strcpy(long_type + 7 + 300, "\") BINARY[1]");
	test_assert(100, !parse_request(a, long_type, &req, &error));
	char many[2048] = "(\"text/plain\" (";
	for (int k = 0; k < IMAP_CONVERT_MAX_PARAMS + 1; k++)
		strcat(many, "\"a\" \"b\" ");
	strcat(many, ")) BINARY[1]");
	test_assert(101, !parse_request(a, many, &req, &error));
	char items[4096] = "(NIL) (";
	for (int k = 0; k < IMAP_CONVERT_MAX_ITEMS + 1; k++)
		strcat(items, "BINARY[1] ");
	strcat(items, ")");
	test_assert(102, !parse_request(a, items, &req, &error));
	arena_free(&a);
}

static void
test_media_types(void)
{
	static const struct {
		const char *in;
		bool wildcard, ok;
		const char *type, *subtype;
	} cases[] = {
	        {"text/plain", false, true, "text", "plain"},
	        {"Text/HTML", false, true, "text", "html"},
	        {"application/vnd.ms-excel", false, true, "application", "vnd.ms-excel"},
	        {"text/*", true, true, "text", "*"},
	        {"*/*", true, true, "*", "*"},
	        {"text/*", false, false, NULL, NULL},
	        {"text", true, false, NULL, NULL},
	        {"/plain", false, false, NULL, NULL},
	        {"text/plain/x", false, false, NULL, NULL},
	        {"te xt/plain", false, false, NULL, NULL},
	};
	struct arena *a = arena_new(256);

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		const char *t = NULL, *s = NULL;
		test_int_eq(
		        i, imap_convert_media_type_parse(a, cases[i].in, cases[i].wildcard, &t, &s),
		        cases[i].ok);
		if (cases[i].ok) {
			test_str_eq(i, t, cases[i].type);
			test_str_eq(i, s, cases[i].subtype);
		}
	}
	arena_free(&a);
}

int
main(void)
{
	TEST_RUN(test_items);
	TEST_RUN(test_bad_items);
	TEST_RUN(test_params);
	TEST_RUN(test_request);
	TEST_RUN(test_media_types);
	return TEST_DONE("test_imap_convert_parse");
}
