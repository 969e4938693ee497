/* SPDX-License-Identifier: MIT */
/*
 * accounts.h: the account records in DATA_DIR/accounts.db (SQLite, WAL).
 * One row per account: address, password hash, role, per-protocol switches.
 * The numeric id is the store's directory name (accounts/<id>/) and is never
 * reused. A struct auth_db is one SQLite connection: use it from one thread at
 * a time (the CLI has one; each job thread opens its own).
 */
#ifndef TERN_AUTH_ACCOUNTS_H
#define TERN_AUTH_ACCOUNTS_H

#include <stdbool.h>
#include <stdint.h>

struct auth_db;

enum auth_error {
	AUTH_ERR_NONE,
	AUTH_ERR_TEMP,	   /* database trouble; logged */
	AUTH_ERR_NOTFOUND, /* no such account */
	AUTH_ERR_EXISTS,   /* address taken */
	AUTH_ERR_INVALID,  /* bad address or value */
};

enum auth_protocol {
	AUTH_PROTO_IMAP,
	AUTH_PROTO_POP3,
	AUTH_PROTO_SMTP,
	AUTH_PROTO_COUNT,
};

struct auth_account {
	uint64_t id;
	char *address;	/* as stored: lowercased */
	char *password; /* crypt(3) hash */
	char *role;	/* "user" or "admin" */
	bool enabled[AUTH_PROTO_COUNT];
	int64_t created; /* unix time */
};

/* Opens (creating if need be) DIR/accounts.db. Returns 0, or -1 with a heap
   *error_out. */
int auth_db_open(const char *data_dir, struct auth_db **db_out, char **error_out);
void auth_db_close(struct auth_db **dbp);

/* True for a plausible "local@domain" address (no spaces, controls, '/'). */
bool auth_address_is_valid(const char *address);
const char *auth_protocol_name(enum auth_protocol p);
const char *auth_error_str(enum auth_error err);

int auth_account_add(struct auth_db *db, const char *address, const char *password_hash,
		     uint64_t *id_out, enum auth_error *err_out);
/* Fills out (free with auth_account_clear) or fails with NOTFOUND/TEMP. */
int auth_account_lookup(struct auth_db *db, const char *address, struct auth_account *out,
			enum auth_error *err_out);
int auth_account_delete(struct auth_db *db, const char *address, enum auth_error *err_out);
int auth_account_set_password(struct auth_db *db, const char *address, const char *password_hash,
			      enum auth_error *err_out);
/* Calls fn for each account in address order; stops early if fn returns
   non-zero. Returns 0 or -1 (TEMP). */
int auth_account_foreach(struct auth_db *db, int (*fn)(const struct auth_account *, void *),
			 void *arg, enum auth_error *err_out);
void auth_account_clear(struct auth_account *a);

#endif
