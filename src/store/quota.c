/* SPDX-License-Identifier: MIT */
/*
 * quota.c: account quota (RFC 9208: the STORAGE, MESSAGE and MAILBOX
 * resources of one root per account). Usage lives in the account row, kept
 * by the message and mailbox triggers in the writer's transaction, so
 * GETQUOTA is one row read and enforcement at append, copy, delivery and
 * create is a comparison before COMMIT: the write and its check are one
 * transaction, and the account's write lock orders writers.
 */
#include "store/store_int.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "lib/log.h"
#include "lib/util.h"

int
quota_usage(struct db *db, struct quota_usage *out)
{
	static const char sql[] =
	        "SELECT storage_used, messages_used, mailboxes_used FROM account WHERE id = 1";
	sqlite3_stmt *st = db_stmt(db, sql);
	int rc = -1;

	if (st == NULL)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW) {
		out->storage = (uint64_t)sqlite3_column_int64(st, 0);
		out->messages = (uint64_t)sqlite3_column_int64(st, 1);
		out->mailboxes = (uint64_t)sqlite3_column_int64(st, 2);
		rc = 0;
	}
	sqlite3_reset(st);
	return rc;
}

static int
quota_read(struct db *db, struct store_quota *q)
{
	static const char sql[] = "SELECT storage_used, storage_limit, messages_used,"
	                          " messages_limit, mailboxes_used, mailboxes_limit"
	                          " FROM account WHERE id = 1";
	sqlite3_stmt *st = db_stmt(db, sql);
	int rc = -1;

	if (st == NULL)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW) {
		q->storage_used = (uint64_t)sqlite3_column_int64(st, 0);
		q->storage_limit = (uint64_t)sqlite3_column_int64(st, 1);
		q->messages_used = (uint64_t)sqlite3_column_int64(st, 2);
		q->messages_limit = (uint64_t)sqlite3_column_int64(st, 3);
		q->mailboxes_used = (uint64_t)sqlite3_column_int64(st, 4);
		q->mailboxes_limit = (uint64_t)sqlite3_column_int64(st, 5);
		rc = 0;
	}
	sqlite3_reset(st);
	return rc;
}

/* Over a limit, and grown by this change. */
static bool
is_over(uint64_t used, uint64_t limit, uint64_t before)
{
	return limit != 0 && used > limit && used > before;
}

int
quota_enforce(struct db *db, const struct quota_usage *before, enum store_error *err_out)
{
	struct store_quota q;

	if (quota_read(db, &q) < 0) {
		*err_out = db_error(db);
		return -1;
	}
	/* Only a change that grew usage is refused: MOVE and EXPUNGE always
	   work, even over a lowered limit. */
	if (is_over(q.storage_used, q.storage_limit, before->storage) ||
	    is_over(q.messages_used, q.messages_limit, before->messages) ||
	    is_over(q.mailboxes_used, q.mailboxes_limit, before->mailboxes)) {
		*err_out = STORE_ERR_QUOTA;
		return -1;
	}
	return 0;
}

int
store_quota_get(struct store_account *acct, struct store_quota *out, enum store_error *err_out)
{
	struct db *db;
	int rc;

	if (db_get(acct->a, &db, err_out) < 0)
		return -1;
	rc = quota_read(db, out);
	if (rc < 0)
		*err_out = db_error(db);
	db_put(acct->a, db);
	return rc;
}

int
store_quota_limits_set(struct store_account *acct, unsigned which, struct store_quota *limits,
                       enum store_error *err_out)
{
	/* A NULL parameter keeps the column: coalesce picks the old value. */
	static const char sql[] = "UPDATE account SET storage_limit = coalesce(?1, storage_limit),"
	                          " messages_limit = coalesce(?2, messages_limit),"
	                          " mailboxes_limit = coalesce(?3, mailboxes_limit) WHERE id = 1";
	const uint64_t values[3] = {limits->storage_limit, limits->messages_limit,
	                            limits->mailboxes_limit};
	struct db *db;
	sqlite3_stmt *st;
	int rc = -1;

	if (db_get(acct->a, &db, err_out) < 0)
		return -1;
	pthread_mutex_lock(&acct->a->write_lock);
	st = db_stmt(db, sql);
	if (st != NULL) {
		for (int i = 0; i < 3; i++)
			if (which & (1u << i))
				sqlite3_bind_int64(st, i + 1, (int64_t)values[i]);
			else
				sqlite3_bind_null(st, i + 1);
		rc = db_step_done(db, st);
		if (rc == 0)
			rc = quota_read(db, limits);
	}
	pthread_mutex_unlock(&acct->a->write_lock);
	if (rc < 0)
		*err_out = db_error(db);
	db_put(acct->a, db);
	return rc;
}

int
store_quota_peek(struct store *store, uint64_t account_id, struct store_quota *out,
                 enum store_error *err_out)
{
	char *path = xasprintf("%s/accounts/%llu/index.db", store->data_dir,
	                       (unsigned long long)account_id);
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;
	struct stat sb;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (stat(path, &sb) < 0) {
		rc = errno == ENOENT ? 1 : -1;
		goto out;
	}
	/* Read-only and without the pool's set-up: one row, then closed. WAL
	   lets it read while the account's writers commit. */
	if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
	            SQLITE_OK ||
	    sqlite3_busy_timeout(h, 1000) != SQLITE_OK ||
	    sqlite3_prepare_v2(h,
	                       "SELECT storage_used, storage_limit, messages_used, "
	                       "messages_limit FROM account WHERE id = 1",
	                       -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW)
		goto out;
	out->storage_used = (uint64_t)sqlite3_column_int64(st, 0);
	out->storage_limit = (uint64_t)sqlite3_column_int64(st, 1);
	out->messages_used = (uint64_t)sqlite3_column_int64(st, 2);
	out->messages_limit = (uint64_t)sqlite3_column_int64(st, 3);
	rc = 0;
out:
	if (rc < 0) {
		log_error("store", "event=quota-peek-failed account=%llu err=\"%s\"",
		          (unsigned long long)account_id,
		          h != NULL ? sqlite3_errmsg(h) : strerror(errno));
		*err_out = STORE_ERR_TEMP;
	}
	sqlite3_finalize(st);
	sqlite3_close(h);
	free(path);
	return rc;
}

int
store_quota_set(struct store_account *acct, uint64_t storage_limit, uint64_t messages_limit,
                enum store_error *err_out)
{
	struct store_quota q = {.storage_limit = storage_limit, .messages_limit = messages_limit};

	return store_quota_limits_set(acct, STORE_QUOTA_STORAGE | STORE_QUOTA_MESSAGES, &q,
	                              err_out);
}
