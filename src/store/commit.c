/* SPDX-License-Identifier: MIT */
/*
 * commit.c: group commit of appends and deliveries. The cost of a small
 * append is its WAL fsync (synchronous=FULL), and one account's writers
 * are serialised, so N threads appending to one account at once used to
 * wait for N fsyncs in a row. Here they share them: each caller, its
 * blobs already durable and its message parsed (message_append.c), puts
 * its request in the account's queue; the first one that finds no leader
 * becomes the leader, takes the write lock, then every request queued by
 * then (those that came while it waited for the lock or for the previous
 * transaction), and commits them all in one transaction, one fsync. The
 * others sleep until the leader marks their request done; a request that
 * arrives during the commit waits for the next leader, one of its own
 * batch, woken when this one finishes.
 *
 * Each request keeps its own all-or-none result: its rows are added under
 * a savepoint, and a request that fails (mailbox gone, over quota, too many
 * keywords) is rolled back to it alone while the others go on. Only a
 * failure of the transaction itself (an I/O error SQLite rolls everything
 * back for, the commit) fails the whole batch, with _TEMP. As for any write
 * transaction, a mailbox gets one new modseq however many requests of the
 * batch went into it. Durability is unchanged: a caller returns only after
 * the commit that holds its rows, and the views are updated, as before,
 * under the write lock after COMMIT, one call per mailbox (publish).
 *
 * States of a request: queued (commit_submit) -> taken by a leader ->
 * done (rc, err set; the owner may return and free it). A leader never
 * touches a request after marking it done.
 */
#include "store/store_int.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

void
commit_init(struct account *a)
{
	pthread_mutex_init(&a->commit_lock, NULL);
	pthread_cond_init(&a->commit_cond, NULL);
}

void
commit_deinit(struct account *a)
{
	assert(a->queue_head == NULL && !a->has_leader);
	pthread_mutex_destroy(&a->commit_lock);
	pthread_cond_destroy(&a->commit_cond);
}

static int
savepoint(struct db *db, const char *sql)
{
	sqlite3_stmt *st = db_stmt(db, sql);

	return st == NULL ? -1 : db_step_done(db, st);
}

static const char savepoint_sql[] = "SAVEPOINT req";
static const char release_sql[] = "RELEASE req";
static const char rollback_to_sql[] = "ROLLBACK TO req";

/* Every request of batch that has not failed by itself fails with err. */
static void
fail_rest(struct append_req *batch, enum store_error err)
{
	for (struct append_req *r = batch; r != NULL; r = r->next) {
		if (r->rc == 0) {
			r->rc = -1;
			r->err = err;
		}
	}
}

/* One transaction for the batch, a savepoint per request. Leaves each
   request's rc and err; returns how many were committed. */
static size_t
commit_batch(struct account *a, struct db *db, struct append_req *batch)
{
	size_t n_ok = 0;
	bool any_failed = false;

	for (struct append_req *r = batch; r != NULL; r = r->next)
		r->rc = 0;
	if (db_begin(db, true) < 0) {
		fail_rest(batch, db_error(db));
		return 0;
	}
	for (struct append_req *r = batch; r != NULL; r = r->next) {
		if (savepoint(db, savepoint_sql) == 0 && append_rows(a, db, r, batch) == 0 &&
		    savepoint(db, release_sql) == 0) {
			n_ok++;
			continue;
		}
		any_failed = true;
		if (r->err == STORE_ERR_NONE)
			r->err = db_error(db);
		r->rc = -1;
		/* Some errors (disk full, I/O) make SQLite roll the whole
		   transaction back: the requests before this one went too. */
		if (sqlite3_get_autocommit(db->h) || savepoint(db, rollback_to_sql) < 0 ||
		    savepoint(db, release_sql) < 0) {
			fail_rest(batch, STORE_ERR_TEMP);
			n_ok = 0;
			break;
		}
	}
	if (n_ok > 0 && db_commit(db) < 0) {
		fail_rest(batch, db_error(db));
		n_ok = 0;
		any_failed = true;
	}
	if (n_ok == 0)
		db_rollback(db);
	/* A failed request may have named keywords that are gone again. */
	if (any_failed)
		keywords_load(a, db);
	return n_ok;
}

/* Tells the views about the committed appends, one call per mailbox with
   all of its messages (they share the transaction's modseq), so a session
   never sees a mailbox's counters or HIGHESTMODSEQ ahead of its UIDs. */
static void
publish(struct account *a, struct db *db, struct append_req *batch)
{
	for (struct append_req *r = batch; r != NULL; r = r->next) {
		uint32_t *uids = r->uids, *flags = r->flags;
		uint64_t *kws = r->kws;
		size_t n = 0, k = 0;

		if (r->rc != 0 || r->is_published)
			continue;
		for (struct append_req *q = r; q != NULL; q = q->next)
			if (q->rc == 0 && q->box_id == r->box_id)
				n += q->n;
		if (n > r->n) {
			uids = xmalloc(n * sizeof(*uids));
			flags = xmalloc(n * sizeof(*flags));
			kws = xmalloc(n * sizeof(*kws));
		}
		for (struct append_req *q = r; q != NULL; q = q->next) {
			if (q->rc != 0 || q->box_id != r->box_id)
				continue;
			if (n > r->n) {
				memcpy(uids + k, q->uids, q->n * sizeof(*uids));
				memcpy(flags + k, q->flags, q->n * sizeof(*flags));
				memcpy(kws + k, q->kws, q->n * sizeof(*kws));
			}
			k += q->n;
			q->is_published = true;
		}
		changes_appended(a, r->box_id, uids, flags, kws, n, r->modseq);
		if (n > r->n) {
			free(uids);
			free(flags);
			free(kws);
		}
	}
}

/* The leader's work: one batch, from the queue to every request done. */
static void
lead(struct account *a)
{
	struct append_req *batch, *next;
	struct db *db = NULL;
	enum store_error err = STORE_ERR_NONE;
	size_t n_ok = 0;
	bool has_db, kick;

	has_db = db_get(a, &db, &err) == 0;
	pthread_mutex_lock(&a->write_lock);
	pthread_mutex_lock(&a->commit_lock);
	batch = a->queue_head;
	a->queue_head = a->queue_tail = NULL;
	a->queued = 0;
	pthread_mutex_unlock(&a->commit_lock);

	if (has_db) {
		n_ok = commit_batch(a, db, batch);
	} else {
		for (struct append_req *r = batch; r != NULL; r = r->next)
			r->rc = 0;
		fail_rest(batch, err);
	}
	if (n_ok > 0)
		publish(a, db, batch);
	for (struct append_req *r = batch; r != NULL; r = r->next) {
		if (r->rc == 0) {
			append_committed(a, r);
			if (db != NULL)
				seen_appended(a, db, r);
		} else if (!r->keep_created)
			append_discard(a, db, r);
	}
	/* The indexer's queue is bounded: past the limit the writer helps. */
	if (n_ok > 0 && a->fts_backlog > INDEX_BACKLOG_MAX)
		indexer_batch(a, db, INDEX_BATCH);
	kick = n_ok > 0 && a->fts_backlog > 0;
	pthread_mutex_unlock(&a->write_lock);
	db_put(a, db);

	pthread_mutex_lock(&a->commit_lock);
	if (n_ok > 0) {
		a->commits++;
		a->committed_reqs += n_ok;
	}
	for (struct append_req *r = batch; r != NULL; r = next) {
		next = r->next;
		r->done = true; /* from here r is its owner's again */
	}
	a->has_leader = false;
	pthread_cond_broadcast(&a->commit_cond);
	pthread_mutex_unlock(&a->commit_lock);
	if (kick)
		indexer_kick(a);
}

int
commit_submit(struct account *a, struct append_req *r)
{
	r->next = NULL;
	r->done = false;
	r->is_published = false;
	r->err = STORE_ERR_NONE;
	pthread_mutex_lock(&a->commit_lock);
	if (a->queue_tail != NULL)
		a->queue_tail->next = r;
	else
		a->queue_head = r;
	a->queue_tail = r;
	a->queued++;
	while (!r->done && a->has_leader)
		pthread_cond_wait(&a->commit_cond, &a->commit_lock);
	if (r->done) {
		pthread_mutex_unlock(&a->commit_lock);
		return r->rc;
	}
	/* No leader, and r still queued: this thread commits the queue. */
	a->has_leader = true;
	pthread_mutex_unlock(&a->commit_lock);
	lead(a);
	assert(r->done);
	return r->rc;
}
