/* SPDX-License-Identifier: MIT */
/*
 * fuzz_lib_collation.c: libFuzzer harness for src/lib/collation.c: the
 * COMPARATOR argument parser (collation_select() on the input split at
 * spaces, as the astrings of "COMPARATOR a b c") and the three collations'
 * keys, sort keys and substring operation on any octets. The first byte
 * picks the collation; the rest is "haystack NUL needle". Checks the
 * promises of collation.h: a key is valid UTF-8 for i;unicode-casemap, a
 * rejected string sorts behind 0xFF, every string contains itself and the
 * empty string, i;octet and i;ascii-casemap find every substring, and
 * collation_select() answers one of its three results consistently.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistr.h>

#include "lib/buf.h"
#include "lib/collation.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_select(const char *s)
{
	char *copy = strdup(s);
	const char *orders[16];
	size_t n = 0, bad = 99;
	enum collation active = COLLATION_COUNT;
	unsigned matched = 0;

	for (char *p = strtok(copy, " "); p != NULL && n < 16; p = strtok(NULL, " "))
		orders[n++] = p;
	int rc = collation_select(orders, n, &active, &matched, &bad);
	if (rc == 1 && (active >= COLLATION_COUNT || !(matched & (1u << active))))
		abort();
	if (rc == 0 && (matched != 0 || active != COLLATION_COUNT))
		abort();
	if (rc == -1 && (bad >= n || collation_order_is_valid(orders[bad])))
		abort();
	if (rc < -1 || rc > 1 || matched >> COLLATION_COUNT != 0)
		abort();
	free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	enum collation c = (enum collation)(data[0] % COLLATION_COUNT);
	const char *hay = (const char *)data + 1;
	size_t hn = size - 1;
	const char *nul = memchr(hay, '\0', hn);
	const char *needle = nul != NULL ? nul + 1 : "";
	size_t nn = nul != NULL ? hn - (size_t)(nul + 1 - hay) : 0;
	if (nul != NULL)
		hn = (size_t)(nul - hay);

	struct buf key, sort;
	buf_init(&key);
	buf_init(&sort);
	bool valid = collation_key(c, hay, hn, &key);
	if (!valid && (c != COLLATION_UNICODE_CASEMAP || key.len != 0))
		abort();
	if (valid && c == COLLATION_UNICODE_CASEMAP && key.len > 0 &&
	    u8_check((const uint8_t *)key.data, key.len) != NULL)
		abort();
	collation_sort_key(c, hay, hn, &sort);
	if (!valid && (sort.len != hn + 1 || (unsigned char)sort.data[0] != 0xFF))
		abort();
	if (valid && (sort.len != key.len || (key.len > 0 && memcmp(sort.data, key.data, key.len))))
		abort();
	buf_deinit(&key);
	buf_deinit(&sort);

	if (!collation_contains(c, hay, hn, hay, hn) || !collation_contains(c, hay, hn, "", 0))
		abort();
	bool found = collation_contains(c, hay, hn, needle, nn);
	if (c != COLLATION_UNICODE_CASEMAP && nn <= hn && memmem(hay, hn, needle, nn) != NULL &&
	    !found)
		abort();

	char *s = malloc(hn + 1);
	memcpy(s, hay, hn);
	s[hn] = '\0';
	check_select(s);
	free(s);
	return 0;
}
