/* SPDX-License-Identifier: MIT */
/*
 * imap_status.h: STATUS items, shared by STATUS and LIST ... RETURN (STATUS)
 * (RFC 5819). Every item is a stored counter: no scan, whatever the size.
 */
#ifndef TERN_IMAP_STATUS_H
#define TERN_IMAP_STATUS_H

#include "imap/session.h"
#include "store/store.h"

enum imap_status_item {
	IMAP_STATUS_MESSAGES = 1 << 0,
	IMAP_STATUS_UIDNEXT = 1 << 1,
	IMAP_STATUS_UIDVALIDITY = 1 << 2,
	IMAP_STATUS_UNSEEN = 1 << 3,
	IMAP_STATUS_DELETED = 1 << 4,          /* RFC 9051 */
	IMAP_STATUS_SIZE = 1 << 5,             /* RFC 8438 */
	IMAP_STATUS_RECENT = 1 << 6,           /* RFC 3501 */
	IMAP_STATUS_HIGHESTMODSEQ = 1 << 7,    /* RFC 7162 */
	IMAP_STATUS_APPENDLIMIT = 1 << 8,      /* RFC 7889 */
	IMAP_STATUS_MAILBOXID = 1 << 9,        /* RFC 8474 */
	IMAP_STATUS_DELETED_STORAGE = 1 << 10, /* RFC 9208 4.1.4 */
};

/* Parses "(MESSAGES UNSEEN ...)"; false with BAD sent. */
bool imap_status_items_parse(struct imap_cmd *cmd, const struct imap_arg *arg, unsigned *items_out);
/* Writes "* STATUS name (...)". */
void imap_status_reply(struct imap_session *s, const char *name, unsigned items,
                       const struct store_mailbox_info *info);

#endif
