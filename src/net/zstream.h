/* SPDX-License-Identifier: MIT */
/*
 * zstream.h: the two halves of a raw DEFLATE stream (RFC 1951) as COMPRESS
 * uses it (RFC 4978): an inflater for what the client sends, a deflater for
 * what the server sends. Plain buffers in and out, no sockets, so a unit
 * test and a fuzzer drive them directly; net/compress.c puts them on a
 * connection.
 *
 * Idle memory: zlib's state for one connection is ~40 KiB to inflate and,
 * with the parameters below, ~48 KiB to deflate. Between commands neither
 * needs more than its history (the bytes a later block may copy from), so
 * _park() frees the zlib state and keeps only that history, itself
 * compressed; the next _run() rebuilds the state from it. The stream the
 * peer sees is the same either way (a parked deflater continues with a new
 * raw stream primed with the old window, which the peer's inflater cannot
 * tell from the old one, since a sync flush left it between blocks).
 */
#ifndef TERN_NET_ZSTREAM_H
#define TERN_NET_ZSTREAM_H

#include <stdbool.h>
#include <stddef.h>

/* Server to client. An 8 KiB window and memLevel 5 cost 48 KiB while a
   command runs (zlib's defaults, 15 and 8: 256 KiB) and send about 13% more
   bytes for message bodies, the same for headers; level 6 is zlib's default
   and costs no more than 5 at this size. bench/compress_bench.py and
   docs/PERFORMANCE.md have the figures. */
#define NET_DEFLATE_WINDOW_BITS 13
#define NET_DEFLATE_MEM_LEVEL   5
#define NET_DEFLATE_LEVEL       6

struct net_inflate;
struct net_deflate;

/* Never NULL (out of memory aborts). */
struct net_inflate *net_inflate_new(void);
void net_inflate_free(struct net_inflate **zp);
/*
 * Decompresses in[0..in_len) into out[0..out_cap): *in_used_out bytes were
 * taken, *out_len_out made. Stops when either side is exhausted. Returns 0,
 * or -1 when the client's stream is not valid DEFLATE (or ended with a
 * final block, which COMPRESS never sends): the connection cannot go on.
 */
int net_inflate_run(struct net_inflate *z, const void *in, size_t in_len, size_t *in_used_out,
                    void *out, size_t out_cap, size_t *out_len_out);
/* Frees zlib's state when the stream rests between blocks (after the
   client's flush), keeping the history; true if it did. */
bool net_inflate_park(struct net_inflate *z);
/* Heap bytes the inflater holds now (zlib's state and the parked history). */
size_t net_inflate_memory(const struct net_inflate *z);

struct net_deflate *net_deflate_new(void);
void net_deflate_free(struct net_deflate **zp);
/*
 * Compresses in[0..in_len) into out[0..out_cap). With flush, all input taken
 * so far is also pushed out, ending at a byte boundary (Z_SYNC_FLUSH), so the
 * client can decode every byte sent: *is_flushed_out is true once that is
 * complete (call again with more room until it is). Returns 0 (or -1 on a
 * zlib failure that cannot happen with valid arguments).
 */
int net_deflate_run(struct net_deflate *z, const void *in, size_t in_len, size_t *in_used_out,
                    void *out, size_t out_cap, size_t *out_len_out, bool flush,
                    bool *is_flushed_out);
/* After a completed flush: frees zlib's state, keeping the window. True if
   it did (false when unflushed input is pending, or already parked). */
bool net_deflate_park(struct net_deflate *z);
size_t net_deflate_memory(const struct net_deflate *z);

#endif
