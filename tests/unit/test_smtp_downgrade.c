/* SPDX-License-Identifier: MIT */
/*
 * test_smtp_downgrade.c: 8BITMIME to 7-bit (RFC 6152 section 3): 7-bit
 * mail passes unchanged, 8-bit leaves become quoted-printable that decodes
 * back to the same bytes with lines of at most 76, multipart siblings are
 * left alone, a bare message gets MIME-Version and a charset, and what
 * cannot be converted (8-bit headers, binary parts, an 8-bit preamble)
 * fails.
 */
#include "test.h"

#include "lib/buf.h"
#include "lib/util.h"
#include "mail/cte.h"
#include "smtp/smtp_downgrade.h"

static int
put(void *arg, const void *data, size_t len)
{
	buf_append(arg, data, len);
	return 0;
}

static int
run(const char *in, struct buf *out, const char **why)
{
	buf_reset(out);
	int rc = smtp_downgrade((const unsigned char *)in, strlen(in), put, out, why);
	buf_putc(out, '\0');
	out->len--;
	return rc;
}

static void
test_seven_bit_unchanged(void)
{
	struct buf b;
	const char *why = NULL;
	const char *msg = "From: a@b\r\nSubject: hi\r\n\r\nplain text\r\n";

	buf_init(&b);
	test_int_eq(-1, run(msg, &b, &why), 0);
	test_str_eq(-1, b.data, msg);
	buf_deinit(&b);
}

static void
test_bare_message(void)
{
	struct buf b, dec;
	const char *why = NULL;
	const char *msg = "From: a@b\r\nSubject: hi\r\n\r\nGr\xc3\xbc\xc3\x9f"
	                  "e = mehr \r\nzweite\r\n";

	buf_init(&b);
	buf_init(&dec);
	test_int_eq(-1, run(msg, &b, &why), 0);
	test_assert(-1, !smtp_has_8bit((const unsigned char *)b.data, b.len));
	test_assert(-1, strstr(b.data, "MIME-Version: 1.0\r\n") != NULL);
	test_assert(-1,
	            strstr(b.data, "Content-Type: text/plain; charset=unknown-8bit\r\n") != NULL);
	test_assert(-1,
	            strstr(b.data, "Content-Transfer-Encoding: quoted-printable\r\n\r\n") != NULL);
	test_assert(-1, strstr(b.data, "Gr=C3=BC=C3=9Fe =3D mehr=20\r\nzweite\r\n") != NULL);
	const char *body = strstr(b.data, "\r\n\r\n") + 4;
	mail_qp_decode((const unsigned char *)body, strlen(body), 0, &dec);
	buf_putc(&dec, '\0');
	test_str_eq(-1, dec.data,
	            "Gr\xc3\xbc\xc3\x9f"
	            "e = mehr \r\nzweite\r\n");
	buf_deinit(&b);
	buf_deinit(&dec);
}

static void
test_long_lines_and_multipart(void)
{
	struct buf b, body, dec;
	const char *why = NULL;

	buf_init(&b);
	buf_init(&body);
	buf_init(&dec);
	for (int i = 0; i < 100; i++)
		buf_puts(&body, "\xc3\xa9x");
	buf_putc(&body, '\0');
	char *msg = xasprintf("From: a@b\r\nMIME-Version: 1.0\r\n"
	                      "Content-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n"
	                      "preamble\r\n--XX\r\nContent-Type: text/plain\r\n\r\nseven\r\n"
	                      "--XX\r\nContent-Type: text/plain; charset=utf-8\r\n"
	                      "Content-Transfer-Encoding: 8bit\r\n\r\n%s\r\n--XX--\r\n",
	                      body.data);
	test_int_eq(-1, run(msg, &b, &why), 0);
	test_assert(-1, !smtp_has_8bit((const unsigned char *)b.data, b.len));
	test_assert(-1, strstr(b.data, "\r\n\r\nseven\r\n--XX\r\n") != NULL); /* untouched */
	test_assert(-1, strstr(b.data, "8bit") == NULL);
	test_assert(-1, strstr(b.data, "charset=utf-8\r\nContent-Transfer-Encoding: "
	                               "quoted-printable\r\n\r\n") != NULL);
	/* every line at most 76 characters */
	for (const char *p = b.data; *p;) {
		const char *e = strstr(p, "\r\n");
		size_t l = e != NULL ? (size_t)(e - p) : strlen(p);
		test_assert(-1, l <= 76);
		p += l + (e != NULL ? 2 : 0);
	}
	const char *start = strstr(b.data, "quoted-printable\r\n\r\n") + 20;
	const char *end = strstr(start, "\r\n--XX--");
	mail_qp_decode((const unsigned char *)start, (size_t)(end - start), 0, &dec);
	buf_putc(&dec, '\0');
	test_str_eq(-1, dec.data, body.data);
	free(msg);
	buf_deinit(&b);
	buf_deinit(&body);
	buf_deinit(&dec);
}

static void
test_impossible(void)
{
	struct buf b;
	static const char *const bad[] = {
	        "From: a@b\r\nSubject: Gr\xc3\xbc\xc3\x9f"
	        "e\r\n\r\nbody\r\n",
	        "From: a@b\r\nMIME-Version: 1.0\r\nContent-Transfer-Encoding: binary\r\n\r\n\xff\r\n",
	        "From: a@b\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n"
	        "pre\xc3\xa9\r\n--XX\r\n\r\nx\r\n--XX--\r\n",
	};

	buf_init(&b);
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		const char *why = NULL;
		test_int_eq(i, run(bad[i], &b, &why), -1);
		test_assert(i, why != NULL);
	}
	buf_deinit(&b);
}

int
main(void)
{
	TEST_RUN(test_seven_bit_unchanged);
	TEST_RUN(test_bare_message);
	TEST_RUN(test_long_lines_and_multipart);
	TEST_RUN(test_impossible);
	return TEST_DONE("test_smtp_downgrade");
}
