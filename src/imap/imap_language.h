/* SPDX-License-Identifier: MIT */
/*
 * imap_language.h: the LANGUAGE extension's languages (RFC 5255 section 3)
 * and their response texts. A catalogue per language maps each English
 * text the server writes (the printf format as it stands in the source) to
 * its translation; reply.c looks a text up where the reply line is
 * written, so commands keep writing English. Pure lookups: no session.
 */
#ifndef TERN_IMAP_LANGUAGE_H
#define TERN_IMAP_LANGUAGE_H

#include <stdbool.h>
#include <stddef.h>

/* One catalogue row: the English format and its translation, which has
   the same conversions in the same order and the same "[CODE]" prefix
   (tests/unit/test_imap_language.c checks both). */
struct imap_language_text {
	const char *english, *text;
};

struct imap_language {
	const char *tag; /* RFC 5646 tag, as LANGUAGE lists it: "pl" */
	/* sorted by english (strcmp), so lookups are a binary search */
	const struct imap_language_text *texts;
	size_t n_texts;
	/* NAMESPACE TRANSLATION of "Other Users" and "Shared" (section 3.4),
	   UTF-8; NULL for English */
	const char *other_users, *shared;
};

/* The i-th supported language, the default (i-default, English) first;
   NULL past the last. Static. */
const struct imap_language *imap_language_at(size_t i);

/* The default language: i-default (RFC 2277), which is English. */
const struct imap_language *imap_language_default(void);

/*
 * LANGUAGE's choice (RFC 5255 3.2) among the language ranges
 * ranges[0..n): "default" is the default language; any other range must
 * be a language-range of RFC 4647 section 2 (basic or extended: subtags of
 * 1-8 letters or digits, the first letters, "*" for a whole subtag), else
 * the command is BAD. Each range is matched by RFC 4647 3.4 Lookup: its
 * tag, then the tag with its last subtag cut off, and so on ("pl-PL" finds
 * "pl"), case-insensitively; the first range that finds a language wins.
 * Returns 1 with *out set, 0 when none matches (NO, *out untouched), or -1
 * with *bad_out the index of a range that is not one.
 */
int imap_language_select(const char *const *ranges, size_t n, const struct imap_language **out,
                         size_t *bad_out);

/* The translation of english in lang, or english itself when lang is
   NULL, English, or has no row for it. Never NULL for a non-NULL english. */
const char *imap_language_text(const struct imap_language *lang, const char *english)
        __attribute__((format_arg(2)));

#endif
