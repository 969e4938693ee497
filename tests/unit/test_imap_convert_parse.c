/* SPDX-License-Identifier: MIT */
/* test_imap_convert_parse.c: tests for src/imap/imap_convert_parse.c. */
#include "imap/imap_convert_parse.h"
#include "lib/arena.h"
#include "lib/util.h"
#include "test.h"

static void
test_items(void)
{
	static const struct {
		const char *atom, *name, *path, *type, *charset, *encoding, *bad;
		int kind;
		long long off, len; /* partial, -1 = none */
	} cases[] = {
	        {"BINARY[2 (\"text/plain\" (\"charset\" \"us-ascii\"))]",
	         "BINARY[2 (\"text/plain\" (\"charset\" \"us-ascii\"))]", "2", "text/plain",
	         "us-ascii", NULL, NULL, IMAP_CONVERT_BINARY, -1, -1},
	        {"binary[1.2.3 (TEXT/Plain)]", "BINARY[1.2.3 (\"text/plain\")]", "1.2.3",
	         "text/plain", NULL, NULL, NULL, IMAP_CONVERT_BINARY, -1, -1},
	        {"BINARY.SIZE[1 (\"text/html\" (\"CHARSET\" \"UTF-8\"))]",
	         "BINARY.SIZE[1 (\"text/html\" (\"charset\" \"UTF-8\"))]", "1", "text/html",
	         "UTF-8", NULL, NULL, IMAP_CONVERT_BINARY_SIZE, -1, -1},
	        {"BINARY[(\"text/plain\")]", "BINARY[(\"text/plain\")]", "", "text/plain", NULL,
	         NULL, NULL, IMAP_CONVERT_BINARY, -1, -1},
	        {"BINARY[3 ( \"text/plain\"  ( \"charset\"  \"koi8-r\"  "
	         "\"content-transfer-encoding\" \"base64\" ) ) ]<10.20>",
	         "BINARY[3 (\"text/plain\" (\"charset\" \"koi8-r\" \"content-transfer-encoding\" "
	         "\"base64\"))]",
	         "3", "text/plain", "koi8-r", "base64", NULL, IMAP_CONVERT_BINARY, 10, 20},
	        {"BINARY[1 (\"text/plain\" (\"pix-x\" \"10\" \"charset\" \"utf-8\"))]",
	         "BINARY[1 (\"text/plain\" (\"pix-x\" \"10\" \"charset\" \"utf-8\"))]", "1",
	         "text/plain", "utf-8", NULL, "pix-x", IMAP_CONVERT_BINARY, -1, -1},
	        {"BINARY[1 (\"text/plain\" (\"charset\" \"a\" \"charset\" \"b\"))]",
	         "BINARY[1 (\"text/plain\" (\"charset\" \"a\" \"charset\" \"b\"))]", "1",
	         "text/plain", "a", NULL, "charset", IMAP_CONVERT_BINARY, -1, -1},
	        {"BINARY[1 (\"text/plain\" (\"charset\" \"q\\\"x\"))]",
	         "BINARY[1 (\"text/plain\" (\"charset\" \"q\\\"x\"))]", "1", "text/plain", "q\"x",
	         NULL, NULL, IMAP_CONVERT_BINARY, -1, -1},
	        {"UID", "UID", "", NULL, NULL, NULL, NULL, IMAP_CONVERT_UID, -1, -1},
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
		if (cases[i].type != NULL)
			test_str_eq(i, arena_printf(a, "%s/%s", it.target.type, it.target.subtype),
			            cases[i].type);
		test_str_eq(i, it.target.charset, cases[i].charset);
		test_str_eq(i, it.target.encoding, cases[i].encoding);
		test_str_eq(i, it.bad_param, cases[i].bad);
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
	        "BINARY[1]",
	        "BINARY[]",
	        "BINARY[1 \"text/plain\"]",
	        "BINARY[1 (\"textplain\")]",
	        "BINARY[1 (\"text/\")]",
	        "BINARY[1 (\"text/pl ain\")]",
	        "BINARY[1 (\"*/*\")]", /* wildcards only for CONVERSIONS */
	        "BINARY[1 (\"text/plain\" (\"charset\"))]",
	        "BINARY[1 (\"text/plain\" (\"charset\" NIL))]",
	        "BINARY[1 (\"text/plain\" (\"charset\" \"utf-8\")]",
	        "BINARY[1 (\"text/plain\")",
	        "BINARY[1 (\"text/plain\")]x",
	        "BINARY[1 (\"text/plain\")]<1.0>",
	        "BINARY[1 (\"text/plain\")]<01.2>",
	        "BINARY.SIZE[1 (\"text/plain\")]<0.1>",
	        "BINARY[0 (\"text/plain\")]",
	        "BINARY[1. (\"text/plain\")]",
	        "BINARY[1.0 (\"text/plain\")]",
	        "BINARY[99999999999 (\"text/plain\")]",
	        "BINARY[1(\"text/plain\")]",
	        "BINARY[1 (\"text/pl\xc3\xa9in\")]",
	        "BINARY[1 (\"text/plain\" (\"charset\" \"\x01\"))]",
	        "BINARY.PEEK[1 (\"text/plain\")]",
	        "BODY[1]",
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
	/* Bounds: a token too long, too many parameters. */
	char *long_type = arena_alloc(a, 600);
	strcpy(long_type, "BINARY[1 (\"text/");
	memset(long_type + strlen(long_type), 'x', 300);
	strcpy(long_type + 16 + 300, "\")]");
	struct imap_convert_item it;
	const char *error;
	test_assert(100, !imap_convert_item_parse(a, long_type, &it, &error));
	char many[2048] = "BINARY[1 (\"text/plain\" (";
	for (int k = 0; k < IMAP_CONVERT_MAX_PARAMS + 1; k++)
		strcat(many, "\"a\" \"b\" ");
	strcat(many, "))]");
	test_assert(101, !imap_convert_item_parse(a, many, &it, &error));
	arena_free(&a);
}

static void
test_request(void)
{
	struct arena *a = arena_new(1024);
	struct imap_arg items[3] = {
	        {.type = IMAP_ARG_ATOM, .str = "UID"},
	        {.type = IMAP_ARG_ATOM, .str = "BINARY[1 (\"text/plain\")]"},
	        {.type = IMAP_ARG_ATOM, .str = "BINARY.SIZE[1 (\"text/plain\")]"},
	};
	struct imap_arg list = {.type = IMAP_ARG_LIST, .list = items, .count = 3};
	struct imap_convert_request req;
	const char *error;

	test_assert(0, imap_convert_request_parse(a, &list, &req, &error));
	test_int_eq(0, req.n, 3);
	test_int_eq(0, req.n_parts, 2);
	test_assert(1, imap_convert_request_parse(a, &items[1], &req, &error));
	test_int_eq(1, req.n, 1);
	struct imap_arg only_uid = {.type = IMAP_ARG_LIST, .list = items, .count = 1};
	test_assert(2, !imap_convert_request_parse(a, &only_uid, &req, &error));
	struct imap_arg empty = {.type = IMAP_ARG_LIST, .list = items, .count = 0};
	test_assert(3, !imap_convert_request_parse(a, &empty, &req, &error));
	struct imap_arg quoted = {.type = IMAP_ARG_QUOTED, .str = "UID"};
	struct imap_arg with_quoted = {.type = IMAP_ARG_LIST, .list = &quoted, .count = 1};
	test_assert(4, !imap_convert_request_parse(a, &with_quoted, &req, &error));
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
	TEST_RUN(test_request);
	TEST_RUN(test_media_types);
	return TEST_DONE("test_imap_convert_parse");
}
