/* SPDX-License-Identifier: MIT */
/*
 * test_net_zstream.c: the COMPRESS=DEFLATE codec (src/net/zstream.c). The
 * deflater's output is checked with zlib's own raw inflate (what a client
 * runs), the inflater is fed what zlib's raw deflate makes (what a client
 * sends); parking must be invisible on the wire and must free zlib's state.
 */
#include <zlib.h>

#include "lib/util.h"
#include "net/zstream.h"
#include "test.h"

/* A client's compressor: raw deflate, sync flush per call. */
struct client {
	z_stream out, in;
};

static void
client_init(struct client *c)
{
	memset(c, 0, sizeof(*c));
	test_assert(-1, deflateInit2(&c->out, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) == Z_OK);
	test_assert(-1, inflateInit2(&c->in, -15) == Z_OK);
}

static void
client_deinit(struct client *c)
{
	deflateEnd(&c->out);
	inflateEnd(&c->in);
}

static size_t
client_send(struct client *c, const char *text, unsigned char *wire, size_t cap)
{
	c->out.next_in = (Bytef *)text;
	c->out.avail_in = (uInt)strlen(text);
	c->out.next_out = wire;
	c->out.avail_out = (uInt)cap;
	test_assert(-1, deflate(&c->out, Z_SYNC_FLUSH) == Z_OK);
	return cap - c->out.avail_out;
}

static size_t
client_receive(struct client *c, const unsigned char *wire, size_t len, char *text, size_t cap)
{
	c->in.next_in = (Bytef *)wire;
	c->in.avail_in = (uInt)len;
	c->in.next_out = (Bytef *)text;
	c->in.avail_out = (uInt)cap;
	int rc = inflate(&c->in, Z_SYNC_FLUSH);
	test_assert(-1, rc == Z_OK || rc == Z_BUF_ERROR);
	test_assert(-1, c->in.avail_in == 0);
	return cap - c->in.avail_out;
}

/* Server side: all of text through z with a flush; returns wire bytes. */
static size_t
server_send(struct net_deflate *z, const char *text, unsigned char *wire, size_t cap)
{
	size_t len = strlen(text), off = 0, used, made;
	bool flushed = false;

	while (!flushed) {
		test_assert(-1, off < cap);
		if (off >= cap)
			break;
		test_assert(-1, net_deflate_run(z, text, len, &used, wire + off, MIN(cap - off, 64),
		                                &made, true, &flushed) == 0);
		text += used;
		len -= used;
		off += made;
	}
	test_assert(-1, len == 0);
	return off;
}

static size_t
server_receive(struct net_inflate *z, const unsigned char *wire, size_t len, char *text, size_t cap)
{
	size_t off = 0, used, made;

	while (len > 0 && off < cap) {
		test_assert(-1, net_inflate_run(z, wire, len, &used, text + off, cap - off,
		                                &made) == 0);
		if (used == 0 && made == 0)
			break;
		wire += used;
		len -= used;
		off += made;
	}
	text[off] = '\0';
	return off;
}

static const char response[] =
        "* 1 FETCH (UID 1 FLAGS (\\Seen) BODY[HEADER.FIELDS (FROM SUBJECT)] {52}\r\n"
        "From: alice@example.org\r\nSubject: lunch tomorrow\r\n\r\n)\r\n"
        "a7 OK FETCH completed\r\n";

static void
test_deflate_reaches_client_with_flush(void)
{
	struct net_deflate *z = net_deflate_new();
	struct client c;
	unsigned char wire[4096];
	char text[4096];

	client_init(&c);
	for (int i = 0; i < 5; i++) {
		size_t n = server_send(z, response, wire, sizeof(wire));
		/* A sync flush ends with an empty stored block: 00 00 ff ff. */
		test_assert(i, n >= 4 && memcmp(wire + n - 4, "\0\0\xff\xff", 4) == 0);
		size_t got = client_receive(&c, wire, n, text, sizeof(text));
		test_assert(i, got == strlen(response) && memcmp(text, response, got) == 0);
		if (i > 0) /* repeated responses copy from the window */
			test_assert(i, n < 40);
	}
	client_deinit(&c);
	net_deflate_free(&z);
}

static void
test_deflate_park_is_invisible(void)
{
	struct net_deflate *z = net_deflate_new();
	struct client c;
	unsigned char wire[4096];
	char text[4096];

	client_init(&c);
	test_assert(-1, net_deflate_memory(z) > 16 * 1024); /* zlib's window, hash, buffers */
	size_t n;
	n = server_send(z, response, wire, sizeof(wire));
	test_assert(-1, client_receive(&c, wire, n, text, sizeof(text)) == strlen(response));
	test_assert(-1, net_deflate_park(z));
	test_assert(-1, !net_deflate_park(z)); /* once */
	size_t parked = net_deflate_memory(z);
	test_assert(-1, parked > 0 && parked < 1024);
	/* After parking, the same response still compresses against the old
	   window, and the client's inflater, which never knew, decodes it. */
	n = server_send(z, response, wire, sizeof(wire));
	test_assert(-1, n < 40);
	size_t got = client_receive(&c, wire, n, text, sizeof(text));
	test_assert(-1, got == strlen(response) && memcmp(text, response, got) == 0);
	test_assert(-1, net_deflate_memory(z) > 16 * 1024);
	client_deinit(&c);
	net_deflate_free(&z);
}

static void
test_deflate_unflushed_does_not_park(void)
{
	struct net_deflate *z = net_deflate_new();
	unsigned char wire[256];
	size_t used, made;
	bool flushed;

	test_assert(-1, net_deflate_run(z, "a1 NOOP\r\n", 9, &used, wire, sizeof(wire), &made,
	                                false, &flushed) == 0);
	test_assert(-1, used == 9 && !flushed);
	test_assert(-1, !net_deflate_park(z));
	test_assert(-1, net_deflate_run(z, "", 0, &used, wire, sizeof(wire), &made, true,
	                                &flushed) == 0);
	test_assert(-1, flushed && made > 0);
	test_assert(-1, net_deflate_park(z));
	net_deflate_free(&z);
}

static void
test_inflate_client_stream_and_park(void)
{
	struct net_inflate *z = net_inflate_new();
	struct client c;
	unsigned char wire[4096];
	char text[4096];
	const char *cmds[] = {"a1 SELECT INBOX\r\n", "a2 IDLE\r\n", "DONE\r\n", "a3 IDLE\r\n",
	                      "DONE\r\n"};

	client_init(&c);
	for (size_t i = 0; i < ARRAY_LEN(cmds); i++) {
		size_t n = client_send(&c, cmds[i], wire, sizeof(wire));
		/* Feed it a byte at a time on odd commands: a partial block
		   header must simply wait. */
		size_t got = 0;
		if (i % 2 == 1) {
			for (size_t k = 0; k < n; k++)
				got += server_receive(z, wire + k, 1, text + got,
				                      sizeof(text) - got);
		} else {
			got = server_receive(z, wire, n, text, sizeof(text));
		}
		text[got] = '\0';
		test_str_eq(i, text, cmds[i]);
		/* Between commands the stream rests between blocks. */
		size_t before = net_inflate_memory(z);
		test_assert(i, net_inflate_park(z));
		test_assert(i, net_inflate_memory(z) < before / 8);
	}
	client_deinit(&c);
	net_inflate_free(&z);
}

static void
test_inflate_midblock_does_not_park(void)
{
	struct net_inflate *z = net_inflate_new();
	struct client c;
	unsigned char wire[4096];
	char text[4096];

	client_init(&c);
	size_t n = client_send(&c, "a1 LOGIN alice secret-password-here\r\n", wire, sizeof(wire));
	server_receive(z, wire, n / 2, text, sizeof(text));
	test_assert(-1, !net_inflate_park(z));
	server_receive(z, wire + n / 2, n - n / 2, text, sizeof(text));
	test_assert(-1, net_inflate_park(z));
	client_deinit(&c);
	net_inflate_free(&z);
}

static void
test_inflate_is_bounded_by_room(void)
{
	/* 1 MiB of 'A' is about 1 KiB compressed: the inflater must make no
	   more than the room it is given per call. */
	struct net_inflate *z = net_inflate_new();
	static char big[1 << 20];
	static unsigned char wire[8192];
	z_stream zs = {0};
	char out[1000];
	size_t used, made;

	memset(big, 'A', sizeof(big));
	deflateInit2(&zs, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
	zs.next_in = (Bytef *)big;
	zs.avail_in = sizeof(big);
	zs.next_out = wire;
	zs.avail_out = sizeof(wire);
	test_assert(-1, deflate(&zs, Z_SYNC_FLUSH) == Z_OK);
	size_t n = sizeof(wire) - zs.avail_out;
	deflateEnd(&zs);
	test_assert(-1, n < 4096);
	size_t total = 0, off = 0;
	while (off < n || made == sizeof(out)) {
		test_assert(-1, net_inflate_run(z, wire + off, n - off, &used, out, sizeof(out),
		                                &made) == 0);
		test_assert(-1, made <= sizeof(out));
		off += used;
		total += made;
		if (used == 0 && made == 0)
			break;
	}
	test_assert(-1, total == sizeof(big));
	net_inflate_free(&z);
}

static void
test_inflate_rejects_bad_streams(void)
{
	struct net_inflate *z = net_inflate_new();
	char out[64];
	size_t used, made;
	/* Block type 3 is reserved (RFC 1951 3.2.3). */
	const unsigned char bad[] = {0xff, 0xff, 0xff, 0xff};

	test_assert(-1, net_inflate_run(z, bad, sizeof(bad), &used, out, sizeof(out), &made) < 0);
	test_assert(-1, net_inflate_run(z, "x", 1, &used, out, sizeof(out), &made) < 0);
	net_inflate_free(&z);

	/* A final block: a COMPRESS stream never ends, so this is an error. */
	z = net_inflate_new();
	unsigned char wire[64];
	uLongf wlen = sizeof(wire);
	z_stream zs = {0};
	deflateInit2(&zs, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
	zs.next_in = (Bytef *)"abc";
	zs.avail_in = 3;
	zs.next_out = wire;
	zs.avail_out = (uInt)wlen;
	test_assert(-1, deflate(&zs, Z_FINISH) == Z_STREAM_END);
	size_t n = wlen - zs.avail_out;
	deflateEnd(&zs);
	test_assert(-1, net_inflate_run(z, wire, n, &used, out, sizeof(out), &made) < 0);
	net_inflate_free(&z);
}

int
main(void)
{
	TEST_RUN(test_deflate_reaches_client_with_flush);
	TEST_RUN(test_deflate_park_is_invisible);
	TEST_RUN(test_deflate_unflushed_does_not_park);
	TEST_RUN(test_inflate_client_stream_and_park);
	TEST_RUN(test_inflate_midblock_does_not_park);
	TEST_RUN(test_inflate_is_bounded_by_room);
	TEST_RUN(test_inflate_rejects_bad_streams);
	return TEST_DONE("test_net_zstream");
}
