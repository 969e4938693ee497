/* SPDX-License-Identifier: MIT */
/* test_mail_cte.c: tests for src/mail/cte.c and src/mail/crlf.c. */
#include "lib/buf.h"
#include "mail/message.h"
#include "test.h"

static void
test_decode_cte(void)
{
	static const struct {
		const char *enc, *in, *want;
		int rc;
	} cases[] = {
	        {"base64", "SGVsbG8gd29ybGQ=", "Hello world", 0},
	        {"BASE64", "SGVs\r\nbG8g\r\nd29y\r\nbGQ=\r\n", "Hello world", 0},
	        {"base64", "SGVsbG8gd29ybGQ", "Hello world", 0}, /* no padding */
	        {"base64", "SG Vs!!bG8*", "Hello", 0},           /* garbage skipped */
	        {"base64", "SGk=garbage\r\nSGk=", "HiHi", 0},    /* blocks glued */
	        {"base64", "S", "", 0},
	        {"base64", "", "", 0},
	        {"quoted-printable", "caf=C3=A9", "caf\xc3\xa9", 0},
	        {"quoted-printable", "caf=c3=a9", "caf\xc3\xa9", 0}, /* lowercase hex */
	        {"quoted-printable", "soft=\r\nbreak", "softbreak", 0},
	        {"quoted-printable", "soft= \t\r\nbreak", "softbreak", 0}, /* blanks after "=" */
	        {"quoted-printable", "trailing   \r\nx", "trailing\r\nx", 0},
	        {"quoted-printable", "a=\nb\nc", "ab\r\nc", 0},       /* bare LF */
	        {"quoted-printable", "1+1=2 =ZZ =", "1+1=2 =ZZ ", 0}, /* bad "=" kept */
	        {"quoted-printable", "a_b", "a_b", 0},                /* "_" only in Q */
	        {"7bit", "as is\r\n", "as is\r\n", 0},
	        {"8BIT", "\xe9", "\xe9", 0},
	        {"binary", "x", "x", 0},
	        {NULL, "x", "x", 0},
	        {"", "x", "x", 0},
	        {"x-uuencode", "x", "", -1},
	        {"base64x", "x", "", -1},
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct buf b;
		buf_init(&b);
		test_int_eq(i,
		            mail_decode_cte(cases[i].enc, (const unsigned char *)cases[i].in,
		                            strlen(cases[i].in), &b),
		            cases[i].rc);
		test_str_eq(i, b.data != NULL ? b.data : "", cases[i].want);
		buf_deinit(&b);
	}
}

static void
test_base64_binary_roundtrip(void)
{
	/* All 256 byte values, base64-encoded by hand here. */
	static const char b64[] = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4v"
	                          "MDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5f"
	                          "YGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6e3x9fn+AgYKDhIWGh4iJiouMjY6P"
	                          "kJGSk5SVlpeYmZqbnJ2en6ChoqOkpaanqKmqq6ytrq+wsbKztLW2t7i5uru8vb6/"
	                          "wMHCw8TFxsfIycrLzM3Oz9DR0tPU1dbX2Nna29zd3t/g4eLj5OXm5+jp6uvs7e7v"
	                          "8PHy8/T19vf4+fr7/P3+/w==";
	struct buf b;

	buf_init(&b);
	test_int_eq(-1, mail_decode_cte("base64", (const unsigned char *)b64, strlen(b64), &b), 0);
	test_int_eq(-1, b.len, 256);
	for (size_t i = 0; i < b.len && i < 256; i++)
		test_int_eq(i, (unsigned char)b.data[i], i);
	buf_deinit(&b);
}

static void
test_crlf_split_anywhere(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	        {"a\nb\n", "a\r\nb\r\n"},
	        {"a\r\nb\r\n", "a\r\nb\r\n"},
	        {"a\rb", "a\rb"}, /* lone CR kept */
	        {"\r\r\n\n", "\r\r\n\r\n"},
	        {"\n\n\n", "\r\n\r\n\r\n"},
	        {"no newline", "no newline"},
	        {"", ""},
	        {"mixed\r\nline\nends\r\r\n", "mixed\r\nline\r\nends\r\r\n"},
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		const unsigned char *in = (const unsigned char *)cases[i].in;
		size_t len = strlen(cases[i].in);
		struct mail_crlf c;
		struct buf whole;

		buf_init(&whole);
		mail_crlf_init(&c);
		mail_crlf_feed(&c, in, len, &whole);
		test_str_eq(i, whole.data != NULL ? whole.data : "", cases[i].want);

		/* Split in two at every point, then byte by byte. */
		for (size_t cut = 0; cut <= len; cut++) {
			struct buf b;
			buf_init(&b);
			mail_crlf_init(&c);
			mail_crlf_feed(&c, in, cut, &b);
			mail_crlf_feed(&c, in + cut, len - cut, &b);
			test_str_eq(i, b.data != NULL ? b.data : "", cases[i].want);
			buf_deinit(&b);
		}
		struct buf b;
		buf_init(&b);
		mail_crlf_init(&c);
		for (size_t k = 0; k < len; k++)
			mail_crlf_feed(&c, in + k, 1, &b);
		test_str_eq(i, b.data != NULL ? b.data : "", cases[i].want);
		buf_deinit(&b);
		buf_deinit(&whole);
	}
}

int
main(void)
{
	TEST_RUN(test_decode_cte);
	TEST_RUN(test_base64_binary_roundtrip);
	TEST_RUN(test_crlf_split_anywhere);
	return TEST_DONE("test_mail_cte");
}
