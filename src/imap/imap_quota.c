/* SPDX-License-Identifier: MIT */
/*
 * imap_quota.c: the QUOTA response (RFC 9208 section 4.2.1) and who may
 * set quotas; the SETQUOTA list parser is imap_quota_parse.c. Every account has one quota root,
 * named IMAP_QUOTA_ROOT, covering all its mailboxes; its usage and limits are one row of the
 * account's store (store_quota_get), so writing a QUOTA response never scans. STORAGE travels in
 * units of 1024 octets (5.1): the usage is rounded up, so one small message does not look like
 * none, and the limit down, so a client never reads a limit higher than the one enforced.
 */
#include "imap/imap_quota.h"

#include <string.h>

#include "lib/buf.h"

void
imap_quota_reply(struct imap_session *s, const struct store_quota *q)
{
	struct buf b;

	buf_init(&b);
	if (q->storage_limit != 0)
		buf_printf(&b, "STORAGE %llu %llu",
		           (unsigned long long)((q->storage_used + 1023) / 1024),
		           (unsigned long long)(q->storage_limit / 1024));
	if (q->messages_limit != 0)
		buf_printf(&b, "%sMESSAGE %llu %llu", b.len ? " " : "",
		           (unsigned long long)q->messages_used,
		           (unsigned long long)q->messages_limit);
	if (q->mailboxes_limit != 0)
		buf_printf(&b, "%sMAILBOX %llu %llu", b.len ? " " : "",
		           (unsigned long long)q->mailboxes_used,
		           (unsigned long long)q->mailboxes_limit);
	imap_reply_untagged(s, "QUOTA %s (%s)", imap_quote(s->cmd_arena, IMAP_QUOTA_ROOT),
	                    b.data != NULL ? b.data : "");
	buf_deinit(&b);
}

bool
imap_quota_root_is_known(const char *name)
{
	return strcmp(name, IMAP_QUOTA_ROOT) == 0;
}

bool
imap_quota_may_set(const struct imap_session *s)
{
	return s->user.master_is_admin || s->settings.user_setquota;
}
