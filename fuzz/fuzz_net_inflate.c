/* SPDX-License-Identifier: MIT */
/*
 * fuzz_net_inflate.c: libFuzzer harness for the COMPRESS=DEFLATE inflate
 * path (src/net/zstream.c), the one place a client's compressed bytes are
 * decoded. The first byte sets how the input is cut (run lengths) and how
 * little room each call gets, as the filter's limit would; between runs the
 * stream is parked when it may be, so the history save and restore is
 * fuzzed too. Every byte made is read so ASan sees any overrun; the output
 * may never exceed the room given.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "net/zstream.h"

static volatile unsigned sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t cut = 1 + (data[0] & 0x3f);              /* input bytes per call */
	size_t room = 1 + ((size_t)data[0] >> 6) * 700; /* output room per call */
	unsigned char out[2200];
	struct net_inflate *z = net_inflate_new();
	size_t off = 1, total = 0;

	while (off < size && total < (1u << 22)) {
		size_t n = size - off < cut ? size - off : cut, used, made;
		if (net_inflate_run(z, data + off, n, &used, out, room, &made) < 0)
			break;
		if (made > room)
			abort();
		for (size_t i = 0; i < made; i++)
			sink += out[i];
		total += made;
		off += used;
		if (used == 0 && made == 0)
			off++; /* stuck on a partial header: skip a byte, as a new run would */
		if ((off & 7) == 0)
			net_inflate_park(z);
	}
	net_inflate_free(&z);
	return 0;
}
