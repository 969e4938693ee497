/* SPDX-License-Identifier: MIT */
/*
 * message_copy.c: COPY and MOVE (RFC 9051 6.4.7, RFC 6851) without copying
 * bytes: each new row points at the source row's blob, whose reference
 * count the insert trigger raises. Email id, thread id, flags, keywords and
 * internal date go along (RFC 8474: a copy keeps its EMAILID); the save date
 * is new (RFC 8514). MOVE expunges the source rows in the same transaction,
 * so a crash leaves either both mailboxes as before or both as after.
 * Quota counts copies (each row's size), and is checked before COMMIT.
 * A message's annotations (RFC 5257 section 4.5: COPY keeps them, every
 * user's value.priv too) are copied with its row.
 */
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/util.h"

static int
cmp_u32(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;

	return a < b ? -1 : a > b;
}

int
copy_in_txn(struct account *acct, struct db *db, const struct store_mailbox *origin,
            uint64_t src_id, uint64_t dst_id, const uint32_t *uids, size_t n, bool move,
            unsigned dst_rights, uint32_t *src_uids_out, uint32_t *dst_uids_out,
            uint32_t *flags_out, uint64_t *kw_out, size_t *n_out, uint64_t *src_modseq_out,
            uint64_t *dst_modseq_out, enum store_error *err_out)
{
	static const char next_sql[] = "SELECT uidnext FROM mailboxes WHERE id = ?";
	static const char copy_sql[] =
	        "INSERT INTO messages(mailbox_id, uid, blob_id, size, flags, keywords, modseq,"
	        " internal_date, save_date, email_id, thread_id)"
	        " SELECT ?1, ?2, blob_id, size, flags & ?7, keywords & ?8, ?3, internal_date, ?4,"
	        " email_id, thread_id FROM messages WHERE mailbox_id = ?5 AND uid = ?6"
	        " RETURNING flags, keywords";
	static const char set_next_sql[] = "UPDATE mailboxes SET uidnext = ? WHERE id = ?";
	static const char annot_sql[] =
	        "INSERT INTO annotations(mailbox_id, uid, entry, owner, value)"
	        " SELECT ?1, ?2, entry, owner, value FROM annotations"
	        " WHERE mailbox_id = ?3 AND uid = ?4";
	sqlite3_stmt *st;
	uint32_t uidnext;
	uint64_t dst_modseq, src_modseq = 0;
	int64_t now = (int64_t)time(NULL);
	size_t k = 0;

	(void)acct;
	(void)origin;
	*n_out = 0;
	st = db_stmt(db, next_sql);
	if (st == NULL)
		goto db_fail;
	sqlite3_bind_int64(st, 1, (int64_t)dst_id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		goto db_fail;
	}
	uidnext = (uint32_t)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if ((uint64_t)uidnext + n >= 0xffffffffull) {
		*err_out = STORE_ERR_LIMIT;
		return -1;
	}
	dst_modseq = mailbox_modseq_next(db, dst_id);
	if (dst_modseq == 0)
		goto db_fail;
	for (size_t i = 0; i < n; i++) {
		int rc;

		if (i > 0 && uids[i] == uids[i - 1])
			continue;
		st = db_stmt(db, copy_sql);
		if (st == NULL)
			goto db_fail;
		sqlite3_bind_int64(st, 1, (int64_t)dst_id);
		sqlite3_bind_int64(st, 2, uidnext);
		sqlite3_bind_int64(st, 3, (int64_t)dst_modseq);
		sqlite3_bind_int64(st, 4, now);
		sqlite3_bind_int64(st, 5, (int64_t)src_id);
		sqlite3_bind_int64(st, 6, uids[i]);
		/* RFC 4314 section 4: only the flags the user may set go along. */
		sqlite3_bind_int64(st, 7, acl_flag_mask(dst_rights));
		sqlite3_bind_int64(st, 8, dst_rights & STORE_RIGHT_WRITE ? -1 : 0);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			if (flags_out != NULL)
				flags_out[k] = (uint32_t)sqlite3_column_int(st, 0);
			if (kw_out != NULL)
				kw_out[k] = (uint64_t)sqlite3_column_int64(st, 1);
			rc = sqlite3_step(st);
		} else if (rc == SQLITE_DONE) {
			sqlite3_reset(st);
			continue; /* not in the source: skipped */
		}
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			goto db_fail;
		st = db_stmt(db, annot_sql);
		if (st == NULL)
			goto db_fail;
		sqlite3_bind_int64(st, 1, (int64_t)dst_id);
		sqlite3_bind_int64(st, 2, uidnext);
		sqlite3_bind_int64(st, 3, (int64_t)src_id);
		sqlite3_bind_int64(st, 4, uids[i]);
		if (db_step_done(db, st) < 0)
			goto db_fail;
		src_uids_out[k] = uids[i];
		dst_uids_out[k] = uidnext++;
		k++;
	}
	st = db_stmt(db, set_next_sql);
	if (st == NULL)
		goto db_fail;
	sqlite3_bind_int64(st, 1, uidnext);
	sqlite3_bind_int64(st, 2, (int64_t)dst_id);
	if (db_step_done(db, st) < 0)
		goto db_fail;
	if (move && k > 0) {
		src_modseq = mailbox_modseq_next(db, src_id);
		if (src_modseq == 0)
			goto db_fail;
		if (expunge_rows(acct, db, src_id, src_uids_out, k, src_modseq, err_out) < 0)
			return -1;
	}
	*n_out = k;
	*src_modseq_out = src_modseq;
	*dst_modseq_out = dst_modseq;
	return 0;
db_fail:
	*err_out = db_error(db);
	return -1;
}

int
store_message_copy(struct store_mailbox *src, const uint32_t *uids, size_t n, const char *dest,
                   bool move, uint32_t *uidvalidity_out, uint32_t *src_uids_out,
                   uint32_t *dst_uids_out, size_t *n_copied_out, enum store_error *err_out)
{
	struct account *acct = src->acct;
	char *canon = mailbox_name_canon(dest);
	struct db *db = NULL;
	uint32_t *sorted = NULL, *flags = NULL;
	uint64_t *kws = NULL, dst_id, src_modseq = 0, dst_modseq = 0;
	struct quota_usage before;
	struct store_mailbox_info info;
	size_t k = 0;
	int rc = -1;

	*n_copied_out = 0;
	if (canon == NULL) {
		*err_out = STORE_ERR_NOTFOUND;
		return -1;
	}
	if (move && (src->open_flags & STORE_OPEN_READONLY)) {
		free(canon);
		*err_out = STORE_ERR_PERM;
		return -1;
	}
	/* MOVE takes the messages out: 't' and 'e' on the source (RFC 6851
	   section 3.3 asks for what COPY + STORE \Deleted + EXPUNGE would). */
	if (move && (src->rights & (STORE_RIGHT_DELMSG | STORE_RIGHT_EXPUNGE)) !=
	                    (STORE_RIGHT_DELMSG | STORE_RIGHT_EXPUNGE)) {
		free(canon);
		*err_out = STORE_ERR_NORIGHTS;
		return -1;
	}
	sorted = xmalloc((n ? n : 1) * sizeof(*sorted));
	if (n > 0)
		memcpy(sorted, uids, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_u32);
	flags = xmalloc((n ? n : 1) * sizeof(*flags));
	kws = xmalloc((n ? n : 1) * sizeof(*kws));

	if (db_get(acct, &db, err_out) < 0)
		goto out_free;
	pthread_mutex_lock(&acct->write_lock);
	if (db_begin(db, true) < 0)
		goto db_fail;
	unsigned dst_rights;
	struct store_account as = {.a = acct, .who = src->who};
	if (mailbox_id_lookup(db, canon, &dst_id, err_out) < 0 ||
	    acl_check(&as, db, dst_id, STORE_RIGHT_INSERT, &dst_rights, err_out) < 0)
		goto out;
	if (quota_usage(db, &before) < 0)
		goto db_fail;
	if (copy_in_txn(acct, db, src, src->id, dst_id, sorted, n, move, dst_rights, src_uids_out,
	                dst_uids_out, flags, kws, &k, &src_modseq, &dst_modseq, err_out) < 0)
		goto out;
	if (quota_enforce(db, &before, err_out) < 0)
		goto out;
	if (mailbox_info_read(db, dst_id, NULL, &info, err_out) < 0)
		goto db_fail;
	if (db_commit(db) < 0)
		goto db_fail;
	/* Even with nothing copied the destination took a modseq. */
	changes_appended(acct, dst_id, dst_uids_out, flags, kws, k, dst_modseq);
	if (move && k > 0) /* no blob loses its last reference: nothing to collect */
		changes_expunged(acct, src->id, src, src_uids_out, k, src_modseq);
	if (uidvalidity_out != NULL)
		*uidvalidity_out = info.uidvalidity;
	*n_copied_out = k;
	rc = 0;
	goto out;
db_fail:
	*err_out = db_error(db);
out:
	if (rc < 0)
		db_rollback(db);
	pthread_mutex_unlock(&acct->write_lock);
	db_put(acct, db);
out_free:
	free(canon);
	free(sorted);
	free(flags);
	free(kws);
	return rc;
}
