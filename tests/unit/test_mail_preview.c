/* SPDX-License-Identifier: MIT */
/* test_mail_preview.c: tests for src/mail/preview.c (RFC 8970 PREVIEW). */
#include <string.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "mail/message.h"
#include "mail/mime.h"
#include "mail/preview.h"
#include "test.h"

static const char *
preview_of(struct arena *a, const char *msg)
{
	struct mail_mime_part *root = mail_mime_parse(a, (const unsigned char *)msg, strlen(msg));

	return mail_preview_make(a, (const unsigned char *)msg, root);
}

#define HDR "From: a@b\r\nSubject: s\r\nMIME-Version: 1.0\r\n"

static void
test_part_choice(void)
{
	static const struct {
		const char *msg, *want;
	} cases[] = {
	        /* No Content-Type: text/plain (RFC 2045 5.2). */
	        {"Subject: s\r\n\r\nHello  world\r\n\r\nsecond\tline\r\n",
	         "Hello world second line"},
	        /* The alternative's text/plain wins though the HTML comes first. */
	        {HDR "Content-Type: multipart/alternative; boundary=b\r\n\r\n"
	             "--b\r\nContent-Type: text/html\r\n\r\n<p>html version</p>\r\n"
	             "--b\r\nContent-Type: text/plain\r\n\r\nplain version\r\n--b--\r\n",
	         "plain version"},
	        /* HTML only: markup, head, style and script removed, entities read. */
	        {HDR "Content-Type: text/html; charset=utf-8\r\n\r\n"
	             "<html><head><title>T</title><style>p{color:red}</style></head>"
	             "<body><script>var x=1;</script><p>Fish &amp; chips</p><p>caf&eacute;"
	             "&nbsp;&#x263A;</p><!-- hidden --></body></html>\r\n",
	         "Fish & chips caf\xc3\xa9 \xe2\x98\xba"},
	        /* Mixed: the attachment is skipped, the attached message too. */
	        {HDR "Content-Type: multipart/mixed; boundary=m\r\n\r\n"
	             "--m\r\nContent-Type: text/plain\r\nContent-Disposition: attachment\r\n\r\n"
	             "attached text\r\n"
	             "--m\r\nContent-Type: message/rfc822\r\n\r\nSubject: in\r\n\r\ninner\r\n"
	             "--m\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\n"
	             "iVBORw0KGgo=\r\n"
	             "--m\r\nContent-Type: text/plain\r\n\r\nthe body\r\n--m--\r\n",
	         "the body"},
	        /* Nested: related inside alternative inside mixed. */
	        {HDR
	         "Content-Type: multipart/mixed; boundary=m\r\n\r\n"
	         "--m\r\nContent-Type: multipart/alternative; boundary=a\r\n\r\n"
	         "--a\r\nContent-Type: multipart/related; boundary=r\r\n\r\n"
	         "--r\r\nContent-Type: text/html\r\n\r\n<div>deep <b>html</b></div>\r\n--r--\r\n"
	         "--a--\r\n--m--\r\n",
	         "deep html"},
	        /* Encrypted: nothing (RFC 1847 2.2, RFC 8551 3.3). */
	        {HDR "Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\";"
	             " boundary=e\r\n\r\n--e\r\nContent-Type: application/pgp-encrypted\r\n\r\n"
	             "Version: 1\r\n--e\r\nContent-Type: application/octet-stream\r\n\r\n"
	             "-----BEGIN PGP MESSAGE-----\r\n--e--\r\n",
	         ""},
	        {HDR "Content-Type: multipart/mixed; boundary=m\r\n\r\n"
	             "--m\r\nContent-Type: application/pkcs7-mime; smime-type=enveloped-data\r\n"
	             "Content-Transfer-Encoding: base64\r\n\r\nMIAGCSqGSIb3DQEHA6CAMIACAQAx\r\n"
	             "--m\r\nContent-Type: text/plain\r\n\r\nbeside it\r\n--m--\r\n",
	         ""},
	        /* No text at all, or an empty body. */
	        {HDR "Content-Type: image/gif\r\n\r\nGIF89a\r\n", ""},
	        {"Subject: s\r\n\r\n", ""},
	        {"Subject: s\r\n\r\n \r\n\t\r\n", ""},
	        {HDR "Content-Type: multipart/mixed; boundary=m\r\n\r\n--m--\r\n", ""},
	};
	struct arena *a = arena_new(4096);

	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		test_str_eq(i, preview_of(a, cases[i].msg), cases[i].want);
	arena_free(&a);
}

static void
test_decoding(void)
{
	static const struct {
		const char *msg, *want;
	} cases[] = {
	        {HDR
	         "Content-Type: text/plain; charset=utf-8\r\n"
	         "Content-Transfer-Encoding: base64\r\n\r\nWmHFvMOzxYLEhyBnxJnFm2zEhSBqYcW6xYQ=\r\n",
	         "Za\xc5\xbc\xc3\xb3\xc5\x82\xc4\x87 g\xc4\x99\xc5\x9bl\xc4\x85 ja\xc5\xba\xc5\x84"},
	        {HDR
	         "Content-Type: text/plain; charset=iso-8859-1\r\n"
	         "Content-Transfer-Encoding: quoted-printable\r\n\r\ncaf=E9 na=EFve=\r\n soft\r\n",
	         "caf\xc3\xa9 na\xc3\xafve soft"},
	        {HDR "Content-Type: text/plain; charset=koi8-r\r\n\r\n\xf0\xd2\xc9\xd7\xc5\xd4\r\n",
	         "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82"},
	        {HDR "Content-Type: text/html; charset=windows-1251\r\n"
	             "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
	             "<meta charset=3D\"iso-8859-1\"><p>=CF=F0=E8=E2=E5=F2</p>\r\n",
	         "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82"},
	        /* No charset: UTF-8 when the bytes are, else Latin-1. */
	        {"Subject: s\r\n\r\n\xc3\xa9t\xc3\xa9\r\n", "\xc3\xa9t\xc3\xa9"},
	        {"Subject: s\r\n\r\n\xe9t\xe9\r\n", "\xc3\xa9t\xc3\xa9"},
	        /* Quoted lines of a reply are left out; control characters are space. */
	        {"Subject: s\r\n\r\nOn Monday you wrote:\r\n> old\r\n  >> older\r\nnew\x01text\r\n",
	         "On Monday you wrote: new text"},
	        /* A byte order mark goes. */
	        {"Subject: s\r\n\r\n\xef\xbb\xbfhi\r\n", "hi"},
	};
	struct arena *a = arena_new(4096);

	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		test_str_eq(i, preview_of(a, cases[i].msg), cases[i].want);
	arena_free(&a);
}

static size_t
utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* 256 characters at most, cut on a character boundary, whatever the width. */
static void
test_cut_at_256_characters(void)
{
	static const char *const units[] = {"a", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
	                                    "ab "};
	struct arena *a = arena_new(4096);

	for (size_t i = 0; i < ARRAY_LEN(units); i++) {
		struct buf b;
		buf_init(&b);
		for (int k = 0; k < 400; k++)
			buf_puts(&b, units[i]);
		const char *p = mail_preview_from_text(a, b.data, b.len, false);
		test_int_eq(i, (int64_t)utf8_chars(p), MAIL_PREVIEW_MAX_CHARS);
		/* Each kept character is whole: the text is a prefix of the input
		   (spaces aside, "ab " repeats with single spaces). */
		test_assert(i, strncmp(p, b.data, strlen(p)) == 0);
		test_assert(i, p[strlen(p) - 1] != ' ');
		buf_deinit(&b);
	}
	/* 256 exactly stays whole; the space that would be the 257th goes. */
	char exact[258];
	memset(exact, 'x', 256);
	exact[256] = ' ';
	exact[257] = '\0';
	test_int_eq(-1, (int64_t)strlen(mail_preview_from_text(a, exact, 257, false)), 256);
	arena_free(&a);
}

/* A huge body is read only as far as a preview needs. */
static void
test_big_body_is_bounded(void)
{
	struct arena *a = arena_new(4096);
	struct buf b;

	buf_init(&b);
	buf_puts(&b, "Subject: s\r\nContent-Type: text/html\r\n\r\n<style>");
	for (int k = 0; k < 200000; k++)
		buf_puts(&b, "p{x:y}\r\n");
	buf_puts(&b, "</style><p>late text</p>\r\n");
	/* The text lies past what is read: no preview, quickly. */
	test_str_eq(-1, preview_of(a, b.data), "");
	buf_deinit(&b);
	/* A text part cut in the middle of a UTF-8 sequence stays UTF-8 (not
	   reread as Latin-1 because of the cut). */
	buf_init(&b);
	buf_puts(&b, "Subject: s\r\n\r\nx");
	for (int k = 0; k < 20000; k++) /* byte 32 KiB is a sequence's first */
		buf_puts(&b, "\xc3\xa9");
	const char *p = preview_of(a, b.data);
	test_int_eq(-1, (int64_t)utf8_chars(p), MAIL_PREVIEW_MAX_CHARS);
	test_assert(-1, strncmp(p, "x\xc3\xa9\xc3\xa9", 5) == 0);
	buf_deinit(&b);
	arena_free(&a);
}

/* mail_parse() fills mail_parsed.preview. */
static void
test_mail_parse_fills_preview(void)
{
	static const char msg[] = "Subject: s\r\n\r\nBody text\r\n";
	struct arena *a = arena_new(4096);
	struct mail_parsed p;

	mail_parse(a, (const unsigned char *)msg, strlen(msg), 1024, &p);
	test_str_eq(-1, p.preview, "Body text");
	arena_free(&a);
}

int
main(void)
{
	TEST_RUN(test_part_choice);
	TEST_RUN(test_decoding);
	TEST_RUN(test_cut_at_256_characters);
	TEST_RUN(test_big_body_is_bounded);
	TEST_RUN(test_mail_parse_fills_preview);
	return TEST_DONE("test_mail_preview");
}
