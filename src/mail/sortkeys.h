/* SPDX-License-Identifier: MIT */
/*
 * sortkeys.h: the SORT (RFC 5256, RFC 5957) and THREAD keys of a message,
 * from its envelope fields.
 */
#ifndef TERN_MAIL_SORTKEYS_H
#define TERN_MAIL_SORTKEYS_H

#include <stdbool.h>
#include <time.h>

struct arena;
struct mail_envelope;
struct mail_parsed;

/*
 * Parses an RFC 5322 date-time (section 3.3, with the obsolete forms of
 * section 4.3: two- and three-digit years, zone names, comments) into UTC
 * seconds. Returns 0 when s is NULL or not a date.
 */
time_t mail_date_parse(const char *s);
/* The same, and the date's zone in minutes east of UTC in *zone_out (0 for
   UT, "-0000", a missing or unknown zone, and when s is not a date), so the
   date as written is UTC seconds + zone * 60 (SEARCH SENTON). */
time_t mail_date_parse_zone(const char *s, int *zone_out);

/* Returns the RFC 5256 section 2.1 base subject of an already decoded
   subject (case kept). In the arena. */
char *mail_base_subject(struct arena *a, const char *subject);

/*
 * Returns the msg-ids ("<left@right>", blanks and comments removed) in
 * value, space separated, or only the first with first_only. Without
 * need_at an id needs no "@" (Message-ID); a Message-ID without brackets
 * but with an "@" is given them. "" when there is none. In the arena.
 */
const char *mail_msgids(struct arena *a, const char *value, bool first_only, bool need_at);

/* Sets the sort key fields of out (subject to references) from env. */
void mail_sortkeys_fill(struct arena *a, const struct mail_envelope *env, struct mail_parsed *out);

#endif
