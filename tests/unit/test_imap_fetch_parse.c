/* SPDX-License-Identifier: MIT */
/* test_imap_fetch_parse.c: tests for src/imap/imap_fetch_parse.c. */
#include "imap/imap_fetch_parse.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "store/store.h"
#include "test.h"

/* "name|kind|seen|path|text|fields|<off.len>" or "ERR". */
static const char *
dump(struct arena *a, const char *atom)
{
	static const char *const texts[] = {"WHOLE",      "HEADER", "FIELDS",
	                                    "FIELDS.NOT", "TEXT",   "MIME"};
	struct imap_fetch_item it;
	const char *error;
	struct buf b;

	if (!imap_fetch_item_parse(a, atom, &it, &error))
		return "ERR";
	buf_init(&b);
	buf_printf(&b, "%s|%d|%d|", it.name, (int)it.kind, it.sets_seen);
	for (size_t i = 0; i < it.path_len; i++)
		buf_printf(&b, "%s%u", i ? "." : "", it.path[i]);
	buf_printf(&b, "|%s|", texts[it.text]);
	for (size_t i = 0; i < it.n_fields; i++)
		buf_printf(&b, "%s%s", i ? "," : "", it.fields[i]);
	if (it.has_partial)
		buf_printf(&b, "|<%llu.%llu>", (unsigned long long)it.partial_offset,
		           (unsigned long long)it.partial_length);
	const char *out = arena_strdup(a, b.data);
	buf_deinit(&b);
	return out;
}

static void
test_items(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	        {"FLAGS", "FLAGS|0|0||WHOLE|"},
	        {"flags", "FLAGS|0|0||WHOLE|"},
	        {"RFC822.SIZE", "RFC822.SIZE|2|0||WHOLE|"},
	        {"BODY", "BODY|4|0||WHOLE|"},
	        {"bodystructure", "BODYSTRUCTURE|5|0||WHOLE|"},
	        {"MODSEQ", "MODSEQ|7|0||WHOLE|"},
	        {"SAVEDATE", "SAVEDATE|10|0||WHOLE|"},
	        {"preview", "PREVIEW|14|0||WHOLE|"},
	        {"PREVIEW.LAZY", "ERR"},
	        {"RFC822", "RFC822|11|1||WHOLE|"},
	        {"rfc822.header", "RFC822.HEADER|11|0||HEADER|"},
	        {"RFC822.TEXT", "RFC822.TEXT|11|1||TEXT|"},
	        {"BODY[]", "BODY[]|11|1||WHOLE|"},
	        {"body.peek[]", "BODY[]|11|0||WHOLE|"},
	        {"BODY[HEADER]", "BODY[HEADER]|11|1||HEADER|"},
	        {"BODY[text]", "BODY[TEXT]|11|1||TEXT|"},
	        {"BODY[1]", "BODY[1]|11|1|1|WHOLE|"},
	        {"BODY[1.2.3]", "BODY[1.2.3]|11|1|1.2.3|WHOLE|"},
	        {"BODY[1.MIME]", "BODY[1.MIME]|11|1|1|MIME|"},
	        {"BODY[4.2.HEADER]", "BODY[4.2.HEADER]|11|1|4.2|HEADER|"},
	        {"BODY[3.TEXT]", "BODY[3.TEXT]|11|1|3|TEXT|"},
	        {"BODY.PEEK[HEADER.FIELDS (FROM to)]<0.100>",
	         "BODY[HEADER.FIELDS (FROM TO)]|11|0||FIELDS|FROM,TO|<0.100>"},
	        {"BODY[2.HEADER.FIELDS.NOT (Subject)]",
	         "BODY[2.HEADER.FIELDS.NOT (SUBJECT)]|11|1|2|FIELDS.NOT|SUBJECT"},
	        {"BODY[HEADER.FIELDS (\"X-A\" B)]",
	         "BODY[HEADER.FIELDS (X-A B)]|11|1||FIELDS|X-A,B"},
	        {"BODY[HEADER.FIELDS (\"x(y\")]", "BODY[HEADER.FIELDS (\"X(Y\")]|11|1||FIELDS|X(Y"},
	        {"BODY[]<5.10>", "BODY[]|11|1||WHOLE||<5.10>"},
	        {"BODY[]<0.4294967296>", "BODY[]|11|1||WHOLE||<0.4294967296>"},
	        {"BINARY[1]", "BINARY[1]|12|1|1|WHOLE|"},
	        {"BINARY.PEEK[1.2]<0.5>", "BINARY[1.2]|12|0|1.2|WHOLE||<0.5>"},
	        {"BINARY[]", "BINARY[]|12|1||WHOLE|"},
	        {"BINARY.SIZE[3]", "BINARY.SIZE[3]|13|0|3|WHOLE|"},
	        /* errors */
	        {"", "ERR"},
	        {"FOO", "ERR"},
	        {"BODY[", "ERR"},
	        {"BODY[]x", "ERR"},
	        {"BODY[0]", "ERR"},
	        {"BODY[01]", "ERR"},
	        {"BODY[1.]", "ERR"},
	        {"BODY[.1]", "ERR"},
	        {"BODY[1..2]", "ERR"},
	        {"BODY[4294967296]", "ERR"},
	        {"BODY[MIME]", "ERR"},
	        {"BODY[HEADERX]", "ERR"},
	        {"BODY[1HEADER]", "ERR"},
	        {"BODY[HEADER.FIELDS]", "ERR"},
	        {"BODY[HEADER.FIELDS ()]", "ERR"},
	        {"BODY[HEADER.FIELDS (A  B)]", "ERR"},
	        {"BODY[HEADER.FIELDS (A:B)]", "ERR"},
	        {"BODY[HEADER.FIELDS (A)", "ERR"},
	        {"BODY[TEXT (A)]", "ERR"},
	        {"BODY[]<1.0>", "ERR"},
	        {"BODY[]<1>", "ERR"},
	        {"BODY[]<1.2", "ERR"},
	        {"BODY[]<-1.2>", "ERR"},
	        {"BODY[]<99999999999999999999.1>", "ERR"},
	        {"BINARY[HEADER]", "ERR"},
	        {"BINARY[1.MIME]", "ERR"},
	        {"BINARY.SIZE[1]<0.1>", "ERR"},
	        {"BODY.PEEK", "ERR"},
	        {"RFC822.PEEK", "ERR"},
	};
	struct arena *a = arena_new(1024);

	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		test_str_eq(i, dump(a, cases[i].in), cases[i].want);
	arena_free(&a);
}

static struct imap_arg
atom(const char *s)
{
	return (struct imap_arg){.type = IMAP_ARG_ATOM, .str = s, .len = strlen(s)};
}

static void
test_requests(void)
{
	struct arena *a = arena_new(1024);
	struct imap_fetch_request req;
	const char *error;

	struct imap_arg full = atom("FULL");
	test_assert(0, imap_fetch_request_parse(a, &full, &req, &error));
	test_int_eq(0, req.n, 5);
	test_str_eq(0, req.items[4].name, "BODY");
	test_assert(0, req.has_flags && !req.sets_seen && !req.needs_content);
	test_int_eq(0, req.store_fields, STORE_FETCH_ENVELOPE | STORE_FETCH_STRUCTURE);

	struct imap_arg fast = atom("fast");
	test_assert(1, imap_fetch_request_parse(a, &fast, &req, &error));
	test_int_eq(1, req.n, 3);
	test_int_eq(1, req.store_fields, STORE_FETCH_BASIC);

	struct imap_arg items[] = {atom("UID"), atom("BODY[1]"), atom("MODSEQ")};
	struct imap_arg list = {.type = IMAP_ARG_LIST, .list = items, .count = 3};
	test_assert(2, imap_fetch_request_parse(a, &list, &req, &error));
	test_assert(2, req.has_uid && req.has_modseq && req.sets_seen && req.needs_content);

	/* A macro inside a list, an empty list, a nested list: BAD. */
	struct imap_arg bad1[] = {atom("ALL")};
	list = (struct imap_arg){.type = IMAP_ARG_LIST, .list = bad1, .count = 1};
	test_assert(3, !imap_fetch_request_parse(a, &list, &req, &error));
	list.count = 0;
	test_assert(4, !imap_fetch_request_parse(a, &list, &req, &error));
	struct imap_arg inner = {.type = IMAP_ARG_LIST, .list = items, .count = 1};
	list = (struct imap_arg){.type = IMAP_ARG_LIST, .list = &inner, .count = 1};
	test_assert(5, !imap_fetch_request_parse(a, &list, &req, &error));
	arena_free(&a);
}

/* RFC 8970 section 6: "PREVIEW" [SP "(" preview-mod *(SP preview-mod) ")"]. */
static void
test_preview_modifiers(void)
{
	struct arena *a = arena_new(1024);
	struct imap_fetch_request req;
	const char *error;
	struct imap_arg lazy[] = {atom("lazy")}, lazy2[] = {atom("LAZY"), atom("LAZY")},
	                foo[] = {atom("FOO")}, since[] = {atom("CHANGEDSINCE"), atom("1")};
	struct imap_arg mods = {.type = IMAP_ARG_LIST, .list = lazy, .count = 1};
	struct imap_arg items[] = {atom("UID"), atom("PREVIEW"), mods, atom("FLAGS")};
	struct imap_arg list = {.type = IMAP_ARG_LIST, .list = items, .count = 4};

	test_assert(0, imap_fetch_request_parse(a, &list, &req, &error));
	test_int_eq(0, req.n, 3);
	test_assert(0, req.items[1].kind == IMAP_FETCH_PREVIEW && req.items[1].is_lazy);
	test_assert(0, (req.store_fields & STORE_FETCH_PREVIEW) && !req.needs_content);
	list.count = 2; /* no modifiers */
	test_assert(1, imap_fetch_request_parse(a, &list, &req, &error));
	test_assert(1, req.items[1].kind == IMAP_FETCH_PREVIEW && !req.items[1].is_lazy);
	items[2] = (struct imap_arg){.type = IMAP_ARG_LIST, .list = lazy2, .count = 2};
	list.count = 3;
	test_assert(2, imap_fetch_request_parse(a, &list, &req, &error));
	items[2] = (struct imap_arg){.type = IMAP_ARG_LIST, .list = foo, .count = 1};
	test_assert(3, !imap_fetch_request_parse(a, &list, &req, &error));
	test_str_eq(3, error, "Unknown PREVIEW modifier");
	items[2] = (struct imap_arg){.type = IMAP_ARG_LIST, .list = foo, .count = 0};
	test_assert(4, !imap_fetch_request_parse(a, &list, &req, &error));
	/* A list after another attribute is still an error. */
	items[1] = atom("FLAGS");
	items[2] = mods;
	test_assert(5, !imap_fetch_request_parse(a, &list, &req, &error));

	/* The lone attribute: PREVIEW (LAZY) is two arguments, PREVIEW
	   (CHANGEDSINCE 1) one attribute and fetch-modifiers. */
	struct imap_arg args[] = {atom("PREVIEW"), mods};
	test_int_eq(6, (int64_t)imap_fetch_att_nargs(args, 2), 2);
	test_int_eq(7, (int64_t)imap_fetch_att_nargs(args, 1), 1);
	args[1] = (struct imap_arg){.type = IMAP_ARG_LIST, .list = since, .count = 2};
	test_int_eq(8, (int64_t)imap_fetch_att_nargs(args, 2), 1);
	args[0] = atom("FLAGS");
	args[1] = mods;
	test_int_eq(9, (int64_t)imap_fetch_att_nargs(args, 2), 1);
	arena_free(&a);
}

static void
test_header_filter(void)
{
	static const char hdr[] = "From: a@b\r\n"
	                          "Subject: one\r\n two\r\n"
	                          "X-Note : x\r\n"
	                          "to: c@d\r\n"
	                          "\r\n";
	static const struct {
		const char *names[3];
		size_t n;
		bool keep;
		const char *want;
	} cases[] = {
	        {{"SUBJECT"}, 1, true, "Subject: one\r\n two\r\n\r\n"},
	        {{"TO", "FROM"}, 2, true, "From: a@b\r\nto: c@d\r\n\r\n"},
	        {{"X-NOTE"}, 1, true, "X-Note : x\r\n\r\n"},
	        {{"NONE"}, 1, true, "\r\n"},
	        {{"SUBJECT", "X-NOTE"}, 2, false, "From: a@b\r\nto: c@d\r\n\r\n"},
	        {{"SUBJ"}, 1, true, "\r\n"}, /* exact names only */
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct buf b;
		buf_init(&b);
		imap_fetch_header_filter(hdr, sizeof(hdr) - 1, cases[i].names, cases[i].n,
		                         cases[i].keep, &b);
		test_str_eq(i, b.data, cases[i].want);
		buf_deinit(&b);
	}
	/* A header without its blank line (a message with no body). */
	struct buf b;
	const char *names[] = {"A"};
	buf_init(&b);
	imap_fetch_header_filter("A: 1\r\nB: 2", 10, names, 1, false, &b);
	test_str_eq(99, b.data, "B: 2\r\n\r\n");
	buf_deinit(&b);
}

int
main(void)
{
	TEST_RUN(test_items);
	TEST_RUN(test_requests);
	TEST_RUN(test_preview_modifiers);
	TEST_RUN(test_header_filter);
	return TEST_DONE("test_imap_fetch_parse");
}
