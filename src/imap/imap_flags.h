/* SPDX-License-Identifier: MIT */
/*
 * imap_flags.h: flag lists and dates as IMAP commands write them: the
 * flag-list of APPEND and STORE, date-time of APPEND (RFC 9051 section 9),
 * and the date of SEARCH; and the registered keywords.
 */
#ifndef TERN_IMAP_FLAGS_H
#define TERN_IMAP_FLAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "imap/parser.h"

struct arena;

struct imap_flag_list {
	uint32_t flags; /* enum store_flag bits */
	const char **keywords;
	size_t n_keywords;
};

/*
 * Parses a flag-list argument, "(\\Seen $Label)" (a single flag without
 * parentheses is accepted too, as STORE allows). \\Recent and unknown system
 * flags are refused. On failure returns false with *error_out static.
 */
bool imap_flag_list_parse(struct arena *a, const struct imap_arg *arg, struct imap_flag_list *out,
                          const char **error_out);

/*
 * The keywords of the IANA IMAP keyword registry (RFC 5788) that clients
 * use to mark mail (RFC 5788 section 3, RFC 8457 for $Important), which a
 * mailbox always lists in FLAGS and PERMANENTFLAGS, used or not, so that a
 * client knows it may set them. IMAP_REGISTERED_KEYWORDS of them.
 */
#define IMAP_REGISTERED_KEYWORDS 6
extern const char *const imap_registered_keywords[IMAP_REGISTERED_KEYWORDS];
/* Whether kw is one of them (ASCII case-insensitive, as keywords compare). */
bool imap_keyword_is_registered(const char *kw);

/* date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE
   (the quotes are gone): "25-Nov-2026 10:00:00 +0100" -> seconds since the epoch. */
bool imap_date_time_parse(const char *s, int64_t *out);
/* Formats t as date-time (UTC offset +0000), in a. */
const char *imap_date_time_format(struct arena *a, int64_t t);
/* date = "1-Feb-1994" (SEARCH): the start of that day, UTC. */
bool imap_date_parse(const char *s, int64_t *out);

#endif
