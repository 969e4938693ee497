/* SPDX-License-Identifier: MIT */
/*
 * annotation.c: per-message annotations (IMAP ANNOTATE, RFC 5257), one
 * table of the mailbox owner's index.db: annotations(mailbox_id, uid,
 * entry, owner, value), owner '' for value.shared and the user's address
 * for that user's value.priv (section 3.3: private values are per user, so
 * two users of a shared mailbox each have their own). Entry names arrive
 * checked and lowercased by the protocol layer.
 *
 * Lifetime follows the message row: a trigger (schema.c) removes a
 * message's annotations when its row goes (EXPUNGE, MOVE's source, DELETE
 * of the mailbox), and copy_in_txn() copies them with the row (COPY, MOVE,
 * an INBOX rename), as section 4.5 asks of COPY.
 *
 * A change of value gives the message a new modseq (section 6; RFC 7162
 * 3.1), published like a flag change with the flags as they are, so other
 * sessions of the mailbox hear of it (FETCH FLAGS MODSEQ) and CONDSTORE
 * clients resynchronise. Rights (section 5): reading either value needs
 * 'r' (SELECT already asked for it), writing value.priv 'r', writing
 * value.shared the 'n' right RFC 5257 adds to RFC 4314's.
 */
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>

#include "lib/arena.h"
#include "lib/util.h"

int
store_annotation_get(struct store_mailbox *mbox, uint32_t uid, const char *user, struct arena *a,
                     struct store_annotation **out, size_t *n_out, enum store_error *err_out)
{
	/* '' sorts before any address: order by entry, then priv first. */
	static const char sql[] =
	        "SELECT entry, owner = '', value FROM annotations"
	        " WHERE mailbox_id = ?1 AND uid = ?2 AND (owner = '' OR owner = ?3)"
	        " ORDER BY entry, owner = ''";
	struct store_annotation *v = NULL;
	size_t n = 0, cap = 0;
	struct db *db;
	int step;

	*out = NULL;
	*n_out = 0;
	if (db_get(mbox->acct, &db, err_out) < 0)
		return -1;
	sqlite3_stmt *st = db_stmt(db, sql);
	if (st == NULL) {
		*err_out = STORE_ERR_TEMP;
		db_put(mbox->acct, db);
		return -1;
	}
	sqlite3_bind_int64(st, 1, (int64_t)mbox->id);
	sqlite3_bind_int64(st, 2, uid);
	sqlite3_bind_text(st, 3, user, -1, SQLITE_STATIC);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			struct store_annotation *nv = arena_alloc(a, ncap * sizeof(*nv));
			if (n > 0)
				memcpy(nv, v, n * sizeof(*nv));
			v = nv;
			cap = ncap;
		}
		v[n].uid = uid;
		v[n].entry = arena_strdup(a, (const char *)sqlite3_column_text(st, 0));
		v[n].is_shared = sqlite3_column_int(st, 1) != 0;
		v[n].len = (size_t)sqlite3_column_bytes(st, 2);
		unsigned char *copy = arena_alloc(a, v[n].len + 1);
		if (v[n].len > 0)
			memcpy(copy, sqlite3_column_blob(st, 2), v[n].len);
		copy[v[n].len] = '\0';
		v[n].value = copy;
		n++;
	}
	sqlite3_reset(st);
	if (step != SQLITE_DONE) {
		*err_out = db_error(db);
		db_put(mbox->acct, db);
		return -1;
	}
	db_put(mbox->acct, db);
	*out = v;
	*n_out = n;
	return 0;
}

static int
cmp_u32(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;

	return a < b ? -1 : a > b;
}

/* One change on one message: 1 when the stored value changed, 0 when it
   was already so, -1 on a database error. */
static int
apply_one(struct db *db, uint64_t mailbox_id, uint32_t uid, const char *user,
          const struct store_annotation *ch)
{
	static const char get_sql[] = "SELECT value FROM annotations WHERE mailbox_id = ?1"
	                              " AND uid = ?2 AND entry = ?3 AND owner = ?4";
	static const char put_sql[] = "INSERT OR REPLACE INTO annotations(mailbox_id, uid, entry,"
	                              " owner, value) VALUES (?1, ?2, ?3, ?4, ?5)";
	static const char del_sql[] = "DELETE FROM annotations WHERE mailbox_id = ?1 AND uid = ?2"
	                              " AND entry = ?3 AND owner = ?4";
	const char *owner = ch->is_shared ? "" : user;
	sqlite3_stmt *st = db_stmt(db, get_sql);
	bool exists, same = false;
	int step;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, (int64_t)mailbox_id);
	sqlite3_bind_int64(st, 2, uid);
	sqlite3_bind_text(st, 3, ch->entry, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, owner, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	exists = step == SQLITE_ROW;
	if (exists && ch->value != NULL) {
		size_t len = (size_t)sqlite3_column_bytes(st, 0);
		const void *old = sqlite3_column_blob(st, 0);
		same = len == ch->len && (len == 0 || memcmp(old, ch->value, len) == 0);
	}
	sqlite3_reset(st);
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		return -1;
	if (ch->value == NULL ? !exists : same)
		return 0; /* no change, no new modseq (RFC 7162 3.1.3) */
	st = db_stmt(db, ch->value == NULL ? del_sql : put_sql);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, (int64_t)mailbox_id);
	sqlite3_bind_int64(st, 2, uid);
	sqlite3_bind_text(st, 3, ch->entry, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, owner, -1, SQLITE_STATIC);
	if (ch->value != NULL)
		sqlite3_bind_blob(st, 5, ch->len > 0 ? (const void *)ch->value : "", (int)ch->len,
		                  SQLITE_STATIC);
	return db_step_done(db, st) < 0 ? -1 : 1;
}

/* Entries of uid user sees after the change (priv and shared count one
   each, as FETCH lists them). */
static int
count_entries(struct db *db, uint64_t mailbox_id, uint32_t uid, const char *user, int64_t *n_out)
{
	static const char sql[] = "SELECT count(*) FROM annotations WHERE mailbox_id = ?1"
	                          " AND uid = ?2 AND (owner = '' OR owner = ?3)";
	sqlite3_stmt *st = db_stmt(db, sql);

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, (int64_t)mailbox_id);
	sqlite3_bind_int64(st, 2, uid);
	sqlite3_bind_text(st, 3, user, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st) == SQLITE_ROW ? 0 : -1;
	*n_out = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc;
}

int
store_annotation_set(struct store_mailbox *mbox, const uint32_t *uids, size_t n, const char *user,
                     const struct store_annotation *changes, size_t n_changes,
                     uint64_t unchanged_since, size_t max_entries, struct arena *a,
                     struct store_flags_result *res_out, enum store_error *err_out)
{
	static const char get_sql[] = "SELECT flags, keywords, modseq FROM messages"
	                              " WHERE mailbox_id = ? AND uid = ?";
	static const char set_sql[] =
	        "UPDATE messages SET modseq = ? WHERE mailbox_id = ? AND uid = ?";
	struct account *acct = mbox->acct;
	uint32_t *sorted = NULL, *new_flags = NULL;
	uint64_t *new_kw = NULL, modseq;
	struct db *db = NULL;
	int rc = -1;

	memset(res_out, 0, sizeof(*res_out));
	if (mbox->open_flags & STORE_OPEN_READONLY) {
		*err_out = STORE_ERR_PERM;
		return -1;
	}
	for (size_t c = 0; c < n_changes; c++) {
		unsigned need = changes[c].is_shared ? STORE_RIGHT_ANNOTATE : STORE_RIGHT_READ;
		if (!(mbox->rights & need)) {
			*err_out = STORE_ERR_NORIGHTS;
			return -1;
		}
	}
	if (n == 0 || n_changes == 0)
		return 0;
	sorted = xmalloc(n * sizeof(*sorted));
	memcpy(sorted, uids, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_u32);
	res_out->changed = arena_alloc(a, n * sizeof(uint32_t));
	res_out->failed = arena_alloc(a, n * sizeof(uint32_t));
	new_flags = xmalloc(n * sizeof(*new_flags));
	new_kw = xmalloc(n * sizeof(*new_kw));

	if (db_get(acct, &db, err_out) < 0)
		goto out_free;
	pthread_mutex_lock(&acct->write_lock);
	if (db_begin(db, true) < 0)
		goto db_fail;
	modseq = mailbox_modseq_next(db, mbox->id);
	if (modseq == 0)
		goto db_fail;
	for (size_t i = 0; i < n; i++) {
		sqlite3_stmt *st = db_stmt(db, get_sql);
		uint32_t flags;
		uint64_t kw, old_modseq;
		bool changed = false;
		int step;

		if (i > 0 && sorted[i] == sorted[i - 1])
			continue;
		if (st == NULL)
			goto db_fail;
		sqlite3_bind_int64(st, 1, (int64_t)mbox->id);
		sqlite3_bind_int64(st, 2, sorted[i]);
		step = sqlite3_step(st);
		if (step != SQLITE_ROW) {
			sqlite3_reset(st);
			if (step == SQLITE_DONE)
				continue; /* not (or no longer) in the mailbox */
			goto db_fail;
		}
		flags = (uint32_t)sqlite3_column_int(st, 0);
		kw = (uint64_t)sqlite3_column_int64(st, 1);
		old_modseq = (uint64_t)sqlite3_column_int64(st, 2);
		sqlite3_reset(st);
		if (unchanged_since != 0 && old_modseq > unchanged_since) {
			res_out->failed[res_out->n_failed++] = sorted[i];
			continue;
		}
		for (size_t c = 0; c < n_changes; c++) {
			int r = apply_one(db, mbox->id, sorted[i], user, &changes[c]);
			if (r < 0)
				goto db_fail;
			changed |= r > 0;
		}
		if (!changed)
			continue;
		int64_t count;
		if (max_entries > 0) {
			if (count_entries(db, mbox->id, sorted[i], user, &count) < 0)
				goto db_fail;
			if ((uint64_t)count > max_entries) {
				*err_out = STORE_ERR_LIMIT;
				goto out;
			}
		}
		st = db_stmt(db, set_sql);
		if (st == NULL)
			goto db_fail;
		sqlite3_bind_int64(st, 1, (int64_t)modseq);
		sqlite3_bind_int64(st, 2, (int64_t)mbox->id);
		sqlite3_bind_int64(st, 3, sorted[i]);
		if (db_step_done(db, st) < 0)
			goto db_fail;
		new_flags[res_out->n_changed] = flags;
		new_kw[res_out->n_changed] = kw;
		res_out->changed[res_out->n_changed++] = sorted[i];
	}
	if (res_out->n_changed == 0) {
		db_rollback(db); /* nothing changed: keep the modseq */
		rc = 0;
		goto out;
	}
	if (db_commit(db) < 0)
		goto db_fail;
	res_out->modseq = modseq;
	changes_flags(acct, mbox->id, mbox, res_out->changed, new_flags, new_kw, res_out->n_changed,
	              modseq);
	rc = 0;
	goto out;
db_fail:
	*err_out = db_error(db);
out:
	if (rc < 0) {
		db_rollback(db);
		res_out->n_changed = 0;
	}
	pthread_mutex_unlock(&acct->write_lock);
	db_put(acct, db);
out_free:
	free(sorted);
	free(new_flags);
	free(new_kw);
	return rc;
}
