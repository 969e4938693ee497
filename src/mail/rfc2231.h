/* SPDX-License-Identifier: MIT */
/*
 * rfc2231.h: MIME header parameters (RFC 2045 section 5.1) with the RFC
 * 2231 continuations merged, for Content-Type and Content-Disposition.
 */
#ifndef TERN_MAIL_RFC2231_H
#define TERN_MAIL_RFC2231_H

#include <stddef.h>

struct arena;

struct mail_param {
	const char *name; /* as written; "name*" when the value is RFC 2231 encoded */
	const char *value;
};

/*
 * Parses the value of Content-Type or Content-Disposition (already unfolded):
 * the leading token (up to ";", blanks and comments skipped) into *token_out
 * (NULL when empty) and the parameters after it into an arena array.
 * Continuations are merged as IMAP wants them (RFC 9051 section 7.5.2):
 * "a*0", "a*1" become "a"; when a segment is extended ("a*0*", "a*") the
 * result is "a*" with value "charset'lang'%XX..." (plain segments have "%"
 * escaped, and "''" is prefixed when the first one is plain). Merged
 * parameters follow the plain ones, sorted by name; a set with a missing
 * index is kept unmerged. Never fails; garbage is skipped.
 */
void mail_params_parse(struct arena *a, const char *value, const char **token_out,
                       struct mail_param **params_out, size_t *count_out);

/*
 * Returns the value of parameter name (case-insensitive), decoding an
 * extended "name*" one to UTF-8 (RFC 2231 section 4; unknown charsets are
 * read as UTF-8 or Latin-1), or NULL when absent. In the arena.
 */
const char *mail_params_get(struct arena *a, const struct mail_param *params, size_t count,
                            const char *name);

#endif
