/* SPDX-License-Identifier: MIT */
/*
 * pop3_maildrop.c: the maildrop snapshot (pop3_maildrop.h). Opening reads
 * the sizes in batches (one read transaction per batch, a range scan when
 * the UIDs are dense), so 100,000 messages open in a few tens of
 * milliseconds, on the store pool rather than an event loop.
 */
#include "pop3/pop3_maildrop.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/arena.h"
#include "lib/util.h"

#define LOOKUP_BATCH 1024

int
pop3_maildrop_open(struct store *store, uint64_t account_id, struct pop3_maildrop *md,
                   enum store_error *err_out)
{
	struct store_mailbox_info info;
	uint32_t count;

	memset(md, 0, sizeof(*md));
	if (store_account_open(store, account_id, &md->acct, err_out) < 0)
		return -1;
	/* A message another session expunged is answered "deleted by another
	   session", not served as it was (that is IMAP's RFC 2180 choice). */
	if (store_mailbox_open(md->acct, "INBOX", STORE_OPEN_NO_RETAINED, &md->mbox, err_out) < 0)
		goto fail;
	store_mailbox_info_get(md->mbox, &info);
	md->uidvalidity = info.uidvalidity;
	const uint32_t *uids = store_mailbox_uids(md->mbox, &count);
	md->count = count;
	md->uids = xmalloc((count ? count : 1) * sizeof(*md->uids));
	md->sizes = xmalloc((count ? count : 1) * sizeof(*md->sizes));
	md->deleted = xcalloc(count ? count : 1, sizeof(*md->deleted));
	md->retrieved = xcalloc(count ? count : 1, sizeof(*md->retrieved));
	memcpy(md->uids, uids, count * sizeof(*md->uids));
	struct arena *a = arena_new(16384);
	struct store_message_info *batch = xmalloc(LOOKUP_BATCH * sizeof(*batch));
	for (uint32_t i = 0; i < count; i += LOOKUP_BATCH) {
		size_t n = MIN(LOOKUP_BATCH, count - i);
		if (store_message_lookup(md->mbox, md->uids + i, n, STORE_FETCH_BASIC, a, batch,
		                         err_out) < 0) {
			free(batch);
			arena_free(&a);
			goto fail;
		}
		for (size_t k = 0; k < n; k++) {
			/* Expunged since the snapshot: listed, but RETR will say so. */
			md->sizes[i + k] = batch[k].uid != 0 ? batch[k].size : 0;
			md->total_size += md->sizes[i + k];
		}
		arena_reset(a);
	}
	free(batch);
	arena_free(&a);
	return 0;
fail:
	pop3_maildrop_close(md);
	return -1;
}

void
pop3_maildrop_close(struct pop3_maildrop *md)
{
	store_mailbox_close(&md->mbox);
	store_account_close(&md->acct);
	free(md->uids);
	free(md->sizes);
	free(md->deleted);
	free(md->retrieved);
	memset(md, 0, sizeof(*md));
}

void
pop3_maildrop_uidl(const struct pop3_maildrop *md, uint32_t i, char out[POP3_UIDL_LEN + 1])
{
	snprintf(out, POP3_UIDL_LEN + 1, "%08Xu%08Xv", md->uids[i], md->uidvalidity);
}

int
pop3_maildrop_commit(struct pop3_maildrop *md, enum store_error *err_out)
{
	uint32_t *uids = xmalloc((md->count ? md->count : 1) * sizeof(*uids));
	size_t n = 0;

	for (uint32_t i = 0; i < md->count; i++)
		if (md->deleted[i])
			uids[n++] = md->uids[i];
	int rc = 0;
	if (n > 0) {
		struct arena *a = arena_new(4096);
		uint32_t *gone;
		size_t n_gone;
		rc = store_message_remove(md->mbox, uids, n, a, &gone, &n_gone, err_out);
		arena_free(&a);
	}
	free(uids);
	return rc;
}
