/* SPDX-License-Identifier: MIT */
/*
 * indexer.c: the background thread of the SQLite backend: full-text
 * indexing of new texts, and the collection of blobs that expunges left
 * without a reference.
 *
 * Indexing. Appends commit each new text into `texts` and its id into
 * `fts_pending` (message_append.c) instead of indexing it in their own
 * transaction: an FTS5 insert per commit writes a new index segment, which
 * was most of the CPU and most of the WAL pages of an append. This thread
 * moves pending texts into `fts` in batches of INDEX_BATCH per transaction,
 * so the index work is shared by many messages and runs off the append path.
 * The same transaction adds the batch's words to fuzzy search's vocabulary
 * and word index (fuzzy.c), so a text is either pending or in every index.
 *
 * Collection. An expunge (or a mailbox delete) only drops rows and marks
 * the account collect_pending; this thread then deletes the zero-reference
 * blobs with their texts, FTS entries and files, COLLECT_BATCH per
 * transaction (blobs_collect_batch(), expunge.c, which states the
 * invariants). Collection goes before indexing, so texts of removed
 * messages are not indexed only to be deleted again.
 *
 * Previews. Messages stored before schema 8 have no RFC 8970 preview
 * (blobs.preview NULL); after the other work this thread makes theirs,
 * PREVIEW_BATCH at a time (preview_backfill_batch(), message_preview.c),
 * so PREVIEW (LAZY), which answers NIL for them meanwhile, gets them too.
 *
 * Nothing depends on this thread for correctness: store_search_text()
 * matches pending texts by scanning them (search.c), so SEARCH is exact at
 * any moment, and it joins messages, so an uncollected text matches
 * nothing; a crash loses no work (fts_pending is committed with the
 * message, zero-reference rows stay until collected, and each batch is one
 * transaction); the next open of the account resumes both backlogs. The
 * index queue is bounded: past INDEX_BACKLOG_MAX pending texts a writer
 * indexes one batch itself before it returns.
 *
 * Flow: indexer_kick() (after an append or expunge commits) queues the
 * account id on store->idx_ids; the thread, started on the first kick,
 * waits INDEX_DELAY_MS so a burst of appends becomes one batch, opens the
 * account by id like a session (so a delivery that closed its account at
 * once is still indexed, and no pointer is shared with a session), and
 * takes the write lock per batch (writers wait at most one batch). Its
 * commits use no fault hook, so tests injecting commit faults hit only
 * their writes. indexer_stop() (store_close) joins the thread between two
 * batches; what was queued stays in the database and the account's next
 * open queues it again.
 */
#include "store/store_int.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/util.h"

/* Long enough that a second of appends is one batch: FTS5 writes a segment
   per transaction and merges them, so ten-text batches (50 ms under ten
   appending clients) cost the foreground a third of its FETCH/STORE rate
   on two cores (ImapTest own_msgs); SEARCH scans what is pending meanwhile. */
#define INDEX_DELAY_MS 1000
/* Old messages given their preview per write (each read and parsed up to
   1 MiB first, without the lock). */
#define PREVIEW_BATCH 16
/* The pause between two batches. A writer blocked on the write lock is
   woken when a batch unlocks, but this thread, still running, would take
   the free lock again first: an APPEND waited 1.9 s behind a 10,000-blob
   collection. A millisecond lets it in (the woken thread needs microseconds)
   and costs 1 ms per batch (~13 ms of work for COLLECT_BATCH blobs). */
#define BATCH_PAUSE_NS 1000000L

int
indexer_batch(struct account *a, struct db *db, unsigned max)
{
	static const char last_sql[] =
	        "SELECT count(*), max(id) FROM (SELECT id FROM fts_pending ORDER BY id LIMIT ?)";
	/* CROSS JOIN keeps the queue outermost. With a plain JOIN SQLite
	   carried "<= ?" over to texts.id and scanned every text up to it,
	   indexed long ago or not, probing the queue for each: a batch cost
	   grew with the mailbox (at 150,000 messages, half the indexer's time
	   was pread of those rows' pages) and a big fill went quadratic. */
	static const char ins_sql[] = "INSERT INTO fts(rowid, header, body)"
	                              " SELECT t.id, t.header, t.body FROM fts_pending p"
	                              " CROSS JOIN texts t ON t.id = p.id WHERE p.id <= ?";
	static const char words_ins_sql[] = "INSERT INTO fuzzy_index(rowid, header, body)"
	                                    " SELECT t.id, t.header, t.body FROM fts_pending p"
	                                    " CROSS JOIN texts t ON t.id = p.id WHERE p.id <= ?";
	static const char del_sql[] = "DELETE FROM fts_pending WHERE id <= ?";
	static const char words_sql[] = "SELECT t.header, t.body FROM fts_pending p"
	                                " CROSS JOIN texts t ON t.id = p.id WHERE p.id <= ?1";
	sqlite3_stmt *st;
	int64_t n = 0, last = 0;

	if (db_begin(db, true) < 0)
		return -1;
	st = db_stmt(db, last_sql);
	if (st == NULL)
		goto fail;
	sqlite3_bind_int64(st, 1, max);
	if (sqlite3_step(st) == SQLITE_ROW) {
		n = sqlite3_column_int64(st, 0);
		last = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	if (n == 0) {
		db_rollback(db);
		a->fts_backlog = 0;
		return 0;
	}
	/* The words of the batch join fuzzy search's vocabulary and word
	   index (fuzzy.c) in the same transaction: a text leaves fts_pending
	   for all three. */
	if (fuzzy_vocab_add_texts(db, words_sql, last) < 0)
		goto fail;
	static const char *const steps[] = {ins_sql, words_ins_sql, del_sql};
	for (size_t i = 0; i < ARRAY_LEN(steps); i++) {
		st = db_stmt(db, steps[i]);
		if (st == NULL)
			goto fail;
		sqlite3_bind_int64(st, 1, last);
		if (db_step_done(db, st) < 0)
			goto fail;
	}
	if (db_exec(db, "COMMIT") < 0)
		goto fail;
	a->fts_backlog = a->fts_backlog > n ? a->fts_backlog - n : 0;
	return (int)n;
fail:
	log_error("store", "event=index-failed account=%llu", (unsigned long long)a->id);
	db_rollback(db);
	return -1;
}

/* One transaction of background work under the write lock: a collection
   batch while one is pending, else an index batch, else one of fuzzy
   search's upgrade backlog. Returns how many blobs or texts it handled
   (0: nothing left), or -1. */
static int
background_batch(struct account *a, struct db *db)
{
	int n;

	pthread_mutex_lock(&a->write_lock);
	/* Retained messages' pins that went since (retain.c). */
	if (a->pins != NULL && retain_collect_pending(a))
		a->collect_pending = true;
	if (a->collect_pending) {
		n = blobs_collect_batch(a, db, COLLECT_BATCH);
		/* A short batch is the last. After a failure (logged) the rows
		   wait for the next expunge or open: indexing goes on. */
		if (n < COLLECT_BATCH)
			a->collect_pending = false;
		if (n > 0) {
			pthread_mutex_unlock(&a->write_lock);
			return n;
		}
	}
	n = indexer_batch(a, db, INDEX_BATCH);
	/* Last, an upgrade's backlog of fuzzy search (fuzzy.c). */
	if (n == 0 && a->fuzzy_backlog)
		n = fuzzy_backlog_batch(a, db, INDEX_BATCH);
	pthread_mutex_unlock(&a->write_lock);
	return n;
}

static void
let_writers_in(void)
{
	struct timespec ts = {0, BATCH_PAUSE_NS};

	nanosleep(&ts, NULL);
}

int
store_account_index_flush(struct store_account *acct, enum store_error *err_out)
{
	struct account *a = acct->a;
	struct db *db;
	int n;

	if (db_get(a, &db, err_out) < 0)
		return -1;
	while ((n = background_batch(a, db)) > 0)
		let_writers_in();
	db_put(a, db);
	if (n < 0)
		*err_out = STORE_ERR_TEMP;
	return n < 0 ? -1 : 0;
}

/* Tests: waits while indexer_hold() holds the thread. False once stopping. */
static bool
wait_unless_held(struct store *s)
{
	bool go;

	pthread_mutex_lock(&s->lock);
	while (s->idx_held && !s->idx_stop)
		pthread_cond_wait(&s->idx_cond, &s->lock);
	go = !s->idx_stop;
	pthread_mutex_unlock(&s->lock);
	return go;
}

/* Opens the account like a session would (sharing it if open), so no
   pointer outlives its owner, and works until nothing is pending. */
static void
index_account(struct store *s, uint64_t id)
{
	struct store_account *h;
	enum store_error err;
	struct account *a;
	struct db *db;
	char *path;
	int n;

	/* A removed account stays removed. */
	path = xasprintf("%s/accounts/%llu/index.db", s->data_dir, (unsigned long long)id);
	n = access(path, F_OK);
	free(path);
	if (n < 0 || store_account_open(s, id, &h, &err) < 0)
		return;
	a = h->a;
	if (db_get(a, &db, &err) == 0) {
		while (wait_unless_held(s) && background_batch(a, db) > 0)
			let_writers_in();
		/* Last: previews of old messages are for LAZY clients only (a
		   FETCH PREVIEW without LAZY makes its own). */
		while (wait_unless_held(s) && preview_backfill_batch(a, db, PREVIEW_BATCH) > 0)
			let_writers_in();
		db_put(a, db);
	}
	store_account_close(&h);
}

static void *
indexer_main(void *arg)
{
	struct store *s = arg;
	struct timespec until;

	thread_block_signals();

	pthread_mutex_lock(&s->lock);
	for (;;) {
		uint64_t *ids;
		size_t n;

		while (s->idx_n == 0 && !s->idx_stop)
			pthread_cond_wait(&s->idx_cond, &s->lock);
		if (s->idx_stop)
			break;
		/* Let a burst of appends gather into one batch (store_close
		   cuts the wait short). */
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += INDEX_DELAY_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		while (!s->idx_stop &&
		       pthread_cond_timedwait(&s->idx_cond, &s->lock, &until) != ETIMEDOUT)
			;
		if (s->idx_stop)
			break;
		ids = s->idx_ids;
		n = s->idx_n;
		s->idx_ids = NULL;
		s->idx_n = s->idx_cap = 0;
		pthread_mutex_unlock(&s->lock);
		for (size_t i = 0; i < n && !__atomic_load_n(&s->idx_stop, __ATOMIC_RELAXED); i++)
			index_account(s, ids[i]);
		free(ids);
		pthread_mutex_lock(&s->lock);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

void
indexer_kick(struct account *a)
{
	struct store *s = a->store;
	size_t i;

	pthread_mutex_lock(&s->lock);
	for (i = 0; i < s->idx_n && s->idx_ids[i] != a->id; i++)
		;
	if (i == s->idx_n && !s->idx_stop) {
		if (!s->idx_running) {
			if (pthread_create(&s->idx_thread, NULL, indexer_main, s) != 0) {
				/* Texts stay pending (search scans them); the
				   backlog bound makes writers index. */
				log_error("store", "event=indexer-start-failed");
				pthread_mutex_unlock(&s->lock);
				return;
			}
			s->idx_running = true;
		}
		if (s->idx_n == s->idx_cap) {
			s->idx_cap = s->idx_cap ? s->idx_cap * 2 : 16;
			s->idx_ids = xrealloc(s->idx_ids, s->idx_cap * sizeof(*s->idx_ids));
		}
		s->idx_ids[s->idx_n++] = a->id;
		pthread_cond_signal(&s->idx_cond);
	}
	pthread_mutex_unlock(&s->lock);
}

void
indexer_stop(struct store *s)
{
	pthread_mutex_lock(&s->lock);
	__atomic_store_n(&s->idx_stop, true, __ATOMIC_RELAXED);
	pthread_cond_broadcast(&s->idx_cond);
	pthread_mutex_unlock(&s->lock);
	if (s->idx_running)
		pthread_join(s->idx_thread, NULL);
	s->idx_running = false; /* a second stop (store_close after a test's) joins nothing */
	free(s->idx_ids);
	s->idx_ids = NULL;
	s->idx_n = s->idx_cap = 0;
}

void
indexer_hold(struct store *s, bool hold)
{
	pthread_mutex_lock(&s->lock);
	s->idx_held = hold;
	pthread_cond_broadcast(&s->idx_cond);
	pthread_mutex_unlock(&s->lock);
}
