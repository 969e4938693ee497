/* SPDX-License-Identifier: MIT */
/* test_mail_imap_string.c: tests for src/mail/imap_string.c, the one IMAP
   string writer: each rule of imap_string.h, row by row. */
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/util.h"
#include "mail/imap_string.h"
#include "test.h"

#define UTF8 MAIL_IMAP_STRING_UTF8
#define LIT8 MAIL_IMAP_STRING_LITERAL8

static void
test_string_forms(void)
{
	static const struct {
		const char *in;
		size_t len;
		unsigned flags;
		const char *want; /* NULL: refused */
	} cases[] = {
	        /* 7-bit without CR, LF, NUL: quoted, '"' and '\' escaped */
	        {"INBOX", 5, 0, "\"INBOX\""},
	        {"", 0, 0, "\"\""},
	        {"a b", 3, 0, "\"a b\""},
	        {"say \"hi\"", 8, 0, "\"say \\\"hi\\\"\""},
	        {"C:\\dir", 6, 0, "\"C:\\\\dir\""},
	        {"tab\there", 8, 0, "\"tab\there\""},
	        /* CR or LF: a literal, even with UTF-8 allowed */
	        {"a\r\nb", 4, 0, "{4}\r\na\r\nb"},
	        {"a\nb", 3, UTF8, "{3}\r\na\nb"},
	        {"cr\r", 3, 0, "{3}\r\ncr\r"},
	        /* 8-bit: a literal, unless UTF-8 is allowed and valid */
	        {"caf\xc3\xa9", 5, 0, "{5}\r\ncaf\xc3\xa9"},
	        {"caf\xc3\xa9", 5, UTF8, "\"caf\xc3\xa9\""},
	        {"\xe2\x82\xac \"x\"", 7, UTF8, "\"\xe2\x82\xac \\\"x\\\"\""},
	        {"bad\xff", 4, UTF8, "{4}\r\nbad\xff"},     /* not UTF-8 */
	        {"trunc\xc3", 6, UTF8, "{6}\r\ntrunc\xc3"}, /* cut sequence */
	        {"\xc0\xaf", 2, UTF8, "{2}\r\n\xc0\xaf"},   /* overlong "/" */
	        /* NUL: never quoted, never a plain literal */
	        {"a\0b", 3, 0, NULL},
	        {"a\0b", 3, UTF8, NULL},
	        {"\0", 1, 0, NULL},
	        {"a\0b\r\n", 5, 0, NULL},
	        {"a\0b", 3, LIT8, "~{3}\r\na\0b"},
	        {"\xff\0", 2, UTF8 | LIT8, "~{2}\r\n\xff\0"},
	        /* literal8 is only for NUL: other strings keep their form */
	        {"plain", 5, LIT8, "\"plain\""},
	        {"x\r\n", 3, LIT8, "{3}\r\nx\r\n"},
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct buf b;
		buf_init(&b);
		buf_puts(&b, "<");
		int rc = mail_imap_string_append(&b, cases[i].in, cases[i].len, cases[i].flags);
		if (cases[i].want == NULL) {
			test_int_eq(i, rc, -1);
			test_int_eq(i, b.len, 1); /* nothing appended */
		} else {
			size_t wlen = 0;
			/* want may hold a NUL: its length is its literal's plus the header */
			const char *w = cases[i].want;
			if (w[0] == '~')
				wlen = (size_t)(strchr(w, '\n') - w) + 1 + cases[i].len;
			else
				wlen = strlen(w);
			test_int_eq(i, rc, 0);
			test_int_eq(i, b.len, wlen + 1);
			test_assert(i, b.len == wlen + 1 && memcmp(b.data + 1, w, wlen) == 0);
		}
		buf_deinit(&b);
	}
}

static void
test_nstring_and_quote(void)
{
	struct arena *a = arena_new(1024);
	struct buf b;

	buf_init(&b);
	mail_imap_nstring_append(&b, NULL);
	buf_putc(&b, ' ');
	mail_imap_nstring_append(&b, "Re: \"x\"");
	buf_putc(&b, ' ');
	mail_imap_nstring_append(&b, "\xc3\xa9t\xc3\xa9"); /* cached forms suit rev1 */
	test_str_eq(-1, b.data, "NIL \"Re: \\\"x\\\"\" {5}\r\n\xc3\xa9t\xc3\xa9");
	buf_deinit(&b);

	test_str_eq(-1, mail_imap_string_quote(a, "Sent Items", 0), "\"Sent Items\"");
	test_str_eq(-1, mail_imap_string_quote(a, "a\\b", 0), "\"a\\\\b\"");
	test_str_eq(-1, mail_imap_string_quote(a, "Entw\xc3\xbcrfe", 0), "{9}\r\nEntw\xc3\xbcrfe");
	test_str_eq(-1, mail_imap_string_quote(a, "Entw\xc3\xbcrfe", UTF8), "\"Entw\xc3\xbcrfe\"");
	test_str_eq(-1, mail_imap_string_quote(a, "x\ny", UTF8), "{3}\r\nx\ny");
	arena_free(&a);
}

/* What the writer wrote, the reader gives back, and stops right after it. */
static void
test_nstring_read_round_trip(void)
{
	static const char *const values[] = {
	        "plain", "", "say \"hi\" C:\\", "caf\xc3\xa9", "two\r\nlines", NULL,
	};
	static const char *const bad[] = {"", "\"open", "{5}\r\nabc", "{x}\r\n", "nil", "atom"};
	struct arena *a = arena_new(1024);

	for (size_t i = 0; i < ARRAY_LEN(values); i++) {
		struct buf b;
		buf_init(&b);
		mail_imap_nstring_append(&b, values[i]);
		buf_puts(&b, " rest");
		const char *p = b.data;
		test_str_eq(i, mail_imap_nstring_read(a, &p), values[i]);
		test_str_eq(i, p, " rest");
		buf_deinit(&b);
	}
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		const char *p = bad[i];
		test_assert(i, mail_imap_nstring_read(a, &p) == NULL && p == bad[i]);
	}
	arena_free(&a);
}

int
main(void)
{
	TEST_RUN(test_string_forms);
	TEST_RUN(test_nstring_and_quote);
	TEST_RUN(test_nstring_read_round_trip);
	return TEST_DONE("test_mail_imap_string");
}
