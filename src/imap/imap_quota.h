/* SPDX-License-Identifier: MIT */
/*
 * imap_quota.h: the QUOTA extension's shared pieces (RFC 9208): the one
 * quota root every account has, the QUOTA response GETQUOTA, GETQUOTAROOT
 * and SETQUOTA write, and the pure parser of a SETQUOTA resource list.
 */
#ifndef TERN_IMAP_QUOTA_H
#define TERN_IMAP_QUOTA_H

#include <stdbool.h>
#include <stdint.h>

#include "imap/parser.h"
#include "imap/session.h"
#include "store/store.h"

/* The account's one quota root (RFC 9208 section 3.2: an opaque name; ""
   as in the RFC's own example of 4.2.2). */
#define IMAP_QUOTA_ROOT ""

/* A parsed setquota-list: the resources named (enum store_quota_resource
   bits) and their limits, STORAGE in units of 1024 octets as sent. */
struct imap_quota_limits {
	unsigned which;
	uint64_t storage_kib, messages, mailboxes;
};

enum imap_quota_parse_result {
	IMAP_QUOTA_PARSE_OK,
	IMAP_QUOTA_PARSE_BAD,     /* not the grammar: BAD */
	IMAP_QUOTA_PARSE_UNKNOWN, /* a well-formed resource we do not have: NO */
};

/*
 * setquota-list = "(" [setquota-resource *(SP setquota-resource)] ")"
 * setquota-resource = resource-name SP resource-limit (RFC 9208 section 7).
 * Pure: fills *out and returns OK, or says why not with a static *error_out.
 * A resource named twice is BAD; a limit must be a number64.
 */
enum imap_quota_parse_result imap_quota_list_parse(const struct imap_arg *list,
                                                   struct imap_quota_limits *out,
                                                   const char **error_out);

/* Writes "* QUOTA root (STORAGE u l MESSAGE u l MAILBOX u l)": only the
   resources with a limit, since one not named is not limited (4.2.1). */
void imap_quota_reply(struct imap_session *s, const struct store_quota *q);

/* Whether name is the root this session may see: the account's own. */
bool imap_quota_root_is_known(const char *name);

/* Whether this session may SETQUOTA (and so is offered QUOTASET): an
   administrator acting as the user, or any user with imap.user_setquota. */
bool imap_quota_may_set(const struct imap_session *s);

#endif
