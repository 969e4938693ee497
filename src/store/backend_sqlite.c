/* SPDX-License-Identifier: MIT */
/*
 * backend_sqlite.c: the default backend's side of the seam (backend.h):
 * what the neutral core asks of storage, over the index.db schema of
 * schema.c. An account is DATA_DIR/accounts/<id>/ (index.db + blobs/),
 * named only by the numeric id; its first open creates it.
 *
 * Views are fed from two indexes: messages(mailbox_id, modseq) gives the
 * messages changed after a modseq, expunged(mailbox_id, modseq) the uids
 * removed after it; both are read in one read transaction with the
 * mailbox row, so a catch-up sees one consistent state. The safety net of
 * the watch (account_poll) is PRAGMA data_version, which moves when any
 * other connection, in this process or another, committed since this
 * connection last asked.
 */
#include "store/store_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/util.h"

static int
sqlite_store_open(struct store *s, enum store_error *err_out)
{
	char *path;

	if (sqlite3_threadsafe() == 0) {
		log_error("store", "event=open-failed err=\"sqlite built without threads\"");
		*err_out = STORE_ERR_TEMP;
		return -1;
	}
	/* Every connection keeps up to 8 MiB of pages (db.c), and 256 kept
	   connections (store.max_idle_connections) could hold 2 GiB; the soft
	   limit makes their page caches recycle pages past it instead, the
	   hottest staying. Process-wide, as is SQLite's heap (one store per
	   process); enforced without SQLITE_ENABLE_MEMORY_MANAGEMENT through
	   the page cache, SQLite's largest user of memory. */
	sqlite3_soft_heap_limit64((sqlite3_int64)s->set.sqlite_memory);
	path = xasprintf("%s/accounts", s->data_dir);
	if (mkdir(path, 0700) < 0 && errno != EEXIST) {
		log_error("store", "event=open-failed dir=%s err=\"%s\"", path, strerror(errno));
		free(path);
		*err_out = STORE_ERR_TEMP;
		return -1;
	}
	free(path);
	return 0;
}

void
store_sqlite_memory(uint64_t *used_out, uint64_t *limit_out)
{
	*used_out = (uint64_t)sqlite3_memory_used();
	*limit_out = (uint64_t)sqlite3_soft_heap_limit64(-1);
}

static void
sqlite_store_close(struct store *s)
{
	indexer_stop(s); /* queued texts stay pending for the next open */
}

/* Counts the texts a previous run (or another process) committed but did
   not index, and notes blobs it left uncollected (index blobs_unreferenced:
   one probe), blobs without a preview (blobs_no_preview: one probe) and an
   upgrade's fuzzy backlog (fuzzy.c). */
static int
backlog_load(struct account *a, struct db *db)
{
	static const char sql[] = "SELECT (SELECT count(*) FROM fts_pending),"
	                          " EXISTS (SELECT 1 FROM blobs WHERE refs = 0),"
	                          " EXISTS (SELECT 1 FROM blobs WHERE preview IS NULL),"
	                          " EXISTS (SELECT 1 FROM fuzzy_backlog)";
	sqlite3_stmt *st = db_stmt(db, sql);

	if (st == NULL || sqlite3_step(st) != SQLITE_ROW)
		return -1;
	a->fts_backlog = sqlite3_column_int64(st, 0);
	a->collect_pending |= sqlite3_column_int(st, 1) != 0;
	a->preview_pending |= sqlite3_column_int(st, 2) != 0; /* index blobs_no_preview */
	a->fuzzy_backlog = sqlite3_column_int(st, 3) != 0;
	sqlite3_reset(st);
	return 0;
}

static void
sqlite_account_close(struct account *a)
{
	struct db *db;
	enum store_error err;

	/* Blobs kept for sessions that are gone now (retain.c; the views
	   went first, so every pin did). */
	if (a->pins != NULL && retain_collect_pending(a) && db_get(a, &db, &err) == 0) {
		pthread_mutex_lock(&a->write_lock);
		blobs_collect(a, db);
		pthread_mutex_unlock(&a->write_lock);
		db_put(a, db);
	}
	db_pool_close_all(a);
	pthread_mutex_destroy(&a->pool_lock);
	free(a->dir);
	free(a->blob_dir);
	a->dir = a->blob_dir = NULL;
}

/* Creates the directory and database on first use; loads keywords and the
   indexer backlog. */
static int
sqlite_account_open(struct account *a, enum store_error *err_out)
{
	struct store *s = a->store;
	char *path;
	struct db *db;
	struct stat st;
	bool is_new;
	int rc = 0;

	a->dir = xasprintf("%s/accounts/%llu", s->data_dir, (unsigned long long)a->id);
	a->blob_dir = xasprintf("%s/blobs", a->dir);
	pthread_mutex_init(&a->pool_lock, NULL);
	if ((mkdir(a->dir, 0700) < 0 && errno != EEXIST) ||
	    (mkdir(a->blob_dir, 0700) < 0 && errno != EEXIST)) {
		log_error("store", "event=account-create-failed account=%llu err=\"%s\"",
		          (unsigned long long)a->id, strerror(errno));
		goto fail;
	}
	path = xasprintf("%s/index.db", a->dir);
	is_new = stat(path, &st) < 0;
	if (db_open_file(path, s->set.no_fsync, s->set.sqlite_mmap, &db) < 0) {
		free(path);
		goto fail;
	}
	free(path);
	if (is_new || schema_check(db) < 0)
		rc = schema_create(db, &s->set, a->id != STORE_SHARED_ACCOUNT);
	if (rc == 0)
		rc = keywords_load(a, db);
	if (rc == 0)
		rc = backlog_load(a, db);
	if (rc < 0) {
		db_close(db);
		goto fail;
	}
	db_set_baseline(db, -1); /* a new registry entry: no view yet */
	a->n_out++;              /* opened here, not by db_get(): the pool takes it */
	db_put(a, db);
	return 0;
fail:
	sqlite_account_close(a);
	*err_out = STORE_ERR_TEMP;
	return -1;
}

static void
sqlite_account_opened(struct account *a)
{
	bool kick;

	/* Texts a previous run left unindexed (search scans them meanwhile),
	   blobs it left uncollected (a crash, or store_close in between).
	   Under the write lock: the account is shared already, and a writer
	   may be changing both. */
	pthread_mutex_lock(&a->write_lock);
	kick = a->fts_backlog > 0 || a->collect_pending || a->preview_pending || a->fuzzy_backlog;
	pthread_mutex_unlock(&a->write_lock);
	if (kick)
		indexer_kick(a);
}

/* Another process's appends left texts in fts_pending, or its expunges
   blobs to collect: do it here (search scans pending texts meanwhile).
   Skipped while a writer of this process holds the lock: it kicks the
   indexer itself. */
static void
sqlite_account_changed(struct account *a)
{
	enum store_error err;
	struct db *db;
	bool kick = false;

	if (db_get(a, &db, &err) < 0)
		return;
	if (pthread_mutex_trylock(&a->write_lock) == 0) {
		kick = backlog_load(a, db) == 0 && (a->fts_backlog > 0 || a->collect_pending ||
		                                    a->preview_pending || a->fuzzy_backlog);
		pthread_mutex_unlock(&a->write_lock);
	}
	db_put(a, db);
	if (kick)
		indexer_kick(a);
}

static int
cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

static int
sqlite_account_list(struct store *s, uint64_t **ids_out, size_t *n_out)
{
	char *path = xasprintf("%s/accounts", s->data_dir);
	DIR *d = opendir(path);
	struct dirent *e;
	uint64_t *ids = NULL, id;
	size_t n = 0, cap = 0;

	free(path);
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (!str_to_u64(e->d_name, UINT64_MAX, &id))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			ids = xrealloc(ids, cap * sizeof(*ids));
		}
		ids[n++] = id;
	}
	closedir(d);
	if (n > 0)
		qsort(ids, n, sizeof(*ids), cmp_u64);
	*ids_out = ids;
	*n_out = n;
	return 0;
}

/*
 * With no connection open, asking data_version would mean opening one
 * (~200 KiB and a schema read) per account per sweep. Instead the files
 * are compared with what they were when the account's last connection
 * closed: any commit appends to index.db-wal or (checkpointed, or by a
 * process that then closed) rewrites index.db, and either write moves the
 * file's mtime or size. File times are coarse (a clock tick), so a print
 * is trusted only when every mtime in it is older than the poll before it
 * by a second: a commit after that poll would show a later mtime. An
 * unsettled print (the close's own checkpoint just wrote index.db) sends
 * the next poll to data_version, and the next trim takes a settled one.
 */
static void
file_print(const char *path, struct file_print *out)
{
	struct stat st;

	memset(out, 0, sizeof(*out));
	if (stat(path, &st) < 0)
		return;
	out->exists = true;
	out->ino = (uint64_t)st.st_ino;
	out->size = (uint64_t)st.st_size;
	out->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
}

static void
files_print(struct account *a, struct files_print *out)
{
	char *path = xasprintf("%s/index.db", a->dir);

	file_print(path, &out->db);
	free(path);
	path = xasprintf("%s/index.db-wal", a->dir);
	file_print(path, &out->wal);
	free(path);
}

static bool
sqlite_account_trim(struct account *a, uint64_t idle_ms, int64_t ref_ns)
{
	bool empty;
	unsigned n = db_pool_trim(a, idle_ms, &empty);

	if (n == 0 || !empty)
		return n > 0;
	pthread_mutex_lock(&a->pool_lock);
	if (a->idle == NULL && a->n_out == 0)
		sqlite_account_unpooled(a, ref_ns);
	pthread_mutex_unlock(&a->pool_lock);
	return true;
}

void
sqlite_account_unpooled(struct account *a, int64_t ref_ns)
{
	files_print(a, &a->print);
	a->print_valid = true;
	a->print_settled = a->print.db.mtime_ns < ref_ns - 1000000000 &&
	                   a->print.wal.mtime_ns < ref_ns - 1000000000;
}

/*
 * data_version is per connection: it moves when another connection
 * committed since this one last asked. The pool hands out any of its
 * connections, so each remembers its own last value; one seen for the
 * first time counts as changed. Sound, because every poll that said
 * "changed" was followed by a catch-up that read everything committed
 * before that poll: an unchanged value on any connection means nothing
 * but this process's own writes (which feed the views directly) came
 * since that connection's last poll.
 */
static int
sqlite_account_poll(struct account *a, bool *changed_out)
{
	static const char sql[] = "PRAGMA data_version";
	enum store_error err;
	struct db *db;
	sqlite3_stmt *st;
	int rc = -1;

	*changed_out = true;
	pthread_mutex_lock(&a->pool_lock);
	if (a->print_valid && a->print_settled && a->idle == NULL && a->n_out == 0) {
		struct files_print now;

		files_print(a, &now);
		if (memcmp(&now, &a->print, sizeof(now)) == 0) {
			pthread_mutex_unlock(&a->pool_lock);
			*changed_out = false;
			return 0;
		}
	}
	pthread_mutex_unlock(&a->pool_lock);
	if (db_get(a, &db, &err) < 0)
		return -1;
	st = db_stmt(db, sql);
	if (st != NULL && sqlite3_step(st) == SQLITE_ROW) {
		int64_t v = sqlite3_column_int64(st, 0);

		*changed_out = !db->has_data_version || db->is_fresh || db->data_version != v;
		db->data_version = v;
		db->has_data_version = true;
		rc = 0;
	}
	if (st != NULL)
		sqlite3_reset(st);
	db_put(a, db);
	return rc;
}

static int
sqlite_mailbox_lookup(struct account *a, const char *canon, uint64_t *id_out,
                      enum store_error *err_out)
{
	struct db *db;
	int rc;

	if (db_get(a, &db, err_out) < 0)
		return -1;
	rc = mailbox_id_lookup(db, canon, id_out, err_out);
	db_put(a, db);
	return rc;
}

static int
sqlite_mailbox_state(struct account *a, uint64_t mailbox_id, struct store_mailbox_info *out,
                     enum store_error *err_out)
{
	struct db *db;
	int rc;

	if (db_get(a, &db, err_out) < 0)
		return -1;
	rc = mailbox_info_read(db, mailbox_id, NULL, out, err_out);
	db_put(a, db);
	return rc;
}

/* Feeds sink the rows of st (uid, flags, keywords, modseq). */
static int
messages_feed(struct db *db, sqlite3_stmt *st, const struct backend_sink *sink, void *ctx)
{
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		sink->message(ctx, (uint32_t)sqlite3_column_int64(st, 0),
		              (uint32_t)sqlite3_column_int(st, 1),
		              (uint64_t)sqlite3_column_int64(st, 2),
		              (uint64_t)sqlite3_column_int64(st, 3));
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		db_log_error(db, "view-read");
		return -1;
	}
	return 0;
}

/*
 * One read transaction: the state, then (since > 0) the expunge history
 * and the changed messages after since, or (load) every message.
 */
static int
mailbox_read(struct account *a, uint64_t mailbox_id, bool load, uint64_t since,
             const struct backend_sink *sink, void *ctx, enum store_error *err_out)
{
	static const char all_sql[] = "SELECT uid, flags, keywords, modseq FROM messages"
	                              " WHERE mailbox_id = ? ORDER BY uid";
	static const char changed_sql[] = "SELECT uid, flags, keywords, modseq FROM messages"
	                                  " WHERE mailbox_id = ? AND modseq > ? ORDER BY uid";
	static const char gone_sql[] = "SELECT uid, modseq FROM expunged"
	                               " WHERE mailbox_id = ? AND modseq > ? ORDER BY uid";
	struct store_mailbox_info state;
	struct db *db;
	sqlite3_stmt *st;
	int rc = -1, step;

	if (db_get(a, &db, err_out) < 0)
		return -1;
	if (db_begin(db, false) < 0) {
		*err_out = db_error(db);
		goto out;
	}
	if (mailbox_info_read(db, mailbox_id, NULL, &state, err_out) < 0)
		goto out;
	sink->state(ctx, &state);
	if (!load) {
		st = db_stmt(db, gone_sql);
		if (st == NULL)
			goto fail;
		sqlite3_bind_int64(st, 1, (int64_t)mailbox_id);
		sqlite3_bind_int64(st, 2, (int64_t)since);
		while ((step = sqlite3_step(st)) == SQLITE_ROW)
			sink->expunged(ctx, (uint32_t)sqlite3_column_int64(st, 0),
			               (uint64_t)sqlite3_column_int64(st, 1));
		sqlite3_reset(st);
		if (step != SQLITE_DONE)
			goto fail;
	}
	st = db_stmt(db, load ? all_sql : changed_sql);
	if (st == NULL)
		goto fail;
	sqlite3_bind_int64(st, 1, (int64_t)mailbox_id);
	if (!load)
		sqlite3_bind_int64(st, 2, (int64_t)since);
	if (messages_feed(db, st, sink, ctx) < 0)
		goto fail;
	rc = 0;
	goto out;
fail:
	*err_out = db_error(db);
out:
	db_rollback(db); /* ends the read transaction */
	db_put(a, db);
	return rc;
}

static int
sqlite_mailbox_load(struct account *a, uint64_t mailbox_id, const struct backend_sink *sink,
                    void *ctx, enum store_error *err_out)
{
	return mailbox_read(a, mailbox_id, true, 0, sink, ctx, err_out);
}

static int
sqlite_mailbox_changes(struct account *a, uint64_t mailbox_id, uint64_t since,
                       const struct backend_sink *sink, void *ctx, enum store_error *err_out)
{
	return mailbox_read(a, mailbox_id, false, since, sink, ctx, err_out);
}

/* One write transaction, so two processes cannot both claim a range. */
static int
sqlite_recent_claim(struct account *a, uint64_t mailbox_id, uint32_t *lo_out, uint32_t *hi_out,
                    uint32_t *claimed_out, enum store_error *err_out)
{
	static const char get_sql[] = "SELECT recent_uid, uidnext, recent FROM mailboxes"
	                              " WHERE id = ?";
	static const char set_sql[] = "UPDATE mailboxes SET recent_uid = uidnext, recent = 0"
	                              " WHERE id = ?";
	struct db *db;
	sqlite3_stmt *st;
	int rc = -1, step;

	*lo_out = *hi_out = *claimed_out = 0;
	if (db_get(a, &db, err_out) < 0)
		return -1;
	if (db_begin(db, true) < 0 || (st = db_stmt(db, get_sql)) == NULL)
		goto fail;
	sqlite3_bind_int64(st, 1, (int64_t)mailbox_id);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		*lo_out = (uint32_t)sqlite3_column_int64(st, 0);
		*hi_out = (uint32_t)sqlite3_column_int64(st, 1);
		*claimed_out = (uint32_t)sqlite3_column_int64(st, 2);
	}
	sqlite3_reset(st);
	if (step != SQLITE_ROW) {
		if (step == SQLITE_DONE) {
			*err_out = STORE_ERR_NOTFOUND;
			goto out;
		}
		goto fail;
	}
	if (*lo_out >= *hi_out) {
		rc = 0;
		goto out;
	}
	st = db_stmt(db, set_sql);
	if (st == NULL)
		goto fail;
	sqlite3_bind_int64(st, 1, (int64_t)mailbox_id);
	if (db_step_done(db, st) < 0 || db_commit(db) < 0)
		goto fail;
	db_put(a, db);
	return 0;
fail:
	*err_out = db_error(db);
out:
	if (rc < 0)
		*lo_out = *hi_out = *claimed_out = 0;
	db_rollback(db);
	db_put(a, db);
	return rc;
}

const struct store_backend store_backend_sqlite = {
        .name = "sqlite",
        .store_open = sqlite_store_open,
        .store_close = sqlite_store_close,
        .account_open = sqlite_account_open,
        .account_opened = sqlite_account_opened,
        .account_close = sqlite_account_close,
        .account_list = sqlite_account_list,
        .account_poll = sqlite_account_poll,
        .account_trim = sqlite_account_trim,
        .account_changed = sqlite_account_changed,
        .account_check = check_account,
        .account_collect = check_collect,
        .mailbox_lookup = sqlite_mailbox_lookup,
        .mailbox_state = sqlite_mailbox_state,
        .mailbox_load = sqlite_mailbox_load,
        .mailbox_changes = sqlite_mailbox_changes,
        .recent_claim = sqlite_recent_claim,
};
