/* SPDX-License-Identifier: MIT */
/* test_mail_binary.c: tests for src/mail/binary.c (literal8 APPEND, RFC 3516):
   each case fed whole and in every split of one, two and three bytes, since
   the converter must not care how the literal arrives. */
#include "lib/arena.h"
#include "lib/buf.h"
#include "mail/binary.h"
#include "test.h"

static void
collect(void *ctx, const void *data, size_t len)
{
	buf_append(ctx, data, len);
}

/* The converted message, fed step bytes at a time (0: whole), in a. */
static const char *
convert(struct arena *a, const char *msg, size_t len, size_t step)
{
	struct buf b;

	buf_init(&b);
	struct mail_binary *conv = mail_binary_new(collect, &b);
	for (size_t off = 0; off < len;) {
		size_t n = step == 0 || len - off < step ? len - off : step;
		mail_binary_feed(conv, msg + off, n);
		off += n;
	}
	mail_binary_finish(conv);
	mail_binary_free(&conv);
	const char *r = arena_strndup(a, b.data != NULL ? b.data : "", b.len);
	buf_deinit(&b);
	return r;
}

static void
check(int row, const char *msg, size_t len, const char *want)
{
	struct arena *a = arena_new(4096);

	for (size_t step = 0; step <= 3; step++)
		test_str_eq(row * 10 + (int)step, convert(a, msg, len, step), want);
	arena_free(&a);
}

#define CHECK(row, msg, want) check(row, msg, sizeof(msg) - 1, want)

static void
test_single_part(void)
{
	/* ImapTest append-binary: every body byte is content, line ends too;
	   the field (with its continuation line) is replaced and put last. */
	CHECK(0,
	      "Subject: s\r\nContent-Transfer-Encoding:\r\n binary\r\nX: y\r\n\r\n"
	      "\0-\xe4\n\r\n\n",
	      "Subject: s\r\nX: y\r\nContent-Transfer-Encoding: base64\r\n\r\nAC3kCg0KCg==\n");
	/* Nothing binary: passed through as it is. */
	CHECK(1, "Subject: s\r\n\r\nhello\nworld\n", "Subject: s\r\n\r\nhello\nworld\n");
	CHECK(2, "", "");
	CHECK(3, "Subject: no body", "Subject: no body");
	/* A held CR that is content after all. */
	CHECK(4, "Content-Transfer-Encoding: binary\n\na\rb\r",
	      "Content-Transfer-Encoding: base64\r\n\nYQ1iDQ==\n");
}

static void
test_multipart(void)
{
	/* Only the binary part changes; the line end before the boundary is
	   the boundary's, and the epilogue passes through. */
	CHECK(0,
	      "Content-Type: multipart/mixed; boundary=b\r\n\r\npre\r\n"
	      "--b\r\nContent-Type: text/plain\r\n\r\ntext\r\n"
	      "--b\r\nContent-Transfer-Encoding: BINARY\r\n\r\n\0\0\0\r\n"
	      "--b--\r\nepilogue\n",
	      "Content-Type: multipart/mixed; boundary=b\r\n\r\npre\r\n"
	      "--b\r\nContent-Type: text/plain\r\n\r\ntext\r\n"
	      "--b\r\nContent-Transfer-Encoding: base64\r\n\r\nAAAA\n"
	      "--b--\r\nepilogue\n");
	/* Nested multiparts, an outer boundary ending the inner one, a
	   message/rfc822 whose inner message has a binary body, and "--b"
	   inside binary content that is not at a line start. */
	CHECK(1,
	      "Content-Type: multipart/mixed; boundary=o\r\n\r\n"
	      "--o\r\nContent-Type: multipart/alternative; boundary=i\r\n\r\n"
	      "--i\r\nContent-Transfer-Encoding: binary\r\n\r\nx--o\r\n"
	      "--o\r\nContent-Type: message/rfc822\r\n\r\n"
	      "Subject: inner\r\nContent-Transfer-Encoding: binary\r\n\r\n\xff\r\n"
	      "--o--\r\n",
	      "Content-Type: multipart/mixed; boundary=o\r\n\r\n"
	      "--o\r\nContent-Type: multipart/alternative; boundary=i\r\n\r\n"
	      "--i\r\nContent-Transfer-Encoding: base64\r\n\r\neC0tbw==\n"
	      "--o\r\nContent-Type: message/rfc822\r\n\r\n"
	      "Subject: inner\r\nContent-Transfer-Encoding: base64\r\n\r\n/w==\n"
	      "--o--\r\n");
	/* multipart/digest parts are messages by default. */
	CHECK(2,
	      "Content-Type: multipart/digest; boundary=d\r\n\r\n"
	      "--d\r\n\r\nContent-Transfer-Encoding: binary\r\n\r\n\0\r\n--d--\r\n",
	      "Content-Type: multipart/digest; boundary=d\r\n\r\n"
	      "--d\r\n\r\nContent-Transfer-Encoding: base64\r\n\r\nAA==\n--d--\r\n");
	/* An empty binary part. */
	CHECK(3,
	      "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
	      "--b\r\nContent-Transfer-Encoding: binary\r\n\r\n\r\n--b--\r\n",
	      "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
	      "--b\r\nContent-Transfer-Encoding: base64\r\n\r\n\r\n--b--\r\n");
}

static void
test_long_lines_and_limits(void)
{
	struct arena *a = arena_new(4096);
	struct buf msg;

	/* A binary body with a 10,000-byte line: 64-character base64 lines,
	   decoding to what came. */
	buf_init(&msg);
	buf_puts(&msg, "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
	               "Content-Transfer-Encoding: binary\r\n\r\n");
	for (int i = 0; i < 10000; i++)
		buf_putc(&msg, (char)(i % 250 + 1) == '\n' ? 'x' : (char)(i % 250 + 1));
	buf_puts(&msg, "\r\n--b--\r\n");
	const char *out = convert(a, msg.data, msg.len, 0);
	const char *body = strstr(out, "base64\r\n\r\n") + 10;
	size_t lines = 0, longest = 0;
	for (const char *p = body; strncmp(p, "--b", 3) != 0;) {
		const char *e = strchr(p, '\n');
		if (e == NULL)
			break;
		longest = (size_t)(e - p) > longest ? (size_t)(e - p) : longest;
		lines++;
		p = e + 1;
	}
	test_int_eq(0, longest, 64);
	test_int_eq(1, lines, (10000 + 47) / 48);
	test_assert(2, strstr(out, "\n--b--\r\n") != NULL);
	buf_deinit(&msg);

	/* A header over the limit: the rest passes unconverted. */
	buf_init(&msg);
	buf_puts(&msg, "Content-Transfer-Encoding: binary\r\n");
	for (int i = 0; i < MAIL_BINARY_MAX_HEADER / 10; i++)
		buf_puts(&msg, "X: 123456\r\n");
	buf_append(&msg, "\r\n\0", 3);
	test_int_eq(3, strlen(convert(a, msg.data, msg.len, 0)), msg.len - 1);
	buf_deinit(&msg);
	arena_free(&a);
}

/* BINARY[n] of a composite part: encoded leaves decoded, their CTE field
   saying binary where it stood; the part's own header left out. */
static void
test_decode_entity(void)
{
	static const char part[] =
	        "Content-Type: message/rfc822\r\n\r\n"
	        "Subject: s\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n"
	        "pre\r\n--b\r\nContent-Transfer-Encoding: base64\r\nX: y\r\n\r\n"
	        "aGVs\r\n bG8=\r\n--b\r\nContent-Type: text/plain\r\n\r\nplain\r\n"
	        "--b\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\na=3Db\r\n"
	        "--b--\r\n";
	struct arena *a = arena_new(4096);
	struct buf out;

	buf_init(&out);
	test_int_eq(0,
	            mail_binary_decode_entity(a, (const unsigned char *)part, sizeof(part) - 1, 0,
	                                      &out),
	            0);
	test_str_eq(0, out.data,
	            "Subject: s\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n"
	            "pre\r\n--b\r\nContent-Transfer-Encoding: binary\r\nX: y\r\n\r\nhello"
	            "\r\n--b\r\nContent-Type: text/plain\r\n\r\nplain\r\n"
	            "--b\r\nContent-Transfer-Encoding: binary\r\n\r\na=b\r\n--b--\r\n");
	static const char bad[] = "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
	                          "Content-Transfer-Encoding: x-uuencode\r\n\r\nzz\r\n--b--\r\n";
	buf_reset(&out);
	test_int_eq(
	        1,
	        mail_binary_decode_entity(a, (const unsigned char *)bad, sizeof(bad) - 1, 0, &out),
	        -1);
	buf_deinit(&out);
	arena_free(&a);
}

int
main(void)
{
	TEST_RUN(test_single_part);
	TEST_RUN(test_multipart);
	TEST_RUN(test_long_lines_and_limits);
	TEST_RUN(test_decode_entity);
	return TEST_DONE("test_mail_binary");
}
