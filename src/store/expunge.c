/* SPDX-License-Identifier: MIT */
/*
 * expunge.c: EXPUNGE, UID EXPUNGE (RFC 9051 6.4.3, 6.4.9), POP3 delete at
 * QUIT, the expunge history for QRESYNC (RFC 7162 3.2.10 VANISHED), and the
 * collection of blobs whose last reference went.
 *
 * Which messages carry \Deleted is read from the shared view (current:
 * every writer of this process updates it under the write lock, and it
 * catches up first with what other processes did), so EXPUNGE of a huge
 * mailbox does not scan the table. One transaction bumps the modseq and
 * deletes the rows; the delete trigger fixes the counters and records each
 * uid with that modseq. That is all the caller waits for.
 *
 * Collection (the blob rows whose reference count reached 0, their texts,
 * their FTS5 entries and their files) runs later on the indexer thread
 * (indexer.c): the FTS5 'delete' of a trigram-indexed text re-tokenises it,
 * and was ~90% of the time of a 10,000-message expunge. The expunge only
 * marks the account (collect_pending) and kicks the indexer, which
 * collects COLLECT_BATCH blobs per transaction, each under the write lock,
 * so appends interleave. A zero-reference row is harmless meanwhile: an
 * append of the same content reuses it (refs 1 again, so the batch, which
 * re-reads refs = 0 inside its transaction, leaves it), and search joins
 * messages, so its text matches nothing. Files are unlinked after the
 * batch commits, still under the write lock: a crash in between leaves an
 * orphan file that check removes, never a row without its file; a writer
 * of the same content re-checks the file in its own transaction
 * (prepared_file_rewrite). An inline blob (blobs.data) has no file:
 * deleting its row is the whole collection. Rows left by a crash or by
 * store_close are found again at the account's next open
 * (backend_sqlite.c). A blob a
 * session may still read (its message expunged but still in that
 * session's snapshot, retain.c) is skipped by the batches; when its pin
 * goes, the indexer thread is told to collect again.
 */
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>

#include "lib/arena.h"
#include "lib/log.h"
#include "lib/util.h"

bool
blob_is_referenced(struct db *db, const char *hash)
{
	static const char sql[] = "SELECT 1 FROM blobs WHERE hash = ? AND typeof(data) = 'null'";
	sqlite3_stmt *st = db_stmt(db, sql);
	int rc;

	if (st == NULL)
		return true; /* unknown: keep the file */
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc != SQLITE_DONE;
}

int
blobs_collect_batch(struct account *acct, struct db *db, unsigned max)
{
	static const char list_sql[] = "SELECT id, hash, typeof(data) = 'null' FROM blobs"
	                               " WHERE refs = 0";
	/* A text still pending was never in fts (nor in fuzzy_index, fuzzy
	   search's word index, nor was one of its upgrade backlog): an FTS5
	   'delete' of it would damage them. */
	static const char fts_sql[] = "INSERT INTO fts(fts, rowid, header, body)"
	                              " SELECT 'delete', id, header, body FROM texts WHERE id = ?1"
	                              " AND NOT EXISTS (SELECT 1 FROM fts_pending WHERE id = ?1)";
	static const char words_sql[] =
	        "INSERT INTO fuzzy_index(fuzzy_index, rowid, header, body)"
	        " SELECT 'delete', id, header, body FROM texts WHERE id = ?1"
	        " AND NOT EXISTS (SELECT 1 FROM fts_pending WHERE id = ?1)"
	        " AND NOT EXISTS (SELECT 1 FROM fuzzy_backlog WHERE id = ?1)";
	static const char backlog_sql[] = "DELETE FROM fuzzy_backlog WHERE id = ?";
	static const char pending_sql[] = "DELETE FROM fts_pending WHERE id = ?";
	static const char text_sql[] = "DELETE FROM texts WHERE id = ?";
	static const char blob_sql[] = "DELETE FROM blobs WHERE id = ?";
	const char *const dels[] = {fts_sql,     words_sql, backlog_sql,
	                            pending_sql, text_sql,  blob_sql};
	char(*hashes)[65] = xmalloc((max ? max : 1) * sizeof(*hashes));
	int64_t *ids = xmalloc((max ? max : 1) * sizeof(*ids));
	int64_t pending_gone = 0;
	unsigned n = 0;
	sqlite3_stmt *st;
	int rc = -1;

	if (db_begin(db, true) < 0)
		goto out;
	st = db_stmt(db, list_sql);
	if (st == NULL)
		goto fail;
	/* No LIMIT: pinned rows are skipped, and a batch cut short by them
	   would look like the last. */
	while (n < max && sqlite3_step(st) == SQLITE_ROW) {
		/* A session still numbers a message of it: kept (retain.c). */
		if (retain_blob_is_pinned(acct, sqlite3_column_int64(st, 0)))
			continue;
		ids[n] = sqlite3_column_int64(st, 0);
		/* An empty name: inline, no file to unlink. */
		snprintf(hashes[n], sizeof(hashes[n]), "%s",
		         sqlite3_column_int(st, 2) ? (const char *)sqlite3_column_text(st, 1) : "");
		n++;
	}
	sqlite3_reset(st);
	if (n == 0) {
		db_rollback(db);
		rc = 0;
		goto out;
	}
	for (unsigned i = 0; i < n; i++) {
		for (size_t k = 0; k < ARRAY_LEN(dels); k++) {
			st = db_stmt(db, dels[k]);
			if (st == NULL)
				goto fail;
			sqlite3_bind_int64(st, 1, ids[i]);
			if (db_step_done(db, st) < 0)
				goto fail;
			if (dels[k] == pending_sql)
				pending_gone += sqlite3_changes(db->h);
		}
	}
	if (db_commit(db) < 0)
		goto fail;
	for (unsigned i = 0; i < n; i++)
		if (hashes[i][0] != '\0')
			blob_unlink(acct->blob_dir, hashes[i]);
	/* Texts that were still queued for the indexer are gone with them. */
	acct->fts_backlog = acct->fts_backlog > pending_gone ? acct->fts_backlog - pending_gone : 0;
	acct->blobs_collected += n;
	rc = (int)n;
	goto out;
fail:
	/* Left for the next batch, the next open or check; nothing is lost. */
	log_error("store", "event=blob-collect-failed account=%llu", (unsigned long long)acct->id);
	db_rollback(db);
out:
	free(ids);
	free(hashes);
	return rc;
}

void
blobs_collect(struct account *acct, struct db *db)
{
	while (blobs_collect_batch(acct, db, COLLECT_BATCH) == COLLECT_BATCH)
		;
}

void
blobs_collect_later(struct account *acct)
{
	acct->collect_pending = true;
}

int
expunge_rows(struct account *acct, struct db *db, uint64_t mailbox_id, const uint32_t *uids,
             size_t n, uint64_t modseq, enum store_error *err_out)
{
	/* The rows as they were go to retain.c, for sessions that still
	   number them (RFC 2180 4.1.1). */
	static const char sql[] = "DELETE FROM messages WHERE mailbox_id = ? AND uid = ?"
	                          " RETURNING uid, flags, keywords, modseq, blob_id, size,"
	                          " internal_date, save_date, email_id, thread_id";
	struct retained *kept = xmalloc((n ? n : 1) * sizeof(*kept));
	size_t k = 0;

	(void)modseq; /* the trigger reads it from the mailbox row */
	for (size_t i = 0; i < n; i++) {
		sqlite3_stmt *st = db_stmt(db, sql);
		int rc;

		if (st == NULL) {
			free(kept);
			*err_out = STORE_ERR_TEMP;
			return -1;
		}
		sqlite3_bind_int64(st, 1, (int64_t)mailbox_id);
		sqlite3_bind_int64(st, 2, uids[i]);
		if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			kept[k++] = (struct retained){
			        .uid = (uint32_t)sqlite3_column_int64(st, 0),
			        .flags = (uint32_t)sqlite3_column_int(st, 1),
			        .keywords = (uint64_t)sqlite3_column_int64(st, 2),
			        .modseq = (uint64_t)sqlite3_column_int64(st, 3),
			        .blob_id = sqlite3_column_int64(st, 4),
			        .size = sqlite3_column_int64(st, 5),
			        .internal_date = sqlite3_column_int64(st, 6),
			        .save_date = sqlite3_column_int64(st, 7),
			        .email_id = sqlite3_column_int64(st, 8),
			        .thread_id = sqlite3_column_int64(st, 9),
			};
			rc = sqlite3_step(st);
		}
		sqlite3_reset(st);
		if (rc != SQLITE_DONE) {
			db_log_error(db, "expunge");
			free(kept);
			*err_out = db_error(db);
			return -1;
		}
	}
	retain_pending_set(acct, mailbox_id, kept, k);
	return 0;
}

static int
cmp_u32(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;

	return a < b ? -1 : a > b;
}

/* The uids to remove, ascending, from the view (write_lock held). */
static size_t
pick_uids(struct store_mailbox *mbox, const uint32_t *uids, size_t n, bool only_deleted,
          uint32_t *out)
{
	struct view *v = mbox->view;
	size_t k = 0;

	pthread_mutex_lock(&v->lock);
	if (uids == NULL) {
		for (uint32_t i = 0; i < v->count; i++)
			if (v->flags[i] & STORE_FLAG_DELETED)
				out[k++] = v->buf->uids[i];
	} else {
		for (size_t i = 0; i < n; i++) {
			int64_t at = view_index_locked(v, uids[i]);

			if (at >= 0 && (!only_deleted || (v->flags[at] & STORE_FLAG_DELETED)))
				out[k++] = uids[i];
		}
		qsort(out, k, sizeof(*out), cmp_u32);
		/* Drop duplicates the caller's set may hold. */
		size_t w = 0;
		for (size_t i = 0; i < k; i++)
			if (w == 0 || out[w - 1] != out[i])
				out[w++] = out[i];
		k = w;
	}
	pthread_mutex_unlock(&v->lock);
	return k;
}

static int
remove_messages(struct store_mailbox *mbox, const uint32_t *uids, size_t n, bool only_deleted,
                struct arena *a, uint32_t **expunged_out, size_t *n_out, enum store_error *err_out)
{
	struct account *acct = mbox->acct;
	struct db *db = NULL;
	uint32_t *pick;
	size_t k, cap;
	uint64_t modseq;
	int rc = -1;

	*n_out = 0;
	*expunged_out = NULL;
	if (mbox->open_flags & STORE_OPEN_READONLY) {
		*err_out = STORE_ERR_PERM;
		return -1;
	}
	if (!(mbox->rights & STORE_RIGHT_EXPUNGE)) { /* 'e' (RFC 4314 section 4) */
		*err_out = STORE_ERR_NORIGHTS;
		return -1;
	}
	if (db_get(acct, &db, err_out) < 0)
		return -1;
	pthread_mutex_lock(&acct->write_lock);
	/* Which messages have \Deleted is read from the view: bring it up to
	   any change another process made (one row read when current). */
	changes_refresh(acct, mbox->id);
	pthread_mutex_lock(&mbox->view->lock);
	cap = uids == NULL ? mbox->view->count : n;
	pthread_mutex_unlock(&mbox->view->lock);
	pick = xmalloc((cap ? cap : 1) * sizeof(*pick));
	k = pick_uids(mbox, uids, n, only_deleted, pick);
	if (k == 0) {
		rc = 0;
		goto out;
	}
	if (db_begin(db, true) < 0)
		goto db_fail;
	modseq = mailbox_modseq_next(db, mbox->id);
	if (modseq == 0)
		goto db_fail;
	if (expunge_rows(acct, db, mbox->id, pick, k, modseq, err_out) < 0)
		goto out;
	if (db_commit(db) < 0)
		goto db_fail;
	changes_expunged(acct, mbox->id, mbox, pick, k, modseq);
	blobs_collect_later(acct);
	*expunged_out = arena_memdup(a, pick, k * sizeof(*pick));
	*n_out = k;
	rc = 0;
	goto out;
db_fail:
	*err_out = db_error(db);
out:
	if (rc < 0)
		db_rollback(db);
	pthread_mutex_unlock(&acct->write_lock);
	db_put(acct, db);
	free(pick);
	if (*n_out > 0)
		indexer_kick(acct); /* the collection (no lock held here) */
	return rc;
}

int
store_message_expunge(struct store_mailbox *mbox, const uint32_t *uids, size_t n, struct arena *a,
                      uint32_t **expunged_out, size_t *n_out, enum store_error *err_out)
{
	return remove_messages(mbox, uids, n, true, a, expunged_out, n_out, err_out);
}

int
store_message_remove(struct store_mailbox *mbox, const uint32_t *uids, size_t n, struct arena *a,
                     uint32_t **expunged_out, size_t *n_out, enum store_error *err_out)
{
	if (uids == NULL) {
		*err_out = STORE_ERR_PERM;
		return -1;
	}
	return remove_messages(mbox, uids, n, false, a, expunged_out, n_out, err_out);
}

static int
uids_query(struct store_mailbox *mbox, const char *sql, uint64_t since, struct arena *a,
           uint32_t **uids_out, size_t *n_out, enum store_error *err_out)
{
	struct db *db;
	sqlite3_stmt *st;
	int rc = -1;

	if (db_get(mbox->acct, &db, err_out) < 0)
		return -1;
	st = db_stmt(db, sql);
	if (st != NULL) {
		sqlite3_bind_int64(st, 1, (int64_t)mbox->id);
		sqlite3_bind_int64(st, 2, (int64_t)since);
		rc = db_collect_uids(db, st, a, uids_out, n_out);
	}
	if (rc < 0)
		*err_out = db_error(db);
	db_put(mbox->acct, db);
	return rc;
}

int
store_expunged_since(struct store_mailbox *mbox, uint64_t since, struct arena *a,
                     uint32_t **uids_out, size_t *n_out, enum store_error *err_out)
{
	static const char sql[] = "SELECT uid FROM expunged WHERE mailbox_id = ? AND modseq > ?"
	                          " ORDER BY uid";

	return uids_query(mbox, sql, since, a, uids_out, n_out, err_out);
}

int
store_changed_since(struct store_mailbox *mbox, uint64_t since, struct arena *a,
                    uint32_t **uids_out, size_t *n_out, enum store_error *err_out)
{
	static const char sql[] = "SELECT uid FROM messages WHERE mailbox_id = ? AND modseq > ?"
	                          " ORDER BY uid";

	return uids_query(mbox, sql, since, a, uids_out, n_out, err_out);
}
