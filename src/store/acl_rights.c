/* SPDX-License-Identifier: MIT */
/*
 * acl_rights.c: the RFC 4314 rights strings and identifiers, parsed and
 * formatted without any store (store.h "Access control"): SETACL's
 * mod-rights (section 3.1: "+" adds, "-" removes, else replaces; an
 * unknown or upper-case right is an error, never ignored), the virtual
 * rights 'c' (k + x) and 'd' (t + e) of section 2.1.1 expanded on input
 * and added on output, and the identifiers the store may keep. Input is
 * hostile client text: bytes are only compared, never copied.
 * fuzz/fuzz_acl_rights.c drives both.
 */
#include <stdbool.h>
#include <string.h>
#include <unistr.h>

#include "store/store.h"

int
store_rights_parse(const char *s, bool allow_mod, unsigned *rights_out,
                   enum store_rights_mod *mod_out, char *bad_out)
{
	unsigned rights = 0;

	*mod_out = STORE_RIGHTS_REPLACE;
	if (allow_mod && (*s == '+' || *s == '-')) {
		*mod_out = *s == '+' ? STORE_RIGHTS_ADD : STORE_RIGHTS_REMOVE;
		s++;
	}
	for (; *s != '\0'; s++) {
		const char *at = strchr(STORE_RIGHTS_LETTERS, *s);

		if (*s == 'c')
			rights |= STORE_RIGHT_CREATE | STORE_RIGHT_DELETE;
		else if (*s == 'd')
			rights |= STORE_RIGHT_EXPUNGE | STORE_RIGHT_DELMSG;
		else if (at != NULL)
			rights |= 1u << (at - STORE_RIGHTS_LETTERS);
		else {
			*bad_out = *s;
			return -1;
		}
	}
	*rights_out = rights;
	return 0;
}

char *
store_rights_format(unsigned rights, char out[16])
{
	size_t n = 0;

	for (unsigned i = 0; STORE_RIGHTS_LETTERS[i] != '\0'; i++)
		if (rights & (1u << i))
			out[n++] = STORE_RIGHTS_LETTERS[i];
	/* Section 2.1.1: the virtual rights go with any of their members. */
	if (rights & (STORE_RIGHT_CREATE | STORE_RIGHT_DELETE))
		out[n++] = 'c';
	if (rights & (STORE_RIGHT_EXPUNGE | STORE_RIGHT_DELMSG))
		out[n++] = 'd';
	out[n] = '\0';
	return out;
}

bool
store_acl_identifier_is_valid(const char *id)
{
	size_t len = strlen(id);

	if (*id == '-')
		id++, len--;
	if (len == 0 || len > 255 || (*id == '$' && len == 1) || *id == '-')
		return false;
	for (const unsigned char *p = (const unsigned char *)id; *p != '\0'; p++)
		if (*p <= ' ' || *p == 0x7f)
			return false;
	return u8_check((const uint8_t *)id, len) == NULL;
}
