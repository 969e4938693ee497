/* SPDX-License-Identifier: MIT */
/*
 * db.c: SQLite connections for the default backend. Each account has a small
 * pool of connections shared by all its sessions on all threads: a call
 * takes one (db_get), uses it on its own thread for the length of the call,
 * and gives it back (db_put). So an idle session holds no connection, a
 * busy account holds at most one per worker thread, and pool_idle are kept
 * for the next call. Kept ones unused for pool_idle_ms are closed by the
 * watch's sweep (db_pool_trim): a connection costs ~200 KiB (schema,
 * statements, page cache, maps), an account whose sessions only IDLE then
 * costs its views. Connections are opened SQLITE_OPEN_NOMUTEX since one
 * thread at a time uses each; prepared statements are cached per connection.
 *
 * WAL with synchronous=FULL: a commit is on disk when COMMIT returns, which
 * is what "reply only after commit" needs. Writers of one account are
 * serialised in process by acct->write_lock; busy_timeout covers another
 * process (tern check, a delivery). db_commit() of a pool connection
 * announces the commit to other processes (watch_committed()).
 */
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>

#include "lib/arena.h"
#include "lib/log.h"
#include "lib/util.h"

int
db_open_file(const char *path, bool no_fsync, struct db **db_out)
{
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
	search_register(h);
	fuzzy_register(h);
	if (db_exec(db, "PRAGMA journal_mode=WAL") < 0 ||
	    db_exec(db, no_fsync ? "PRAGMA synchronous=OFF" : "PRAGMA synchronous=FULL") < 0 ||
	    db_exec(db, "PRAGMA temp_store=MEMORY") < 0 ||
	    db_exec(db, "PRAGMA cache_size=-8192") < 0 ||
	    db_exec(db, "PRAGMA mmap_size=268435456") < 0) {
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

int
db_get(struct account *acct, struct db **db_out, enum store_error *err_out)
{
	struct db *db;
	char *path;

	pthread_mutex_lock(&acct->pool_lock);
	db = acct->idle;
	if (db != NULL) {
		acct->idle = db->next;
		acct->n_idle--;
	} else {
		/* A new connection may write: the files' print says nothing
		   about the account from now on. */
		acct->print_valid = false;
	}
	acct->n_out++;
	pthread_mutex_unlock(&acct->pool_lock);
	if (db == NULL) {
		path = xasprintf("%s/index.db", acct->dir);
		if (db_open_file(path, acct->store->set.no_fsync, &db) < 0) {
			free(path);
			pthread_mutex_lock(&acct->pool_lock);
			acct->n_out--;
			pthread_mutex_unlock(&acct->pool_lock);
			*err_out = STORE_ERR_TEMP;
			return -1;
		}
		free(path);
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
	pthread_mutex_lock(&acct->pool_lock);
	acct->n_out--;
	if (acct->n_idle < acct->store->set.pool_idle) {
		db->next = acct->idle;
		acct->idle = db;
		acct->n_idle++;
		db = NULL;
	}
	pthread_mutex_unlock(&acct->pool_lock);
	db_close(db);
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
			db->next = old;
			old = db;
			acct->n_idle--;
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
