/* SPDX-License-Identifier: MIT */
/*
 * imap_url.h: IMAP URLs (RFC 5092) naming a message or a part of one on
 * this server, as CATENATE (RFC 4469) and URLAUTH (RFC 4467) use them:
 *
 *   imap://user@host/INBOX;UIDVALIDITY=7/;UID=20/;SECTION=1.2/;PARTIAL=0.100
 *       ;EXPIRE=<date-time>;URLAUTH=<access>:INTERNAL:<token>
 *   /INBOX/;UID=20/;SECTION=HEADER        (relative: this user, this server)
 *
 * Parsing is pure and hostile-input safe (every field is %-decoded and
 * checked; keys are case-insensitive). Resolution reads the bytes through
 * the store, with the same section rules as FETCH (imap_section.c).
 */
#ifndef TERN_IMAP_URL_H
#define TERN_IMAP_URL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imap/imap_section.h"
#include "store/store.h"

struct arena;

struct imap_url {
	bool is_absolute;     /* "imap://..."; else relative to the session */
	const char *user;     /* absolute: the user before '@' (decoded), or NULL */
	const char *host;     /* absolute */
	const char *mailbox;  /* decoded UTF-8 */
	uint32_t uidvalidity; /* 0: not given */
	uint32_t uid;
	const char *section; /* decoded ("1.2.MIME"), or NULL: the whole message */
	bool has_partial;
	uint64_t partial_offset, partial_length; /* length UINT64_MAX: to the end */
	int64_t expire;                          /* ";EXPIRE=", seconds; 0: none */
	const char *access;    /* ";URLAUTH=" access ("authuser", "user+fred"), or NULL */
	const char *mechanism; /* ":INTERNAL" part, or NULL for a rump URL */
	const char *token;     /* the verifier, hex */
	size_t rump_len;       /* the URL's length up to and including the access */
};

/*
 * Parses url (a message or part URL; a mailbox-only URL is refused).
 * Returns true with *out (strings in a), or false with *error_out static.
 */
bool imap_url_parse(struct arena *a, const char *url, struct imap_url *out, const char **error_out);

/*
 * The bytes u names in acct (UIDVALIDITY checked when given; the UID must
 * be in the mailbox), BODY[section]<partial> or with binary the decoded
 * BINARY[section], to write() in pieces. Returns 0, or -1 with *why_out (a
 * static phrase for the client: the URL names nothing, or a store error).
 * With structure_out (may be NULL) the BODYSTRUCTURE of the section's part
 * (RFC 5524 BODYPARTSTRUCTURE) is also given, in a.
 */
int imap_url_fetch(struct store_account *acct, const struct imap_url *u, bool binary,
                   imap_section_write_fn *write, void *ctx, struct arena *a,
                   const char **structure_out, const char **why_out);

#endif
