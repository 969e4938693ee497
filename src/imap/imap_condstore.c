/* SPDX-License-Identifier: MIT */
/* imap_condstore.c: see imap_condstore.h. */
#include "imap/imap_condstore.h"

#include <stdlib.h>

#include "imap/imap_mailbox.h"
#include "imap/seqset.h"
#include "lib/util.h"

void
imap_condstore_enable(struct imap_session *s)
{
	struct store_mailbox_info info;

	if (s->condstore)
		return;
	s->condstore = true;
	if (s->mbox == NULL)
		return;
	store_mailbox_info_get(s->mbox, &info);
	imap_reply_untagged(s, "OK [HIGHESTMODSEQ %llu] Highest",
	                    (unsigned long long)info.highestmodseq);
}

bool
imap_modseq_parse(const char *s, bool zero_ok, uint64_t *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	unsigned long long n = strtoull(s, &end, 10);
	if (*end != '\0' || n > INT64_MAX || (n == 0 && !zero_ok))
		return false;
	*out = n;
	return true;
}

bool
imap_condstore_vanished(struct imap_cmd *cmd, uint64_t since, const struct imap_seqset *set)
{
	struct imap_session *s = cmd->session;
	struct store_mailbox_info info;
	uint32_t *uids;
	size_t n;
	enum store_error err;

	if (store_expunged_since(s->mbox, since, cmd->arena, &uids, &n, &err) < 0) {
		imap_reply_store_error(cmd, err);
		return false;
	}
	store_mailbox_info_get(s->mbox, &info);
	if (set != NULL)
		n = imap_seqset_filter(set, info.uidnext - 1, cmd->arena, uids, n);
	if (n > 0)
		imap_reply_untagged(s, "VANISHED (EARLIER) %s",
		                    imap_seqset_format(cmd->arena, uids, n));
	return true;
}
