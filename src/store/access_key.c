/* SPDX-License-Identifier: MIT */
/*
 * access_key.c: mailbox access keys, the secret behind URLAUTH (RFC 4467
 * section 3): one random 256-bit key per mailbox, made on first use and
 * replaced by RESETKEY, so every URL authorized with the old key stops
 * working at once. Kept in index.db (table access_keys, created when first
 * needed: accounts that never use URLAUTH have none), keyed by the mailbox
 * id, which a rename keeps and nothing reuses.
 */
#include "store/store_int.h"

#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"

static const char table_sql[] = "CREATE TABLE IF NOT EXISTS access_keys("
                                "mailbox_id INTEGER PRIMARY KEY, key BLOB NOT NULL)";

static int
key_new(struct db *db, uint64_t mailbox_id, unsigned char key_out[32])
{
	static const char sql[] =
	        "INSERT OR REPLACE INTO access_keys(mailbox_id, key) VALUES (?, ?)";
	sqlite3_stmt *st = db_stmt(db, sql);

	if (st == NULL)
		return -1;
	if (RAND_bytes(key_out, 32) != 1)
		abort(); /* OpenSSL cannot make random bytes: nothing sane to do */
	sqlite3_bind_int64(st, 1, (int64_t)mailbox_id);
	sqlite3_bind_blob(st, 2, key_out, 32, SQLITE_STATIC);
	return db_step_done(db, st);
}

int
store_mailbox_access_key(struct store_account *acct, const char *name, bool reset,
                         unsigned char key_out[32], enum store_error *err_out)
{
	static const char get_sql[] = "SELECT key FROM access_keys WHERE mailbox_id = ?";
	struct account *a = acct->a;
	char *canon = mailbox_name_canon(name);
	struct db *db;
	uint64_t id;
	int rc = -1;

	if (canon == NULL) {
		*err_out = STORE_ERR_NOTFOUND;
		return -1;
	}
	if (db_get(a, &db, err_out) < 0) {
		free(canon);
		return -1;
	}
	pthread_mutex_lock(&a->write_lock);
	if (db_exec(db, table_sql) < 0 || db_begin(db, true) < 0)
		goto db_fail;
	if (mailbox_id_lookup(db, canon, &id, err_out) < 0)
		goto out;
	bool found = false;
	if (!reset) {
		sqlite3_stmt *st = db_stmt(db, get_sql);
		if (st == NULL)
			goto db_fail;
		sqlite3_bind_int64(st, 1, (int64_t)id);
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 32) {
			memcpy(key_out, sqlite3_column_blob(st, 0), 32);
			found = true;
		}
		sqlite3_reset(st);
	}
	if (!found && key_new(db, id, key_out) < 0)
		goto db_fail;
	if (db_commit(db) < 0)
		goto db_fail;
	rc = 0;
	goto out;
db_fail:
	*err_out = db_error(db);
out:
	if (rc < 0)
		db_rollback(db);
	pthread_mutex_unlock(&a->write_lock);
	db_put(a, db);
	free(canon);
	return rc;
}

int
store_access_keys_reset(struct store_account *acct, enum store_error *err_out)
{
	struct account *a = acct->a;
	struct db *db;
	int rc;

	if (db_get(a, &db, err_out) < 0)
		return -1;
	pthread_mutex_lock(&a->write_lock);
	rc = db_exec(db, table_sql) < 0 || db_exec(db, "DELETE FROM access_keys") < 0 ? -1 : 0;
	pthread_mutex_unlock(&a->write_lock);
	if (rc < 0)
		*err_out = db_error(db);
	db_put(a, db);
	return rc;
}
