/* SPDX-License-Identifier: MIT */
/*
 * fuzz_acl_rights.c: libFuzzer harness for the RFC 4314 argument parsers
 * of src/store/acl_rights.c: store_rights_parse() (SETACL's mod-rights,
 * with and without the +/- modifier), store_rights_format() on what it
 * returns, and store_acl_identifier_is_valid(). The input is one
 * NUL-terminated client string (an astring's value). Checks the parser's
 * promises: only known rights come back, formatting them and parsing the
 * result without the virtual 'c' and 'd' gives the same rights, and a
 * failure names a character of the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';

	for (int allow_mod = 0; allow_mod < 2; allow_mod++) {
		unsigned rights = 0, again = 0;
		enum store_rights_mod mod, mod2;
		char bad = 0, out[sizeof(STORE_RIGHTS_LETTERS) + 2];
		if (store_rights_parse(s, allow_mod, &rights, &mod, &bad) == 0) {
			if (rights & ~STORE_RIGHTS_ALL)
				abort();
			store_rights_format(rights, out);
			/* The virtual 'c' and 'd' are for old clients; new ones
			   ignore them (RFC 4314 2.1.1), so the rest round-trips. */
			/* every letter of STORE_RIGHTS_LETTERS, plus 'c' and 'd' */
			if (strlen(out) > sizeof(STORE_RIGHTS_LETTERS) - 1 + 2)
				abort();
			char *w = out;
			for (const char *r = out; *r != '\0'; r++)
				if (*r != 'c' && *r != 'd')
					*w++ = *r;
			*w = '\0';
			if (store_rights_parse(out, false, &again, &mod2, &bad) != 0 ||
			    again != rights)
				abort();
		} else if (bad == '\0' || strchr(s, bad) == NULL) {
			abort();
		}
	}
	if (store_acl_identifier_is_valid(s) && (strlen(s) == 0 || strlen(s) > 256))
		abort();
	free(s);
	return 0;
}
