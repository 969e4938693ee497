/* SPDX-License-Identifier: MIT */
/*
 * account.c: opening and closing accounts. An account is the directory
 * DATA_DIR/accounts/<id>/ (index.db + blobs/), built only from the numeric id
 * the auth module gives, never from a client string. The first open creates
 * it (schema, default mailboxes, default quota). Sessions get a small handle;
 * the shared struct account (connection pool, views, keywords) lives while
 * any handle does, in the store's registry.
 */
#include "store/store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/hash.h"
#include "lib/log.h"
#include "lib/util.h"

static void
account_free(struct account *a)
{
	struct db *db;
	enum store_error err;

	view_drop_all(a);
	/* Blobs kept for sessions that are gone now (retain.c). */
	if (retain_collect_pending(a) && db_get(a, &db, &err) == 0) {
		pthread_mutex_lock(&a->write_lock);
		blobs_collect(a, db);
		pthread_mutex_unlock(&a->write_lock);
		db_put(a, db);
	}
	while ((db = a->idle) != NULL) {
		a->idle = db->next;
		db_close(db);
	}
	for (unsigned i = 0; i < a->n_keywords; i++)
		free(a->keywords[i]);
	pthread_mutex_destroy(&a->pool_lock);
	pthread_mutex_destroy(&a->write_lock);
	commit_deinit(a);
	pthread_mutex_destroy(&a->views_lock);
	pthread_mutex_destroy(&a->kw_lock);
	free(a->pending.msgs);
	hash_free(&a->pins);
	pthread_mutex_destroy(&a->retain_lock);
	pthread_mutex_destroy(&a->watch_lock);
	if (a->blob_dirfd >= 0)
		close(a->blob_dirfd);
	free(a->dir);
	free(a->blob_dir);
	free(a);
}

/* Counts the texts a previous run committed but did not index. */
static int
backlog_load(struct account *a, struct db *db)
{
	static const char sql[] = "SELECT count(*) FROM fts_pending";
	sqlite3_stmt *st = db_stmt(db, sql);

	if (st == NULL || sqlite3_step(st) != SQLITE_ROW)
		return -1;
	a->fts_backlog = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return 0;
}

/* Creates the directory and database on first use; loads keywords and the
   indexer backlog. */
static int
account_init(struct account *a, enum store_error *err_out)
{
	char *path;
	struct db *db;
	struct stat st;
	bool is_new;
	int rc = 0;

	if ((mkdir(a->dir, 0700) < 0 && errno != EEXIST) ||
	    (mkdir(a->blob_dir, 0700) < 0 && errno != EEXIST)) {
		log_error("store", "event=account-create-failed account=%llu err=\"%s\"",
		          (unsigned long long)a->id, strerror(errno));
		*err_out = STORE_ERR_TEMP;
		return -1;
	}
	path = xasprintf("%s/index.db", a->dir);
	is_new = stat(path, &st) < 0;
	if (db_open_file(path, a->store->set.no_fsync, &db) < 0) {
		free(path);
		*err_out = STORE_ERR_TEMP;
		return -1;
	}
	free(path);
	if (is_new || schema_check(db) < 0)
		rc = schema_create(db, &a->store->set);
	if (rc == 0)
		rc = keywords_load(a, db);
	if (rc == 0)
		rc = backlog_load(a, db);
	if (rc < 0) {
		db_close(db);
		*err_out = STORE_ERR_TEMP;
		return -1;
	}
	db_put(a, db);
	/* Reads open "ab/ab12..." relative to this: two path components to
	   look up per message instead of the whole data directory path. */
	a->blob_dirfd = open(a->blob_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return 0;
}

int
store_account_open(struct store *store, uint64_t account_id, struct store_account **acct_out,
                   enum store_error *err_out)
{
	struct account *a;
	bool kick = false;

	/* The registry lock is held across creation so two first sessions of
	   one account cannot both build its directory. Creation is rare. */
	pthread_mutex_lock(&store->lock);
	a = hash_u64_find(store->accounts, account_id);
	if (a == NULL) {
		a = xcalloc(1, sizeof(*a));
		a->store = store;
		a->id = account_id;
		a->dir = xasprintf("%s/accounts/%llu", store->data_dir,
		                   (unsigned long long)account_id);
		a->blob_dir = xasprintf("%s/blobs", a->dir);
		a->blob_dirfd = -1;
		pthread_mutex_init(&a->pool_lock, NULL);
		pthread_mutex_init(&a->write_lock, NULL);
		commit_init(a);
		pthread_mutex_init(&a->views_lock, NULL);
		pthread_mutex_init(&a->kw_lock, NULL);
		pthread_mutex_init(&a->retain_lock, NULL);
		pthread_mutex_init(&a->watch_lock, NULL);
		a->pins = hash_new(HASH_KEYS_U64, 0);
		if (account_init(a, err_out) < 0) {
			pthread_mutex_unlock(&store->lock);
			account_free(a);
			return -1;
		}
		hash_u64_set(store->accounts, account_id, a);
		kick = a->fts_backlog > 0;
	}
	a->refs++;
	pthread_mutex_unlock(&store->lock);

	/* Texts a previous run left unindexed (search scans them meanwhile). */
	if (kick)
		indexer_kick(a);
	*acct_out = xcalloc(1, sizeof(**acct_out));
	(*acct_out)->a = a;
	return 0;
}

void
store_account_close(struct store_account **acctp)
{
	struct store_account *h = *acctp;
	struct account *a;
	struct store *store;

	if (h == NULL)
		return;
	a = h->a;
	store = a->store;
	store_account_watch(h, NULL, NULL);
	free(h);
	*acctp = NULL;

	pthread_mutex_lock(&store->lock);
	if (--a->refs > 0) {
		pthread_mutex_unlock(&store->lock);
		return;
	}
	hash_u64_remove(store->accounts, a->id);
	pthread_mutex_unlock(&store->lock);
	account_free(a);
}

uint64_t
store_account_id(const struct store_account *acct)
{
	return acct->a->id;
}

void
store_account_watch(struct store_account *acct, store_wake_fn *wake, void *arg)
{
	struct account *a = acct->a;

	pthread_mutex_lock(&a->watch_lock);
	if (acct->wake != NULL) { /* unlink */
		if (acct->wprev != NULL)
			acct->wprev->wnext = acct->wnext;
		else
			a->watchers = acct->wnext;
		if (acct->wnext != NULL)
			acct->wnext->wprev = acct->wprev;
		acct->wnext = acct->wprev = NULL;
	}
	acct->wake = wake;
	acct->wake_arg = arg;
	if (wake != NULL) {
		acct->wnext = a->watchers;
		if (a->watchers != NULL)
			a->watchers->wprev = acct;
		a->watchers = acct;
	}
	pthread_mutex_unlock(&a->watch_lock);
}

void
account_list_changed(struct account *a, const struct store_account *origin)
{
	pthread_mutex_lock(&a->watch_lock);
	for (struct store_account *h = a->watchers; h != NULL; h = h->wnext)
		if (h != origin)
			h->wake(h->wake_arg);
	pthread_mutex_unlock(&a->watch_lock);
}
