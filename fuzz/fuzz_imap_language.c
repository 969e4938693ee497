/* SPDX-License-Identifier: MIT */
/*
 * fuzz_imap_language.c: libFuzzer harness for the LANGUAGE argument parser
 * of src/imap/imap_language.c: imap_language_select() on the input split
 * at spaces (the astrings of "LANGUAGE a b c"), and the catalogue lookup
 * of the whole input as a reply text. Checks the promises of
 * imap_language.h: one of three results, a chosen language is one of the
 * list, a BAD names an argument, and a lookup never returns NULL and
 * returns the input itself when no row has it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imap/imap_language.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), *copy;
	const char *ranges[32];
	size_t n = 0, bad = 99;
	const struct imap_language *l = NULL;

	memcpy(s, data, size);
	s[size] = '\0';
	copy = strdup(s);
	for (char *p = strtok(copy, " "); p != NULL && n < 32; p = strtok(NULL, " "))
		ranges[n++] = p;
	int rc = imap_language_select(ranges, n, &l, &bad);
	if (rc < -1 || rc > 1 || (rc == -1 && bad >= n) || (rc != 1 && l != NULL))
		abort();
	if (rc == 1) {
		size_t i = 0;
		while (imap_language_at(i) != NULL && imap_language_at(i) != l)
			i++;
		if (imap_language_at(i) == NULL)
			abort();
	}
	for (size_t i = 0; imap_language_at(i) != NULL; i++) {
		const char *t = imap_language_text(imap_language_at(i), s);
		if (t == NULL || (imap_language_at(i)->texts == NULL && t != s))
			abort();
	}
	free(copy);
	free(s);
	return 0;
}
