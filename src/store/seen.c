/* SPDX-License-Identifier: MIT */
/*
 * seen.c: \Seen per user on a mailbox another account owns (RFC 4314
 * section 4 leaves it to the server; Dovecot keeps private flags for
 * shared namespaces, Cyrus keeps \Seen per user unless a mailbox is
 * "sharedseen"). The owner's \Seen is the message row's flag, as ever; any
 * other user (through "Other Users/" or "Shared/") has their own, in the
 * owner's index.db: seen(mailbox_id, user, uid), a row per message they
 * have seen, gone with the message (trigger, schema.c).
 *
 * The view (the mailbox's in-memory state every session shares) keeps one
 * sorted uid set per such user who has it open (struct seen_user), loaded
 * at the first open and shared by that user's handles, so FETCH FLAGS,
 * SEARCH SEEN and a sync read \Seen from memory as they do the owner's.
 * store_flags_update() writes a non-owner's \Seen here instead of the row
 * (flags.c), updates the set after the commit, and publishes the change
 * as any other (a new modseq, the owner's flags), so every session syncs
 * and each reads its own user's \Seen through seen_overlay_locked().
 *
 * A mailbox whose METADATA /shared/vendor/tern/sharedseen is "true" keeps
 * one \Seen for everybody (no set: the row's flag, guarded by 's'), as
 * before per-user \Seen existed; it is read when a handle opens.
 *
 * Locks: a set changes under the account's write_lock, then the view
 * lock (the lock order of store_int.h); it is read under the view lock.
 */
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>

#include "lib/sorted.h"
#include "lib/util.h"

#define SHAREDSEEN_ENTRY "/shared/vendor/tern/sharedseen"

bool
seen_is_shared(struct db *db, uint64_t mailbox_id)
{
	static const char sql[] = "SELECT value FROM metadata WHERE mailbox_id = ? AND name = ?";
	sqlite3_stmt *st = db_stmt(db, sql);
	bool shared = false;

	if (st == NULL)
		return false;
	sqlite3_bind_int64(st, 1, (int64_t)mailbox_id);
	sqlite3_bind_text(st, 2, SHAREDSEEN_ENTRY, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(st, 0);
		shared = v != NULL && strcmp(v, "true") == 0;
	}
	sqlite3_reset(st);
	return shared;
}

int64_t
seen_count(struct db *db, uint64_t mailbox_id, const char *user)
{
	static const char sql[] = "SELECT count(*) FROM seen WHERE mailbox_id = ? AND user = ?";
	sqlite3_stmt *st = db_stmt(db, sql);
	int64_t n = -1;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, (int64_t)mailbox_id);
	sqlite3_bind_text(st, 2, user, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return n;
}

static void
set_add(struct seen_user *su, uint32_t uid)
{
	size_t i = sorted_u32_lower_bound(su->uids, su->n, uid);

	if (i < su->n && su->uids[i] == uid)
		return;
	if (su->n == su->cap) {
		su->cap = su->cap ? su->cap * 2 : 64;
		su->uids = xrealloc(su->uids, su->cap * sizeof(*su->uids));
	}
	memmove(su->uids + i + 1, su->uids + i, (su->n - i) * sizeof(*su->uids));
	su->uids[i] = uid;
	su->n++;
}

static void
set_remove(struct seen_user *su, uint32_t uid)
{
	size_t i = sorted_u32_lower_bound(su->uids, su->n, uid);

	if (i == su->n || su->uids[i] != uid)
		return;
	memmove(su->uids + i, su->uids + i + 1, (su->n - i - 1) * sizeof(*su->uids));
	su->n--;
}

/* The user's rows, ascending (the primary key's order). */
static int
set_load(struct db *db, uint64_t mailbox_id, struct seen_user *su)
{
	static const char sql[] = "SELECT uid FROM seen WHERE mailbox_id = ? AND user = ?"
	                          " ORDER BY uid";
	sqlite3_stmt *st = db_stmt(db, sql);
	int step;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, (int64_t)mailbox_id);
	sqlite3_bind_text(st, 2, su->user, -1, SQLITE_STATIC);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (su->n == su->cap) {
			su->cap = su->cap ? su->cap * 2 : 64;
			su->uids = xrealloc(su->uids, su->cap * sizeof(*su->uids));
		}
		su->uids[su->n++] = (uint32_t)sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	return step == SQLITE_DONE ? 0 : -1;
}

static void
set_free(struct seen_user *su)
{
	free(su->user);
	free(su->uids);
	free(su);
}

int
seen_attach(struct store_mailbox *m, enum store_error *err_out)
{
	struct account *a = m->acct;
	struct view *v = m->view;
	struct seen_user *su;
	struct db *db;
	int rc = 0;

	if (m->who == NULL)
		return 0;
	if (db_get(a, &db, err_out) < 0)
		return -1;
	/* write_lock: no \Seen write between the load and the set joining
	   the view, so the set misses none. */
	pthread_mutex_lock(&a->write_lock);
	if (seen_is_shared(db, m->id))
		goto out;
	pthread_mutex_lock(&v->lock);
	for (su = v->seen_users; su != NULL && strcmp(su->user, m->who->name) != 0; su = su->next)
		;
	if (su != NULL) {
		su->refs++;
		m->seen = su;
		pthread_mutex_unlock(&v->lock);
		goto out;
	}
	pthread_mutex_unlock(&v->lock);
	su = xcalloc(1, sizeof(*su));
	su->user = xstrdup(m->who->name);
	if (set_load(db, m->id, su) < 0) {
		*err_out = db_error(db);
		set_free(su);
		rc = -1;
		goto out;
	}
	su->refs = 1;
	pthread_mutex_lock(&v->lock);
	su->next = v->seen_users;
	v->seen_users = su;
	m->seen = su;
	pthread_mutex_unlock(&v->lock);
out:
	pthread_mutex_unlock(&a->write_lock);
	db_put(a, db);
	return rc;
}

void
seen_detach(struct store_mailbox *m)
{
	struct view *v = m->view;
	struct seen_user *su = m->seen;

	if (su == NULL)
		return;
	pthread_mutex_lock(&v->lock);
	if (--su->refs == 0) {
		struct seen_user **pp = &v->seen_users;
		while (*pp != su)
			pp = &(*pp)->next;
		*pp = su->next;
	} else {
		su = NULL;
	}
	pthread_mutex_unlock(&v->lock);
	if (su != NULL)
		set_free(su);
	m->seen = NULL;
}

uint32_t
seen_overlay_locked(const struct store_mailbox *m, uint32_t uid, uint32_t flags)
{
	if (m->seen == NULL)
		return flags;
	flags &= ~(uint32_t)STORE_FLAG_SEEN;
	if (sorted_u32_contains(m->seen->uids, m->seen->n, uid))
		flags |= STORE_FLAG_SEEN;
	return flags;
}

int
seen_write(struct db *db, uint64_t mailbox_id, const char *user, uint32_t uid, bool seen)
{
	static const char put_sql[] = "INSERT OR IGNORE INTO seen(mailbox_id, user, uid)"
	                              " VALUES (?, ?, ?)";
	static const char del_sql[] =
	        "DELETE FROM seen WHERE mailbox_id = ? AND user = ? AND uid = ?";
	sqlite3_stmt *st = db_stmt(db, seen ? put_sql : del_sql);

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, (int64_t)mailbox_id);
	sqlite3_bind_text(st, 2, user, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, uid);
	return db_step_done(db, st);
}

void
seen_set_update(struct store_mailbox *m, const uint32_t *uids, const bool *seen, size_t n)
{
	if (m->seen == NULL)
		return;
	pthread_mutex_lock(&m->view->lock);
	for (size_t i = 0; i < n; i++) {
		if (seen[i])
			set_add(m->seen, uids[i]);
		else
			set_remove(m->seen, uids[i]);
	}
	pthread_mutex_unlock(&m->view->lock);
}

void
seen_appended(struct account *a, struct db *db, const struct append_req *r)
{
	static const char sql[] =
	        "SELECT 1 FROM seen WHERE mailbox_id = ? AND user = ? AND uid = ?";
	struct view *v;

	if (r->who == NULL || (v = view_lookup(a, r->box_id)) == NULL)
		return;
	pthread_mutex_lock(&v->lock);
	struct seen_user *su = v->seen_users;
	while (su != NULL && strcmp(su->user, r->who->name) != 0)
		su = su->next;
	for (size_t i = 0; su != NULL && i < r->n; i++) {
		/* Read under the view lock: a read of the committed rows, no
		   write lock of SQLite's, so no lock of ours waits on it. */
		sqlite3_stmt *st = db_stmt(db, sql);
		if (st == NULL)
			break;
		sqlite3_bind_int64(st, 1, (int64_t)r->box_id);
		sqlite3_bind_text(st, 2, su->user, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, r->uids[i]);
		if (sqlite3_step(st) == SQLITE_ROW)
			set_add(su, r->uids[i]);
		sqlite3_reset(st);
	}
	pthread_mutex_unlock(&v->lock);
	view_release(v);
}
