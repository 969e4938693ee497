/* SPDX-License-Identifier: MIT */
/*
 * accounts.h: the account records in DATA_DIR/accounts.db (SQLite, WAL).
 * One row per account: address, credentials, role, per-protocol switches;
 * app passwords in their own table; a change log that tells a running server
 * which accounts' access changed (so it can close their sessions). The
 * numeric id is the store's directory name (accounts/<id>/) and is never
 * reused. A struct auth_db is one SQLite connection: use it from one thread at
 * a time (the CLI has one; each job thread opens its own).
 *
 * Credentials never include the password: a crypt(3) hash (yescrypt, or an
 * imported SHA512-CRYPT/bcrypt one), the SCRAM-SHA-1/-256 StoredKey and
 * ServerKey (RFC 5802 section 3) in Dovecot's "iter,salt,stored,server"
 * base64 form, and, only while those mechanisms are enabled, the CRAM-MD5
 * HMAC midstates and the DIGEST-MD5 H(A1) (plaintext-equivalent for those
 * mechanisms alone: docs/AUTH.md).
 *
 * Schema versions (PRAGMA user_version): 0/1 the foundation's accounts
 * table; 2 adds the credential columns, app_passwords and changes; 3 the
 * aliases table (aliases.h); 4 the APOP secret; 5 the referral column
 * (IMAP LOGIN-REFERRALS, RFC 2221); 6 group_members (groups.h). Opening
 * a database migrates it in one transaction.
 */
#ifndef TERN_AUTH_ACCOUNTS_H
#define TERN_AUTH_ACCOUNTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct auth_db;

enum auth_error {
	AUTH_ERR_NONE,
	AUTH_ERR_TEMP,     /* database trouble; logged */
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

#define AUTH_PROTO_ALL ((1u << AUTH_PROTO_COUNT) - 1)

/* Stored credentials; "" where absent. */
struct auth_credentials {
	char *password;   /* crypt(3) hash */
	char *scram_sha1; /* "iter,salt,storedkey,serverkey" */
	char *scram_sha256;
	char *cram_md5;   /* 64 hex digits: inner and outer MD5 midstates */
	char *digest_md5; /* 32 hex digits: MD5(address:realm:password) */
	char *apop;       /* the SASLprep'd password itself (APOP), "" unless auth.apop */
};

struct auth_account {
	uint64_t id;
	char *address;  /* as stored: lowercased */
	char *password; /* crypt(3) hash (= cred.password) */
	char *role;     /* "user" or "admin" */
	bool enabled[AUTH_PROTO_COUNT];
	int64_t created; /* unix time */
	struct auth_credentials cred;
	char *referral; /* "imap://host/" where the account lives, "" = here */
};

/* A named app password; hash is "$tern-app$salt$hmac" (password.h). */
struct auth_app_password {
	char *name;
	char *hash;
	unsigned protocols; /* 1 << enum auth_protocol bits */
	int64_t created;
};

/* What `tern user set` changes: -1 keeps a switch, 0 turns it off, 1 on. */
struct auth_access_change {
	int enabled[AUTH_PROTO_COUNT];
	const char *role;     /* NULL keeps it; "user" or "admin" */
	const char *referral; /* NULL keeps it; "" clears; else auth_referral_is_valid() */
};

/* One account whose access changed since the server last looked. */
struct auth_change {
	uint64_t account_id;
	bool exists; /* false: deleted */
	bool enabled[AUTH_PROTO_COUNT];
	bool is_admin;
};

/* Opens (creating if need be) DIR/accounts.db. Returns 0, or -1 with a heap
 *error_out. */
int auth_db_open(const char *data_dir, struct auth_db **db_out, char **error_out);
void auth_db_close(struct auth_db **dbp);
/* An explicit transaction around many calls (an import): one fsync for all.
   begin returns 0 or -1; commit -1 if it failed (then rolled back). */
int auth_db_begin(struct auth_db *db);
int auth_db_commit(struct auth_db *db);
void auth_db_rollback(struct auth_db *db);

/* True for a referral URL an IMAP response code can carry: "imap://" or
   "imaps://" and a host, under 256 bytes, printable ASCII without SP, '"'
   or ']' (RFC 2221 section 4, RFC 5092). */
bool auth_referral_is_valid(const char *url);

/* True for a plausible "local@domain" address (no spaces, controls, '/'). */
bool auth_address_is_valid(const char *address);
const char *auth_protocol_name(enum auth_protocol p);
const char *auth_error_str(enum auth_error err);

/* Parses "imap", "pop3", "smtp" (also "submission"); -1 if none. */
int auth_protocol_parse(const char *name);

/* Adds an account with credentials (the hash alone is enough; derived keys
   may be "" or NULL). */
int auth_account_add(struct auth_db *db, const char *address, const char *password_hash,
                     uint64_t *id_out, enum auth_error *err_out);
int auth_account_add_credentials(struct auth_db *db, const char *address,
                                 const struct auth_credentials *cred, uint64_t *id_out,
                                 enum auth_error *err_out);
/* Replaces every credential at once, so no old key outlives a new password. */
int auth_account_set_credentials(struct auth_db *db, const char *address,
                                 const struct auth_credentials *cred, enum auth_error *err_out);
void auth_credentials_clear(struct auth_credentials *c);
/* Fills out (free with auth_account_clear) or fails with NOTFOUND/TEMP. */
int auth_account_lookup(struct auth_db *db, const char *address, struct auth_account *out,
                        enum auth_error *err_out);
int auth_account_delete(struct auth_db *db, const char *address, enum auth_error *err_out);
/* Sets the hash and clears every derived key (SCRAM, CRAM-MD5, DIGEST-MD5). */
int auth_account_set_password(struct auth_db *db, const char *address, const char *password_hash,
                              enum auth_error *err_out);

/*
 * Access switches and role, for one account or in bulk, each in one
 * transaction that also logs the change for running servers. The address
 * variant reports each unknown address to missing() and goes on; *changed_out
 * counts the accounts updated.
 */
int auth_access_set_addresses(struct auth_db *db, const char *const *addresses, size_t n,
                              const struct auth_access_change *c, size_t *changed_out,
                              void (*missing)(const char *address, void *arg), void *arg,
                              enum auth_error *err_out);
/* domain NULL: every account. */
int auth_access_set_domain(struct auth_db *db, const char *domain,
                           const struct auth_access_change *c, size_t *changed_out,
                           enum auth_error *err_out);

/* Parses a comma-separated list of protocol names ("imap,pop3") into a
   mask of 1 << enum auth_protocol bits; -1 when empty or a name is unknown. */
int auth_protocols_parse(const char *list, unsigned *mask_out);
/* The names of mask's protocols, comma-separated ("imap,smtp"), into out. */
void auth_protocols_str(unsigned mask, char *out, size_t len);

/*
 * Makes a new app password called name for address, usable for the
 * protocols in mask (0 = all), and stores its hash: what `tern user
 * app-password add` and the admin API both call. *plain_out gets the
 * password, shown once (heap: wipe and free it). -1 with _INVALID (a name
 * that is not 1-63 letters, digits, '.', '_', '-'), _EXISTS (name in use), _NOTFOUND (no account), _TEMP.
 */
int auth_app_password_create(struct auth_db *db, const char *address, const char *name,
                             unsigned protocols, char **plain_out, enum auth_error *err_out);
/* App passwords of an account. add fails with EXISTS for a name in use. */
int auth_app_password_add(struct auth_db *db, const char *address, const char *name,
                          const char *hash, unsigned protocols, enum auth_error *err_out);
int auth_app_password_delete(struct auth_db *db, const char *address, const char *name,
                             enum auth_error *err_out);
/* Fills a heap array (free with auth_app_passwords_free); 0 or -1 (TEMP). */
int auth_app_password_list(struct auth_db *db, uint64_t account_id, struct auth_app_password **out,
                           size_t *n_out, enum auth_error *err_out);
void auth_app_passwords_free(struct auth_app_password **vp, size_t n);

/* The change log's newest sequence number (0 when empty). */
int auth_changes_head(struct auth_db *db, uint64_t *seq_out, enum auth_error *err_out);
/* Accounts changed after *seq (one entry per account, heap array); moves
 *seq to the newest change seen. */
int auth_changes_read(struct auth_db *db, uint64_t *seq, struct auth_change **out, size_t *n_out,
                      enum auth_error *err_out);
/* Calls fn for each account in address order; stops early if fn returns
   non-zero. Returns 0 or -1 (TEMP). */
int auth_account_foreach(struct auth_db *db, int (*fn)(const struct auth_account *, void *),
                         void *arg, enum auth_error *err_out);
void auth_account_clear(struct auth_account *a);

/* Which accounts a listing shows (the CLI's `user list` and the admin API
   both page through this, so they always agree). */
struct auth_account_query {
	const char *search; /* substring of the address, case-insensitive; NULL = any */
	const char *domain; /* exact domain; NULL = any */
	int disabled;       /* only accounts with this protocol off; -1 = any */
	uint64_t offset;
	uint64_t limit; /* 0 = no limit */
};
/*
 * Calls fn for the accounts q selects, in address order, from q->offset up
 * to q->limit of them; stops early if fn returns non-zero. *total_out is
 * how many match in all (for paging). Returns 0, or -1 (TEMP).
 */
int auth_account_page(struct auth_db *db, const struct auth_account_query *q,
                      int (*fn)(const struct auth_account *, void *), void *arg,
                      uint64_t *total_out, enum auth_error *err_out);

#endif
