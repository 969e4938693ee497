/* SPDX-License-Identifier: MIT */
/*
 * changes.c: keeping the shared views current, and telling sessions.
 * Backend-neutral: storage is reached only through backend.h. Every change
 * is first recorded durably by the backend (rows with a modseq, the
 * expunge history); a view then learns it one of two ways, with the same
 * result:
 *
 * - Directly: this process's writers, after COMMIT and still under the
 *   account's write lock, pass what their transaction did
 *   (changes_appended, _flags, _expunged). When it is the view's next
 *   change (its modseq is the view's + 1, and the mailbox is still at it:
 *   nothing came in between or since), the view takes it as it is.
 * - By catching up (view_catch_up): otherwise, or when the watch (watch.c)
 *   says another process committed, the view asks the backend for the
 *   state, the uids expunged and the messages changed after its modseq, in
 *   one snapshot, and applies them. Correctness rests on this path alone
 *   (backend.h says why nothing is missed); the direct one saves the read.
 *
 * Then every session watching the view is woken (any thread: wake only
 * signals, e.g. libevent event_active()), except the one that made the
 * change when nobody else contributed to it. Sessions pull the changes at
 * their own safe points with store_mailbox_sync(): nothing calls up into a
 * session.
 *
 * Flag changes also go into a small ring (VIEW_JOURNAL entries) so a sync
 * visits only what changed; a session that fell further behind than the
 * ring compares modseqs over the view instead (O(messages), still memory).
 */
#include "store/backend.h"
#include "store/store_core.h"

#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/util.h"

/*
 * What to apply to a view: uids removed, then messages added or changed,
 * both ascending. Per item modseqs (NULL: all at modseq). What was done at
 * origin_modseq is origin's own (its STORE is not reported back to it).
 */
struct delta {
	const uint32_t *gone;
	const uint64_t *gone_modseqs;
	size_t n_gone;
	const uint32_t *uids, *flags;
	const uint64_t *keywords; /* NULL: none */
	const uint64_t *modseqs;
	size_t n;
	uint64_t modseq;
	const struct store_mailbox *origin;
	uint64_t origin_modseq;
};

static void
wake_watchers_locked(struct view *v, const struct store_mailbox *origin)
{
	for (struct store_mailbox *m = v->watchers; m != NULL; m = m->wnext)
		if (m != origin && m->wake != NULL)
			m->wake(m->wake_arg);
}

static void
state_set_locked(struct view *v, const struct store_mailbox_info *state)
{
	v->info = *state;
	v->uidnext = state->uidnext;
	v->highestmodseq = state->highestmodseq;
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

static struct uidbuf *
uidbuf_new(uint32_t cap)
{
	struct uidbuf *b = xcalloc(1, sizeof(*b));

	b->cap = cap;
	b->uids = xmalloc(cap * sizeof(uint32_t));
	b->refs = 1;
	return b;
}

static uint64_t
item_modseq(const struct delta *d, const uint64_t *modseqs, size_t i)
{
	return modseqs != NULL ? modseqs[i] : d->modseq;
}

/* Removes d->gone from the view: a new buffer, so snapshots still number
   the expunged messages. One merge walk. */
static void
remove_locked(struct view *v, const struct delta *d, bool *changed, bool *others)
{
	struct uidbuf *nb;
	uint32_t out = 0;
	size_t j = 0, hits = 0;

	for (uint32_t i = 0; i < v->count && j < d->n_gone; i++) {
		while (j < d->n_gone && d->gone[j] < v->buf->uids[i])
			j++;
		if (j < d->n_gone && d->gone[j] == v->buf->uids[i]) {
			hits++;
			if (item_modseq(d, d->gone_modseqs, j) != d->origin_modseq)
				*others = true;
		}
	}
	if (hits == 0)
		return;
	*changed = true;
	nb = uidbuf_new(v->count + 16);
	j = 0;
	for (uint32_t i = 0; i < v->count; i++) {
		uint32_t uid = v->buf->uids[i];

		while (j < d->n_gone && d->gone[j] < uid)
			j++;
		if (j < d->n_gone && d->gone[j] == uid)
			continue;
		nb->uids[out] = uid;
		v->flags[out] = v->flags[i];
		v->modseqs[out] = v->modseqs[i];
		if (v->keywords != NULL)
			v->keywords[out] = v->keywords[i];
		out++;
	}
	nb->len = out;
	retain_buf_replaced(v, v->buf, d->origin, true);
	uidbuf_unref(v->buf);
	v->buf = nb;
	v->count = out;
}

static void
journal_push(struct view *v, uint64_t modseq, uint32_t uid, const struct store_mailbox *origin)
{
	struct journal_entry *e;

	if (v->journal == NULL)
		v->journal = xcalloc(VIEW_JOURNAL, sizeof(*v->journal));
	e = &v->journal[v->journal_total % VIEW_JOURNAL];
	if (v->journal_total >= VIEW_JOURNAL && e->modseq > v->journal_lost)
		v->journal_lost = e->modseq;
	e->modseq = modseq;
	e->uid = uid;
	e->origin = origin;
	v->journal_total++;
}

static void
set_at(struct view *v, uint32_t at, uint32_t flags, uint64_t keywords, uint64_t modseq)
{
	v->flags[at] = (uint8_t)flags;
	v->modseqs[at] = modseq;
	if (keywords != 0 && v->keywords == NULL)
		v->keywords = xcalloc(v->cap, sizeof(uint64_t));
	if (v->keywords != NULL)
		v->keywords[at] = keywords;
}

/*
 * Adds the messages d->uids[ins[0..k)], none of them in the view. New uids
 * come after every uid the view has (backend.h): then they go past the end
 * of the buffer, in place while no snapshot's end is there and it has
 * room. Anything else is a broken invariant; it is logged and merged in.
 */
static void
insert_locked(struct view *v, const struct delta *d, const size_t *ins, size_t k)
{
	uint32_t last = v->count > 0 ? v->buf->uids[v->count - 1] : 0;
	struct uidbuf *b = v->buf;

	if (d->uids[ins[0]] > last) {
		if (b->len != v->count || b->cap - b->len < k) {
			/* Shared past our end, or full: a new buffer; snapshots
			   keep the old one. */
			struct uidbuf *nb = uidbuf_new(v->count + (uint32_t)k);

			nb->cap += nb->cap / 2 + 16;
			nb->uids = xrealloc(nb->uids, nb->cap * sizeof(uint32_t));
			memcpy(nb->uids, b->uids, v->count * sizeof(uint32_t));
			nb->len = v->count;
			retain_buf_replaced(v, b, NULL, false);
			uidbuf_unref(b);
			v->buf = b = nb;
		}
		grow_arrays(v, v->count + (uint32_t)k);
		for (size_t i = 0; i < k; i++) {
			size_t x = ins[i];
			uint32_t at = v->count++;

			b->uids[at] = d->uids[x];
			set_at(v, at, d->flags[x], d->keywords ? d->keywords[x] : 0,
			       item_modseq(d, d->modseqs, x));
		}
		b->len = v->count;
		return;
	}
	log_error("store", "event=view-uid-order account=%llu mailbox=%llu uid=%u last=%u",
	          (unsigned long long)v->acct->id, (unsigned long long)v->mailbox_id,
	          d->uids[ins[0]], last);
	/* Merge into new arrays: positions move, so nothing can be shared. */
	uint32_t n = v->count + (uint32_t)k, cap = n + 16, o = 0, i = 0;
	struct uidbuf *nb = uidbuf_new(cap);
	uint8_t *flags = xmalloc(cap);
	uint64_t *modseqs = xmalloc(cap * sizeof(uint64_t));
	uint64_t *keywords = xcalloc(cap, sizeof(uint64_t));
	size_t j = 0;

	while (i < v->count || j < k) {
		if (j == k || (i < v->count && b->uids[i] < d->uids[ins[j]])) {
			nb->uids[o] = b->uids[i];
			flags[o] = v->flags[i];
			modseqs[o] = v->modseqs[i];
			keywords[o] = v->keywords ? v->keywords[i] : 0;
			i++;
		} else {
			size_t x = ins[j++];

			nb->uids[o] = d->uids[x];
			flags[o] = (uint8_t)d->flags[x];
			modseqs[o] = item_modseq(d, d->modseqs, x);
			keywords[o] = d->keywords ? d->keywords[x] : 0;
		}
		o++;
	}
	nb->len = o;
	retain_buf_replaced(v, v->buf, NULL, false);
	uidbuf_unref(v->buf);
	free(v->flags);
	free(v->modseqs);
	free(v->keywords);
	v->buf = nb;
	v->count = o;
	v->cap = cap;
	v->flags = flags;
	v->modseqs = modseqs;
	v->keywords = keywords;
}

/* Applies d to the view. *changed_out: the sessions have something to
   hear; *others_out: some of it is not origin's. */
static void
apply_locked(struct view *v, const struct delta *d, bool *changed_out, bool *others_out)
{
	size_t *ins = NULL, k = 0;

	*changed_out = *others_out = false;
	if (d->n_gone > 0)
		remove_locked(v, d, changed_out, others_out);
	for (size_t i = 0; i < d->n; i++) {
		uint64_t modseq = item_modseq(d, d->modseqs, i);
		bool is_origin = modseq == d->origin_modseq;
		int64_t at = view_index_locked(v, d->uids[i]);

		*changed_out = true;
		if (!is_origin)
			*others_out = true;
		if (at < 0) {
			if (ins == NULL)
				ins = xmalloc((d->n - i) * sizeof(*ins));
			ins[k++] = i;
			continue;
		}
		set_at(v, (uint32_t)at, d->flags[i], d->keywords ? d->keywords[i] : 0, modseq);
		journal_push(v, modseq, d->uids[i], is_origin ? d->origin : NULL);
	}
	if (k > 0)
		insert_locked(v, d, ins, k);
	free(ins);
}

/* ---- Catching up from the backend ----------------------------------- */

/* What mailbox_changes() gave, in growing arrays. */
struct collect {
	struct store_mailbox_info state;
	uint32_t *gone;
	uint64_t *gone_modseqs;
	size_t n_gone, cap_gone;
	uint32_t *uids, *flags;
	uint64_t *keywords, *modseqs;
	size_t n, cap;
};

static void
collect_state(void *ctx, const struct store_mailbox_info *state)
{
	((struct collect *)ctx)->state = *state;
}

static void
collect_expunged(void *ctx, uint32_t uid, uint64_t modseq)
{
	struct collect *c = ctx;

	if (c->n_gone == c->cap_gone) {
		c->cap_gone = c->cap_gone ? c->cap_gone * 2 : 64;
		c->gone = xrealloc(c->gone, c->cap_gone * sizeof(*c->gone));
		c->gone_modseqs = xrealloc(c->gone_modseqs, c->cap_gone * sizeof(uint64_t));
	}
	c->gone[c->n_gone] = uid;
	c->gone_modseqs[c->n_gone++] = modseq;
}

static void
collect_message(void *ctx, uint32_t uid, uint32_t flags, uint64_t keywords, uint64_t modseq)
{
	struct collect *c = ctx;

	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 64;
		c->uids = xrealloc(c->uids, c->cap * sizeof(uint32_t));
		c->flags = xrealloc(c->flags, c->cap * sizeof(uint32_t));
		c->keywords = xrealloc(c->keywords, c->cap * sizeof(uint64_t));
		c->modseqs = xrealloc(c->modseqs, c->cap * sizeof(uint64_t));
	}
	c->uids[c->n] = uid;
	c->flags[c->n] = flags;
	c->keywords[c->n] = keywords;
	c->modseqs[c->n++] = modseq;
}

static void
collect_free(struct collect *c)
{
	free(c->gone);
	free(c->gone_modseqs);
	free(c->uids);
	free(c->flags);
	free(c->keywords);
	free(c->modseqs);
}

/*
 * Brings v up to the backend's current state; write_lock held (so no
 * writer of this process applies to it meanwhile, and its modseq is
 * stable). origin made the change at origin_modseq, if any. A mailbox that
 * is gone makes the view deleted. Returns 0, or -1 when the backend could
 * not be read (v unchanged; the watch retries).
 */
static int
view_catch_up(struct account *a, struct view *v, const struct store_mailbox *origin,
              uint64_t origin_modseq)
{
	static const struct backend_sink sink = {collect_state, collect_expunged, collect_message};
	struct collect c;
	enum store_error err;
	uint64_t since;
	bool is_deleted;

	pthread_mutex_lock(&v->lock);
	since = v->highestmodseq;
	is_deleted = v->is_deleted;
	pthread_mutex_unlock(&v->lock);
	if (is_deleted)
		return 0;
	memset(&c, 0, sizeof(c));
	if (a->store->backend->mailbox_changes(a, v->mailbox_id, since, &sink, &c, &err) < 0) {
		collect_free(&c);
		if (err == STORE_ERR_NOTFOUND) {
			changes_deleted(a, v->mailbox_id);
			return 0;
		}
		log_error("store",
		          "event=view-catch-up-failed account=%llu mailbox=%llu err=\"%s\"",
		          (unsigned long long)a->id, (unsigned long long)v->mailbox_id,
		          store_error_str(err));
		a->needs_catch_up = true;
		return -1;
	}
	struct delta d = {c.gone,  c.gone_modseqs, c.n_gone,     c.uids,
	                  c.flags, c.keywords,     c.modseqs,    c.n,
	                  0,       origin,         origin_modseq};
	bool changed, others;

	pthread_mutex_lock(&v->lock);
	apply_locked(v, &d, &changed, &others);
	state_set_locked(v, &c.state);
	if (changed)
		wake_watchers_locked(v, others ? NULL : origin);
	pthread_mutex_unlock(&v->lock);
	collect_free(&c);
	return 0;
}

/* ---- This process's writers ----------------------------------------- */

/* The direct way when d is the view's next change, else a catch-up. */
static void
publish(struct account *a, uint64_t mailbox_id, const struct delta *d)
{
	struct view *v = view_lookup(a, mailbox_id);
	struct store_mailbox_info state;
	enum store_error err;
	bool is_next, changed, others;

	if (v == NULL)
		return;
	/* Modseqs grow with every change (backend.h): the mailbox still at
	   this change's and the view one before it means nobody else
	   committed in between or since. */
	is_next = a->store->backend->mailbox_state(a, mailbox_id, &state, &err) == 0 &&
	          state.highestmodseq == d->modseq;
	pthread_mutex_lock(&v->lock);
	is_next = is_next && !v->is_deleted && v->highestmodseq + 1 == d->modseq;
	if (is_next) {
		apply_locked(v, d, &changed, &others);
		state_set_locked(v, &state);
		if (changed)
			wake_watchers_locked(v, others ? NULL : d->origin);
	}
	pthread_mutex_unlock(&v->lock);
	if (!is_next)
		view_catch_up(a, v, d->origin, d->modseq);
	view_release(v);
}

void
changes_appended(struct account *acct, uint64_t mailbox_id, const uint32_t *uids,
                 const uint32_t *flags, const uint64_t *kw, size_t n, uint64_t modseq)
{
	/* No origin: the appending session hears of it too (EXISTS). */
	struct delta d = {.uids = uids, .flags = flags, .keywords = kw, .n = n, .modseq = modseq};

	publish(acct, mailbox_id, &d);
}

void
changes_flags(struct account *acct, uint64_t mailbox_id, const struct store_mailbox *origin,
              const uint32_t *uids, const uint32_t *flags, const uint64_t *kw, size_t n,
              uint64_t modseq)
{
	struct delta d = {.uids = uids,
	                  .flags = flags,
	                  .keywords = kw,
	                  .n = n,
	                  .modseq = modseq,
	                  .origin = origin,
	                  .origin_modseq = modseq};

	publish(acct, mailbox_id, &d);
}

void
changes_expunged(struct account *acct, uint64_t mailbox_id, const struct store_mailbox *origin,
                 const uint32_t *uids, size_t n, uint64_t modseq)
{
	struct delta d = {.gone = uids,
	                  .n_gone = n,
	                  .modseq = modseq,
	                  .origin = origin,
	                  .origin_modseq = modseq};

	publish(acct, mailbox_id, &d);
}

void
changes_refresh(struct account *acct, uint64_t mailbox_id)
{
	struct view *v = view_lookup(acct, mailbox_id);
	struct store_mailbox_info state;
	enum store_error err;
	bool is_current;

	if (v == NULL)
		return;
	is_current = acct->store->backend->mailbox_state(acct, mailbox_id, &state, &err) == 0;
	pthread_mutex_lock(&v->lock);
	is_current = is_current && state.highestmodseq == v->highestmodseq;
	if (is_current)
		v->info = state;
	pthread_mutex_unlock(&v->lock);
	if (!is_current)
		view_catch_up(acct, v, NULL, 0);
	view_release(v);
}

void
changes_deleted(struct account *acct, uint64_t mailbox_id)
{
	struct view *v;

	pthread_mutex_lock(&acct->views_lock);
	v = view_find_locked(acct, mailbox_id);
	if (v != NULL) {
		pthread_mutex_lock(&v->lock);
		v->is_deleted = true;
		wake_watchers_locked(v, NULL);
		pthread_mutex_unlock(&v->lock);
		view_forget_locked(acct, v);
	}
	pthread_mutex_unlock(&acct->views_lock);
}

/* ---- Changes from elsewhere (watch.c) ------------------------------- */

/* True when state says the view is behind (a modseq it has not seen) or
   its counters moved without one (\Recent claimed, a repair). */
static bool
is_behind(struct view *v, const struct store_mailbox_info *state)
{
	bool behind;

	pthread_mutex_lock(&v->lock);
	behind = !v->is_deleted &&
	         (state->highestmodseq != v->highestmodseq || state->uidnext != v->uidnext ||
	          state->messages != v->info.messages || state->unseen != v->info.unseen ||
	          state->deleted != v->info.deleted || state->recent != v->info.recent ||
	          state->size != v->info.size);
	pthread_mutex_unlock(&v->lock);
	return behind;
}

int
changes_catch_up(struct account *acct)
{
	const struct store_backend *be = acct->store->backend;
	struct view **views;
	size_t n = view_list(acct, &views);
	int rc = 0;

	acct->needs_catch_up = false;
	for (size_t i = 0; i < n; i++) {
		struct store_mailbox_info state;
		enum store_error err;

		/* One row per view, without the write lock: a view that is
		   current costs no wait behind a committing writer. */
		if (be->mailbox_state(acct, views[i]->mailbox_id, &state, &err) == 0 &&
		    !is_behind(views[i], &state))
			continue;
		pthread_mutex_lock(&acct->write_lock);
		if (view_catch_up(acct, views[i], NULL, 0) < 0)
			rc = -1;
		pthread_mutex_unlock(&acct->write_lock);
	}
	for (size_t i = 0; i < n; i++)
		view_release(views[i]);
	free(views);
	return rc;
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
				/* Only a message's latest change: told once,
				   however often it changed. */
				at = view_index_locked(v, e->uid);
				if (at >= 0 && v->modseqs[at] == e->modseq)
					fns->flags(ctx, (uint32_t)at + 1, e->uid,
					           seen_overlay_locked(mbox, e->uid, v->flags[at]),
					           v->keywords ? v->keywords[at] : 0,
					           v->modseqs[at]);
			}
		} else {
			for (uint32_t i = 0; i < cc && cur->uids[i] <= old_max; i++)
				if (v->modseqs[i] > mbox->modseq)
					fns->flags(ctx, i + 1, cur->uids[i],
					           seen_overlay_locked(mbox, cur->uids[i],
					                               v->flags[i]),
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
