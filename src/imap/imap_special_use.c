/* SPDX-License-Identifier: MIT */
/*
 * imap_special_use.c: special-use attribute names <-> store bits (RFC 6154,
 * RFC 8457). The order is the store's bit order, which LIST also shows.
 */
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "imap/imap_special_use.h"
#include "lib/buf.h"
#include "lib/util.h"
#include "store/store.h"

static const struct {
	const char *name;
	unsigned bit;
} special_uses[] = {
        {"\\All", STORE_SPECIAL_ALL},       {"\\Archive", STORE_SPECIAL_ARCHIVE},
        {"\\Drafts", STORE_SPECIAL_DRAFTS}, {"\\Flagged", STORE_SPECIAL_FLAGGED},
        {"\\Junk", STORE_SPECIAL_JUNK},     {"\\Sent", STORE_SPECIAL_SENT},
        {"\\Trash", STORE_SPECIAL_TRASH},   {"\\Important", STORE_SPECIAL_IMPORTANT},
};

unsigned
imap_special_use_bit(const char *name, size_t len)
{
	for (size_t i = 0; i < ARRAY_LEN(special_uses); i++)
		if (strlen(special_uses[i].name) == len &&
		    strncasecmp(special_uses[i].name, name, len) == 0)
			return special_uses[i].bit;
	return 0;
}

void
imap_special_use_append(struct buf *out, unsigned bits)
{
	for (size_t i = 0; i < ARRAY_LEN(special_uses); i++)
		if (bits & special_uses[i].bit)
			buf_printf(out, " %s", special_uses[i].name);
}

bool
imap_special_use_parse_list(const char *text, size_t len, unsigned *bits_out)
{
	size_t i = 0;

	*bits_out = 0;
	while (i < len) {
		size_t j = i;
		while (j < len && text[j] != ' ')
			j++;
		unsigned bit = imap_special_use_bit(text + i, j - i);
		if (bit == 0)
			return false;
		*bits_out |= bit;
		if (j < len && j + 1 == len)
			return false; /* a trailing space */
		i = j + 1;
	}
	return true;
}
