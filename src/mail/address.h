/* SPDX-License-Identifier: MIT */
/*
 * address.h: RFC 5322 section 3.4 address lists, parsed into the shape of
 * the IMAP address structure (RFC 9051 section 7.5.2).
 */
#ifndef TERN_MAIL_ADDRESS_H
#define TERN_MAIL_ADDRESS_H

#include <stddef.h>

struct arena;

/*
 * One IMAP address. A mailbox has domain != NULL (mailbox or domain "" when
 * the input lacked them; the envelope writer fills in placeholders). A group
 * start has mailbox = the group name and domain NULL; a group end has both
 * NULL. name is the display name after removing quoting, still RFC 2047
 * encoded, or NULL; for a bare addr-spec a trailing comment serves as name
 * ("a@b (Real Name)"), as mailers show it. route is "@a,@b" or NULL.
 */
struct mail_address {
	struct mail_address *next;
	const char *name, *route, *mailbox, *domain;
};

/*
 * Parses an address-list header value (folded or not). Returns the first
 * address or NULL when there is none. Never fails: obsolete syntax (routes,
 * CFWS around dots, phrases with "."), unclosed "<", quotes or groups, and
 * missing "@" give a best effort; pieces that are not an address are
 * skipped. Everything is in the arena.
 */
struct mail_address *mail_address_parse(struct arena *a, const unsigned char *value, size_t len);

#endif
