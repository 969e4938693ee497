/* SPDX-License-Identifier: MIT */
/*
 * test_mail_message.c: tests for mail_parse() and mail_section_lookup() over
 * the sample messages in tests/unit/data/mail (LF files, normalised to CRLF
 * here as delivery does). The ENVELOPE and BODYSTRUCTURE strings are what
 * Dovecot sends for these messages; dovecot.eml is the message of Dovecot's
 * own src/lib-imap/test-imap-bodystructure.c with its expected output.
 * Run from the repository root.
 */
#include "lib/arena.h"
#include "lib/buf.h"
#include "mail/message.h"
#include "test.h"

#define DATA "tests/unit/data/mail/"

/* Reads DATA name, CRLF-normalised, into b. */
static bool
load(const char *name, struct buf *b)
{
	char path[256];
	unsigned char chunk[4096];
	struct mail_crlf c;
	size_t n;

	snprintf(path, sizeof(path), DATA "%s", name);
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		printf("  cannot open %s (run from the repository root)\n", path);
		return false;
	}
	buf_init(b);
	buf_puts(b, "");
	mail_crlf_init(&c);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		mail_crlf_feed(&c, chunk, n, b);
	fclose(f);
	return true;
}

static const struct {
	const char *file, *envelope, *bodystructure;
} corpus[] = {
        {"plain.eml",
         "(\"Mon, 3 Feb 2020 10:00:00 +0100\" \"Hello\" ((\"Alice Example\" NIL \"alice\" \"example.org\")) "
         "((\"Alice Example\" NIL \"alice\" \"example.org\")) ((\"Alice Example\" NIL \"alice\" "
         "\"example.org\")) ((NIL NIL \"bob\" \"example.com\")) NIL NIL NIL \"<1@example.org>\")",
         "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 13 1 NIL NIL NIL NIL)"},
        {"alternative.eml",
         "(\"Fri, 1 Jan 99 00:00 EST\" \"Re: [list] Fwd: Meeting (fwd)\" ((\"Smith, John\" NIL \"john\" "
         "\"example.org\")) ((\"Smith, John\" NIL \"john\" \"example.org\")) ((\"Smith, John\" NIL "
         "\"john\" \"example.org\")) ((\"Bob\" NIL \"bob\" \"example.com\")(NIL NIL \"carol\" "
         "\"example.com\")) ((NIL NIL \"undisclosed-recipients\" NIL)(NIL NIL NIL NIL)) NIL NIL NIL)",
         "((\"text\" \"plain\" (\"charset\" \"UTF-8\") NIL NIL \"quoted-printable\" 29 1 NIL NIL NIL "
         "NIL)(\"text\" \"html\" (\"charset\" \"UTF-8\") NIL NIL \"7bit\" 12 0 NIL NIL NIL NIL) "
         "\"alternative\" (\"boundary\" \"alt\") NIL NIL NIL)"},
        {"mixed_attach.eml", NULL,
         "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 13 0 NIL NIL NIL NIL)"
         "(\"application\" \"pdf\" (\"name\" \"r.pdf\") NIL NIL \"base64\" 12 NIL (\"attachment\" "
         "(\"filename*\" \"utf-8''%C3%A9t%C3%A9.pdf\")) NIL NIL) \"mixed\" (\"boundary\" \"XyZ\") NIL "
         "NIL NIL)"},
        {"nested.eml", NULL,
         "(((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 5 0 NIL NIL NIL NIL)"
         "(\"text\" \"html\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 11 0 NIL NIL NIL NIL) "
         "\"alternative\" (\"boundary\" \"inner\") NIL NIL NIL)(\"image\" \"gif\" NIL \"<img1@x>\" NIL "
         "\"base64\" 8 NIL NIL NIL NIL) \"mixed\" (\"boundary\" \"outer\") NIL NIL NIL)"},
        {"rfc822.eml", NULL,
         "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 10 0 NIL NIL NIL NIL)"
         "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 248 (\"Tue, 4 Feb 2020 11:00:00 -0500\" \"inner\" "
         "((\"Inner Sender\" NIL \"inner\" \"example.net\")) ((\"Inner Sender\" NIL \"inner\" "
         "\"example.net\")) ((\"Inner Sender\" NIL \"inner\" \"example.net\")) NIL NIL NIL NIL NIL) "
         "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 10 0 NIL NIL NIL NIL)"
         "(\"application\" \"octet-stream\" NIL NIL NIL \"7bit\" 2 NIL NIL NIL NIL) \"mixed\" "
         "(\"boundary\" \"b2\") NIL NIL NIL) 14 NIL NIL NIL NIL) \"mixed\" (\"boundary\" \"b1\") NIL "
         "NIL NIL)"},
        /* Dovecot's src/lib-imap/test-imap-bodystructure.c, testmsg_bodystructure. */
        {"dovecot.eml", NULL,
         "((\"text\" \"x-myown\" (\"charset\" \"us-ascii\" \"foo\" \"quoted\\\"string\") "
         "\"<foo@example.com>\" \"hellodescription\" \"7bit\" 7 1 \"Q2hlY2sgSW50ZWdyaXR5IQ==\" "
         "(\"inline\" (\"foo\" \"bar\")) (\"en\" \"fi\" \"se\") \"http://example.com/test.txt\")"
         "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 412 (\"Sun, 12 Aug 2012 12:34:56 +0300\" "
         "\"submsg\" ((NIL NIL \"sub\" \"domain.org\")) ((NIL NIL \"sub\" \"domain.org\")) ((NIL NIL "
         "\"sub\" \"domain.org\")) ((NIL NIL \"sub-to1\" \"domain.org\")(NIL NIL \"sub-to2\" "
         "\"domain.org\")) NIL NIL NIL NIL) ((\"text\" \"html\" (\"charset\" \"us-ascii\") NIL NIL "
         "\"8bit\" 20 1 NIL NIL NIL NIL)(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" "
         "21 1 NIL NIL NIL NIL) \"alternative\" (\"boundary\" \"sub1\") NIL NIL NIL) 21 NIL NIL NIL "
         "NIL) \"mixed\" (\"boundary\" \"foo bar\") NIL NIL NIL)"},
        /* Broken MIME */
        {"no_final_boundary.eml", NULL,
         "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 5 0 NIL NIL NIL NIL)"
         "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 35 1 NIL NIL NIL NIL) "
         "\"mixed\" (\"boundary\" \"zz\") NIL NIL NIL)"},
        {"boundary_never.eml", NULL,
         "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 NIL NIL NIL NIL) "
         "\"mixed\" (\"boundary\" \"never\") NIL NIL NIL)"},
        {"eightbit.eml",
         "(NIL {14}\r\nGr\xfc\xdf"
         "e aus K\xf6ln (({11}\r\nJ\xf6rg M\xfcller NIL \"joerg\" "
         "\"example.de\")) (({11}\r\nJ\xf6rg M\xfcller NIL \"joerg\" \"example.de\")) (({11}\r\nJ\xf6rg "
         "M\xfcller NIL \"joerg\" \"example.de\")) (({5}\r\nRen\xc3\xa9 NIL \"rene\" \"example.fr\")) "
         "NIL NIL NIL NIL)",
         "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 47 1 NIL NIL NIL NIL)"},
        {"bad_encoding.eml", NULL,
         "((\"text\" \"plain\" (\"charset\" \"x-no-such-charset\") NIL NIL \"base64\" 28 1 NIL NIL NIL "
         "NIL)(\"text\" \"plain\" (\"charset\" \"iso-8859-1\") NIL NIL \"quoted-printable\" 6 0 NIL NIL "
         "NIL NIL) \"mixed\" (\"boundary\" \"b\") NIL NIL NIL)"},
        {"rfc2047.eml",
         "(\"Wed, 5 Feb 2020 08:30:00 -0800 (PST)\" \"=?UTF-8?B?SGVsbG8g?= =?UTF-8?B?d29ybGQ=?= and "
         "=?ISO-8859-1?Q?caf=E9_cr=E8me?= =?x-unknown?Q?raw?=\" ((\"=?utf-8?Q?Ren=C3=A9_Dupont?=\" NIL "
         "\"rene\" \"example.fr\")) ((\"=?utf-8?Q?Ren=C3=A9_Dupont?=\" NIL \"rene\" \"example.fr\")) "
         "((\"=?utf-8?Q?Ren=C3=A9_Dupont?=\" NIL \"rene\" \"example.fr\")) ((\"=?iso-8859-1?q?J=F6rg?=\" "
         "NIL \"j\" \"example.de\")) NIL NIL \"<parent@example.org> (Alice)\" NIL)",
         "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 6 1 NIL NIL NIL NIL)"},
        {"groups.eml",
         "(NIL NIL ((NIL NIL \"Group One\" NIL)(NIL NIL \"a\" \"example.org\")(\"B B\" NIL \"b\" "
         "\"example.org\")(NIL NIL NIL NIL)(NIL NIL \"c\" \"example.org\")) ((\"Joe Q. Public\" NIL "
         "\"joe\" \"example.org\")) ((\"broken\" NIL \"nowhere\" \"MISSING_DOMAIN\")) ((NIL NIL "
         "\"Empty\" NIL)(NIL NIL NIL NIL)) ((\"Pete\" NIL \"pete\" \"silly.test\")) ((NIL "
         "\"@route1.example,@route2.example\" \"user\" \"example.com\")) NIL NIL)",
         "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 NIL NIL NIL NIL)"},
        {"digest.eml", NULL,
         "((\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 42 (NIL \"one\" ((NIL NIL \"x\" "
         "\"example.org\")) ((NIL NIL \"x\" \"example.org\")) ((NIL NIL \"x\" \"example.org\")) NIL "
         "NIL NIL NIL NIL) (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 5 0 NIL NIL "
         "NIL NIL) 3 NIL NIL NIL NIL)(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 13 "
         "0 NIL NIL NIL NIL) \"digest\" (\"boundary\" \"d\") NIL NIL NIL)"},
};

static void
test_corpus_envelope_and_bodystructure(void)
{
	for (size_t i = 0; i < ARRAY_LEN(corpus); i++) {
		struct buf m;
		struct mail_parsed p;
		if (!load(corpus[i].file, &m)) {
			test_fail_(i, "missing %s", corpus[i].file);
			continue;
		}
		struct arena *a = arena_new(4096);
		mail_parse(a, (const unsigned char *)m.data, m.len, 4096, &p);
		if (corpus[i].envelope != NULL)
			test_str_eq(i, p.envelope, corpus[i].envelope);
		test_str_eq(i, p.bodystructure, corpus[i].bodystructure);
		test_int_eq(i, p.header_size + p.body_size, m.len);
		arena_free(&a);
		buf_deinit(&m);
	}
}

/* BODY is BODYSTRUCTURE without extension data (Dovecot's testmsg_body). */
static void
test_body_has_no_extensions(void)
{
	static const char want[] =
	        "((\"text\" \"x-myown\" (\"charset\" \"us-ascii\" \"foo\" \"quoted\\\"string\") "
	        "\"<foo@example.com>\" \"hellodescription\" \"7bit\" 7 1)(\"message\" \"rfc822\" NIL NIL "
	        "NIL \"7bit\" 412 (\"Sun, 12 Aug 2012 12:34:56 +0300\" \"submsg\" ((NIL NIL \"sub\" "
	        "\"domain.org\")) ((NIL NIL \"sub\" \"domain.org\")) ((NIL NIL \"sub\" \"domain.org\")) "
	        "((NIL NIL \"sub-to1\" \"domain.org\")(NIL NIL \"sub-to2\" \"domain.org\")) NIL NIL NIL "
	        "NIL) ((\"text\" \"html\" (\"charset\" \"us-ascii\") NIL NIL \"8bit\" 20 1)(\"text\" "
	        "\"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 21 1) \"alternative\") 21) "
	        "\"mixed\")";
	struct buf m;
	struct mail_parsed p;

	if (!load("dovecot.eml", &m)) {
		test_fail_(-1, "missing dovecot.eml");
		return;
	}
	struct arena *a = arena_new(4096);
	mail_parse(a, (const unsigned char *)m.data, m.len, 4096, &p);
	test_str_eq(-1, p.body, want);
	arena_free(&a);
	buf_deinit(&m);
}

static void
test_corpus_sort_keys(void)
{
	static const struct {
		const char *file;
		long long date;
		const char *subject, *base, *from, *from_display, *to, *to_display, *cc;
		const char *msgid, *irt, *refs;
	} cases[] = {
	        {"plain.eml", 1580720400, "Hello", "Hello", "alice@example.org", "Alice Example",
	         "bob@example.com", "bob@example.com", "", "<1@example.org>", "", ""},
	        {"alternative.eml", 915166800, "Re: [list] Fwd: Meeting (fwd)", "Meeting",
	         "john@example.org", "Smith, John", "bob@example.com", "Bob",
	         "undisclosed-recipients", "", "", ""},
	        {"eightbit.eml", 0,
	         "Gr\xc3\xbc\xc3\x9f"
	         "e aus K\xc3\xb6ln",
	         "Gr\xc3\xbc\xc3\x9f"
	         "e aus K\xc3\xb6ln",
	         "joerg@example.de", "J\xc3\xb6rg M\xc3\xbcller", "rene@example.fr", "Ren\xc3\xa9",
	         "", "", "", ""},
	        {"rfc2047.eml", 1580920200,
	         "Hello world and caf\xc3\xa9 cr\xc3\xa8me =?x-unknown?Q?raw?=",
	         "Hello world and caf\xc3\xa9 cr\xc3\xa8me =?x-unknown?Q?raw?=", "rene@example.fr",
	         "Ren\xc3\xa9 Dupont", "j@example.de", "J\xc3\xb6rg", "", "",
	         "<parent@example.org>", "<root@example.org> <parent@example.org>"},
	        {"groups.eml", 0, "", "", "group one", "Group One", "empty", "Empty",
	         "pete@silly.test", "", "", ""},
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct buf m;
		struct mail_parsed p;
		if (!load(cases[i].file, &m)) {
			test_fail_(i, "missing %s", cases[i].file);
			continue;
		}
		struct arena *a = arena_new(4096);
		mail_parse(a, (const unsigned char *)m.data, m.len, 4096, &p);
		test_int_eq(i, p.sent_date, cases[i].date);
		test_str_eq(i, p.subject, cases[i].subject);
		test_str_eq(i, p.base_subject, cases[i].base);
		test_str_eq(i, p.from_addr, cases[i].from);
		test_str_eq(i, p.from_display, cases[i].from_display);
		test_str_eq(i, p.to_addr, cases[i].to);
		test_str_eq(i, p.to_display, cases[i].to_display);
		test_str_eq(i, p.cc_addr, cases[i].cc);
		test_str_eq(i, p.message_id, cases[i].msgid);
		test_str_eq(i, p.in_reply_to, cases[i].irt);
		test_str_eq(i, p.references, cases[i].refs);
		arena_free(&a);
		buf_deinit(&m);
	}
}

/* Section lookups: the wanted header and body are compared as text. */
static void
test_sections_lookup(void)
{
	static const struct {
		const char *file;
		uint32_t path[4];
		size_t n;
		int rc;
		const char *header, *body, *encoding;
		bool is_message, is_multipart;
		const char *inner_header; /* when is_message: its first line */
	} cases[] = {
	        {"plain.eml", {0}, 0, 0, NULL, "Hello world\r\n", "7bit", false, false, NULL},
	        {"plain.eml", {1}, 1, 0, NULL, "Hello world\r\n", "7bit", false, false, NULL},
	        {"plain.eml", {2}, 1, -1, NULL, NULL, NULL, false, false, NULL},
	        {"plain.eml", {1, 1}, 2, -1, NULL, NULL, NULL, false, false, NULL},
	        {"plain.eml", {0}, 1, -1, NULL, NULL, NULL, false, false, NULL},
	        {"nested.eml",
	         {1},
	         1,
	         0,
	         "Content-Type: multipart/alternative; boundary=\"inner\"\r\n\r\n",
	         NULL,
	         "7bit",
	         false,
	         true,
	         NULL},
	        {"nested.eml",
	         {1, 2},
	         2,
	         0,
	         "Content-Type: text/html\r\n\r\n",
	         "<b>html</b>",
	         "7bit",
	         false,
	         false,
	         NULL},
	        {"nested.eml", {2}, 1, 0, NULL, "R0lGODlh", "base64", false, false, NULL},
	        {"nested.eml", {1, 3}, 2, -1, NULL, NULL, NULL, false, false, NULL},
	        {"nested.eml", {2, 1}, 2, -1, NULL, NULL, NULL, false, false, NULL},
	        {"rfc822.eml",
	         {2},
	         1,
	         0,
	         "Content-Type: message/rfc822\r\n\r\n",
	         NULL,
	         "7bit",
	         true,
	         false,
	         "From: Inner Sender <inner@example.net>\r\n"},
	        {"rfc822.eml",
	         {2, 1},
	         2,
	         0,
	         "Content-Type: text/plain\r\n\r\n",
	         "Inner text",
	         "7bit",
	         false,
	         false,
	         NULL},
	        {"rfc822.eml", {2, 2}, 2, 0, NULL, "xx", "7bit", false, false, NULL},
	        {"rfc822.eml", {2, 3}, 2, -1, NULL, NULL, NULL, false, false, NULL},
	        {"digest.eml", {1, 1}, 2, 0, NULL, "first", "7bit", false, false, NULL},
	        {"digest.eml",
	         {1},
	         1,
	         0,
	         "\r\n",
	         NULL,
	         "7bit",
	         true,
	         false,
	         "From: x@example.org\r\n"},
	        {"dovecot.eml",
	         {2, 2},
	         2,
	         0,
	         NULL,
	         "Hello another world\r\n",
	         "7bit",
	         false,
	         false,
	         NULL},
	        {"mixed_attach.eml", {2}, 1, 0, NULL, "JVBERi0xLjQK", "base64", false, false, NULL},
	        {"boundary_never.eml", {1}, 1, 0, "", "", "7bit", false, false, NULL},
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct buf m;
		struct mail_parsed p;
		struct mail_section s;
		if (!load(cases[i].file, &m)) {
			test_fail_(i, "missing %s", cases[i].file);
			continue;
		}
		struct arena *a = arena_new(4096);
		mail_parse(a, (const unsigned char *)m.data, m.len, 4096, &p);
		int rc = mail_section_lookup(p.parts, p.parts_len, cases[i].path, cases[i].n, &s);
		test_int_eq(i, rc, cases[i].rc);
		if (rc == 0) {
			if (cases[i].header != NULL)
				test_str_eq(i,
				            arena_strndup(a, m.data + s.header_off, s.header_len),
				            cases[i].header);
			if (cases[i].body != NULL)
				test_str_eq(i, arena_strndup(a, m.data + s.body_off, s.body_len),
				            cases[i].body);
			test_str_eq(i, s.encoding, cases[i].encoding);
			test_int_eq(i, s.is_message, cases[i].is_message);
			test_int_eq(i, s.is_multipart, cases[i].is_multipart);
			if (cases[i].inner_header != NULL) {
				size_t l = strlen(cases[i].inner_header);
				test_str_eq(i,
				            arena_strndup(a, m.data + s.inner_header_off,
				                          MIN(l, s.inner_header_len)),
				            cases[i].inner_header);
				test_int_eq(i, s.inner_body_off + s.inner_body_len,
				            s.body_off + s.body_len);
			}
		}
		arena_free(&a);
		buf_deinit(&m);
	}
}

static void
test_part_table_corruption_refused(void)
{
	struct buf m;
	struct mail_parsed p;
	struct mail_section s;
	uint32_t path[] = {2, 2};

	if (!load("rfc822.eml", &m)) {
		test_fail_(-1, "missing rfc822.eml");
		return;
	}
	struct arena *a = arena_new(4096);
	mail_parse(a, (const unsigned char *)m.data, m.len, 4096, &p);
	test_int_eq(-1, mail_section_lookup(p.parts, p.parts_len, path, 2, &s), 0);
	for (size_t cut = 0; cut < p.parts_len; cut++)
		test_int_eq(cut, mail_section_lookup(p.parts, cut, path, 2, &s), -1);
	unsigned char *bad = arena_memdup(a, p.parts, p.parts_len);
	bad[0] = 'X';
	test_int_eq(-1, mail_section_lookup(bad, p.parts_len, path, 0, &s), -1);
	arena_free(&a);
	buf_deinit(&m);
}

static void
test_text_extraction(void)
{
	static const struct {
		const char *file;
		size_t max;
		const char *header, *body;
	} cases[] = {
	        {"alternative.eml", 4096, NULL,
	         "Caf\xc3\xa9 au lait, please.\n<p>Caf\xc3\xa9</p>\n"},
	        {"bad_encoding.eml", 4096, NULL, "Hello world\nK\xc3\xb6ln\n"},
	        {"rfc822.eml", 4096, NULL,
	         "Forwarded.\nInner Sender <inner@example.net>\ninner\nTue, 4 Feb 2020 11:00:00 -0500\n"
	         "multipart/mixed; boundary=\"b2\"\nInner text\n"},
	        {"eightbit.eml", 4096,
	         "J\xc3\xb6rg M\xc3\xbcller <joerg@example.de>\nGr\xc3\xbc\xc3\x9f"
	         "e aus K\xc3\xb6ln\n"
	         "Ren\xc3\xa9 <rene@example.fr>\n",
	         NULL},
	        {"eightbit.eml", 4, "J\xc3\xb6r", "No C"}, /* cut at a character boundary */
	        {"eightbit.eml", 3, "J\xc3\xb6", "No "},
	        {"eightbit.eml", 2, "J", "No"},
	        {"plain.eml", 0, "", ""},
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct buf m;
		struct mail_parsed p;
		if (!load(cases[i].file, &m)) {
			test_fail_(i, "missing %s", cases[i].file);
			continue;
		}
		struct arena *a = arena_new(4096);
		mail_parse(a, (const unsigned char *)m.data, m.len, cases[i].max, &p);
		/* The text keeps the CRLF of the part; compare with LF. */
		char *body = arena_strdup(a, p.body_text), *w = body;
		for (const char *r = body; *r != '\0'; r++) {
			if (*r != '\r')
				*w++ = *r;
		}
		*w = '\0';
		if (cases[i].header != NULL)
			test_str_eq(i, p.header_text, cases[i].header);
		if (cases[i].body != NULL)
			test_str_eq(i, body, cases[i].body);
		arena_free(&a);
		buf_deinit(&m);
	}
}

/* A 1 MB header: one field folded over 1 MB, then 40000 small fields. */
static void
test_huge_header(void)
{
	struct buf m;
	struct mail_parsed p;

	buf_init(&m);
	buf_puts(&m, "Subject: big");
	while (m.len < 1024 * 1024)
		buf_puts(&m, "\r\n word");
	buf_puts(&m, "\r\nFrom: a@example.org\r\n");
	for (int i = 0; i < 40000; i++)
		buf_printf(&m, "X-Field-%d: value\r\n", i);
	buf_puts(&m, "To: b@example.org\r\n\r\nbody\r\n");
	struct arena *a = arena_new(64 * 1024);
	uint64_t start = time_mono_ms();
	mail_parse(a, (const unsigned char *)m.data, m.len, 1 << 20, &p);
	uint64_t ms = time_mono_ms() - start;
	test_int_eq(-1, p.header_size, m.len - 6);
	test_int_eq(-1, strncmp(p.subject, "big word word", 13), 0);
	test_str_eq(-1, p.from_addr, "a@example.org");
	test_str_eq(-1, p.to_addr, "b@example.org");
	test_str_eq(
	        -1, p.bodystructure,
	        "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 6 1 NIL NIL NIL NIL)");
	test_assert(-1, strlen(p.header_text) <= (1 << 20));
	test_assert(-1, ms < 5000 * TEST_SLOWDOWN); /* linear: well under a second in practice */
	arena_free(&a);
	buf_deinit(&m);
}

/* Nesting past MAIL_MIME_MAX_DEPTH: the innermost multipart becomes text. */
static void
test_deep_nesting_is_bounded(void)
{
	struct buf m;
	struct mail_parsed p;
	const int depth = 150;

	buf_init(&m);
	for (int i = 0; i < depth; i++)
		buf_printf(&m, "Content-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n--b%d\r\n",
		           i, i);
	buf_puts(&m, "Content-Type: text/plain\r\n\r\ndeep\r\n");
	struct arena *a = arena_new(4096);
	mail_parse(a, (const unsigned char *)m.data, m.len, 4096, &p);
	size_t opens = 0;
	for (const char *s = p.bodystructure; *s == '('; s++)
		opens++;
	test_int_eq(-1, opens, 101); /* root + 99 nested multiparts + the text leaf */
	test_assert(-1, strstr(p.bodystructure, "\"multipart\"") == NULL);
	uint32_t path[100];
	for (size_t i = 0; i < 100; i++)
		path[i] = 1;
	struct mail_section s;
	test_int_eq(-1, mail_section_lookup(p.parts, p.parts_len, path, 100, &s), 0);
	test_int_eq(-1, s.is_multipart, false);
	path[99] = 2;
	test_int_eq(-1, mail_section_lookup(p.parts, p.parts_len, path, 100, &s), -1);
	arena_free(&a);
	buf_deinit(&m);
}

/* message/rfc822 nested past the limit: the innermost is read as text. */
static void
test_deep_messages_are_bounded(void)
{
	struct buf m;
	struct mail_parsed p;

	buf_init(&m);
	for (int i = 0; i < 300; i++)
		buf_puts(&m, "Content-Type: message/rfc822\r\n\r\n");
	buf_puts(&m, "Subject: deep\r\n\r\nx\r\n");
	struct arena *a = arena_new(4096);
	mail_parse(a, (const unsigned char *)m.data, m.len, 4096, &p);
	size_t n = 0;
	for (const char *s = p.bodystructure; (s = strstr(s, "\"message\"")) != NULL; s++)
		n++;
	test_int_eq(-1, n, 100);
	arena_free(&a);
	buf_deinit(&m);
}

/* Many parts: capped, the rest left in the last multipart's epilogue. */
static void
test_part_count_is_bounded(void)
{
	struct buf m;
	struct mail_parsed p;

	buf_init(&m);
	buf_puts(&m, "Content-Type: multipart/mixed; boundary=b\r\n\r\n");
	for (int i = 0; i < 20000; i++)
		buf_puts(&m, "--b\r\n\r\nx\r\n");
	struct arena *a = arena_new(64 * 1024);
	mail_parse(a, (const unsigned char *)m.data, m.len, 4096, &p);
	struct mail_section s;
	uint32_t last = 9999, over = 10000;
	test_int_eq(-1, mail_section_lookup(p.parts, p.parts_len, &last, 1, &s), 0);
	test_int_eq(-1, mail_section_lookup(p.parts, p.parts_len, &over, 1, &s), -1);
	arena_free(&a);
	buf_deinit(&m);
}

static void
test_edge_messages(void)
{
	static const struct {
		const char *msg, *bodystructure;
	} cases[] = {
	        {"",
	         "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 NIL NIL NIL NIL)"},
	        {"\r\n",
	         "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 NIL NIL NIL NIL)"},
	        {"Subject: no body",
	         "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 "
	         "NIL NIL NIL NIL)"},
	        /* No boundary parameter: read as text. */
	        {"Content-Type: multipart/mixed\r\n\r\nx\r\n",
	         "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 3 1 NIL NIL NIL NIL)"},
	        /* Invalid Content-Type: the default. */
	        {"Content-Type: garbage\r\n\r\nx",
	         "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 1 0 NIL NIL NIL NIL)"},
	        {"Content-Type: TEXT/HTML; CHARSET=utf-8\r\nContent-Transfer-Encoding: BASE64\r\n\r\nPGI+\r\n",
	         "(\"TEXT\" \"HTML\" (\"CHARSET\" \"utf-8\") NIL NIL \"BASE64\" 6 1 NIL NIL NIL NIL)"},
	        {"Content-Type: application/x-foo; a=1\r\nContent-Disposition: attachment\r\n"
	         "Content-Language: de\r\n\r\nx",
	         "(\"application\" \"x-foo\" (\"a\" \"1\") NIL NIL \"7bit\" 1 NIL (\"attachment\" NIL) "
	         "(\"de\") NIL)"},
	        /* Top-level message/rfc822 with a bare-LF header inside. */
	        {"Content-Type: message/rfc822\r\n\r\nSubject: in\n\nhi",
	         "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 15 (NIL \"in\" NIL NIL NIL NIL NIL NIL NIL "
	         "NIL) (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 2 0 NIL NIL NIL NIL) "
	         "2 NIL NIL NIL NIL)"},
	        /* Outer boundary closes an inner multipart missing its own. */
	        {"Content-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\n"
	         "Content-Type: multipart/alternative; boundary=i\r\n\r\n--i\r\n\r\na\r\n--o\r\n\r\nb\r\n--o--\r\n",
	         "(((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 1 0 NIL NIL NIL NIL) "
	         "\"alternative\" (\"boundary\" \"i\") NIL NIL NIL)(\"text\" \"plain\" (\"charset\" "
	         "\"us-ascii\") NIL NIL \"7bit\" 1 0 NIL NIL NIL NIL) \"mixed\" (\"boundary\" \"o\") NIL "
	         "NIL NIL)"},
	        /* Transport padding after a boundary, and a part with no header. */
	        {"Content-Type: multipart/mixed; boundary=p\r\n\r\n--p  \r\n\r\nx\r\n--p--",
	         "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 1 0 NIL NIL NIL NIL) "
	         "\"mixed\" (\"boundary\" \"p\") NIL NIL NIL)"},
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct mail_parsed p;
		struct arena *a = arena_new(4096);
		mail_parse(a, (const unsigned char *)cases[i].msg, strlen(cases[i].msg), 4096, &p);
		test_str_eq(i, p.bodystructure, cases[i].bodystructure);
		arena_free(&a);
	}
}

int
main(void)
{
	TEST_RUN(test_corpus_envelope_and_bodystructure);
	TEST_RUN(test_body_has_no_extensions);
	TEST_RUN(test_corpus_sort_keys);
	TEST_RUN(test_sections_lookup);
	TEST_RUN(test_part_table_corruption_refused);
	TEST_RUN(test_text_extraction);
	TEST_RUN(test_huge_header);
	TEST_RUN(test_deep_nesting_is_bounded);
	TEST_RUN(test_deep_messages_are_bounded);
	TEST_RUN(test_part_count_is_bounded);
	TEST_RUN(test_edge_messages);
	return TEST_DONE("test_mail_message");
}
