/* SPDX-License-Identifier: MIT */
/* test_mail_convert.c: tests for src/mail/convert.c, html_text.c, the CONVERT
   encoders of cte.c and mail_charset_from_utf8() (charset.c). */
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/util.h"
#include "mail/charset.h"
#include "mail/convert.h"
#include "mail/cte.h"
#include "mail/html_text.h"
#include "test.h"

static const char *
html_text(const char *html)
{
	static struct buf b;
	buf_deinit(&b);
	buf_init(&b);
	mail_html_to_text((const unsigned char *)html, strlen(html), 1 << 20, &b);
	return b.data != NULL ? b.data : "";
}

static void
test_html_to_text(void)
{
	static const struct {
		const char *html, *want;
	} cases[] = {
	        {"", ""},
	        {"plain words", "plain words\r\n"},
	        {"<p>a</p><p>b</p>", "a\r\n\r\nb\r\n"},
	        {"<p></p><p></p><p>x</p>", "x\r\n"}, /* empty blocks add nothing */
	        {"a<br>b<br><br>c", "a\r\nb\r\n\r\nc\r\n"},
	        {"<div>a</div><div>b</div>", "a\r\nb\r\n"},
	        {"  lots \n\t of   space  ", "lots of space\r\n"},
	        {"&lt;&amp;&gt; &quot;&#233;&#x263A;&eacute;",
	         "<&> \"\xc3\xa9\xe2\x98\xba\xc3\xa9\r\n"},
	        {"<script>var x = '<p>';</script>ok<style>p{}</style>", "ok\r\n"},
	        {"<head><title>T</title></head><body>b</body>", "b\r\n"},
	        {"<ul><li>x</li><li>y</li></ul>after", "* x\r\n* y\r\n\r\nafter\r\n"},
	        {"<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>",
	         "a\tb\r\nc\r\n"},
	        {"<pre>a  b\n c</pre>", "a  b\r\n c\r\n"},
	        {"<a href=\"https://x.example/\">site</a>", "site <https://x.example/>\r\n"},
	        {"<a href=\"https://x.example/\">https://x.example/</a>", "https://x.example/\r\n"},
	        {"<a href=\"#top\">top</a> <a href=\"javascript:f()\">js</a>", "top js\r\n"},
	        {"<img src=x alt=\"logo\"> text", "[logo] text\r\n"},
	        {"<b>bold</b> and <i>it</i>alic", "bold and italic\r\n"},
	        {"<p>unclosed <div>nest", "unclosed\r\n\r\nnest\r\n"}, /* <div> ends the <p> */
	        {"<!-- comment -->visible", "visible\r\n"},
	        {"<h1>T</h1>body", "T\r\n\r\nbody\r\n"},
	        /* The input is UTF-8 already: a declared charset must not win. */
	        {"<meta charset=\"iso-8859-1\"><body>caf\xc3\xa9</body>", "caf\xc3\xa9\r\n"},
	        {"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=koi8-r\">"
	         "caf\xc3\xa9",
	         "caf\xc3\xa9\r\n"},
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		test_str_eq(i, html_text(cases[i].html), cases[i].want);
	html_text("");
}

static void
test_html_deep_nesting_and_limit(void)
{
	/* Nesting the walk goes through without recursion; past libxml2's
	   own depth limit (256) the parser gives up, and so no text. */
	struct buf in, out;
	buf_init(&in);
	buf_init(&out);
	for (int i = 0; i < 100; i++)
		buf_puts(&in, "<span>");
	buf_puts(&in, "deep");
	test_int_eq(0, mail_html_to_text((const unsigned char *)in.data, in.len, 1 << 20, &out), 0);
	test_str_eq(0, out.data, "deep\r\n");
	buf_reset(&in);
	buf_reset(&out);
	for (int i = 0; i < 100000; i++)
		buf_puts(&in, "<div><span>");
	buf_puts(&in, "deep");
	test_int_eq(0, mail_html_to_text((const unsigned char *)in.data, in.len, 1 << 20, &out), 0);

	/* max_out: stops and says so. */
	buf_reset(&in);
	buf_reset(&out);
	for (int i = 0; i < 1000; i++)
		buf_puts(&in, "<p>paragraph</p>");
	test_int_eq(1, mail_html_to_text((const unsigned char *)in.data, in.len, 100, &out), -1);
	test_assert(1, out.len < 200);
	buf_deinit(&in);
	buf_deinit(&out);
}

static void
test_encoders(void)
{
	struct buf b;
	buf_init(&b);
	mail_base64_encode((const unsigned char *)"Hello world", 11, &b);
	test_str_eq(0, b.data, "SGVsbG8gd29ybGQ=\r\n");
	buf_reset(&b);
	mail_base64_encode((const unsigned char *)"ab", 2, &b);
	test_str_eq(1, b.data, "YWI=\r\n");
	/* 57 bytes a line: 60 bytes make a full line and one of 4 characters. */
	buf_reset(&b);
	char sixty[60];
	memset(sixty, 'x', sizeof(sixty));
	mail_base64_encode((const unsigned char *)sixty, sizeof(sixty), &b);
	test_int_eq(2, b.len, 76 + 2 + 4 + 2);

	static const struct {
		const char *in, *want;
	} qp[] = {
	        {"caf\xc3\xa9", "caf=C3=A9"},
	        {"a=b", "a=3Db"},
	        {"end \r\nnext\t", "end=20\r\nnext=09"}, /* blanks before a line end */
	        {"bare\nlf", "bare=0Alf"},
	        {"", ""},
	};
	for (size_t i = 0; i < ARRAY_LEN(qp); i++) {
		buf_reset(&b);
		mail_qp_encode((const unsigned char *)qp[i].in, strlen(qp[i].in), &b);
		test_str_eq(10 + i, b.data != NULL ? b.data : "", qp[i].want);
	}
	/* Long lines get soft breaks, and decode back to the input. */
	char line[300];
	for (size_t i = 0; i < sizeof(line); i++)
		line[i] = (char)(i % 3 == 0 ? '\xe9' : 'a' + (char)(i % 26));
	buf_reset(&b);
	mail_qp_encode((const unsigned char *)line, sizeof(line), &b);
	size_t col = 0, longest = 0;
	for (size_t i = 0; i < b.len; i++) {
		col = b.data[i] == '\n' ? 0 : col + 1;
		longest = col > longest ? col : longest;
	}
	test_assert(20, longest <= 77); /* 76 characters and the CR */
	struct buf dec;
	buf_init(&dec);
	mail_qp_decode((const unsigned char *)b.data, b.len, 0, &dec);
	test_int_eq(21, dec.len, sizeof(line));
	test_assert(21, dec.len == sizeof(line) && memcmp(dec.data, line, sizeof(line)) == 0);
	buf_deinit(&dec);
	buf_deinit(&b);
}

static void
test_charset_from_utf8(void)
{
	struct buf b;
	bool unencodable;

	buf_init(&b);
	test_int_eq(0,
	            mail_charset_from_utf8("koi8-r", (const unsigned char *)"\xd0\xaf", 2, &b,
	                                   &unencodable),
	            0);
	test_str_eq(0, b.data, "\xf1"); /* Я */
	buf_reset(&b);
	test_int_eq(1,
	            mail_charset_from_utf8("iso-8859-2", (const unsigned char *)"\xc5\xbc", 2, &b,
	                                   &unencodable),
	            0);
	test_str_eq(1, b.data, "\xbf"); /* ż */
	buf_reset(&b);
	test_int_eq(2,
	            mail_charset_from_utf8("koi8-r", (const unsigned char *)"a\xc5\xbc", 3, &b,
	                                   &unencodable),
	            -1);
	test_assert(2, unencodable && b.len == 0);
	test_int_eq(3,
	            mail_charset_from_utf8("x-no-such", (const unsigned char *)"a", 1, &b,
	                                   &unencodable),
	            -1);
	test_assert(3, !unencodable);
	test_int_eq(4,
	            mail_charset_from_utf8("utf-8//TRANSLIT", (const unsigned char *)"a", 1, &b,
	                                   &unencodable),
	            -1);
	test_int_eq(
	        5,
	        mail_charset_from_utf8("UTF-16BE", (const unsigned char *)"A", 1, &b, &unencodable),
	        0);
	test_int_eq(5, b.len, 2);
	test_assert(5, b.data[0] == '\0' && b.data[1] == 'A');
	buf_deinit(&b);
}

static int
convert(const char *entity, const char *type, const char *subtype, const char *charset,
        const char *encoding, size_t max, struct buf *out, enum mail_convert_error *err)
{
	struct arena *a = arena_new(1024);
	struct mail_convert_target t = {type, subtype, charset, encoding};
	buf_reset(out);
	int rc = mail_convert_entity(a, (const unsigned char *)entity, strlen(entity), &t, max, out,
	                             err);
	arena_free(&a);
	return rc;
}

static void
test_convert_entity(void)
{
	static const struct {
		const char *entity, *type, *subtype, *charset, *encoding, *want;
		enum mail_convert_error err;
	} cases[] = {
	        /* ISO-8859-2 quoted-printable to UTF-8 */
	        {"Content-Type: text/plain; charset=iso-8859-2\r\n"
	         "Content-Transfer-Encoding: quoted-printable\r\n\r\nZa=BF=F3=B3=E6",
	         "text", "plain", NULL, NULL, "Za\xc5\xbc\xc3\xb3\xc5\x82\xc4\x87", 0},
	        /* KOI8-R 8bit to UTF-8, bare LF made CRLF */
	        {"Content-Type: text/plain; charset=koi8-r\r\n\r\n\xf1\n\xf1", "text", "plain",
	         "utf-8", NULL, "\xd0\xaf\r\n\xd0\xaf", 0},
	        /* Shift_JIS base64 ("日本") */
	        {"Content-Type: text/plain; charset=shift_jis\r\n"
	         "Content-Transfer-Encoding: base64\r\n\r\nk/qWew==",
	         "text", "plain", NULL, NULL, "\xe6\x97\xa5\xe6\x9c\xac", 0},
	        /* UTF-16 with BOM */
	        {"Content-Type: text/plain; charset=utf-16\r\n"
	         "Content-Transfer-Encoding: base64\r\n\r\n//5oAGkA",
	         "text", "plain", NULL, NULL, "hi", 0},
	        /* No charset: US-ASCII */
	        {"Subject: x\r\n\r\nhello", "text", "plain", NULL, NULL, "hello", 0},
	        /* to another charset, then base64 */
	        {"Content-Type: text/plain; charset=utf-8\r\n\r\n\xd0\xaf", "text", "plain",
	         "koi8-r", "base64", "8Q==\r\n", 0},
	        /* quoted-printable result */
	        {"Content-Type: text/plain; charset=utf-8\r\n\r\n\xc3\xa9=", "text", "plain", NULL,
	         "quoted-printable", "=C3=A9=3D", 0},
	        /* HTML in windows-1252 to text */
	        {"Content-Type: text/html; charset=windows-1252\r\n\r\n<p>caf\xe9 &euro;</p>",
	         "text", "plain", NULL, NULL, "caf\xc3\xa9 \xe2\x82\xac\r\n", 0},
	        /* plain to html */
	        {"Content-Type: text/plain\r\n\r\na<b", "text", "html", NULL, NULL,
	         "<!DOCTYPE html>\r\n<html><head><meta charset=\"utf-8\"></head><body><pre>a&lt;b"
	         "</pre></body></html>\r\n",
	         0},
	        /* errors */
	        {"Content-Type: image/png\r\n\r\nxx", "text", "plain", NULL, NULL, "",
	         MAIL_CONVERT_UNSUPPORTED},
	        {"Content-Type: text/plain\r\n\r\nxx", "image", "png", NULL, NULL, "",
	         MAIL_CONVERT_UNSUPPORTED},
	        {"Content-Type: text/html\r\n\r\nxx", "text", "enriched", NULL, NULL, "",
	         MAIL_CONVERT_UNSUPPORTED},
	        {"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n",
	         "text", "plain", NULL, NULL, "", MAIL_CONVERT_UNSUPPORTED},
	        {"Content-Type: text/plain\r\n\r\nx", "text", "plain", "x-nope", NULL, "",
	         MAIL_CONVERT_BADPARAM},
	        {"Content-Type: text/plain\r\n\r\nx", "text", "plain", NULL, "x-uuencode", "",
	         MAIL_CONVERT_BADPARAM},
	        {"Content-Type: text/plain; charset=x-nope\r\n\r\nx", "text", "plain", NULL, NULL,
	         "", MAIL_CONVERT_FAILED},
	        {"Content-Type: text/plain\r\nContent-Transfer-Encoding: x-uue\r\n\r\nx", "text",
	         "plain", NULL, NULL, "", MAIL_CONVERT_FAILED},
	        {"Content-Type: text/plain; charset=utf-8\r\n\r\n\xc5\xbc", "text", "plain",
	         "koi8-r", NULL, "", MAIL_CONVERT_FAILED},
	        {"Content-Type: text/plain; charset=utf-8\r\n\r\n\xc5\xbc", "text", "plain", NULL,
	         "7bit", "", MAIL_CONVERT_FAILED},
	};
	struct buf out;

	buf_init(&out);
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		enum mail_convert_error err;
		int rc = convert(cases[i].entity, cases[i].type, cases[i].subtype, cases[i].charset,
		                 cases[i].encoding, 1 << 20, &out, &err);
		test_int_eq(i, rc, cases[i].err == MAIL_CONVERT_OK ? 0 : -1);
		test_int_eq(i, err, cases[i].err);
		test_str_eq(i, out.data != NULL ? out.data : "", cases[i].want);
	}
	/* max_out */
	enum mail_convert_error err;
	test_int_eq(100,
	            convert("Content-Type: text/plain\r\n\r\n0123456789", "text", "plain", NULL,
	                    NULL, 5, &out, &err),
	            -1);
	test_int_eq(100, err, MAIL_CONVERT_TOOBIG);
	test_int_eq(100, out.len, 0);
	buf_deinit(&out);
}

static void
test_source_and_targets(void)
{
	static const struct {
		const char *entity, *type;
		bool is_leaf;
		const char *dflt;    /* the default conversion's target, or NULL */
		const char *targets; /* AVAILABLECONVERSIONS, space-separated */
	} cases[] = {
	        {"Content-Type: Text/HTML; charset=utf-8\r\n\r\n<p>x</p>", "text/html", true,
	         "text/plain", "text/plain text/html"},
	        {"Subject: none\r\n\r\nbody", "text/plain", true, "text/plain",
	         "text/plain text/html"},
	        {"Content-Type: text/enriched\r\n\r\nx", "text/enriched", true, "text/plain",
	         "text/plain text/enriched"},
	        {"Content-Type: image/png\r\n\r\nxx", "image/png", true, NULL, ""},
	        {"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n",
	         "multipart/mixed", false, NULL, ""},
	        {"Content-Type: message/rfc822\r\n\r\nSubject: in\r\n\r\nx", "message/rfc822",
	         false, NULL, ""},
	};
	struct arena *a = arena_new(1024);

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct mail_convert_source src;
		mail_convert_source_of(a, (const unsigned char *)cases[i].entity,
		                       strlen(cases[i].entity), &src);
		test_str_eq(i, arena_printf(a, "%s/%s", src.type, src.subtype), cases[i].type);
		test_int_eq(i, src.is_leaf, cases[i].is_leaf);
		const char *t, *st;
		bool has = mail_convert_default_target(&src, &t, &st);
		test_int_eq(i, has, cases[i].dflt != NULL);
		if (has)
			test_str_eq(i, arena_printf(a, "%s/%s", t, st), cases[i].dflt);
		const char *list[8];
		size_t n = mail_convert_targets(a, &src, list, 8);
		struct buf b;
		buf_init(&b);
		for (size_t k = 0; k < n; k++)
			buf_printf(&b, "%s%s", k > 0 ? " " : "", list[k]);
		test_str_eq(i, b.data != NULL ? b.data : "", cases[i].targets);
		buf_deinit(&b);
	}
	arena_free(&a);
}

static const char *
header(const char *in, const char *charset, int *rc)
{
	static struct buf b;
	buf_deinit(&b);
	buf_init(&b);
	*rc = mail_convert_header((const unsigned char *)in, strlen(in), charset, &b);
	return b.data != NULL ? b.data : "";
}

static void
test_convert_header(void)
{
	static const struct {
		const char *in, *charset, *want;
	} cases[] = {
	        /* ISO-8859-2 "Paweł" to UTF-8; the rest as it is. */
	        {"From: =?iso-8859-2?q?Pawe=B3?= <p@x>\r\nTo: b\r\n\r\n", "utf-8",
	         "From: =?utf-8?B?UGF3ZcWC?= <p@x>\r\nTo: b\r\n\r\n"},
	        /* And back (a Q word into a B word). */
	        {"Subject: =?UTF-8?Q?Pawe=C5=82?=\r\n", "iso-8859-2",
	         "Subject: =?iso-8859-2?B?UGF3ZbM=?=\r\n"},
	        /* Already in the target charset: kept, case aside. */
	        {"Subject: =?UTF-8?q?caf=C3=A9?=\r\n", "utf-8",
	         "Subject: =?UTF-8?q?caf=C3=A9?=\r\n"},
	        /* An unknown charset, a character the target lacks, not a word. */
	        {"X: =?x-unknown?q?abc?=\r\n", "utf-8", "X: =?x-unknown?q?abc?=\r\n"},
	        {"X: =?utf-8?q?=E2=9C=93?=\r\n", "iso-8859-1", "X: =?utf-8?q?=E2=9C=93?=\r\n"},
	        {"X: =?utf-8?q?a b?= =? =?\r\n", "koi8-r", "X: =?utf-8?q?a b?= =? =?\r\n"},
	        {"X: a=?b", "utf-8", "X: a=?b"},
	        /* The RFC 2231 language suffix is no part of the charset name. */
	        {"X: =?iso-8859-1*fr?q?caf=E9?=\r\n", "utf-8", "X: =?utf-8?B?Y2Fmw6k=?=\r\n"},
	};
	int rc;

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		test_str_eq(i, header(cases[i].in, cases[i].charset, &rc), cases[i].want);
		test_int_eq(i, rc, 0);
	}
	/* A long word is split into words of at most 75 characters, between
	   characters, folded. */
	const char *subj =
	        "Subject: =?koi8-r?B?"
	        "89/F29gg1sUgxd2jINzUycggzdHHy8nIIMbSwc7D1drTy8nIIMLVzM/LLCDEwSDX2dDFyiDewcA=?=\r\n";
	const char *out = header(subj, "utf-8", &rc);
	test_int_eq(100, rc, 0);
	size_t words = 0;
	for (const char *w = strstr(out, "=?"); w != NULL; w = strstr(w + 2, "=?")) {
		const char *e = strstr(w + 2, "?=");
		test_assert(100, e != NULL && (size_t)(e + 2 - w) <= 75);
		words++;
		w = e;
	}
	test_assert(100, words >= 2);
	test_assert(100, strstr(out, "?=\r\n =?utf-8?B?") != NULL);
	/* The first word would pass column 76: the blank before it folds. */
	test_assert(100, strncmp(out, "Subject:\r\n =?utf-8?B?", 21) == 0);
	for (const char *l = out; *l != '\0';) {
		const char *e = strstr(l, "\r\n");
		test_assert(100, e != NULL && e - l <= 76);
		l = e != NULL ? e + 2 : l + strlen(l);
	}
	/* No blank to fold at: the word stays where it is. */
	out = header("X-Very-Long-Field-Name-That-Goes-On:=?iso-8859-1?q?caf=E9_caf=E9_caf=E9_"
	             "caf=E9?=\r\n",
	             "utf-8", &rc);
	test_assert(102, strncmp(out, "X-Very-Long-Field-Name-That-Goes-On:=?utf-8?B?", 46) == 0);
	/* An unknown target charset. */
	header("X: y\r\n", "no-such-charset-x", &rc);
	test_int_eq(101, rc, -1);
}

int
main(void)
{
	TEST_RUN(test_html_to_text);
	TEST_RUN(test_html_deep_nesting_and_limit);
	TEST_RUN(test_encoders);
	TEST_RUN(test_charset_from_utf8);
	TEST_RUN(test_convert_entity);
	TEST_RUN(test_source_and_targets);
	TEST_RUN(test_convert_header);
	return TEST_DONE("test_mail_convert");
}
