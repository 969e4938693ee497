/* SPDX-License-Identifier: MIT */
/*
 * imap_language.c: the languages of LANGUAGE (RFC 5255 section 3):
 * i-default (English, RFC 2277), "en" for the same texts, Polish and
 * Russian (catalogues in lang_pl.c and lang_ru.c), the language-range
 * syntax and Lookup matching of RFC 4647 (sections 2 and 3.4), and the
 * text lookup reply.c makes for each human-readable reply.
 *
 * Input is the client's astrings, unchecked: anything that is not a
 * language-range is refused before matching; matching copies at most
 * 64 octets of whole subtags (Lookup would cut the rest off before it
 * could reach one of our tags).
 */
#include "imap/imap_language.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/util.h"

/* Each catalogue file defines its language, so the table's size is a
   constant there (lang_pl.c, lang_ru.c). */
extern const struct imap_language imap_language_pl;
extern const struct imap_language imap_language_ru;

/* The longest range worth matching: our tags are far shorter. */
#define RANGE_MAX 64

static const struct imap_language i_default = {"i-default", NULL, 0, NULL, NULL};
static const struct imap_language en = {"en", NULL, 0, NULL, NULL};
static const struct imap_language *const languages[] = {
        &i_default,
        &en,
        &imap_language_pl,
        &imap_language_ru,
};

const struct imap_language *
imap_language_at(size_t i)
{
	return i < ARRAY_LEN(languages) ? languages[i] : NULL;
}

const struct imap_language *
imap_language_default(void)
{
	return &i_default;
}

static bool
is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* RFC 4647 section 2: extended-language-range = (1*8ALPHA / "*")
 *("-" (1*8alphanum / "*")); the basic form is a subset. */
static bool
range_is_valid(const char *r)
{
	bool first = true;

	for (;;) {
		size_t n = 0;
		if (*r == '*') {
			r++;
		} else {
			while (n < 9 && (is_alpha(r[n]) || (!first && is_digit(r[n]))))
				n++;
			if (n == 0 || n > 8)
				return false;
			r += n;
		}
		if (*r == '\0')
			return true;
		if (*r != '-')
			return false;
		r++;
		first = false;
	}
}

static const struct imap_language *
tag_lookup(const char *tag)
{
	for (size_t i = 0; i < ARRAY_LEN(languages); i++)
		if (strcasecmp(languages[i]->tag, tag) == 0)
			return languages[i];
	return NULL;
}

/* RFC 4647 3.4 Lookup of one range: "*" subtags are dropped (3.3.2 lets
   lookup ignore them), then the tag and each truncation is tried; a
   single-letter subtag left at the end goes with the one it follows
   (3.4 step: "x-" and "i-" are not tags by themselves). */
static const struct imap_language *
range_lookup(const char *range)
{
	char tag[RANGE_MAX + 1];
	size_t len = 0;

	for (const char *p = range; *p != '\0';) {
		size_t n = strcspn(p, "-");
		if (!(n == 1 && *p == '*')) {
			/* Lookup would cut what does not fit off anyway. */
			if (len + n + 1 > RANGE_MAX)
				break;
			if (len > 0)
				tag[len++] = '-';
			memcpy(tag + len, p, n);
			len += n;
		}
		p += n;
		if (*p == '-')
			p++;
	}
	tag[len] = '\0';
	while (len > 0) {
		const struct imap_language *l = tag_lookup(tag);
		if (l != NULL)
			return l;
		char *dash = strrchr(tag, '-');
		if (dash == NULL)
			break;
		*dash = '\0';
		len = (size_t)(dash - tag);
		if (len >= 2 && tag[len - 2] == '-') /* drop a dangling singleton */
			tag[len -= 2] = '\0';
	}
	return NULL;
}

int
imap_language_select(const char *const *ranges, size_t n, const struct imap_language **out,
                     size_t *bad_out)
{
	for (size_t i = 0; i < n; i++) {
		if (strcasecmp(ranges[i], "default") != 0 && !range_is_valid(ranges[i])) {
			*bad_out = i;
			return -1;
		}
	}
	for (size_t i = 0; i < n; i++) {
		const struct imap_language *l = strcasecmp(ranges[i], "default") == 0
		                                        ? imap_language_default()
		                                        : range_lookup(ranges[i]);
		if (l != NULL) {
			*out = l;
			return 1;
		}
	}
	return 0;
}

static int
cmp_english(const void *key, const void *row)
{
	return strcmp(key, ((const struct imap_language_text *)row)->english);
}

const char *
imap_language_text(const struct imap_language *lang, const char *english)
{
	if (lang == NULL || lang->texts == NULL)
		return english;
	const struct imap_language_text *t =
	        bsearch(english, lang->texts, lang->n_texts, sizeof(*t), cmp_english);
	return t != NULL ? t->text : english;
}
