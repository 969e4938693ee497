/* SPDX-License-Identifier: MIT */
/*
 * db.c: SQLite connections for the default backend. Each account has a small
 * pool of connections shared by all its sessions on all threads: a call
 * takes one (db_get), uses it on its own thread for the length of the call,
 * and gives it back (db_put). So an idle session holds no connection, a
 * busy account holds at most one per worker thread, and pool_idle are kept
 * for the next call. Kept ones unused for pool_idle_ms are closed by the
 * watch's sweep (db_pool_trim): a connection costs ~200 KiB (schema,
 * statements, page cache; maps with store.sqlite_mmap), an account whose
 * sessions only IDLE then costs its views. Connections are opened
 * SQLITE_OPEN_NOMUTEX since one thread at a time uses each; prepared
 * statements are cached per connection.
 *
 * WAL with synchronous=FULL: a commit is on disk when COMMIT returns, which
 * is what "reply only after commit" needs. Writers of one account are
 * serialised in process by acct->write_lock; busy_timeout covers another
 * process (tern check, a delivery). db_commit() of a pool connection
 * announces the commit to other processes (watch_committed()).
 *
 * Kept connections are also bounded in all (store.max_idle_connections,
 * store_settings.max_idle_dbs): past it the least recently used one, of
 * whichever account, is closed when another is put back. If somebody else
 * committed since it last looked, the account's views may miss that
 * commit, so the watch's next sweep catches them up (needs_catch_up)
 * rather than trusting the files' print taken in its place. Without that bound
 * a login storm of a thousand accounts held a thousand connections for
 * idle_close, and the sessions' own small long-lived objects, allocated
 * between them, pinned the pages those connections freed: 57 KiB resident
 * per idle IMAP session; 27 KiB with a bound of 64, 18 with 8. The default
 * is 256 all the same: reopening is what a tight bound costs, a schema read
 * and every statement prepared again, and ImapTest's mix over 100 accounts
 * ran 2.5x faster with room for all of them (646 vs 1,644 commands/s);
 * 10,000 idle sessions cost 20 KiB each with it (16.5 with 64).
 */
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/arena.h"
#include "lib/cancel.h"
#include "lib/log.h"
#include "lib/util.h"

/* Virtual machine steps between two looks at the thread's cancellation
   flag: a few microseconds of work, so a cancelled statement stops within
   a millisecond and the look costs nothing measurable. */
#define PROGRESS_OPS 4096

/* Nonzero interrupts the running statement (SQLITE_INTERRUPT): the thread
   works for a session that went, or a server that stops (lib/cancel.h).
   An interrupted write transaction is rolled back whole by SQLite. */
static int
is_cancelled(void *unused)
{
	(void)unused;
	return cancel_is_requested();
}

int
db_open_file(const char *path, bool no_fsync, uint64_t mmap_bytes, struct db **db_out)
{
	char mmap_sql[64];
	sqlite3 *h = NULL;
	struct db *db;
	int rc;

	rc = sqlite3_open_v2(
	        path, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		log_error("store", "event=db-open-failed path=%s err=\"%s\"", path,
		          h ? sqlite3_errmsg(h) : sqlite3_errstr(rc));
		sqlite3_close(h);
		return -1;
	}
	db = xcalloc(1, sizeof(*db));
	db->h = h;
	sqlite3_busy_timeout(h, 10000);
	sqlite3_extended_result_codes(h, 1);
	sqlite3_progress_handler(h, PROGRESS_OPS, is_cancelled, NULL);
	search_register(h);
	fuzzy_register(h);
	snprintf(mmap_sql, sizeof(mmap_sql), "PRAGMA mmap_size=%llu",
	         (unsigned long long)mmap_bytes);
	if (db_exec(db, "PRAGMA journal_mode=WAL") < 0 ||
	    db_exec(db, no_fsync ? "PRAGMA synchronous=OFF" : "PRAGMA synchronous=FULL") < 0 ||
	    db_exec(db, "PRAGMA temp_store=MEMORY") < 0 ||
	    db_exec(db, "PRAGMA cache_size=-8192") < 0 || db_exec(db, mmap_sql) < 0) {
		db_close(db);
		return -1;
	}
	*db_out = db;
	return 0;
}

void
db_close(struct db *db)
{
	if (db == NULL)
		return;
	for (unsigned i = 0; i < db->n_stmts; i++)
		sqlite3_finalize(db->stmts[i].st);
	sqlite3_close(db->h);
	free(db);
}

static int64_t
time_real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The store's list of idle connections; idle_lock held. */
static void
lru_unlink(struct store *s, struct db *db)
{
	if (db->lru_prev != NULL)
		db->lru_prev->lru_next = db->lru_next;
	else
		s->idle_head = db->lru_next;
	if (db->lru_next != NULL)
		db->lru_next->lru_prev = db->lru_prev;
	else
		s->idle_tail = db->lru_prev;
	db->lru_prev = db->lru_next = NULL;
	s->n_idle_dbs--;
}

/* At the head (just used), or at the tail: the watch's polls are not the
   account's own use and should not keep its connection. */
static void
lru_link(struct store *s, struct db *db, bool at_tail)
{
	if (at_tail) {
		db->lru_next = NULL;
		db->lru_prev = s->idle_tail;
		if (s->idle_tail != NULL)
			s->idle_tail->lru_next = db;
		else
			s->idle_head = db;
		s->idle_tail = db;
	} else {
		db->lru_prev = NULL;
		db->lru_next = s->idle_head;
		if (s->idle_head != NULL)
			s->idle_head->lru_prev = db;
		else
			s->idle_tail = db;
		s->idle_head = db;
	}
	s->n_idle_dbs++;
}

/* Takes db off acct's own list of kept ones (at most store.pool_idle);
   pool_lock held. */
static void
stack_remove(struct account *acct, struct db *db)
{
	struct db **pp = &acct->idle;

	while (*pp != db)
		pp = &(*pp)->next;
	*pp = db->next;
	acct->n_idle--;
}

/* Takes db off acct's kept ones and the store's list; pool_lock held. */
static void
pool_remove(struct account *acct, struct db *db)
{
	stack_remove(acct, db);
	pthread_mutex_lock(&acct->store->idle_lock);
	lru_unlink(acct->store, db);
	pthread_mutex_unlock(&acct->store->idle_lock);
}

/* PRAGMA data_version of db: -1 if it cannot say. */
static int64_t
data_version(struct db *db)
{
	sqlite3_stmt *st = db_stmt(db, "PRAGMA data_version");
	int64_t v = -1;

	if (st != NULL && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	if (st != NULL)
		sqlite3_reset(st);
	return v;
}

void
db_set_baseline(struct db *db, int64_t version)
{
	if (version < 0)
		version = data_version(db);
	if (version >= 0) {
		db->data_version = version;
		db->has_data_version = true;
	}
}

/* Whether a kept connection may close without a catch-up after it: when
   nobody else committed since its data_version was last taken, the views
   are as current as the files are now, so the print taken in its place
   tells the watch's next poll all it needs (account_poll). One that
   cannot say (its data_version moved, or could not be read) may have seen
   a commit that no view has: most often this process's own (a delivery,
   the indexer), which fed the views already, but possibly another
   process's. */
static bool
no_commit_since_baseline(struct db *db)
{
	return db->has_data_version && data_version(db) == db->data_version;
}

/* Closes the least recently used kept connections beyond
   store.max_idle_dbs, looking at a few from the tail. The victim's
   account lock is only tried (the usual order is that lock, then
   idle_lock): one held means its account is busy, the next db_put()
   tries again. An account left with no connection has its files' print
   taken, so the watch need not open one to poll it; one whose victim
   could not say it saw nothing new is caught up by the watch's next
   sweep instead (a connection opened, one read per view). Keeping such
   connections until idle_close instead held two per account after one
   delivery to every account of an idle fleet: 5,600 descriptors at 1,000
   accounts, past the limit at 10,000. */
#define EVICT_LOOK 8
static void
pool_enforce_budget(struct store *s)
{
	struct db *closing = NULL;
	unsigned looked = 0;

	pthread_mutex_lock(&s->idle_lock);
	for (struct db *db = s->idle_tail, *prev;
	     db != NULL && s->n_idle_dbs > s->set.max_idle_dbs && looked < EVICT_LOOK; db = prev) {
		struct account *owner = db->acct;

		prev = db->lru_prev;
		looked++;
		if (pthread_mutex_trylock(&owner->pool_lock) != 0)
			continue;
		if (!no_commit_since_baseline(db))
			atomic_store(&owner->needs_catch_up, true);
		stack_remove(owner, db);
		lru_unlink(s, db);
		if (owner->idle == NULL && owner->n_out == 0)
			sqlite_account_unpooled(owner, time_real_ns());
		pthread_mutex_unlock(&owner->pool_lock);
		db->next = closing;
		closing = db;
	}
	pthread_mutex_unlock(&s->idle_lock);
	while (closing != NULL) {
		struct db *next = closing->next;
		db_close(closing);
		closing = next;
	}
}

int
db_get(struct account *acct, struct db **db_out, enum store_error *err_out)
{
	struct db *db;
	char *path;

	pthread_mutex_lock(&acct->pool_lock);
	db = acct->idle;
	if (db != NULL) {
		pool_remove(acct, db);
	} else {
		/* A new connection may write: the files' print says nothing
		   about the account from now on. */
		acct->print_valid = false;
	}
	acct->n_out++;
	pthread_mutex_unlock(&acct->pool_lock);
	if (db == NULL) {
		path = xasprintf("%s/index.db", acct->dir);
		if (db_open_file(path, acct->store->set.no_fsync, acct->store->set.sqlite_mmap,
		                 &db) < 0) {
			free(path);
			pthread_mutex_lock(&acct->pool_lock);
			acct->n_out--;
			pthread_mutex_unlock(&acct->pool_lock);
			*err_out = STORE_ERR_TEMP;
			return -1;
		}
		free(path);
		/* A baseline for data_version, so the connection may close
		   without a catch-up (no_commit_since_baseline). Sound where no
		   view exists or is loading: one loaded later reads what the
		   baseline covers.
		   With views, a commit from elsewhere before now may not be in
		   them: a catch-up must read it, so one is asked for the watch's
		   next sweep; on the watch thread itself the caller is a poll,
		   which says "changed" for a fresh connection (account_poll),
		   or a catch-up, which reads everything after this. */
		int64_t v = data_version(db);
		bool has_views;
		pthread_mutex_lock(&acct->views_lock);
		has_views = acct->views != NULL || atomic_load(&acct->views_loading) > 0;
		pthread_mutex_unlock(&acct->views_lock);
		db_set_baseline(db, v);
		db->is_fresh = true;
		if (has_views && !store_thread_is_watch)
			atomic_store(&acct->needs_catch_up, true);
	}
	db->next = NULL;
	db->acct = acct;
	*db_out = db;
	return 0;
}

void
db_put(struct account *acct, struct db *db)
{
	if (db == NULL)
		return;
	/* A statement left mid-step would hold a read snapshot open. */
	for (unsigned i = 0; i < db->n_stmts; i++)
		sqlite3_reset(db->stmts[i].st);
	/* The watch's polls and catch-ups are not the account's own use. */
	if (!store_thread_is_watch)
		db->last_used_ms = time_mono_ms();
	db->acct = acct; /* also one account_open made itself */
	db->is_fresh = false;
	pthread_mutex_lock(&acct->pool_lock);
	acct->n_out--;
	if (acct->n_idle < acct->store->set.pool_idle) {
		db->next = acct->idle;
		acct->idle = db;
		acct->n_idle++;
		pthread_mutex_lock(&acct->store->idle_lock);
		lru_link(acct->store, db, store_thread_is_watch);
		pthread_mutex_unlock(&acct->store->idle_lock);
		db = NULL;
	}
	pthread_mutex_unlock(&acct->pool_lock);
	if (db == NULL)
		pool_enforce_budget(acct->store);
	db_close(db);
}

void
db_pool_close_all(struct account *acct)
{
	struct db *db;

	pthread_mutex_lock(&acct->pool_lock);
	while ((db = acct->idle) != NULL) {
		pool_remove(acct, db);
		pthread_mutex_unlock(&acct->pool_lock);
		db_close(db);
		pthread_mutex_lock(&acct->pool_lock);
	}
	pthread_mutex_unlock(&acct->pool_lock);
}

unsigned
db_pool_trim(struct account *acct, uint64_t idle_ms, bool *empty_out)
{
	uint64_t now = time_mono_ms();
	struct db *old = NULL, **pp;
	unsigned n = 0;

	pthread_mutex_lock(&acct->pool_lock);
	for (pp = &acct->idle; *pp != NULL;) {
		struct db *db = *pp;

		if (now - db->last_used_ms >= idle_ms) {
			*pp = db->next;
			acct->n_idle--;
			pthread_mutex_lock(&acct->store->idle_lock);
			lru_unlink(acct->store, db);
			pthread_mutex_unlock(&acct->store->idle_lock);
			db->next = old;
			old = db;
			n++;
		} else {
			pp = &db->next;
		}
	}
	pthread_mutex_unlock(&acct->pool_lock);
	while (old != NULL) {
		struct db *next = old->next;
		db_close(old);
		old = next;
	}
	pthread_mutex_lock(&acct->pool_lock);
	*empty_out = acct->idle == NULL && acct->n_out == 0;
	pthread_mutex_unlock(&acct->pool_lock);
	return n;
}

sqlite3_stmt *
db_stmt(struct db *db, const char *sql)
{
	sqlite3_stmt *st = NULL;

	for (unsigned i = 0; i < db->n_stmts; i++) {
		if (db->stmts[i].sql == sql) {
			st = db->stmts[i].st;
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			return st;
		}
	}
	if (sqlite3_prepare_v3(db->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
		/* Our SQL is static: a failure here is a programming error or
		   a damaged schema. Callers see NULL and fail with _TEMP. */
		log_error("store", "event=prepare-failed err=\"%s\" sql=\"%.60s\"",
		          sqlite3_errmsg(db->h), sql);
		return NULL;
	}
	if (db->n_stmts < DB_STMT_CACHE) {
		db->stmts[db->n_stmts].sql = sql;
		db->stmts[db->n_stmts].st = st;
		db->n_stmts++;
	} else {
		/* Cache full: evict the oldest (cannot happen with our SQL). */
		sqlite3_finalize(db->stmts[0].st);
		memmove(&db->stmts[0], &db->stmts[1], sizeof(db->stmts[0]) * (DB_STMT_CACHE - 1));
		db->stmts[DB_STMT_CACHE - 1].sql = sql;
		db->stmts[DB_STMT_CACHE - 1].st = st;
	}
	return st;
}

int
db_exec(struct db *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
		log_error("store", "event=sql-failed err=\"%s\" sql=\"%.60s\"", msg ? msg : "?",
		          sql);
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

int
db_begin(struct db *db, bool write)
{
	return db_exec(db, write ? "BEGIN IMMEDIATE" : "BEGIN");
}

int
db_commit(struct db *db)
{
	if (store_fault_hit(STORE_FAULT_COMMIT)) {
		log_error("store", "event=commit-failed err=\"injected fault\"");
		return -1;
	}
	if (db_exec(db, "COMMIT") < 0)
		return -1;
	/* Every write through the store ends here: other processes' views
	   hear of it (watch.c). */
	if (db->acct != NULL)
		watch_committed(db->acct);
	return 0;
}

void
db_rollback(struct db *db)
{
	if (sqlite3_get_autocommit(db->h) == 0)
		sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
}

int
db_step_done(struct db *db, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_DONE || rc == SQLITE_ROW) {
		sqlite3_reset(st);
		return 0;
	}
	db_log_error(db, "step");
	sqlite3_reset(st);
	return -1;
}

void
db_log_error(struct db *db, const char *what)
{
	if ((sqlite3_errcode(db->h) & 0xff) == SQLITE_INTERRUPT) {
		/* Not a fault: the command's session went (is_cancelled). */
		log_info("store", "event=sql-cancelled op=%s", what);
		return;
	}
	log_error("store", "event=sql-failed op=%s err=\"%s\"", what, sqlite3_errmsg(db->h));
}

enum store_error
db_error(struct db *db)
{
	switch (sqlite3_errcode(db->h) & 0xff) {
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return STORE_ERR_CORRUPT;
	default:
		return STORE_ERR_TEMP;
	}
}

int
db_collect_uids(struct db *db, sqlite3_stmt *st, struct arena *a, uint32_t **uids_out,
                size_t *n_out)
{
	uint32_t *tmp = NULL;
	size_t n = 0, cap = 0;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			tmp = xrealloc(tmp, cap * sizeof(*tmp));
		}
		tmp[n++] = (uint32_t)sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		db_log_error(db, "collect");
		free(tmp);
		return -1;
	}
	*uids_out = arena_alloc(a, (n ? n : 1) * sizeof(uint32_t));
	if (n > 0)
		memcpy(*uids_out, tmp, n * sizeof(uint32_t));
	*n_out = n;
	free(tmp);
	return 0;
}
