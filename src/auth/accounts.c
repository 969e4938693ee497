/* SPDX-License-Identifier: MIT */
/*
 * accounts.c: accounts.db access. Addresses are stored lowercased so lookups
 * are exact and indexed. Every statement is prepared per call: these are rare
 * (a login, an admin command) compared to mail traffic, and it keeps the
 * struct a single sqlite3 *.
 */
#include "auth/accounts.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "lib/log.h"
#include "lib/util.h"

struct auth_db {
	sqlite3 *db;
};

static const char schema[] =
	"PRAGMA journal_mode=WAL;"
	"PRAGMA synchronous=FULL;"
	"CREATE TABLE IF NOT EXISTS accounts("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  address TEXT NOT NULL UNIQUE,"
	"  password TEXT NOT NULL,"
	"  role TEXT NOT NULL DEFAULT 'user',"
	"  imap INTEGER NOT NULL DEFAULT 1,"
	"  pop3 INTEGER NOT NULL DEFAULT 1,"
	"  smtp INTEGER NOT NULL DEFAULT 1,"
	"  created INTEGER NOT NULL);";

static const char *const proto_names[] = {"imap", "pop3", "smtp"};

const char *
auth_protocol_name(enum auth_protocol p)
{
	return proto_names[p];
}

const char *
auth_error_str(enum auth_error err)
{
	switch (err) {
	case AUTH_ERR_NONE:
		return "no error";
	case AUTH_ERR_TEMP:
		return "temporary failure (see the log)";
	case AUTH_ERR_NOTFOUND:
		return "no such account";
	case AUTH_ERR_EXISTS:
		return "account already exists";
	case AUTH_ERR_INVALID:
		return "invalid value";
	}
	return "unknown error";
}

int
auth_db_open(const char *data_dir, struct auth_db **db_out, char **error_out)
{
	char *path = xasprintf("%s/accounts.db", data_dir);
	sqlite3 *db = NULL;
	char *msg = NULL;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		*error_out = xasprintf("%s: %s", path, db ? sqlite3_errmsg(db) : "cannot open");
		sqlite3_close(db);
		free(path);
		return -1;
	}
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_exec(db, schema, NULL, NULL, &msg) != SQLITE_OK) {
		*error_out = xasprintf("%s: %s", path, msg ? msg : "schema failed");
		sqlite3_free(msg);
		sqlite3_close(db);
		free(path);
		return -1;
	}
	free(path);
	struct auth_db *a = xcalloc(1, sizeof(*a));
	a->db = db;
	*db_out = a;
	return 0;
}

void
auth_db_close(struct auth_db **dbp)
{
	if (*dbp == NULL)
		return;
	sqlite3_close((*dbp)->db);
	free(*dbp);
	*dbp = NULL;
}

bool
auth_address_is_valid(const char *address)
{
	const char *at = strrchr(address, '@');
	size_t len = strlen(address);

	if (len == 0 || len > 254 || at == NULL || at == address || at[1] == '\0')
		return false;
	for (const char *p = address; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		if (c <= ' ' || c == 0x7f || c == '/' || c == '\\' || c == '"' || c == '*' ||
		    c == '%')
			return false;
	}
	return strchr(at + 1, '.') != NULL || strcmp(at + 1, "localhost") == 0;
}

static char *
lowercase(const char *s)
{
	char *p = xstrdup(s);

	for (char *q = p; *q != '\0'; q++)
		*q = (char)tolower((unsigned char)*q);
	return p;
}

static sqlite3_stmt *
prepare(struct auth_db *db, const char *sql)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(db->db, sql, -1, &st, NULL) != SQLITE_OK) {
		log_error("auth", "event=sql-prepare-failed err=\"%s\"", sqlite3_errmsg(db->db));
		return NULL;
	}
	return st;
}

static int
fail(enum auth_error *err_out, enum auth_error err)
{
	*err_out = err;
	return -1;
}

int
auth_account_add(struct auth_db *db, const char *address, const char *password_hash,
		 uint64_t *id_out, enum auth_error *err_out)
{
	if (!auth_address_is_valid(address))
		return fail(err_out, AUTH_ERR_INVALID);
	sqlite3_stmt *st = prepare(db, "INSERT INTO accounts(address, password, created) "
				       "VALUES (?1, ?2, ?3)");
	if (st == NULL)
		return fail(err_out, AUTH_ERR_TEMP);
	char *lower = lowercase(address);
	sqlite3_bind_text(st, 1, lower, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, password_hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)time(NULL));
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	free(lower);
	if (rc == SQLITE_CONSTRAINT)
		return fail(err_out, AUTH_ERR_EXISTS);
	if (rc != SQLITE_DONE) {
		log_error("auth", "event=account-add-failed err=\"%s\"", sqlite3_errmsg(db->db));
		return fail(err_out, AUTH_ERR_TEMP);
	}
	if (id_out != NULL)
		*id_out = (uint64_t)sqlite3_last_insert_rowid(db->db);
	return 0;
}

static void
row_to_account(sqlite3_stmt *st, struct auth_account *a)
{
	a->id = (uint64_t)sqlite3_column_int64(st, 0);
	a->address = xstrdup((const char *)sqlite3_column_text(st, 1));
	a->password = xstrdup((const char *)sqlite3_column_text(st, 2));
	a->role = xstrdup((const char *)sqlite3_column_text(st, 3));
	for (int i = 0; i < AUTH_PROTO_COUNT; i++)
		a->enabled[i] = sqlite3_column_int(st, 4 + i) != 0;
	a->created = sqlite3_column_int64(st, 7);
}

#define ACCOUNT_COLUMNS "id, address, password, role, imap, pop3, smtp, created"

int
auth_account_lookup(struct auth_db *db, const char *address, struct auth_account *out,
		    enum auth_error *err_out)
{
	sqlite3_stmt *st = prepare(db, "SELECT " ACCOUNT_COLUMNS " FROM accounts WHERE address = ?1");
	if (st == NULL)
		return fail(err_out, AUTH_ERR_TEMP);
	char *lower = lowercase(address);
	sqlite3_bind_text(st, 1, lower, -1, SQLITE_TRANSIENT);
	free(lower);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		row_to_account(st, out);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_DONE)
		return fail(err_out, AUTH_ERR_NOTFOUND);
	log_error("auth", "event=account-lookup-failed err=\"%s\"", sqlite3_errmsg(db->db));
	return fail(err_out, AUTH_ERR_TEMP);
}

static int
exec_by_address(struct auth_db *db, const char *sql, const char *address, const char *value,
		enum auth_error *err_out)
{
	sqlite3_stmt *st = prepare(db, sql);
	if (st == NULL)
		return fail(err_out, AUTH_ERR_TEMP);
	char *lower = lowercase(address);
	sqlite3_bind_text(st, 1, lower, -1, SQLITE_TRANSIENT);
	free(lower);
	if (value != NULL)
		sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		log_error("auth", "event=account-update-failed err=\"%s\"", sqlite3_errmsg(db->db));
		return fail(err_out, AUTH_ERR_TEMP);
	}
	if (sqlite3_changes(db->db) == 0)
		return fail(err_out, AUTH_ERR_NOTFOUND);
	return 0;
}

int
auth_account_delete(struct auth_db *db, const char *address, enum auth_error *err_out)
{
	return exec_by_address(db, "DELETE FROM accounts WHERE address = ?1", address, NULL,
			       err_out);
}

int
auth_account_set_password(struct auth_db *db, const char *address, const char *password_hash,
			  enum auth_error *err_out)
{
	return exec_by_address(db, "UPDATE accounts SET password = ?2 WHERE address = ?1", address,
			       password_hash, err_out);
}

int
auth_account_foreach(struct auth_db *db, int (*fn)(const struct auth_account *, void *),
		     void *arg, enum auth_error *err_out)
{
	sqlite3_stmt *st = prepare(db, "SELECT " ACCOUNT_COLUMNS " FROM accounts ORDER BY address");
	int rc;

	if (st == NULL)
		return fail(err_out, AUTH_ERR_TEMP);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct auth_account a;
		row_to_account(st, &a);
		int stop = fn(&a, arg);
		auth_account_clear(&a);
		if (stop != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return fail(err_out, AUTH_ERR_TEMP);
	return 0;
}

void
auth_account_clear(struct auth_account *a)
{
	if (a->password != NULL)
		explicit_bzero(a->password, strlen(a->password));
	free(a->address);
	free(a->password);
	free(a->role);
	memset(a, 0, sizeof(*a));
}
