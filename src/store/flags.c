/* SPDX-License-Identifier: MIT */
/*
 * flags.c: system flags and keywords per message, each change with a new
 * modseq (RFC 7162 CONDSTORE), conditional STORE (UNCHANGEDSINCE).
 *
 * Keywords are numbered per account: the first use of a name gives it the
 * next of 64 bits, so a message's keywords are one integer column, COPY is
 * a plain row copy, and a view holds them in 8 bytes. The name table is
 * also held in memory (acct->keywords) for store_keyword_names(); it is
 * reloaded from the database whenever a transaction that added names rolls
 * back, and when a name or bit is not in it (another process numbered
 * one). Keyword syntax is the protocol layer's business; the store refuses
 * only what could corrupt it (empty, control characters, over 128 bytes).
 * A user other than the owner changes their own \Seen (seen.c), the
 * owner's and everybody else's staying as they were.
 */
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/arena.h"
#include "lib/util.h"

int
keywords_load(struct account *acct, struct db *db)
{
	static const char sql[] = "SELECT idx, name FROM keywords ORDER BY idx";
	sqlite3_stmt *st = db_stmt(db, sql);
	int rc;

	if (st == NULL)
		return -1;
	pthread_mutex_lock(&acct->kw_lock);
	for (unsigned i = 0; i < acct->n_keywords; i++) {
		free(acct->keywords[i]);
		acct->keywords[i] = NULL;
	}
	acct->n_keywords = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int idx = sqlite3_column_int(st, 0);

		if (idx < 0 || idx >= KEYWORDS_MAX)
			continue;
		acct->keywords[idx] = xstrdup((const char *)sqlite3_column_text(st, 1));
		if ((unsigned)idx + 1 > acct->n_keywords)
			acct->n_keywords = (unsigned)idx + 1;
	}
	pthread_mutex_unlock(&acct->kw_lock);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static bool
keyword_is_sane(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > 128)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

static int
keyword_find_locked(struct account *acct, const char *name)
{
	for (unsigned i = 0; i < acct->n_keywords; i++)
		if (acct->keywords[i] != NULL && strcasecmp(acct->keywords[i], name) == 0)
			return (int)i;
	return -1;
}

int
keywords_mask_make(struct account *acct, struct db *db, const char *const *names, size_t n,
                   uint64_t *mask_out, enum store_error *err_out)
{
	static const char sql[] = "INSERT INTO keywords(idx, name) VALUES (?, ?)";
	uint64_t mask = 0;
	bool is_missing = false;
	int rc = 0;

	pthread_mutex_lock(&acct->kw_lock);
	for (size_t i = 0; i < n && !is_missing; i++)
		is_missing = keyword_find_locked(acct, names[i]) < 0;
	pthread_mutex_unlock(&acct->kw_lock);
	/* Another process may have numbered names since we loaded them: the
	   table as this write transaction sees it decides. */
	if (is_missing && keywords_load(acct, db) < 0) {
		*err_out = db_error(db);
		*mask_out = 0;
		return -1;
	}
	pthread_mutex_lock(&acct->kw_lock);
	for (size_t i = 0; i < n && rc == 0; i++) {
		int idx = keyword_find_locked(acct, names[i]);
		sqlite3_stmt *st;

		if (idx < 0) {
			if (!keyword_is_sane(names[i])) {
				*err_out = STORE_ERR_PERM;
				rc = -1;
				break;
			}
			if (acct->n_keywords >= KEYWORDS_MAX) {
				*err_out = STORE_ERR_LIMIT;
				rc = -1;
				break;
			}
			idx = (int)acct->n_keywords;
			st = db_stmt(db, sql);
			if (st == NULL) {
				*err_out = STORE_ERR_TEMP;
				rc = -1;
				break;
			}
			sqlite3_bind_int(st, 1, idx);
			sqlite3_bind_text(st, 2, names[i], -1, SQLITE_STATIC);
			if (db_step_done(db, st) < 0) {
				*err_out = db_error(db);
				rc = -1;
				break;
			}
			acct->keywords[idx] = xstrdup(names[i]);
			acct->n_keywords++;
		}
		mask |= 1ull << idx;
	}
	pthread_mutex_unlock(&acct->kw_lock);
	*mask_out = mask;
	return rc;
}

/* Rereads the names another process may have added (a miss only). */
static void
keywords_reload(struct account *acct)
{
	enum store_error err;
	struct db *db;

	if (db_get(acct, &db, &err) < 0)
		return;
	keywords_load(acct, db);
	db_put(acct, db);
}

/* True when mask has a bit the name table does not. */
static bool
mask_has_unknown(struct account *acct, uint64_t mask)
{
	bool unknown;

	pthread_mutex_lock(&acct->kw_lock);
	unknown = acct->n_keywords < KEYWORDS_MAX && (mask >> acct->n_keywords) != 0;
	pthread_mutex_unlock(&acct->kw_lock);
	return unknown;
}

size_t
store_keyword_names(struct store_account *acct, uint64_t mask, struct arena *a,
                    const char ***names_out)
{
	struct account *ac = acct->a;
	const char **names = arena_alloc(a, KEYWORDS_MAX * sizeof(*names));
	size_t n = 0;

	if (mask_has_unknown(ac, mask))
		keywords_reload(ac);
	pthread_mutex_lock(&ac->kw_lock);
	for (unsigned i = 0; i < ac->n_keywords; i++)
		if ((mask & (1ull << i)) && ac->keywords[i] != NULL)
			names[n++] = arena_strdup(a, ac->keywords[i]);
	pthread_mutex_unlock(&ac->kw_lock);
	*names_out = names;
	return n;
}

uint64_t
store_keyword_mask(struct store_account *acct, const char *const *names, size_t n)
{
	struct account *ac = acct->a;
	uint64_t mask = 0;
	bool is_missing = false;

	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1) {
			if (!is_missing)
				break;
			keywords_reload(ac); /* numbered by another process? */
		}
		mask = 0;
		is_missing = false;
		pthread_mutex_lock(&ac->kw_lock);
		for (size_t i = 0; i < n; i++) {
			int idx = keyword_find_locked(ac, names[i]);

			if (idx >= 0)
				mask |= 1ull << idx;
			else
				is_missing = true;
		}
		pthread_mutex_unlock(&ac->kw_lock);
	}
	return mask;
}

static int
cmp_u32(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;

	return a < b ? -1 : a > b;
}

int
store_flags_update(struct store_mailbox *mbox, const uint32_t *uids, size_t n,
                   const struct store_flags_change *ch, struct arena *a,
                   struct store_flags_result *res_out, enum store_error *err_out)
{
	static const char get_sql[] = "SELECT flags, keywords, modseq FROM messages"
	                              " WHERE mailbox_id = ? AND uid = ?";
	static const char set_sql[] = "UPDATE messages SET flags = ?, keywords = ?, modseq = ?"
	                              " WHERE mailbox_id = ? AND uid = ?";
	struct account *acct = mbox->acct;
	struct store_account h = {.a = acct};
	uint32_t *sorted = NULL, *new_flags = NULL;
	uint64_t *new_kw = NULL, kwmask = 0, modseq;
	struct db *db = NULL;
	bool added_keywords = false, *new_seen = NULL;
	int rc = -1;

	memset(res_out, 0, sizeof(*res_out));
	if (mbox->open_flags & STORE_OPEN_READONLY) {
		*err_out = STORE_ERR_PERM;
		return -1;
	}
	/* RFC 4314 section 4: each flag needs its right; what is not allowed
	   stays as it was, and only a change of nothing allowed fails. */
	uint32_t allowed = acl_flag_mask(mbox->rights);
	bool kw_allowed = (mbox->rights & STORE_RIGHT_WRITE) != 0;
	bool asked = ch->op == STORE_FLAGS_SET || ch->flags != 0 || ch->n_keywords > 0;
	bool may = ch->op == STORE_FLAGS_SET
	                   ? allowed != 0 || kw_allowed
	                   : (ch->flags & allowed) != 0 || (kw_allowed && ch->n_keywords > 0);
	if (asked && !may) {
		*err_out = STORE_ERR_NORIGHTS;
		return -1;
	}
	if (n == 0)
		return 0;
	sorted = xmalloc(n * sizeof(*sorted));
	memcpy(sorted, uids, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_u32);
	res_out->changed = arena_alloc(a, n * sizeof(uint32_t));
	res_out->failed = arena_alloc(a, n * sizeof(uint32_t));
	new_flags = xmalloc(n * sizeof(*new_flags));
	new_kw = xmalloc(n * sizeof(*new_kw));
	new_seen = xmalloc(n * sizeof(*new_seen));

	if (db_get(acct, &db, err_out) < 0)
		goto out_free;
	pthread_mutex_lock(&acct->write_lock);
	if (db_begin(db, true) < 0)
		goto db_fail;
	if (!kw_allowed) {
		kwmask = 0; /* keywords stay; none is created */
	} else if (ch->op == STORE_FLAGS_REMOVE) {
		kwmask = store_keyword_mask(&h, ch->keywords, ch->n_keywords);
	} else {
		/* The name table changes under kw_lock (a reload from another
		   session's thread too), not under write_lock alone. */
		pthread_mutex_lock(&acct->kw_lock);
		unsigned before = acct->n_keywords;
		pthread_mutex_unlock(&acct->kw_lock);

		if (keywords_mask_make(acct, db, ch->keywords, ch->n_keywords, &kwmask, err_out) <
		    0) {
			added_keywords = true;
			goto out;
		}
		pthread_mutex_lock(&acct->kw_lock);
		added_keywords = acct->n_keywords != before;
		pthread_mutex_unlock(&acct->kw_lock);
	}
	modseq = mailbox_modseq_next(db, mbox->id);
	if (modseq == 0)
		goto db_fail;
	for (size_t i = 0; i < n; i++) {
		sqlite3_stmt *st = db_stmt(db, get_sql);
		uint32_t old_flags, flags;
		uint64_t old_kw, kw, old_modseq;
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
		old_flags = (uint32_t)sqlite3_column_int(st, 0);
		old_kw = (uint64_t)sqlite3_column_int64(st, 1);
		old_modseq = (uint64_t)sqlite3_column_int64(st, 2);
		sqlite3_reset(st);
		if (ch->unchanged_since != 0 && old_modseq > ch->unchanged_since) {
			res_out->failed[res_out->n_failed++] = sorted[i];
			continue;
		}
		/* Another user's \Seen is their own (seen.c): the change works
		   on the flags as they see them; \Seen goes to the seen table,
		   the rest to the row. */
		uint32_t user_old = old_flags;
		if (mbox->seen != NULL) {
			pthread_mutex_lock(&mbox->view->lock);
			user_old = seen_overlay_locked(mbox, sorted[i], old_flags);
			pthread_mutex_unlock(&mbox->view->lock);
		}
		switch (ch->op) {
		case STORE_FLAGS_SET:
			flags = ch->flags & STORE_FLAGS_ALL;
			kw = kwmask;
			break;
		case STORE_FLAGS_ADD:
			flags = user_old | (ch->flags & STORE_FLAGS_ALL);
			kw = old_kw | kwmask;
			break;
		default:
			flags = user_old & ~ch->flags;
			kw = old_kw & ~kwmask;
			break;
		}
		flags = (user_old & ~allowed) | (flags & allowed);
		if (!kw_allowed)
			kw = old_kw;
		if (flags == user_old && kw == old_kw)
			continue; /* no change, no new modseq (RFC 7162 3.1.3) */
		new_seen[res_out->n_changed] = (flags & STORE_FLAG_SEEN) != 0;
		if (mbox->seen != NULL) {
			if ((flags ^ user_old) & STORE_FLAG_SEEN &&
			    seen_write(db, mbox->id, mbox->seen->user, sorted[i],
			               (flags & STORE_FLAG_SEEN) != 0) < 0)
				goto db_fail;
			flags = (flags & ~(uint32_t)STORE_FLAG_SEEN) |
			        (old_flags & STORE_FLAG_SEEN);
		}
		st = db_stmt(db, set_sql);
		if (st == NULL)
			goto db_fail;
		sqlite3_bind_int64(st, 1, flags);
		sqlite3_bind_int64(st, 2, (int64_t)kw);
		sqlite3_bind_int64(st, 3, (int64_t)modseq);
		sqlite3_bind_int64(st, 4, (int64_t)mbox->id);
		sqlite3_bind_int64(st, 5, sorted[i]);
		if (db_step_done(db, st) < 0)
			goto db_fail;
		new_flags[res_out->n_changed] = flags;
		new_kw[res_out->n_changed] = kw;
		res_out->changed[res_out->n_changed++] = sorted[i];
	}
	if (res_out->n_changed == 0 && !added_keywords) {
		db_rollback(db); /* nothing changed: keep the modseq */
		rc = 0;
		goto out;
	}
	if (db_commit(db) < 0)
		goto db_fail;
	/* Also with nothing changed (only new keyword names): the view
	   learns that this modseq was taken. */
	if (res_out->n_changed > 0)
		res_out->modseq = modseq;
	seen_set_update(mbox, res_out->changed, new_seen, res_out->n_changed);
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
		if (added_keywords)
			keywords_load(acct, db);
	}
	pthread_mutex_unlock(&acct->write_lock);
	db_put(acct, db);
out_free:
	free(sorted);
	free(new_flags);
	free(new_kw);
	free(new_seen);
	return rc;
}
