/* SPDX-License-Identifier: MIT */
/*
 * mailbox_name.c: what a mailbox name may be, and its canonical form, for
 * every backend. Names are hostile client input (RFC 9051 section 5.1):
 * valid UTF-8, no control characters (C0, DEL and C1: U+0080-U+009F is
 * 0xc2 0x80-0x9f in UTF-8), no '*' or '%' (LIST wildcards), no
 * empty, "." or ".." level, at most 255 bytes and 32 levels, hierarchy
 * delimiter '/'. "INBOX" is case-insensitive (first level only) and always
 * becomes "INBOX". No backend builds a path from a name; this is hygiene
 * for clients and for the logs.
 */
#include "store/store_core.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistr.h>

#include "lib/util.h"

#define NAME_MAX_BYTES  255
#define NAME_MAX_LEVELS 32

bool
store_mailbox_name_is_valid(const char *name)
{
	size_t len = strlen(name), level_start = 0, levels = 1;

	if (len == 0 || len > NAME_MAX_BYTES || u8_check((const uint8_t *)name, len) != NULL)
		return false;
	for (size_t i = 0; i <= len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '/' || c == '\0') {
			size_t n = i - level_start;
			const char *lvl = name + level_start;

			if (n == 0 || (n == 1 && lvl[0] == '.') ||
			    (n == 2 && lvl[0] == '.' && lvl[1] == '.'))
				return false;
			if (c == '/' && ++levels > NAME_MAX_LEVELS)
				return false;
			level_start = i + 1;
			continue;
		}
		if (c < 0x20 || c == 0x7f || c == '*' || c == '%')
			return false;
		if (c == 0xc2 && (unsigned char)name[i + 1] >= 0x80 &&
		    (unsigned char)name[i + 1] <= 0x9f)
			return false;
	}
	return true;
}

char *
mailbox_name_canon(const char *name)
{
	char *s;

	if (!store_mailbox_name_is_valid(name))
		return NULL;
	s = xstrdup(name);
	if (strncasecmp(s, "INBOX", 5) == 0 && (s[5] == '\0' || s[5] == '/'))
		memcpy(s, "INBOX", 5);
	return s;
}
