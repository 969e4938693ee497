/* SPDX-License-Identifier: MIT */
/*
 * accounts.c: accounts.db access. Addresses are stored lowercased so lookups
 * are exact and indexed. Every statement is prepared per call: these are rare
 * (a login, an admin command) compared to mail traffic, and it keeps the
 * struct a single sqlite3 *. Bulk changes run in one transaction: 10,000
 * accounts switched is one fsync, not 10,000.
 */
#include "auth/accounts.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "lib/buf.h"
#include "auth/auth_internal.h"
#include "auth/password.h"
#include "lib/log.h"
#include "lib/util.h"

struct auth_db {
	sqlite3 *db;
};

/* temp_store=MEMORY: a big UPDATE's statement journal stays in memory, not
   a file in /tmp, which the server's sandbox (Landlock) does not allow. */
static const char pragmas[] = "PRAGMA journal_mode=WAL;"
                              "PRAGMA synchronous=FULL;"
                              "PRAGMA temp_store=MEMORY;";

/* Version 1: what the foundation created (user_version was left at 0). */
static const char schema_v1[] = "CREATE TABLE IF NOT EXISTS accounts("
                                "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
                                "  address TEXT NOT NULL UNIQUE,"
                                "  password TEXT NOT NULL,"
                                "  role TEXT NOT NULL DEFAULT 'user',"
                                "  imap INTEGER NOT NULL DEFAULT 1,"
                                "  pop3 INTEGER NOT NULL DEFAULT 1,"
                                "  smtp INTEGER NOT NULL DEFAULT 1,"
                                "  created INTEGER NOT NULL);";

/* Version 2: credentials for challenge-response mechanisms, app passwords
   and the change log a running server watches. */
static const char schema_v2[] =
        "ALTER TABLE accounts ADD COLUMN scram_sha1 TEXT NOT NULL DEFAULT '';"
        "ALTER TABLE accounts ADD COLUMN scram_sha256 TEXT NOT NULL DEFAULT '';"
        "ALTER TABLE accounts ADD COLUMN cram_md5 TEXT NOT NULL DEFAULT '';"
        "ALTER TABLE accounts ADD COLUMN digest_md5 TEXT NOT NULL DEFAULT '';"
        "CREATE TABLE app_passwords("
        "  account_id INTEGER NOT NULL,"
        "  name TEXT NOT NULL,"
        "  hash TEXT NOT NULL,"
        "  protocols INTEGER NOT NULL,"
        "  created INTEGER NOT NULL,"
        "  PRIMARY KEY(account_id, name));"
        "CREATE TABLE changes("
        "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
        "  account_id INTEGER NOT NULL,"
        "  at INTEGER NOT NULL);"
        "CREATE INDEX accounts_domain ON accounts(substr(address, instr(address, '@') + 1));";

/* Version 3: recipient aliases for SMTP/LMTP (aliases.c): one row per
   (alias, target); "@domain" is the domain's catch-all. */
static const char schema_v3[] = "CREATE TABLE aliases("
                                "  address TEXT NOT NULL,"
                                "  target TEXT NOT NULL,"
                                "  created INTEGER NOT NULL,"
                                "  PRIMARY KEY(address, target));";

/* Version 4: the APOP secret (RFC 1939 section 7), a plaintext equivalent
   kept only where auth.apop is on. */
static const char schema_v4[] = "ALTER TABLE accounts ADD COLUMN apop TEXT NOT NULL DEFAULT '';";

/* Version 5: where an account lives when not here (IMAP LOGIN-REFERRALS,
   RFC 2221): an imap:// URL, "" for here. */
static const char schema_v5_referral[] =
        "ALTER TABLE accounts ADD COLUMN referral TEXT NOT NULL DEFAULT '';";
/* Version 6: groups for ACL identifiers ("$name", RFC 4314; groups.h). */
static const char schema_v6_groups[] = "CREATE TABLE group_members("
                                "  name TEXT NOT NULL COLLATE NOCASE,"
                                "  address TEXT NOT NULL,"
                                "  PRIMARY KEY(name, address)) WITHOUT ROWID;"
                                "CREATE INDEX group_members_address ON group_members(address);";

#define SCHEMA_VERSION 6

/* Change-log rows older than this are pruned on each write: a server reads
   the log every second, so an hour is plenty. */
#define CHANGES_KEEP_S 3600

static const char *const proto_names[] = {"imap", "pop3", "smtp"};

bool
auth_referral_is_valid(const char *url)
{
	size_t len = strlen(url);
	size_t scheme = strncmp(url, "imap://", 7) == 0    ? 7
	                : strncmp(url, "imaps://", 8) == 0 ? 8
	                                                   : 0;

	if (scheme == 0 || len <= scheme || len >= 256 || url[scheme] == '/')
		return false;
	for (const char *p = url; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == '"' ||
		    *p == ']')
			return false;
	return true;
}

int
auth_protocol_parse(const char *name)
{
	for (int i = 0; i < AUTH_PROTO_COUNT; i++)
		if (strcmp(name, proto_names[i]) == 0)
			return i;
	if (strcmp(name, "submission") == 0)
		return AUTH_PROTO_SMTP;
	return -1;
}

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

static int
user_version(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	int v = -1;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Brings the schema to SCHEMA_VERSION in one IMMEDIATE transaction, so a CLI
   and a server opening an old database at once cannot both migrate it. */
static int
migrate(sqlite3 *db, char **msg_out)
{
	if (user_version(db) == SCHEMA_VERSION)
		return 0;
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, msg_out) != SQLITE_OK)
		return -1;
	int v = user_version(db);
	int rc = SQLITE_OK;
	sqlite3_stmt *st = NULL;
	bool existed = false;
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE name = 'accounts'", -1, &st,
	                       NULL) == SQLITE_OK)
		existed = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	if (v < 1)
		rc = sqlite3_exec(db, schema_v1, NULL, NULL, msg_out);
	if (rc == SQLITE_OK && v < 2)
		rc = sqlite3_exec(db, schema_v2, NULL, NULL, msg_out);
	if (rc == SQLITE_OK && v < 3)
		rc = sqlite3_exec(db, schema_v3, NULL, NULL, msg_out);
	if (rc == SQLITE_OK && v < 4)
		rc = sqlite3_exec(db, schema_v4, NULL, NULL, msg_out);
	if (rc == SQLITE_OK && v < 5)
		rc = sqlite3_exec(db, schema_v5_referral, NULL, NULL, msg_out);
	if (rc == SQLITE_OK && v < 6)
		rc = sqlite3_exec(db, schema_v6_groups, NULL, NULL, msg_out);
	if (rc == SQLITE_OK && v > SCHEMA_VERSION) {
		*msg_out = sqlite3_mprintf("schema version %d is newer than this tern (%d)", v,
		                           SCHEMA_VERSION);
		rc = SQLITE_ERROR;
	}
	if (rc == SQLITE_OK && v < SCHEMA_VERSION) {
		char *sql = sqlite3_mprintf("PRAGMA user_version=%d", SCHEMA_VERSION);
		rc = sqlite3_exec(db, sql, NULL, NULL, msg_out);
		sqlite3_free(sql);
	}
	if (rc != SQLITE_OK) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, msg_out) != SQLITE_OK) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	if (existed)
		log_info("auth", "event=schema-migrated from=%d to=%d", v, SCHEMA_VERSION);
	return 0;
}

int
auth_db_open(const char *data_dir, struct auth_db **db_out, char **error_out)
{
	char *path = xasprintf("%s/accounts.db", data_dir);
	sqlite3 *db = NULL;
	char *msg = NULL;

	if (sqlite3_open_v2(path, &db,
	                    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
	                    NULL) != SQLITE_OK) {
		*error_out = xasprintf("%s: %s", path, db ? sqlite3_errmsg(db) : "cannot open");
		sqlite3_close(db);
		free(path);
		return -1;
	}
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_exec(db, pragmas, NULL, NULL, &msg) != SQLITE_OK || migrate(db, &msg) < 0) {
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

struct sqlite3 *
auth_db_sqlite(struct auth_db *db)
{
	return db->db;
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

static int
begin(struct auth_db *db)
{
	if (sqlite3_exec(db->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		log_error("auth", "event=begin-failed err=\"%s\"", sqlite3_errmsg(db->db));
		return -1;
	}
	return 0;
}

static int
commit(struct auth_db *db, bool ok)
{
	if (ok && sqlite3_exec(db->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
		return 0;
	if (ok)
		log_error("auth", "event=commit-failed err=\"%s\"", sqlite3_errmsg(db->db));
	sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

int
auth_db_begin(struct auth_db *db)
{
	return begin(db);
}

int
auth_db_commit(struct auth_db *db)
{
	return commit(db, true);
}

void
auth_db_rollback(struct auth_db *db)
{
	commit(db, false);
}

static const char *
nz(const char *s)
{
	return s != NULL ? s : "";
}

/* Binds ?1 (the lowercased address) and ?2..?6, ?8 (the credentials), as the
   INSERT and the UPDATE of credentials both number them. Returns the
   lowercased address (heap; SQLite has its own copy). */
static char *
bind_credentials(sqlite3_stmt *st, const char *address, const struct auth_credentials *cred)
{
	char *lower = lowercase(address);

	sqlite3_bind_text(st, 1, lower, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, nz(cred->password), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, nz(cred->scram_sha1), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, nz(cred->scram_sha256), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, nz(cred->cram_md5), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, nz(cred->digest_md5), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, nz(cred->apop), -1, SQLITE_STATIC);
	return lower;
}

int
auth_account_add_credentials(struct auth_db *db, const char *address,
                             const struct auth_credentials *cred, uint64_t *id_out,
                             enum auth_error *err_out)
{
	if (!auth_address_is_valid(address))
		return fail(err_out, AUTH_ERR_INVALID);
	sqlite3_stmt *st = prepare(db, "INSERT INTO accounts(address, password, scram_sha1, "
	                               "scram_sha256, cram_md5, digest_md5, created, apop) "
	                               "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
	if (st == NULL)
		return fail(err_out, AUTH_ERR_TEMP);
	char *lower = bind_credentials(st, address, cred);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)time(NULL));
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

int
auth_account_add(struct auth_db *db, const char *address, const char *password_hash,
                 uint64_t *id_out, enum auth_error *err_out)
{
	struct auth_credentials c = {.password = (char *)password_hash};

	return auth_account_add_credentials(db, address, &c, id_out, err_out);
}

static char *
col_dup(sqlite3_stmt *st, int i)
{
	const char *t = (const char *)sqlite3_column_text(st, i);

	return xstrdup(t != NULL ? t : "");
}

static void
row_to_account(sqlite3_stmt *st, struct auth_account *a)
{
	a->id = (uint64_t)sqlite3_column_int64(st, 0);
	a->address = col_dup(st, 1);
	a->password = col_dup(st, 2);
	a->role = col_dup(st, 3);
	for (int i = 0; i < AUTH_PROTO_COUNT; i++)
		a->enabled[i] = sqlite3_column_int(st, 4 + i) != 0;
	a->created = sqlite3_column_int64(st, 7);
	a->cred.password = a->password;
	a->cred.scram_sha1 = col_dup(st, 8);
	a->cred.scram_sha256 = col_dup(st, 9);
	a->cred.cram_md5 = col_dup(st, 10);
	a->cred.digest_md5 = col_dup(st, 11);
	a->cred.apop = col_dup(st, 12);
	a->referral = col_dup(st, 13);
}

#define ACCOUNT_COLUMNS                                                                            \
	"id, address, password, role, imap, pop3, smtp, created, scram_sha1, scram_sha256, "       \
	"cram_md5, digest_md5, apop, referral"

int
auth_account_lookup(struct auth_db *db, const char *address, struct auth_account *out,
                    enum auth_error *err_out)
{
	sqlite3_stmt *st =
	        prepare(db, "SELECT " ACCOUNT_COLUMNS " FROM accounts WHERE address = ?1");
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

/* Logs a change for running servers (inside the caller's transaction). */
static int
log_change_where(struct auth_db *db, const char *where, const char *arg)
{
	char *sql = xasprintf("INSERT INTO changes(account_id, at) SELECT id, ?1 FROM accounts %s",
	                      where);
	sqlite3_stmt *st = prepare(db, sql);
	free(sql);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)time(NULL));
	if (arg != NULL)
		sqlite3_bind_text(st, 2, arg, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return -1;
	st = prepare(db, "DELETE FROM changes WHERE at < ?1");
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)time(NULL) - CHANGES_KEEP_S);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
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
	if (begin(db) < 0)
		return fail(err_out, AUTH_ERR_TEMP);
	char *lower = lowercase(address);
	/* Logged first, while the row still names the id: a running server
	   then closes the account's sessions. */
	int rc = log_change_where(db, "WHERE address = ?2", lower);
	if (rc < 0)
		*err_out = AUTH_ERR_TEMP;
	if (rc == 0)
		rc = exec_by_address(db,
		                     "DELETE FROM app_passwords WHERE account_id = "
		                     "(SELECT id FROM accounts WHERE address = ?1)",
		                     lower, NULL, err_out);
	if (rc < 0 && *err_out == AUTH_ERR_NOTFOUND)
		rc = 0; /* no app passwords */
	if (rc == 0)
		rc = exec_by_address(db, "DELETE FROM accounts WHERE address = ?1", lower, NULL,
		                     err_out);
	free(lower);
	if (commit(db, rc == 0) < 0 && rc == 0)
		return fail(err_out, AUTH_ERR_TEMP);
	return rc;
}

int
auth_account_set_credentials(struct auth_db *db, const char *address,
                             const struct auth_credentials *cred, enum auth_error *err_out)
{
	sqlite3_stmt *st = prepare(db, "UPDATE accounts SET password = ?2, scram_sha1 = ?3, "
	                               "scram_sha256 = ?4, cram_md5 = ?5, digest_md5 = ?6, "
	                               "apop = ?8 WHERE address = ?1");
	if (st == NULL)
		return fail(err_out, AUTH_ERR_TEMP);
	free(bind_credentials(st, address, cred));
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
auth_account_set_password(struct auth_db *db, const char *address, const char *password_hash,
                          enum auth_error *err_out)
{
	struct auth_credentials c = {.password = (char *)password_hash};

	return auth_account_set_credentials(db, address, &c, err_out);
}

/* "SET imap = ?, role = ?" for the switches c changes; NULL when none. */
static char *
access_set_clause(const struct auth_access_change *c)
{
	char buf[256] = "";
	size_t n = 0;

	for (int i = 0; i < AUTH_PROTO_COUNT; i++)
		if (c->enabled[i] >= 0)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s = %d", n ? ", " : "",
			                      proto_names[i], c->enabled[i] ? 1 : 0);
	if (c->role != NULL)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%srole = ?9", n ? ", " : "");
	if (c->referral != NULL)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%sreferral = ?8", n ? ", " : "");
	return n == 0 ? NULL : xstrdup(buf);
}

int
auth_access_set_addresses(struct auth_db *db, const char *const *addresses, size_t n,
                          const struct auth_access_change *c, size_t *changed_out,
                          void (*missing)(const char *address, void *arg), void *arg,
                          enum auth_error *err_out)
{
	char *set = access_set_clause(c);
	*changed_out = 0;
	if (set == NULL)
		return fail(err_out, AUTH_ERR_INVALID);
	char *sql = xasprintf("UPDATE accounts SET %s WHERE address = ?1", set);
	free(set);
	if (begin(db) < 0) {
		free(sql);
		return fail(err_out, AUTH_ERR_TEMP);
	}
	sqlite3_stmt *up = prepare(db, sql);
	sqlite3_stmt *logst = prepare(db, "INSERT INTO changes(account_id, at) "
	                                  "SELECT id, ?2 FROM accounts WHERE address = ?1");
	free(sql);
	bool ok = up != NULL && logst != NULL;
	for (size_t i = 0; ok && i < n; i++) {
		char *lower = lowercase(addresses[i]);
		sqlite3_reset(up);
		sqlite3_bind_text(up, 1, lower, -1, SQLITE_TRANSIENT);
		if (c->role != NULL)
			sqlite3_bind_text(up, 9, c->role, -1, SQLITE_STATIC);
		if (c->referral != NULL)
			sqlite3_bind_text(up, 8, c->referral, -1, SQLITE_STATIC);
		ok = sqlite3_step(up) == SQLITE_DONE;
		if (ok && sqlite3_changes(db->db) == 0) {
			if (missing != NULL)
				missing(addresses[i], arg);
		} else if (ok) {
			(*changed_out)++;
			sqlite3_reset(logst);
			sqlite3_bind_text(logst, 1, lower, -1, SQLITE_TRANSIENT);
			sqlite3_bind_int64(logst, 2, (sqlite3_int64)time(NULL));
			ok = sqlite3_step(logst) == SQLITE_DONE;
		}
		free(lower);
	}
	if (!ok)
		log_error("auth", "event=access-update-failed err=\"%s\"", sqlite3_errmsg(db->db));
	sqlite3_finalize(up);
	sqlite3_finalize(logst);
	if (ok)
		ok = log_change_where(db, "WHERE 0", NULL) == 0; /* prunes old rows */
	if (commit(db, ok) < 0) {
		*changed_out = 0;
		return fail(err_out, AUTH_ERR_TEMP);
	}
	return 0;
}

int
auth_access_set_domain(struct auth_db *db, const char *domain, const struct auth_access_change *c,
                       size_t *changed_out, enum auth_error *err_out)
{
	char *set = access_set_clause(c);
	/* The domain is the part after the last '@'; addresses hold one. */
	const char *where =
	        domain != NULL ? "WHERE substr(address, instr(address, '@') + 1) = ?2" : "";

	*changed_out = 0;
	if (set == NULL)
		return fail(err_out, AUTH_ERR_INVALID);
	char *sql = xasprintf("UPDATE accounts SET %s %s", set, where);
	char *lower = domain != NULL ? lowercase(domain) : NULL;
	free(set);
	if (begin(db) < 0) {
		free(sql);
		free(lower);
		return fail(err_out, AUTH_ERR_TEMP);
	}
	bool ok = log_change_where(db, where, lower) == 0;
	sqlite3_stmt *st = ok ? prepare(db, sql) : NULL;
	free(sql);
	if (st != NULL) {
		if (lower != NULL)
			sqlite3_bind_text(st, 2, lower, -1, SQLITE_TRANSIENT);
		if (c->role != NULL)
			sqlite3_bind_text(st, 9, c->role, -1, SQLITE_STATIC);
		if (c->referral != NULL)
			sqlite3_bind_text(st, 8, c->referral, -1, SQLITE_STATIC);
		ok = sqlite3_step(st) == SQLITE_DONE;
		*changed_out = (size_t)sqlite3_changes(db->db);
		sqlite3_finalize(st);
	} else {
		ok = false;
	}
	free(lower);
	if (commit(db, ok) < 0) {
		*changed_out = 0;
		return fail(err_out, AUTH_ERR_TEMP);
	}
	return 0;
}

int
auth_app_password_add(struct auth_db *db, const char *address, const char *name, const char *hash,
                      unsigned protocols, enum auth_error *err_out)
{
	sqlite3_stmt *st = prepare(db, "INSERT INTO app_passwords(account_id, name, hash, "
	                               "protocols, created) SELECT id, ?2, ?3, ?4, ?5 "
	                               "FROM accounts WHERE address = ?1");
	if (st == NULL)
		return fail(err_out, AUTH_ERR_TEMP);
	char *lower = lowercase(address);
	sqlite3_bind_text(st, 1, lower, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, (int)protocols);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)time(NULL));
	free(lower);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_CONSTRAINT)
		return fail(err_out, AUTH_ERR_EXISTS);
	if (rc != SQLITE_DONE) {
		log_error("auth", "event=app-password-add-failed err=\"%s\"",
		          sqlite3_errmsg(db->db));
		return fail(err_out, AUTH_ERR_TEMP);
	}
	if (sqlite3_changes(db->db) == 0)
		return fail(err_out, AUTH_ERR_NOTFOUND);
	return 0;
}

int
auth_protocols_parse(const char *list, unsigned *mask_out)
{
	char *copy = xstrdup(list), *save = NULL;
	unsigned mask = 0;

	for (char *t = strtok_r(copy, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
		int p = auth_protocol_parse(t);
		if (p < 0) {
			free(copy);
			return -1;
		}
		mask |= 1u << p;
	}
	free(copy);
	*mask_out = mask;
	return mask != 0 ? 0 : -1;
}

void
auth_protocols_str(unsigned mask, char *out, size_t len)
{
	size_t n = 0;

	out[0] = '\0';
	for (int p = 0; p < AUTH_PROTO_COUNT && n < len; p++)
		if (mask & (1u << p))
			n += (size_t)snprintf(out + n, len - n, "%s%s", n ? "," : "",
			                      auth_protocol_name((enum auth_protocol)p));
}

static bool
app_password_name_is_valid(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && n < 64 &&
	       strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
	               n;
}

int
auth_app_password_create(struct auth_db *db, const char *address, const char *name,
                         unsigned protocols, char **plain_out, enum auth_error *err_out)
{
	char *plain, *hash;

	*plain_out = NULL;
	if (!app_password_name_is_valid(name) || (protocols & ~AUTH_PROTO_ALL) != 0)
		return fail(err_out, AUTH_ERR_INVALID);
	auth_app_password_generate(&plain, &hash);
	int rc = auth_app_password_add(db, address, name, hash,
	                               protocols != 0 ? protocols : AUTH_PROTO_ALL, err_out);
	free(hash);
	if (rc < 0) {
		explicit_bzero(plain, strlen(plain));
		free(plain);
		return -1;
	}
	*plain_out = plain;
	return 0;
}

int
auth_app_password_delete(struct auth_db *db, const char *address, const char *name,
                         enum auth_error *err_out)
{
	return exec_by_address(db,
	                       "DELETE FROM app_passwords WHERE name = ?2 AND account_id = "
	                       "(SELECT id FROM accounts WHERE address = ?1)",
	                       address, name, err_out);
}

int
auth_app_password_list(struct auth_db *db, uint64_t account_id, struct auth_app_password **out,
                       size_t *n_out, enum auth_error *err_out)
{
	sqlite3_stmt *st = prepare(db, "SELECT name, hash, protocols, created FROM app_passwords "
	                               "WHERE account_id = ?1 ORDER BY name");
	size_t n = 0, cap = 4;
	struct auth_app_password *v = xcalloc(cap, sizeof(*v));
	int rc;

	*out = NULL;
	*n_out = 0;
	if (st == NULL) {
		free(v);
		return fail(err_out, AUTH_ERR_TEMP);
	}
	sqlite3_bind_int64(st, 1, (sqlite3_int64)account_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap *= 2;
			v = xrealloc(v, cap * sizeof(*v));
		}
		v[n].name = col_dup(st, 0);
		v[n].hash = col_dup(st, 1);
		v[n].protocols = (unsigned)sqlite3_column_int(st, 2);
		v[n].created = sqlite3_column_int64(st, 3);
		n++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		auth_app_passwords_free(&v, n);
		return fail(err_out, AUTH_ERR_TEMP);
	}
	*out = v;
	*n_out = n;
	return 0;
}

void
auth_app_passwords_free(struct auth_app_password **vp, size_t n)
{
	struct auth_app_password *v = *vp;

	if (v == NULL)
		return;
	*vp = NULL;
	for (size_t i = 0; i < n; i++) {
		explicit_bzero(v[i].hash, strlen(v[i].hash));
		free(v[i].name);
		free(v[i].hash);
	}
	free(v);
}

int
auth_changes_head(struct auth_db *db, uint64_t *seq_out, enum auth_error *err_out)
{
	sqlite3_stmt *st = prepare(db, "SELECT COALESCE(MAX(seq), 0) FROM changes");

	if (st == NULL)
		return fail(err_out, AUTH_ERR_TEMP);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*seq_out = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : fail(err_out, AUTH_ERR_TEMP);
}

int
auth_changes_read(struct auth_db *db, uint64_t *seq, struct auth_change **out, size_t *n_out,
                  enum auth_error *err_out)
{
	/* One row per account (the newest state), however often it changed. */
	sqlite3_stmt *st = prepare(db, "SELECT c.account_id, MAX(c.seq), a.id, a.imap, a.pop3, "
	                               "a.smtp, a.role FROM changes c "
	                               "LEFT JOIN accounts a ON a.id = c.account_id "
	                               "WHERE c.seq > ?1 GROUP BY c.account_id");
	size_t n = 0, cap = 16;
	struct auth_change *v;
	int rc;

	*out = NULL;
	*n_out = 0;
	if (st == NULL)
		return fail(err_out, AUTH_ERR_TEMP);
	v = xcalloc(cap, sizeof(*v));
	sqlite3_bind_int64(st, 1, (sqlite3_int64)*seq);
	uint64_t newest = *seq;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap *= 2;
			v = xrealloc(v, cap * sizeof(*v));
		}
		struct auth_change *c = &v[n++];
		memset(c, 0, sizeof(*c));
		c->account_id = (uint64_t)sqlite3_column_int64(st, 0);
		newest = MAX(newest, (uint64_t)sqlite3_column_int64(st, 1));
		c->exists = sqlite3_column_type(st, 2) != SQLITE_NULL;
		for (int i = 0; c->exists && i < AUTH_PROTO_COUNT; i++)
			c->enabled[i] = sqlite3_column_int(st, 3 + i) != 0;
		const char *role = (const char *)sqlite3_column_text(st, 6);
		c->is_admin = role != NULL && strcmp(role, "admin") == 0;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(v);
		return fail(err_out, AUTH_ERR_TEMP);
	}
	*seq = newest;
	*out = v;
	*n_out = n;
	return 0;
}

int
auth_account_foreach(struct auth_db *db, int (*fn)(const struct auth_account *, void *), void *arg,
                     enum auth_error *err_out)
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

/* LIKE's wildcards in a search are matched literally (ESCAPE '\\'). */
static char *
like_pattern(const char *search)
{
	struct buf b;

	buf_init(&b);
	buf_putc(&b, '%');
	for (const char *p = search; *p != '\0'; p++) {
		if (*p == '%' || *p == '_' || *p == '\\')
			buf_putc(&b, '\\');
		buf_putc(&b, (char)tolower((unsigned char)*p));
	}
	buf_putc(&b, '%');
	return buf_steal(&b);
}

int
auth_account_page(struct auth_db *db, const struct auth_account_query *q,
                  int (*fn)(const struct auth_account *, void *), void *arg, uint64_t *total_out,
                  enum auth_error *err_out)
{
	/* Column names come from our table, never from q. Only the filters q
	   asks for are in the query, so a plain listing counts and pages on
	   the address index alone, and a domain uses accounts_domain. A search
	   is one scan of the table (a substring has no index). */
	static const char *const off_where[AUTH_PROTO_COUNT] = {" AND imap = 0", " AND pop3 = 0",
	                                                        " AND smtp = 0"};
	bool has_search = q->search != NULL && q->search[0] != '\0';
	char *where = xasprintf(
	        "WHERE 1%s%s%s", has_search ? " AND address LIKE ?1 ESCAPE '\\'" : "",
	        q->domain != NULL ? " AND substr(address, instr(address, '@') + 1) = ?2" : "",
	        q->disabled >= 0 && q->disabled < AUTH_PROTO_COUNT ? off_where[q->disabled] : "");
	char *pattern = has_search ? like_pattern(q->search) : NULL;
	char *domain = q->domain != NULL ? lowercase(q->domain) : NULL;
	char *sql_count = xasprintf("SELECT count(*) FROM accounts %s", where);
	char *sql_rows = xasprintf("SELECT " ACCOUNT_COLUMNS " FROM accounts %s ORDER BY address "
	                           "LIMIT ?3 OFFSET ?4",
	                           where);
	sqlite3_stmt *count = prepare(db, sql_count), *rows = prepare(db, sql_rows);
	int rc = SQLITE_ERROR;

	free(where);
	free(sql_count);
	free(sql_rows);
	if (count != NULL && rows != NULL) {
		sqlite3_stmt *both[2] = {count, rows};
		for (int i = 0; i < 2; i++) {
			if (pattern != NULL)
				sqlite3_bind_text(both[i], 1, pattern, -1, SQLITE_TRANSIENT);
			if (domain != NULL)
				sqlite3_bind_text(both[i], 2, domain, -1, SQLITE_TRANSIENT);
		}
		/* LIMIT -1 is SQLite's "no limit". */
		sqlite3_bind_int64(rows, 3, q->limit > 0 ? (sqlite3_int64)q->limit : -1);
		sqlite3_bind_int64(rows, 4, (sqlite3_int64)q->offset);
		rc = sqlite3_step(count);
	}
	if (rc == SQLITE_ROW) {
		*total_out = (uint64_t)sqlite3_column_int64(count, 0);
		while ((rc = sqlite3_step(rows)) == SQLITE_ROW) {
			struct auth_account a;
			row_to_account(rows, &a);
			int stop = fn(&a, arg);
			auth_account_clear(&a);
			if (stop != 0) {
				rc = SQLITE_DONE;
				break;
			}
		}
	}
	sqlite3_finalize(count);
	sqlite3_finalize(rows);
	free(pattern);
	free(domain);
	if (rc != SQLITE_DONE) {
		log_error("auth", "event=account-page-failed err=\"%s\"", sqlite3_errmsg(db->db));
		return fail(err_out, AUTH_ERR_TEMP);
	}
	return 0;
}

static void
free_secret(char *p)
{
	if (p != NULL) {
		explicit_bzero(p, strlen(p));
		free(p);
	}
}

void
auth_credentials_clear(struct auth_credentials *c)
{
	free_secret(c->password);
	free_secret(c->scram_sha1);
	free_secret(c->scram_sha256);
	free_secret(c->cram_md5);
	free_secret(c->digest_md5);
	free_secret(c->apop);
	memset(c, 0, sizeof(*c));
}

void
auth_account_clear(struct auth_account *a)
{
	a->cred.password = NULL; /* the same string as a->password */
	auth_credentials_clear(&a->cred);
	free_secret(a->password);
	free(a->address);
	free(a->role);
	free(a->referral);
	memset(a, 0, sizeof(*a));
}
