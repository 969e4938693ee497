/* SPDX-License-Identifier: MIT */
/*
 * view.c: the shared in-memory view of an open mailbox: its UID list with
 * flags, keywords and modseq per message, its counters, and who watches it.
 * One view per (account, mailbox), shared by every session of the account on
 * every thread; loaded from the index on first open (the only O(messages)
 * step), then kept current by the writers (changes.c) instead of re-read.
 *
 * A session's handle (struct store_mailbox) does not copy the UID list: it
 * holds a reference to an append-only struct uidbuf and a count. Appends
 * write past every snapshot's end in place; an expunge, or growth past the
 * capacity, gives the view a new buffer while old snapshots keep the old
 * one until their session syncs. So sequence numbers of a session change
 * only at store_mailbox_sync(), reads need no lock, and an idle session
 * costs a few dozen bytes whatever the mailbox size.
 *
 * Views no session holds stay cached, most recently used first, until their
 * total size passes store.view_cache_bytes (per account); then the least
 * recently used are freed. The view of an account all of whose sessions
 * closed goes with the account.
 */
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/util.h"

static size_t
view_bytes(const struct view *v)
{
	return sizeof(*v) + (size_t)v->cap * (sizeof(uint32_t) + 1 + sizeof(uint64_t) +
	                                      (v->keywords ? sizeof(uint64_t) : 0));
}

void
uidbuf_unref(struct uidbuf *b)
{
	if (b != NULL && --b->refs == 0) {
		retain_buf_freed(b);
		free(b->uids);
		free(b);
	}
}

static void
view_free(struct view *v)
{
	uidbuf_unref(v->buf);
	retain_queue_free(&v->retain);
	free(v->flags);
	free(v->keywords);
	free(v->modseqs);
	pthread_mutex_destroy(&v->lock);
	free(v);
}

static void
view_unlink_locked(struct account *a, struct view *v)
{
	if (v->prev != NULL)
		v->prev->next = v->next;
	else if (a->views == v)
		a->views = v->next;
	if (v->next != NULL)
		v->next->prev = v->prev;
	v->prev = v->next = NULL;
}

static void
view_push_front_locked(struct account *a, struct view *v)
{
	v->prev = NULL;
	v->next = a->views;
	if (a->views != NULL)
		a->views->prev = v;
	a->views = v;
}

struct view *
view_find_locked(struct account *acct, uint64_t mailbox_id)
{
	for (struct view *v = acct->views; v != NULL; v = v->next)
		if (v->mailbox_id == mailbox_id && !v->is_deleted)
			return v;
	return NULL;
}

/* Reads the mailbox's messages. Called with write_lock held, so no change
   can commit between the read and the view's entry into the cache. */
static int
view_load(struct account *acct, struct db *db, uint64_t mailbox_id, struct view **view_out,
          enum store_error *err_out)
{
	static const char sql[] = "SELECT uid, flags, keywords, modseq FROM messages"
	                          " WHERE mailbox_id = ? ORDER BY uid";
	struct view *v = xcalloc(1, sizeof(*v));
	sqlite3_stmt *st;
	uint32_t cap = 64;
	int rc;

	v->acct = acct;
	v->mailbox_id = mailbox_id;
	v->retain.acct = acct;
	pthread_mutex_init(&v->lock, NULL);
	if (db_begin(db, false) < 0 || mailbox_info_read(db, mailbox_id, NULL, &v->info) < 0) {
		db_rollback(db);
		*err_out = STORE_ERR_NOTFOUND;
		goto fail;
	}
	if (v->info.messages + 16 > cap)
		cap = v->info.messages + v->info.messages / 8 + 16;
	v->buf = xcalloc(1, sizeof(*v->buf));
	v->buf->refs = 1;
	v->buf->uids = xmalloc(cap * sizeof(uint32_t));
	v->buf->cap = cap;
	v->cap = cap;
	v->flags = xmalloc(cap);
	v->modseqs = xmalloc(cap * sizeof(uint64_t));
	st = db_stmt(db, sql);
	if (st == NULL) {
		db_rollback(db);
		*err_out = STORE_ERR_TEMP;
		goto fail;
	}
	sqlite3_bind_int64(st, 1, (int64_t)mailbox_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint32_t i = v->count;
		uint64_t kw = (uint64_t)sqlite3_column_int64(st, 2);

		if (i == v->cap) /* counter was wrong: grow (check fixes it) */
			break;
		v->buf->uids[i] = (uint32_t)sqlite3_column_int64(st, 0);
		v->flags[i] = (uint8_t)sqlite3_column_int(st, 1);
		v->modseqs[i] = (uint64_t)sqlite3_column_int64(st, 3);
		if (kw != 0 && v->keywords == NULL)
			v->keywords = xcalloc(v->cap, sizeof(uint64_t));
		if (v->keywords != NULL)
			v->keywords[i] = kw;
		v->count++;
	}
	sqlite3_reset(st);
	db_rollback(db); /* end the read transaction */
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		*err_out = db_error(db);
		goto fail;
	}
	if (rc == SQLITE_ROW)
		log_error("store", "event=view-load-short account=%llu mailbox=%llu",
		          (unsigned long long)acct->id, (unsigned long long)mailbox_id);
	v->buf->len = v->count;
	v->uidvalidity = v->info.uidvalidity;
	v->uidnext = v->info.uidnext;
	v->highestmodseq = v->info.highestmodseq;
	*view_out = v;
	return 0;
fail:
	view_free(v);
	return -1;
}

static void
evict_locked(struct account *a)
{
	struct view *v = a->views, *prev;

	if (v == NULL)
		return;
	while (v->next != NULL)
		v = v->next;
	/* From the least recently used end. */
	for (; v != NULL && a->views_bytes > a->store->set.view_cache_bytes; v = prev) {
		prev = v->prev;
		if (v->refs > 0)
			continue;
		a->views_bytes -= v->charged;
		view_unlink_locked(a, v);
		view_free(v);
	}
}

int
view_acquire(struct account *acct, struct db *db, uint64_t mailbox_id, struct view **view_out,
             enum store_error *err_out)
{
	struct view *v;

	pthread_mutex_lock(&acct->views_lock);
	v = view_find_locked(acct, mailbox_id);
	if (v != NULL)
		goto found;
	pthread_mutex_unlock(&acct->views_lock);

	pthread_mutex_lock(&acct->write_lock);
	pthread_mutex_lock(&acct->views_lock);
	v = view_find_locked(acct, mailbox_id); /* loaded meanwhile? */
	pthread_mutex_unlock(&acct->views_lock);
	if (v == NULL) {
		if (view_load(acct, db, mailbox_id, &v, err_out) < 0) {
			pthread_mutex_unlock(&acct->write_lock);
			return -1;
		}
		pthread_mutex_lock(&acct->views_lock);
		view_push_front_locked(acct, v);
		v->refs = 1;
		pthread_mutex_unlock(&acct->views_lock);
		pthread_mutex_unlock(&acct->write_lock);
		*view_out = v;
		return 0;
	}
	pthread_mutex_lock(&acct->views_lock);
	pthread_mutex_unlock(&acct->write_lock);
found:
	if (v->refs++ == 0)
		acct->views_bytes -= v->charged;
	view_unlink_locked(acct, v);
	view_push_front_locked(acct, v);
	pthread_mutex_unlock(&acct->views_lock);
	*view_out = v;
	return 0;
}

void
view_release(struct view *v)
{
	struct account *a = v->acct;

	pthread_mutex_lock(&a->views_lock);
	if (--v->refs == 0) {
		if (v->is_deleted) {
			/* Already out of the list (changes_deleted). */
			view_free(v);
		} else {
			v->charged = view_bytes(v);
			a->views_bytes += v->charged;
			evict_locked(a);
		}
	}
	pthread_mutex_unlock(&a->views_lock);
}

void
view_drop_all(struct account *acct)
{
	struct view *v;

	pthread_mutex_lock(&acct->views_lock);
	while ((v = acct->views) != NULL) {
		view_unlink_locked(acct, v);
		view_free(v);
	}
	acct->views_bytes = 0;
	pthread_mutex_unlock(&acct->views_lock);
}

/* Takes a deleted mailbox's view out of the list (changes_deleted); the
   sessions still holding it free it on release. views_lock held. */
void
view_forget_locked(struct account *acct, struct view *v)
{
	view_unlink_locked(acct, v);
	if (v->refs == 0)
		view_free(v);
}

/* ---- The session's handle ------------------------------------------- */

int
store_mailbox_open(struct store_account *acct, const char *name, unsigned flags,
                   struct store_mailbox **mbox_out, enum store_error *err_out)
{
	struct account *a = acct->a;
	char *canon = mailbox_name_canon(name);
	struct store_mailbox *m;
	struct db *db;
	struct view *v;
	uint64_t id;

	if (canon == NULL) {
		*err_out = STORE_ERR_NOTFOUND;
		return -1;
	}
	if (db_get(a, &db, err_out) < 0) {
		free(canon);
		return -1;
	}
	if (mailbox_id_lookup(db, canon, &id, err_out) < 0 ||
	    view_acquire(a, db, id, &v, err_out) < 0) {
		db_put(a, db);
		free(canon);
		return -1;
	}
	db_put(a, db);
	free(canon);

	m = xcalloc(1, sizeof(*m));
	m->acct = a;
	m->view = v;
	m->id = id;
	m->open_flags = flags;
	pthread_mutex_lock(&v->lock);
	m->buf = v->buf;
	m->buf->refs++;
	m->count = v->count;
	m->modseq = v->highestmodseq;
	pthread_mutex_unlock(&v->lock);
	*mbox_out = m;
	return 0;
}

void
store_mailbox_close(struct store_mailbox **mboxp)
{
	struct store_mailbox *m = *mboxp;
	struct view *v;

	if (m == NULL)
		return;
	v = m->view;
	store_mailbox_watch(m, NULL, NULL);
	pthread_mutex_lock(&v->lock);
	uidbuf_unref(m->buf);
	pthread_mutex_unlock(&v->lock);
	view_release(v);
	free(m);
	*mboxp = NULL;
}

void
store_mailbox_info_get(struct store_mailbox *mbox, struct store_mailbox_info *out)
{
	pthread_mutex_lock(&mbox->view->lock);
	*out = mbox->view->info;
	pthread_mutex_unlock(&mbox->view->lock);
}

uint32_t
store_mailbox_count(const struct store_mailbox *mbox)
{
	return mbox->count;
}

uint32_t
store_mailbox_uid(const struct store_mailbox *mbox, uint32_t seq)
{
	if (seq == 0 || seq > mbox->count)
		return 0;
	return mbox->buf->uids[seq - 1];
}

static uint32_t
uid_index(const uint32_t *uids, uint32_t count, uint32_t uid, bool *found)
{
	uint32_t lo = 0, hi = count;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (uids[mid] < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < count && uids[lo] == uid;
	return lo;
}

uint32_t
store_mailbox_seq(const struct store_mailbox *mbox, uint32_t uid)
{
	bool found;
	uint32_t i = uid_index(mbox->buf->uids, mbox->count, uid, &found);

	return found ? i + 1 : 0;
}

/* Index of uid in the view's current list, or -1. View lock held. */
int64_t
view_index_locked(const struct view *v, uint32_t uid)
{
	bool found;
	uint32_t i = uid_index(v->buf->uids, v->count, uid, &found);

	return found ? (int64_t)i : -1;
}

const uint32_t *
store_mailbox_uids(const struct store_mailbox *mbox, uint32_t *count_out)
{
	*count_out = mbox->count;
	return mbox->buf->uids;
}

int
store_mailbox_flags_get(struct store_mailbox *mbox, uint32_t uid, uint32_t *flags_out,
                        uint64_t *keywords_out, uint64_t *modseq_out, enum store_error *err_out)
{
	struct view *v = mbox->view;
	int64_t i;

	pthread_mutex_lock(&v->lock);
	/* Callers walk the mailbox in uid order: try the last index found
	   and the next before searching. */
	uint32_t h = mbox->flags_hint;
	if (h < v->count && v->buf->uids[h] == uid)
		i = h;
	else if (h + 1 < v->count && v->buf->uids[h + 1] == uid)
		i = h + 1;
	else
		i = view_index_locked(v, uid);
	if (i >= 0) {
		mbox->flags_hint = (uint32_t)i;
		*flags_out = v->flags[i];
		*keywords_out = v->keywords ? v->keywords[i] : 0;
		*modseq_out = v->modseqs[i];
	}
	pthread_mutex_unlock(&v->lock);
	if (i < 0) {
		*err_out = STORE_ERR_EXPUNGED;
		return -1;
	}
	return 0;
}

int
store_mailbox_claim_recent(struct store_mailbox *mbox, uint32_t *claimed_out,
                           enum store_error *err_out)
{
	static const char get_sql[] = "SELECT recent_uid, uidnext, recent FROM mailboxes"
	                              " WHERE id = ?";
	static const char set_sql[] = "UPDATE mailboxes SET recent_uid = uidnext, recent = 0"
	                              " WHERE id = ?";
	struct account *a = mbox->acct;
	struct db *db;
	sqlite3_stmt *st;
	uint32_t lo = 0, hi = 0, claimed = 0;
	int rc = -1;

	*claimed_out = 0;
	if (mbox->open_flags & STORE_OPEN_READONLY)
		return 0;
	if (db_get(a, &db, err_out) < 0)
		return -1;
	pthread_mutex_lock(&a->write_lock);
	st = db_stmt(db, get_sql);
	if (st == NULL)
		goto out;
	sqlite3_bind_int64(st, 1, (int64_t)mbox->id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		goto out;
	}
	lo = (uint32_t)sqlite3_column_int64(st, 0);
	hi = (uint32_t)sqlite3_column_int64(st, 1);
	claimed = (uint32_t)sqlite3_column_int64(st, 2);
	sqlite3_reset(st);
	if (lo < hi) {
		st = db_stmt(db, set_sql);
		if (st == NULL)
			goto out;
		sqlite3_bind_int64(st, 1, (int64_t)mbox->id);
		if (db_step_done(db, st) < 0)
			goto out;
		/* Keep one range: extend it when contiguous. */
		if (mbox->recent_hi == lo && mbox->recent_lo < mbox->recent_hi)
			mbox->recent_hi = hi;
		else {
			mbox->recent_lo = lo;
			mbox->recent_hi = hi;
		}
		changes_counters(a, db, mbox->id);
	}
	*claimed_out = claimed;
	rc = 0;
out:
	if (rc < 0)
		*err_out = db_error(db);
	pthread_mutex_unlock(&a->write_lock);
	db_put(a, db);
	return rc;
}

bool
store_mailbox_is_recent(const struct store_mailbox *mbox, uint32_t uid)
{
	return uid >= mbox->recent_lo && uid < mbox->recent_hi;
}
