/* SPDX-License-Identifier: MIT */
/* test_imap_language.c: tests for src/imap/imap_language.c and the
   catalogues lang_*.c: every row keeps its key's response code and printf
   conversions (a translation with another conversion would be undefined
   behaviour in the reply writer), rows are sorted for the binary search,
   texts are one line of valid UTF-8; and LANGUAGE's range syntax and RFC
   4647 Lookup. That every text of src/imap has a row is checked by
   tests/integration/test_imap_language.py, which can read the sources. */
#include <unistr.h>

#include "imap/imap_language.h"
#include "lib/util.h"
#include "test.h"

/* The conversions of a printf format, e.g. "s,llu," for "%s ... %llu". */
static void
conversions(const char *fmt, char *out, size_t size)
{
	size_t n = 0;

	for (const char *p = fmt; *p != '\0'; p++) {
		if (*p != '%')
			continue;
		p++;
		while (*p != '\0' && strchr("-+ #0123456789.*hlzjt", *p) != NULL && n + 2 < size)
			out[n++] = *p++;
		if (*p == '\0')
			break;
		if (n + 2 < size) {
			out[n++] = *p;
			out[n++] = ',';
		}
	}
	out[n] = '\0';
}

/* "[CODE ...] " at the start, or "" */
static size_t
code_len(const char *s)
{
	const char *e = s[0] == '[' ? strstr(s, "] ") : NULL;

	return e != NULL ? (size_t)(e - s) + 2 : 0;
}

static void
test_catalogue_rows_keep_codes_and_conversions(void)
{
	size_t rows = 0;

	for (size_t l = 0; imap_language_at(l) != NULL; l++) {
		const struct imap_language *lang = imap_language_at(l);
		for (size_t i = 0; i < lang->n_texts; i++) {
			const struct imap_language_text *t = &lang->texts[i];
			char ck[64], ct[64];
			int row = (int)(l * 1000 + i);
			conversions(t->english, ck, sizeof(ck));
			conversions(t->text, ct, sizeof(ct));
			test_str_eq(row, ct, ck);
			test_int_eq(row, code_len(t->text), code_len(t->english));
			test_assert(row, strncmp(t->text, t->english, code_len(t->english)) == 0);
			test_assert(row,
			            u8_check((const uint8_t *)t->text, strlen(t->text)) == NULL);
			test_assert(row, strpbrk(t->text, "\r\n") == NULL);
			if (i > 0)
				test_assert(row,
				            strcmp(lang->texts[i - 1].english, t->english) < 0);
			/* the lookup finds every row */
			test_assert(row, imap_language_text(lang, t->english) == t->text);
			rows++;
		}
	}
	test_assert(-1, rows > 500); /* Polish and Russian, 250+ texts each */
}

static void
test_lookup_falls_back_to_english(void)
{
	const struct imap_language *pl = NULL;
	const char *ranges[] = {"pl"};
	size_t bad;

	test_int_eq(-1, imap_language_select(ranges, 1, &pl, &bad), 1);
	test_str_eq(-1, imap_language_text(pl, "NOOP completed"), "NOOP: wykonano");
	test_str_eq(-1, imap_language_text(pl, "no such text"), "no such text");
	test_str_eq(-1, imap_language_text(NULL, "NOOP completed"), "NOOP completed");
	test_str_eq(-1, imap_language_text(imap_language_default(), "NOOP completed"),
	            "NOOP completed");
}

static void
test_language_ranges(void)
{
	static const struct {
		const char *ranges[3];
		int rc;
		const char *tag; /* chosen, or the bad index as "0", "1" */
	} cases[] = {
	        {{"pl"}, 1, "pl"},
	        {{"RU"}, 1, "ru"},    /* case-insensitive */
	        {{"pl-PL"}, 1, "pl"}, /* Lookup cuts subtags off */
	        {{"ru-Cyrl-RU"}, 1, "ru"},
	        {{"pl-x-private"}, 1, "pl"},   /* and a dangling singleton */
	        {{"fr-CA", "en-CA"}, 1, "en"}, /* RFC 5255's example */
	        {{"de", "ru", "pl"}, 1, "ru"}, /* the first that matches */
	        {{"default"}, 1, "i-default"},
	        {{"i-default"}, 1, "i-default"},
	        {{"pl-*-PL"}, 1, "pl"}, /* extended range */
	        {{"*"}, 0, NULL},       /* matches no tag by Lookup */
	        {{"mul"}, 0, NULL},     /* RFC 5255's example: NO */
	        {{"de-DE"}, 0, NULL},
	        {{"en_US"}, -1, "0"},     /* not a language-range: BAD */
	        {{"pl", "123"}, -1, "1"}, /* the first subtag is letters */
	        {{""}, -1, "0"},
	        {{"abcdefghi"}, -1, "0"}, /* 9 letters */
	        {{"pl-"}, -1, "0"},
	        {{"pl--PL"}, -1, "0"},
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		const struct imap_language *l = NULL;
		size_t n = 0, bad = 99;
		while (n < 3 && cases[i].ranges[n] != NULL)
			n++;
		int rc = imap_language_select(cases[i].ranges, n, &l, &bad);
		test_int_eq(i, rc, cases[i].rc);
		if (rc == 1)
			test_str_eq(i, l->tag, cases[i].tag);
		if (rc == -1)
			test_int_eq(i, bad, cases[i].tag[0] - '0');
	}
}

static void
test_long_range_is_cut_without_overflow(void)
{
	char r[4096];
	const char *ranges[] = {r};
	const struct imap_language *l = NULL;
	size_t bad;

	/* "pl-aaaaaaaa-aaaaaaaa-...": valid, longer than any tag buffer */
	strcpy(r, "pl");
	while (strlen(r) + 9 < sizeof(r))
		strcat(r, "-aaaaaaaa");
	test_int_eq(-1, imap_language_select(ranges, 1, &l, &bad), 1);
	test_str_eq(-1, l != NULL ? l->tag : NULL, "pl");
}

int
main(void)
{
	TEST_RUN(test_catalogue_rows_keep_codes_and_conversions);
	TEST_RUN(test_lookup_falls_back_to_english);
	TEST_RUN(test_language_ranges);
	TEST_RUN(test_long_range_is_cut_without_overflow);
	return TEST_DONE("test_imap_language");
}
