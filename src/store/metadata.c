/* SPDX-License-Identifier: MIT */
/*
 * metadata.c: mailbox and server annotations (IMAP METADATA, RFC 5464),
 * one table of the account's index.db: metadata(mailbox_id, name, value),
 * mailbox_id 0 for the account's server entries. Names arrive checked and
 * lowercased (entry names are case-insensitive, section 3.2), so lookups
 * are bytewise and a subtree is one range of the primary key. The rows
 * hang on the mailbox id: RENAME moves them for free, DELETE removes them
 * (mailbox.c), and an INBOX rename copies INBOX's to the new mailbox
 * (section 4.1). A SETMETADATA is one transaction: all entries or none.
 * The special-use attribute of a mailbox (/private/specialuse, RFC 6154
 * section 4) is the mailboxes row's own column, written here too.
 */
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>

#include "lib/arena.h"

int
store_metadata_get(struct store_account *acct, const char *mailbox, const char *name, bool subtree,
                   struct arena *a, struct store_metadata_entry **out, size_t *n_out,
                   enum store_error *err_out)
{
	static const char one_sql[] = "SELECT name, value FROM metadata"
	                              " WHERE mailbox_id = ?1 AND name = ?2";
	/* The entry and everything below it: '0' follows '/' in ASCII. */
	static const char tree_sql[] = "SELECT name, value FROM metadata WHERE mailbox_id = ?1"
	                               " AND (name = ?2 OR (name > ?2 || '/' AND name < ?2 || '0'))"
	                               " ORDER BY name";
	struct store_metadata_entry *v = NULL;
	size_t n = 0, cap = 0;
	struct db *db;
	uint64_t id;
	int rc = -1;

	*out = NULL;
	*n_out = 0;
	if (db_get(acct->a, &db, err_out) < 0)
		return -1;
	if (mailbox_name_id(db, mailbox, &id, err_out) < 0)
		goto out;
	sqlite3_stmt *st = db_stmt(db, subtree ? tree_sql : one_sql);
	if (st == NULL) {
		*err_out = STORE_ERR_TEMP;
		goto out;
	}
	sqlite3_bind_int64(st, 1, (int64_t)id);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			struct store_metadata_entry *nv = arena_alloc(a, ncap * sizeof(*nv));
			if (n > 0)
				memcpy(nv, v, n * sizeof(*nv));
			v = nv;
			cap = ncap;
		}
		v[n].name = arena_strdup(a, (const char *)sqlite3_column_text(st, 0));
		const void *blob = sqlite3_column_blob(st, 1);
		v[n].len = (size_t)sqlite3_column_bytes(st, 1);
		unsigned char *copy = arena_alloc(a, v[n].len + 1);
		if (v[n].len > 0)
			memcpy(copy, blob, v[n].len);
		copy[v[n].len] = '\0';
		v[n].value = copy;
		n++;
	}
	sqlite3_reset(st);
	if (step != SQLITE_DONE) {
		*err_out = db_error(db);
		goto out;
	}
	*out = v;
	*n_out = n;
	rc = 0;
out:
	db_put(acct->a, db);
	return rc;
}

static int
count_entries(struct db *db, uint64_t id, int64_t *n_out)
{
	static const char sql[] = "SELECT count(*) FROM metadata WHERE mailbox_id = ?";
	sqlite3_stmt *st = db_stmt(db, sql);

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, (int64_t)id);
	int rc = sqlite3_step(st) == SQLITE_ROW ? 0 : -1;
	*n_out = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc;
}

int
store_metadata_set(struct store_account *acct, const char *mailbox,
                   const struct store_metadata_entry *entries, size_t n, size_t max_entries,
                   enum store_error *err_out)
{
	static const char put_sql[] = "INSERT OR REPLACE INTO metadata(mailbox_id, name, value)"
	                              " VALUES (?, ?, ?)";
	static const char del_sql[] = "DELETE FROM metadata WHERE mailbox_id = ? AND name = ?";
	struct account *a = acct->a;
	struct db *db;
	uint64_t id;
	int64_t count;
	int rc = -1;

	if (db_get(a, &db, err_out) < 0)
		return -1;
	pthread_mutex_lock(&a->write_lock);
	if (db_begin(db, true) < 0) {
		*err_out = STORE_ERR_TEMP;
		goto out;
	}
	if (mailbox_name_id(db, mailbox, &id, err_out) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		sqlite3_stmt *st = db_stmt(db, entries[i].value != NULL ? put_sql : del_sql);
		if (st == NULL) {
			*err_out = STORE_ERR_TEMP;
			goto out;
		}
		sqlite3_bind_int64(st, 1, (int64_t)id);
		sqlite3_bind_text(st, 2, entries[i].name, -1, SQLITE_STATIC);
		if (entries[i].value != NULL)
			sqlite3_bind_blob(st, 3,
			                  entries[i].len > 0 ? (const void *)entries[i].value : "",
			                  (int)entries[i].len, SQLITE_STATIC);
		if (db_step_done(db, st) < 0) {
			*err_out = db_error(db);
			goto out;
		}
	}
	/* Counted after the writes, so replacing or removing entries always
	   works at the limit; only new ones are refused. */
	if (count_entries(db, id, &count) < 0) {
		*err_out = db_error(db);
		goto out;
	}
	if (max_entries != 0 && (uint64_t)count > max_entries) {
		*err_out = STORE_ERR_LIMIT;
		goto out;
	}
	if (db_commit(db) < 0) {
		*err_out = db_error(db);
		goto out;
	}
	rc = 0;
out:
	if (rc < 0)
		db_rollback(db);
	pthread_mutex_unlock(&a->write_lock);
	db_put(a, db);
	if (rc == 0 && n > 0) {
		const char **names = xmalloc(n * sizeof(*names));
		for (size_t i = 0; i < n; i++)
			names[i] = entries[i].name;
		account_metadata_changed(a, acct, id, names, n);
		free(names);
	}
	return rc;
}

int
store_mailbox_special_use_set(struct store_account *acct, const char *mailbox, unsigned bits,
                              enum store_error *err_out)
{
	static const char sql[] = "UPDATE mailboxes SET special_use = ? WHERE name = ?";
	struct account *a = acct->a;
	char *canon = mailbox_name_canon(mailbox);
	struct db *db;
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
	sqlite3_stmt *st = db_stmt(db, sql);
	if (st != NULL) {
		sqlite3_bind_int(st, 1, (int)bits);
		sqlite3_bind_text(st, 2, canon, -1, SQLITE_STATIC);
		rc = db_step_done(db, st);
		if (rc == 0 && sqlite3_changes(db->h) == 0) {
			rc = -1;
			*err_out = STORE_ERR_NOTFOUND;
		} else if (rc < 0) {
			*err_out = db_error(db);
		}
	} else {
		*err_out = STORE_ERR_TEMP;
	}
	pthread_mutex_unlock(&a->write_lock);
	if (rc == 0)
		account_list_changed(a, acct);
	db_put(a, db);
	free(canon);
	return rc;
}
