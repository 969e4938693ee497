/* SPDX-License-Identifier: MIT */
/*
 * retain.c: expunged messages kept for the sessions that still number them
 * (RFC 2180 section 4.1.1, what Dovecot and Cyrus do). A session's snapshot
 * (a uidbuf, view.c) keeps every expunged uid until the session syncs; until
 * then FETCH of such a message is answered as if it were still there, from
 * its row as it was and from its bytes, which are immutable.
 *
 * Backend-neutral: a retained row names its bytes by the backend's blob id,
 * and the backend asks retain_blob_is_pinned() before it collects one.
 *
 * Flow: expunge_rows() deletes the rows with RETURNING and leaves what they
 * held here as the account's pending set (write lock held). After COMMIT,
 * the view removes the uids (changes.c remove_locked(), directly or by
 * catching up, still under the write lock), gives itself a new uidbuf and
 * calls retain_buf_replaced(): if any snapshot still holds an old buffer, the set
 * becomes a node at the tail of the view's queue, the replaced buffer points
 * at it, and the node's blobs are pinned so blobs_collect() keeps their
 * rows and files. A snapshot on an older buffer sees the nodes from its own
 * onward (its buffer was replaced before them, so it still numbers their
 * uids). When a replaced buffer is freed (its last session synced or
 * closed) its node loses a holder; nodes leave the queue from the head once
 * nothing holds them, and unpin. Collection of the unpinned blobs happens
 * at the account's next expunge, or when its last session closes.
 *
 * Between COMMIT and the view's removal a reader finds a deleted row in
 * neither the table nor a node: retain_find() also looks in the pending set.
 * An expunge by another process leaves no pending set here (its rows are
 * gone when the view catches up): those messages are not retained.
 *
 * Locks: the queue and the uidbufs' node pointers under the view lock; the
 * pins and the pending set under acct->retain_lock (taken inside the view
 * lock).
 */
#include "store/store_core.h"

#include <stdlib.h>
#include <string.h>

#include "lib/hash.h"
#include "lib/util.h"

static void
pins_change(struct account *a, const struct retained *msgs, size_t n, int by)
{
	pthread_mutex_lock(&a->retain_lock);
	for (size_t i = 0; i < n; i++) {
		uint64_t id = (uint64_t)msgs[i].blob_id;
		uintptr_t count = (uintptr_t)hash_u64_find(a->pins, id) + (uintptr_t)(intptr_t)by;

		if (count == 0)
			hash_u64_remove(a->pins, id);
		else
			hash_u64_set(a->pins, id, (void *)count);
	}
	pthread_mutex_unlock(&a->retain_lock);
}

bool
retain_blob_is_pinned(struct account *a, int64_t blob_id)
{
	if (a->pins == NULL)
		return false; /* tern check's offline account: no sessions */
	pthread_mutex_lock(&a->retain_lock);
	bool pinned = hash_u64_find(a->pins, (uint64_t)blob_id) != NULL;
	pthread_mutex_unlock(&a->retain_lock);
	return pinned;
}

void
retain_pending_set(struct account *a, uint64_t mailbox_id, struct retained *msgs, size_t n)
{
	pthread_mutex_lock(&a->retain_lock);
	free(a->pending.msgs); /* one left by a rolled-back transaction */
	a->pending = (struct retain_pending){mailbox_id, msgs, n};
	pthread_mutex_unlock(&a->retain_lock);
}

static void
node_free(struct retain_node *node)
{
	struct account *a = node->q->acct;

	pins_change(a, node->msgs, node->n, -1);
	if (node->n > 0) {
		pthread_mutex_lock(&a->retain_lock);
		a->pins_released = true;
		pthread_mutex_unlock(&a->retain_lock);
	}
	free(node->msgs);
	free(node);
}

bool
retain_collect_pending(struct account *a)
{
	pthread_mutex_lock(&a->retain_lock);
	bool pending = a->pins_released;
	a->pins_released = false;
	pthread_mutex_unlock(&a->retain_lock);
	return pending;
}

void
retain_buf_replaced(struct view *v, struct uidbuf *old, const struct store_mailbox *origin,
                    bool is_expunge)
{
	struct account *a = v->acct;
	struct retain_queue *q = &v->retain;
	struct retain_pending p = {0};

	pthread_mutex_lock(&a->retain_lock);
	if (is_expunge && a->pending.mailbox_id == v->mailbox_id) {
		p = a->pending;
		a->pending = (struct retain_pending){0};
	}
	pthread_mutex_unlock(&a->retain_lock);
	/* Who may still ask for them: the sessions on this buffer (not the
	   view, not the expunger, which syncs next and knows) and those on
	   older ones (then the queue is not empty). */
	int others = old->refs - 1 - (origin != NULL && origin->buf == old);
	if (others <= 0 && q->head == NULL) {
		free(p.msgs);
		return;
	}
	struct retain_node *node = xcalloc(1, sizeof(*node));
	node->q = q;
	node->msgs = p.msgs;
	node->n = p.n;
	pins_change(a, node->msgs, node->n, +1);
	if (q->tail != NULL)
		q->tail->next = node;
	else
		q->head = node;
	q->tail = node;
	if (others > 0) {
		old->gone = node;
		node->holders = 1;
	}
}

void
retain_buf_freed(struct uidbuf *b)
{
	struct retain_node *node = b->gone;

	if (node == NULL)
		return;
	b->gone = NULL;
	node->holders--;
	struct retain_queue *q = node->q;
	while (q->head != NULL && q->head->holders == 0) {
		struct retain_node *head = q->head;
		q->head = head->next;
		if (q->head == NULL)
			q->tail = NULL;
		node_free(head);
	}
}

void
retain_queue_free(struct retain_queue *q)
{
	while (q->head != NULL) {
		struct retain_node *head = q->head;
		q->head = head->next;
		node_free(head);
	}
	q->tail = NULL;
}

static bool
find_in(const struct retained *msgs, size_t n, uint32_t uid, struct retained *out)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (msgs[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < n && msgs[lo].uid == uid) {
		*out = msgs[lo];
		return true;
	}
	return false;
}

bool
retain_find(struct store_mailbox *mbox, uint32_t uid, struct retained *out)
{
	struct view *v = mbox->view;
	struct account *a = mbox->acct;
	bool found = false;

	if (mbox->open_flags & STORE_OPEN_NO_RETAINED)
		return false;
	pthread_mutex_lock(&v->lock);
	/* Committed but not yet in the view (the writer is between COMMIT
	   and the removal): the rows are still the pending set. The
	   view lock makes the move from there to a node atomic for us. */
	pthread_mutex_lock(&a->retain_lock);
	if (a->pending.mailbox_id == mbox->id)
		found = find_in(a->pending.msgs, a->pending.n, uid, out);
	pthread_mutex_unlock(&a->retain_lock);
	for (struct retain_node *node = mbox->buf->gone; node != NULL && !found; node = node->next)
		found = find_in(node->msgs, node->n, uid, out);
	pthread_mutex_unlock(&v->lock);
	return found;
}
