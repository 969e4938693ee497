/* SPDX-License-Identifier: MIT */
/*
 * view.c: the shared in-memory view of an open mailbox: its UID list with
 * flags, keywords and modseq per message, its counters, and who watches it.
 * One view per (account, mailbox), shared by every session of the account on
 * every thread; loaded from the backend on first open (the only O(messages)
 * step), then kept current by changes.c instead of re-read: directly by
 * this process's writers, by catching up from the backend for what other
 * processes did. Backend-neutral: storage is reached only through
 * backend.h.
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
#include "store/backend.h"
#include "store/store_core.h"

#include <stdlib.h>
#include <string.h>

#include "lib/sorted.h"
#include "lib/util.h"

static size_t
view_bytes(const struct view *v)
{
	return sizeof(*v) + (v->journal ? VIEW_JOURNAL * sizeof(*v->journal) : 0) +
	       (size_t)v->cap * (sizeof(uint32_t) + 1 + sizeof(uint64_t) +
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
	free(v->journal);
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

/* Sizes the view's arrays for cap messages (keywords only once used). */
static void
view_grow(struct view *v, uint32_t cap)
{
	if (v->buf == NULL) {
		v->buf = xcalloc(1, sizeof(*v->buf));
		v->buf->refs = 1;
	}
	v->buf->uids = xrealloc(v->buf->uids, cap * sizeof(uint32_t));
	v->buf->cap = cap;
	v->flags = xrealloc(v->flags, cap);
	v->modseqs = xrealloc(v->modseqs, cap * sizeof(uint64_t));
	if (v->keywords != NULL) {
		v->keywords = xrealloc(v->keywords, cap * sizeof(uint64_t));
		memset(v->keywords + v->cap, 0, (cap - v->cap) * sizeof(uint64_t));
	}
	v->cap = cap;
}

static void
load_state(void *ctx, const struct store_mailbox_info *state)
{
	struct view *v = ctx;

	v->info = *state;
	view_grow(v, state->messages + state->messages / 8 + 64);
}

static void
load_message(void *ctx, uint32_t uid, uint32_t flags, uint64_t keywords, uint64_t modseq)
{
	struct view *v = ctx;
	uint32_t i = v->count;

	if (i == v->cap) /* the counter was wrong (check fixes it): grow */
		view_grow(v, v->cap + v->cap / 2 + 16);
	v->buf->uids[i] = uid;
	v->flags[i] = (uint8_t)flags;
	v->modseqs[i] = modseq;
	if (keywords != 0 && v->keywords == NULL)
		v->keywords = xcalloc(v->cap, sizeof(uint64_t));
	if (v->keywords != NULL)
		v->keywords[i] = keywords;
	v->count++;
}

/* Reads the mailbox's messages. Called with write_lock held, so no change
   of this process can commit between the read and the view's entry into
   the cache; another process's is caught up later (changes.c). */
static int
view_load(struct account *acct, uint64_t mailbox_id, struct view **view_out,
          enum store_error *err_out)
{
	static const struct backend_sink sink = {load_state, NULL, load_message};
	struct view *v = xcalloc(1, sizeof(*v));

	v->acct = acct;
	v->mailbox_id = mailbox_id;
	v->retain.acct = acct;
	pthread_mutex_init(&v->lock, NULL);
	if (acct->store->backend->mailbox_load(acct, mailbox_id, &sink, v, err_out) < 0 ||
	    v->buf == NULL) {
		if (v->buf == NULL)
			*err_out = STORE_ERR_TEMP; /* no state: the backend broke its contract */
		view_free(v);
		return -1;
	}
	v->buf->len = v->count;
	v->uidvalidity = v->info.uidvalidity;
	v->uidnext = v->info.uidnext;
	v->highestmodseq = v->info.highestmodseq;
	*view_out = v;
	return 0;
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

/* Takes a reference without moving v in the LRU (catch-ups are not uses). */
static void
view_ref_locked(struct account *acct, struct view *v)
{
	if (v->refs++ == 0)
		acct->views_bytes -= v->charged;
}

int
view_acquire(struct account *acct, uint64_t mailbox_id, struct view **view_out,
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
		/* Until it is on the list, db_get() must know a load is
		   under way (its data_version baseline). */
		atomic_fetch_add(&acct->views_loading, 1);
		if (view_load(acct, mailbox_id, &v, err_out) < 0) {
			atomic_fetch_sub(&acct->views_loading, 1);
			pthread_mutex_unlock(&acct->write_lock);
			return -1;
		}
		pthread_mutex_lock(&acct->views_lock);
		view_push_front_locked(acct, v);
		v->refs = 1;
		atomic_fetch_sub(&acct->views_loading, 1);
		pthread_mutex_unlock(&acct->views_lock);
		pthread_mutex_unlock(&acct->write_lock);
		*view_out = v;
		return 0;
	}
	pthread_mutex_lock(&acct->views_lock);
	pthread_mutex_unlock(&acct->write_lock);
found:
	view_ref_locked(acct, v);
	view_unlink_locked(acct, v);
	view_push_front_locked(acct, v);
	pthread_mutex_unlock(&acct->views_lock);
	*view_out = v;
	return 0;
}

struct view *
view_lookup(struct account *acct, uint64_t mailbox_id)
{
	struct view *v;

	pthread_mutex_lock(&acct->views_lock);
	v = view_find_locked(acct, mailbox_id);
	if (v != NULL)
		view_ref_locked(acct, v);
	pthread_mutex_unlock(&acct->views_lock);
	return v;
}

size_t
view_list(struct account *acct, struct view ***views_out)
{
	struct view **list = NULL;
	size_t n = 0, cap = 0;

	pthread_mutex_lock(&acct->views_lock);
	for (struct view *v = acct->views; v != NULL; v = v->next) {
		if (v->is_deleted)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			list = xrealloc(list, cap * sizeof(*list));
		}
		view_ref_locked(acct, v);
		list[n++] = v;
	}
	pthread_mutex_unlock(&acct->views_lock);
	*views_out = list;
	return n;
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
	struct view *v;
	uint64_t id;

	unsigned rights = STORE_RIGHTS_ALL;

	if (canon == NULL) {
		*err_out = STORE_ERR_NOTFOUND;
		return -1;
	}
	/* SELECT, EXAMINE need 'r' (RFC 4314 section 4); the rights stay
	   with the handle for its flag and expunge calls. */
	if (acct->who != NULL && store_mailbox_rights(acct, canon, &rights, err_out) < 0) {
		free(canon);
		return -1;
	}
	if (!(rights & STORE_RIGHT_READ)) {
		*err_out = rights & STORE_RIGHT_LOOKUP ? STORE_ERR_NORIGHTS : STORE_ERR_NOTFOUND;
		free(canon);
		return -1;
	}
	if (a->store->backend->mailbox_lookup(a, canon, &id, err_out) < 0 ||
	    view_acquire(a, id, &v, err_out) < 0) {
		free(canon);
		return -1;
	}
	free(canon);

	m = xcalloc(1, sizeof(*m));
	m->acct = a;
	m->view = v;
	m->id = id;
	m->open_flags = flags;
	m->rights = rights;
	m->who = acct->who;
	pthread_mutex_lock(&v->lock);
	m->buf = v->buf;
	m->buf->refs++;
	m->count = v->count;
	m->modseq = v->highestmodseq;
	pthread_mutex_unlock(&v->lock);
	/* Another user's \Seen is their own (seen.c). */
	if (seen_attach(m, err_out) < 0) {
		store_mailbox_close(&m);
		return -1;
	}
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
	seen_detach(m);
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
	uint32_t i = (uint32_t)sorted_u32_lower_bound(uids, count, uid);

	*found = i < count && uids[i] == uid;
	return i;
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
		*flags_out = seen_overlay_locked(mbox, uid, v->flags[i]);
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
	struct account *a = mbox->acct;
	uint32_t lo, hi;
	int rc;

	*claimed_out = 0;
	if (mbox->open_flags & STORE_OPEN_READONLY)
		return 0;
	pthread_mutex_lock(&a->write_lock);
	rc = a->store->backend->recent_claim(a, mbox->id, &lo, &hi, claimed_out, err_out);
	if (rc == 0 && lo < hi) {
		/* Keep one range: extend it when contiguous. */
		if (mbox->recent_hi == lo && mbox->recent_lo < mbox->recent_hi)
			mbox->recent_hi = hi;
		else {
			mbox->recent_lo = lo;
			mbox->recent_hi = hi;
		}
		changes_refresh(a, mbox->id);
	}
	pthread_mutex_unlock(&a->write_lock);
	return rc;
}

bool
store_mailbox_is_recent(const struct store_mailbox *mbox, uint32_t uid)
{
	return uid >= mbox->recent_lo && uid < mbox->recent_hi;
}
