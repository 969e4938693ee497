/* SPDX-License-Identifier: MIT */
/*
 * zstream.c: raw DEFLATE in both directions for COMPRESS=DEFLATE (RFC 4978),
 * with zlib, and the parking that keeps an idle connection small (see
 * zstream.h). Input is the client's and hostile: inflate never writes past
 * the room it is given, so one small compressed run cannot grow the server
 * by more than the caller's limit, and a corrupt stream is an error, never a
 * guess.
 *
 * States of each half: active (a z_stream) <-> parked (only the history,
 * deflated with compress2). _park() goes down when it is safe (the stream is
 * between blocks), _run() goes up when there is work.
 */
#include "net/zstream.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sys/mman.h>
#include <zlib.h>

#include "lib/util.h"

/* RFC 4978 section 4: a client may use any window up to 32 KiB, so the
   inflater must keep as much. */
#define INFLATE_WINDOW_BITS 15
#define ZMEM_MMAP_MIN       4096

/* Counts what zlib allocates, so the memory a connection holds is a number a
   test can check, not a guess. Each block carries its size in front. Blocks
   of a page or more (the window, hash chains and pending buffer: nearly all
   of it) come straight from mmap, so parking gives them back to the kernel;
   from malloc they would stay in the heap between live small blocks, and an
   idle connection would cost as much as a busy one. */
#define ZMEM_HEADER 16 /* keeps zlib's blocks 16-byte aligned */

struct zmem {
	size_t bytes;
};

static voidpf
zmem_alloc(voidpf opaque, uInt items, uInt size)
{
	struct zmem *m = opaque;
	size_t n = (size_t)items * size + ZMEM_HEADER;
	unsigned char *p;

	if (n >= ZMEM_MMAP_MIN) {
		p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			abort(); /* out of memory */
	} else {
		p = xmalloc(n);
	}
	memcpy(p, &n, sizeof(n));
	m->bytes += n;
	return p + ZMEM_HEADER;
}

static void
zmem_free(voidpf opaque, voidpf address)
{
	struct zmem *m = opaque;
	unsigned char *p = (unsigned char *)address - ZMEM_HEADER;
	size_t n;

	memcpy(&n, p, sizeof(n));
	m->bytes -= n;
	if (n >= ZMEM_MMAP_MIN)
		munmap(p, n);
	else
		free(p);
}

/* A parked stream's history, kept compressed: client commands and IMAP
   responses repeat themselves, so 32 KiB of history is often 2 KiB. */
struct history {
	unsigned char *data; /* compress2() output, or NULL */
	size_t len;          /* of data */
	size_t raw_len;      /* of the history itself */
};

static void
history_save(struct history *h, const unsigned char *raw, size_t raw_len)
{
	uLongf len = compressBound(raw_len);

	h->data = xmalloc(len);
	if (compress2(h->data, &len, raw, raw_len, 6) != Z_OK)
		abort(); /* only fails for lack of memory or room, both ruled out */
	h->data = xrealloc(h->data, len);
	h->len = len;
	h->raw_len = raw_len;
}

/* Gives back the raw history (heap, caller frees) and forgets it. */
static unsigned char *
history_take(struct history *h, size_t *len_out)
{
	unsigned char *raw = xmalloc(h->raw_len ? h->raw_len : 1);
	uLongf len = h->raw_len;

	if (h->raw_len != 0 && uncompress(raw, &len, h->data, h->len) != Z_OK)
		abort(); /* our own bytes */
	*len_out = len;
	free(h->data);
	*h = (struct history){0};
	return raw;
}

/* ---- inflate ---------------------------------------------------------- */

struct net_inflate {
	z_stream zs;
	struct zmem mem;
	bool is_active;
	bool is_failed;
	struct history parked;
};

static void
inflate_start(struct net_inflate *z)
{
	z->zs = (z_stream){.zalloc = zmem_alloc, .zfree = zmem_free, .opaque = &z->mem};
	if (inflateInit2(&z->zs, -INFLATE_WINDOW_BITS) != Z_OK)
		abort(); /* out of memory */
	z->is_active = true;
	if (z->parked.data != NULL) {
		size_t len;
		unsigned char *raw = history_take(&z->parked, &len);
		/* Raw inflate takes a dictionary at any time (zlib.h). */
		if (len != 0 && inflateSetDictionary(&z->zs, raw, (uInt)len) != Z_OK)
			abort();
		free(raw);
	}
}

struct net_inflate *
net_inflate_new(void)
{
	struct net_inflate *z = xcalloc(1, sizeof(*z));

	inflate_start(z);
	return z;
}

void
net_inflate_free(struct net_inflate **zp)
{
	struct net_inflate *z = *zp;

	if (z == NULL)
		return;
	*zp = NULL;
	if (z->is_active)
		inflateEnd(&z->zs);
	free(z->parked.data);
	free(z);
}

int
net_inflate_run(struct net_inflate *z, const void *in, size_t in_len, size_t *in_used_out,
                void *out, size_t out_cap, size_t *out_len_out)
{
	*in_used_out = 0;
	*out_len_out = 0;
	if (z->is_failed)
		return -1;
	if (in_len == 0 || out_cap == 0)
		return 0;
	if (!z->is_active)
		inflate_start(z);
	z->zs.next_in = (Bytef *)in;
	z->zs.avail_in = (uInt)MIN(in_len, (size_t)UINT32_MAX);
	z->zs.next_out = out;
	z->zs.avail_out = (uInt)MIN(out_cap, (size_t)UINT32_MAX);
	int rc = inflate(&z->zs, Z_SYNC_FLUSH);
	*in_used_out = (size_t)(z->zs.next_in - (const Bytef *)in);
	*out_len_out = (size_t)(z->zs.next_out - (Bytef *)out);
	/* Z_BUF_ERROR: no progress possible with what was given (a partial
	   block header); more input will come. Z_STREAM_END: a final block,
	   after which nothing could follow, yet COMPRESS lasts as long as the
	   connection does. */
	if (rc == Z_OK || rc == Z_BUF_ERROR)
		return 0;
	z->is_failed = true;
	return -1;
}

bool
net_inflate_park(struct net_inflate *z)
{
	/* data_type is 128 exactly when inflate stopped between blocks with
	   no bits left over (zlib.h, inflate()): the state a sync flush leaves. */
	if (!z->is_active || z->is_failed || z->zs.avail_in != 0 || z->zs.data_type != 128)
		return false;
	unsigned char window[1u << INFLATE_WINDOW_BITS];
	uInt len = sizeof(window);
	if (inflateGetDictionary(&z->zs, window, &len) != Z_OK)
		return false;
	history_save(&z->parked, window, len);
	inflateEnd(&z->zs);
	z->is_active = false;
	return true;
}

size_t
net_inflate_memory(const struct net_inflate *z)
{
	return z->mem.bytes + z->parked.len;
}

/* ---- deflate ---------------------------------------------------------- */

struct net_deflate {
	z_stream zs;
	struct zmem mem;
	bool is_active;
	bool is_flushed; /* nothing taken since the last completed flush */
	struct history parked;
};

static void
deflate_start(struct net_deflate *z)
{
	z->zs = (z_stream){.zalloc = zmem_alloc, .zfree = zmem_free, .opaque = &z->mem};
	/* RFC 4978 section 4: negative window bits make raw DEFLATE. */
	if (deflateInit2(&z->zs, NET_DEFLATE_LEVEL, Z_DEFLATED, -NET_DEFLATE_WINDOW_BITS,
	                 NET_DEFLATE_MEM_LEVEL, Z_DEFAULT_STRATEGY) != Z_OK)
		abort(); /* out of memory */
	z->is_active = true;
	if (z->parked.data != NULL) {
		size_t len;
		unsigned char *raw = history_take(&z->parked, &len);
		if (len != 0 && deflateSetDictionary(&z->zs, raw, (uInt)len) != Z_OK)
			abort();
		free(raw);
	}
}

struct net_deflate *
net_deflate_new(void)
{
	struct net_deflate *z = xcalloc(1, sizeof(*z));

	deflate_start(z);
	z->is_flushed = true;
	return z;
}

void
net_deflate_free(struct net_deflate **zp)
{
	struct net_deflate *z = *zp;

	if (z == NULL)
		return;
	*zp = NULL;
	if (z->is_active)
		deflateEnd(&z->zs);
	free(z->parked.data);
	free(z);
}

int
net_deflate_run(struct net_deflate *z, const void *in, size_t in_len, size_t *in_used_out,
                void *out, size_t out_cap, size_t *out_len_out, bool flush, bool *is_flushed_out)
{
	*in_used_out = 0;
	*out_len_out = 0;
	*is_flushed_out = z->is_flushed;
	if (in_len == 0 && (!flush || z->is_flushed))
		return 0;
	if (out_cap == 0)
		return 0;
	if (!z->is_active)
		deflate_start(z);
	z->zs.next_in = (Bytef *)in;
	z->zs.avail_in = (uInt)MIN(in_len, (size_t)UINT32_MAX);
	z->zs.next_out = out;
	z->zs.avail_out = (uInt)MIN(out_cap, (size_t)UINT32_MAX);
	bool all_in = z->zs.avail_in == in_len;
	int rc = deflate(&z->zs, flush && all_in ? Z_SYNC_FLUSH : Z_NO_FLUSH);
	*in_used_out = (size_t)(z->zs.next_in - (const Bytef *)in);
	*out_len_out = (size_t)(z->zs.next_out - (Bytef *)out);
	if (rc != Z_OK && rc != Z_BUF_ERROR)
		return -1;
	if (*in_used_out != 0)
		z->is_flushed = false;
	/* A sync flush is complete when deflate left room in the output:
	   zlib.h says to call again while avail_out is zero. */
	if (flush && all_in && *in_used_out == in_len && z->zs.avail_out != 0)
		z->is_flushed = true;
	*is_flushed_out = z->is_flushed;
	return 0;
}

bool
net_deflate_park(struct net_deflate *z)
{
	if (!z->is_active || !z->is_flushed)
		return false;
	unsigned char window[1u << NET_DEFLATE_WINDOW_BITS];
	uInt len = sizeof(window);
	if (deflateGetDictionary(&z->zs, window, &len) != Z_OK)
		return false;
	history_save(&z->parked, window, len);
	deflateEnd(&z->zs);
	z->is_active = false;
	return true;
}

size_t
net_deflate_memory(const struct net_deflate *z)
{
	return z->mem.bytes + z->parked.len;
}
