/* SPDX-License-Identifier: MIT */
/*
 * quota.c: account quota (RFC 9208: STORAGE and MESSAGE resources, one root
 * per account). Usage lives in the account row, kept by the message
 * triggers in the writer's transaction, so GETQUOTA is one row read and
 * enforcement at append, copy and delivery is a comparison before COMMIT.
 */
#include "store/store_int.h"

int
quota_usage(struct db *db, uint64_t *storage_out, uint64_t *messages_out)
{
	static const char sql[] = "SELECT storage_used, messages_used FROM account WHERE id = 1";
	sqlite3_stmt *st = db_stmt(db, sql);
	int rc = -1;

	if (st == NULL)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW) {
		*storage_out = (uint64_t)sqlite3_column_int64(st, 0);
		*messages_out = (uint64_t)sqlite3_column_int64(st, 1);
		rc = 0;
	}
	sqlite3_reset(st);
	return rc;
}

static int
quota_read(struct db *db, struct store_quota *q)
{
	static const char sql[] = "SELECT storage_used, storage_limit, messages_used,"
	                          " messages_limit FROM account WHERE id = 1";
	sqlite3_stmt *st = db_stmt(db, sql);
	int rc = -1;

	if (st == NULL)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW) {
		q->storage_used = (uint64_t)sqlite3_column_int64(st, 0);
		q->storage_limit = (uint64_t)sqlite3_column_int64(st, 1);
		q->messages_used = (uint64_t)sqlite3_column_int64(st, 2);
		q->messages_limit = (uint64_t)sqlite3_column_int64(st, 3);
		rc = 0;
	}
	sqlite3_reset(st);
	return rc;
}

int
quota_enforce(struct db *db, uint64_t storage_before, uint64_t messages_before,
              enum store_error *err_out)
{
	struct store_quota q;

	if (quota_read(db, &q) < 0) {
		*err_out = db_error(db);
		return -1;
	}
	/* Only a change that grew usage is refused: MOVE and EXPUNGE always
	   work, even over a lowered limit. */
	if ((q.storage_limit != 0 && q.storage_used > q.storage_limit &&
	     q.storage_used > storage_before) ||
	    (q.messages_limit != 0 && q.messages_used > q.messages_limit &&
	     q.messages_used > messages_before)) {
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
store_quota_set(struct store_account *acct, uint64_t storage_limit, uint64_t messages_limit,
                enum store_error *err_out)
{
	static const char sql[] =
	        "UPDATE account SET storage_limit = ?, messages_limit = ? WHERE id = 1";
	struct db *db;
	sqlite3_stmt *st;
	int rc = -1;

	if (db_get(acct->a, &db, err_out) < 0)
		return -1;
	pthread_mutex_lock(&acct->a->write_lock);
	st = db_stmt(db, sql);
	if (st != NULL) {
		sqlite3_bind_int64(st, 1, (int64_t)storage_limit);
		sqlite3_bind_int64(st, 2, (int64_t)messages_limit);
		rc = db_step_done(db, st);
	}
	pthread_mutex_unlock(&acct->a->write_lock);
	if (rc < 0)
		*err_out = db_error(db);
	db_put(acct->a, db);
	return rc;
}
