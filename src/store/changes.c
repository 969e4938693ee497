/* SPDX-License-Identifier: MIT */
/*
 * changes.c: change notification. Every change is first recorded durably
 * (rows with a modseq, the expunge history); after COMMIT the writer, still
 * holding the account's write lock, applies it to the mailbox's shared view
 * if one is loaded, and calls the wake function of every session watching
 * that view except its own (any thread: wake only signals, e.g. libevent
 * event_active()). Sessions then pull the changes at their own safe points
 * with store_mailbox_sync(): nothing calls up into a session.
 *
 * Flag changes also go into a small ring (VIEW_JOURNAL entries) so a sync
 * visits only what changed; a session that fell further behind than the
 * ring compares modseqs over the view instead (O(messages), still memory).
 */
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

static void
wake_watchers_locked(struct view *v, const struct store_mailbox *origin)
{
	for (struct store_mailbox *m = v->watchers; m != NULL; m = m->wnext)
		if (m != origin && m->wake != NULL)
			m->wake(m->wake_arg);
}

static void
refresh_info_locked(struct view *v, struct db *db)
{
	struct store_mailbox_info info;

	if (mailbox_info_read(db, v->mailbox_id, NULL, &info) == 0) {
		v->info = info;
		v->uidnext = info.uidnext;
		v->highestmodseq = info.highestmodseq;
	}
}

/* Locks and returns the loaded view of mailbox_id, or NULL. Leaves
   views_lock held in both cases; unlock with view_unlock(). */
static struct view *
view_lock(struct account *acct, uint64_t mailbox_id)
{
	struct view *v;

	pthread_mutex_lock(&acct->views_lock);
	v = view_find_locked(acct, mailbox_id);
	if (v != NULL)
		pthread_mutex_lock(&v->lock);
	return v;
}

static void
view_unlock(struct account *acct, struct view *v)
{
	if (v != NULL)
		pthread_mutex_unlock(&v->lock);
	pthread_mutex_unlock(&acct->views_lock);
}

static void
grow_arrays(struct view *v, uint32_t need)
{
	uint32_t cap = v->cap;

	if (need <= cap)
		return;
	while (cap < need)
		cap = cap < 1024 ? 1024 : cap + cap / 2;
	v->flags = xrealloc(v->flags, cap);
	v->modseqs = xrealloc(v->modseqs, cap * sizeof(uint64_t));
	if (v->keywords != NULL) {
		v->keywords = xrealloc(v->keywords, cap * sizeof(uint64_t));
		memset(v->keywords + v->cap, 0, (cap - v->cap) * sizeof(uint64_t));
	}
	v->cap = cap;
}

void
changes_appended(struct account *acct, struct db *db, uint64_t mailbox_id, const uint32_t *uids,
                 const uint32_t *flags, const uint64_t *kw, size_t n, uint64_t modseq)
{
	struct view *v = view_lock(acct, mailbox_id);
	struct uidbuf *b;

	if (v == NULL) {
		view_unlock(acct, v);
		return;
	}
	b = v->buf;
	if (b->len != v->count || b->cap - b->len < n) {
		/* Shared past our end, or full: a new buffer; snapshots keep
		   the old one. */
		struct uidbuf *nb = xcalloc(1, sizeof(*nb));

		nb->cap = v->count + (uint32_t)n;
		nb->cap += nb->cap / 2 + 16;
		nb->uids = xmalloc(nb->cap * sizeof(uint32_t));
		memcpy(nb->uids, b->uids, v->count * sizeof(uint32_t));
		nb->len = v->count;
		nb->refs = 1;
		retain_buf_replaced(v, b, NULL, false);
		uidbuf_unref(b);
		v->buf = b = nb;
	}
	grow_arrays(v, v->count + (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		uint32_t at = v->count++;

		b->uids[at] = uids[i];
		v->flags[at] = (uint8_t)flags[i];
		v->modseqs[at] = modseq;
		if (kw[i] != 0 && v->keywords == NULL)
			v->keywords = xcalloc(v->cap, sizeof(uint64_t));
		if (v->keywords != NULL)
			v->keywords[at] = kw[i];
	}
	b->len = v->count;
	refresh_info_locked(v, db);
	wake_watchers_locked(v, NULL);
	view_unlock(acct, v);
}

static void
journal_push(struct view *v, uint64_t modseq, uint32_t uid, const struct store_mailbox *origin)
{
	struct journal_entry *e = &v->journal[v->journal_total % VIEW_JOURNAL];

	if (v->journal_total >= VIEW_JOURNAL && e->modseq > v->journal_lost)
		v->journal_lost = e->modseq;
	e->modseq = modseq;
	e->uid = uid;
	e->origin = origin;
	v->journal_total++;
}

void
changes_flags(struct account *acct, struct db *db, uint64_t mailbox_id,
              const struct store_mailbox *origin, const uint32_t *uids, const uint32_t *flags,
              const uint64_t *kw, size_t n, uint64_t modseq)
{
	struct view *v = view_lock(acct, mailbox_id);

	if (v == NULL) {
		view_unlock(acct, v);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		int64_t at = view_index_locked(v, uids[i]);

		if (at < 0)
			continue;
		v->flags[at] = (uint8_t)flags[i];
		v->modseqs[at] = modseq;
		if (kw[i] != 0 && v->keywords == NULL)
			v->keywords = xcalloc(v->cap, sizeof(uint64_t));
		if (v->keywords != NULL)
			v->keywords[at] = kw[i];
		journal_push(v, modseq, uids[i], origin);
	}
	refresh_info_locked(v, db);
	wake_watchers_locked(v, origin);
	view_unlock(acct, v);
}

void
changes_expunged(struct account *acct, struct db *db, uint64_t mailbox_id,
                 const struct store_mailbox *origin, const uint32_t *uids, size_t n,
                 uint64_t modseq)
{
	struct view *v = view_lock(acct, mailbox_id);
	struct uidbuf *nb;
	uint32_t out = 0;

	if (v == NULL) {
		view_unlock(acct, v);
		return;
	}
	/* A new buffer: snapshots still number the expunged messages. */
	nb = xcalloc(1, sizeof(*nb));
	nb->cap = v->count + 16;
	nb->uids = xmalloc(nb->cap * sizeof(uint32_t));
	nb->refs = 1;
	for (uint32_t i = 0; i < v->count; i++) {
		uint32_t uid = v->buf->uids[i];
		bool gone = false;

		/* uids is small or sorted; a binary search keeps it O(n log k). */
		size_t lo = 0, hi = n;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (uids[mid] < uid)
				lo = mid + 1;
			else
				hi = mid;
		}
		gone = lo < n && uids[lo] == uid;
		if (gone)
			continue;
		nb->uids[out] = uid;
		v->flags[out] = v->flags[i];
		v->modseqs[out] = v->modseqs[i];
		if (v->keywords != NULL)
			v->keywords[out] = v->keywords[i];
		out++;
	}
	nb->len = out;
	retain_buf_replaced(v, v->buf, origin, true);
	uidbuf_unref(v->buf);
	v->buf = nb;
	v->count = out;
	if (modseq > v->highestmodseq)
		v->highestmodseq = modseq;
	refresh_info_locked(v, db);
	wake_watchers_locked(v, origin);
	view_unlock(acct, v);
}

void
changes_counters(struct account *acct, struct db *db, uint64_t mailbox_id)
{
	struct view *v = view_lock(acct, mailbox_id);

	if (v != NULL)
		refresh_info_locked(v, db);
	view_unlock(acct, v);
}

void
changes_deleted(struct account *acct, uint64_t mailbox_id)
{
	struct view *v = view_lock(acct, mailbox_id);

	if (v != NULL) {
		v->is_deleted = true;
		wake_watchers_locked(v, NULL);
		pthread_mutex_unlock(&v->lock);
		view_forget_locked(acct, v);
	}
	pthread_mutex_unlock(&acct->views_lock);
}

void
store_mailbox_watch(struct store_mailbox *mbox, store_wake_fn *wake, void *arg)
{
	struct view *v = mbox->view;

	pthread_mutex_lock(&v->lock);
	if (mbox->wake != NULL) { /* unlink */
		if (mbox->wprev != NULL)
			mbox->wprev->wnext = mbox->wnext;
		else
			v->watchers = mbox->wnext;
		if (mbox->wnext != NULL)
			mbox->wnext->wprev = mbox->wprev;
		mbox->wnext = mbox->wprev = NULL;
	}
	mbox->wake = wake;
	mbox->wake_arg = arg;
	if (wake != NULL) {
		mbox->wprev = NULL;
		mbox->wnext = v->watchers;
		if (v->watchers != NULL)
			v->watchers->wprev = mbox;
		v->watchers = mbox;
	}
	pthread_mutex_unlock(&v->lock);
}

int
store_mailbox_sync(struct store_mailbox *mbox, const struct store_sync_fns *fns, void *ctx,
                   enum store_error *err_out)
{
	static const struct store_sync_fns none;
	struct view *v = mbox->view;
	struct uidbuf *old, *cur;
	uint32_t oc, cc, old_max, kept;

	if (fns == NULL)
		fns = &none;
	pthread_mutex_lock(&v->lock);
	if (v->is_deleted) {
		pthread_mutex_unlock(&v->lock);
		*err_out = STORE_ERR_NOTFOUND;
		return -1;
	}
	old = mbox->buf;
	oc = mbox->count;
	cur = v->buf;
	cc = v->count;
	old_max = oc > 0 ? old->uids[oc - 1] : 0;
	kept = oc;

	/* Expunges: walk the old snapshot downwards against the current list
	   (a subsequence of it plus new uids at the end). Same buffer means
	   only appends happened. */
	if (old != cur) {
		uint32_t j = cc;

		for (uint32_t i = oc; i-- > 0;) {
			uint32_t uid = old->uids[i];

			while (j > 0 && cur->uids[j - 1] > uid)
				j--;
			if (j > 0 && cur->uids[j - 1] == uid) {
				j--;
				continue;
			}
			kept--;
			if (fns->expunged != NULL)
				fns->expunged(ctx, i + 1, uid);
		}
	}
	if (cc != kept && fns->exists != NULL)
		fns->exists(ctx, cc);

	/* Flag changes by others to messages the session already knew. */
	if (fns->flags != NULL && v->highestmodseq > mbox->modseq) {
		if (v->journal_lost <= mbox->modseq) {
			uint64_t first = v->journal_total > VIEW_JOURNAL
			                         ? v->journal_total - VIEW_JOURNAL
			                         : 0;

			for (uint64_t k = first; k < v->journal_total; k++) {
				const struct journal_entry *e = &v->journal[k % VIEW_JOURNAL];
				int64_t at;

				if (e->modseq <= mbox->modseq || e->origin == mbox ||
				    e->uid > old_max)
					continue;
				at = view_index_locked(v, e->uid);
				if (at >= 0)
					fns->flags(ctx, (uint32_t)at + 1, e->uid, v->flags[at],
					           v->keywords ? v->keywords[at] : 0,
					           v->modseqs[at]);
			}
		} else {
			for (uint32_t i = 0; i < cc && cur->uids[i] <= old_max; i++)
				if (v->modseqs[i] > mbox->modseq)
					fns->flags(ctx, i + 1, cur->uids[i], v->flags[i],
					           v->keywords ? v->keywords[i] : 0, v->modseqs[i]);
		}
	}
	if (old != cur) {
		cur->refs++;
		uidbuf_unref(old);
		mbox->buf = cur;
	}
	mbox->count = cc;
	mbox->modseq = v->highestmodseq;
	pthread_mutex_unlock(&v->lock);
	return 0;
}
