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
/* The same, also giving the zone the date was written in, in minutes east
   of UTC (0 when it names none): utc + zone * 60 is the wall-clock time as
   written, whose calendar date SEARCH SENTON compares (RFC 9051 6.4.4). */
time_t mail_date_parse_zone(const char *s, int *zone_out);
/* Largest zone offset mail_date_parse_zone() accepts, in minutes. */
#define MAIL_DATE_MAX_ZONE (99 * 60 + 59)

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
