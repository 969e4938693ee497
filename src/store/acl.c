/* SPDX-License-Identifier: MIT */
/*
 * acl.c: access control lists (RFC 4314) and the one place rights are
 * decided. Each mailbox's ACL lives in its owner's index.db, table acl
 * (mailbox_id, identifier, rights bits; mailbox_id 0 is the account's root,
 * what new top-level mailboxes inherit). The ACL is keyed by mailbox id, so
 * RENAME keeps it (section 4: it SHOULD); DELETE removes it (MUST).
 *
 * Rights of a handle (acl_check, store_mailbox_rights): the owner's handle
 * has every right (section 2 allows rights "always granted to the owner");
 * another user's has the union of the entries naming "anyone",
 * "authenticated", their login name or one of their "$group"s, minus the
 * union of the matching "-identifier" entries (section 2, negative rights).
 * Without 'l' and 'r' a mailbox looks absent: the caller gets _NOTFOUND,
 * never a hint that it exists (section 6).
 *
 * shares.db (DATA_DIR/shares.db) indexes which owners have entries for
 * which identifiers, so a user's "Other Users" listing opens only the
 * accounts that share something with them. It is derived data: a
 * store_acl_set() rewrites the owner's rows from its acl table.
 *
 * Client input (rights strings, identifiers) goes through the pure
 * parsers of acl_rights.c before anything is looked up.
 */
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/arena.h"
#include "lib/log.h"
#include "lib/util.h"

/* Whether identifier (without its '-') names who. */
static bool
identifier_matches(const char *id, const struct store_identity *who)
{
	if (strcmp(id, "anyone") == 0 || strcmp(id, "authenticated") == 0)
		return true; /* every session here has logged in */
	if (*id == '$') {
		for (size_t i = 0; i < who->n_groups; i++)
			if (strcasecmp(id + 1, who->groups[i]) == 0)
				return true;
		return false;
	}
	return strcasecmp(id, who->name) == 0;
}

/* Accumulates one entry into the positive and negative sets. */
static void
entry_apply(const char *id, unsigned rights, const struct store_identity *who, unsigned *pos,
            unsigned *neg)
{
	if (*id == '-') {
		if (identifier_matches(id + 1, who))
			*neg |= rights;
	} else if (identifier_matches(id, who)) {
		*pos |= rights;
	}
}

/* who's rights on mailbox_id from its acl rows. */
static int
rights_read(struct db *db, uint64_t mailbox_id, const struct store_identity *who,
            unsigned *rights_out, enum store_error *err_out)
{
	static const char sql[] = "SELECT identifier, rights FROM acl WHERE mailbox_id = ?";
	sqlite3_stmt *st = db_stmt(db, sql);
	unsigned pos = 0, neg = 0;
	int rc;

	if (st == NULL) {
		*err_out = STORE_ERR_TEMP;
		return -1;
	}
	sqlite3_bind_int64(st, 1, (int64_t)mailbox_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		entry_apply((const char *)sqlite3_column_text(st, 0),
		            (unsigned)sqlite3_column_int(st, 1), who, &pos, &neg);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		*err_out = db_error(db);
		return -1;
	}
	*rights_out = pos & ~neg & STORE_RIGHTS_ALL;
	return 0;
}

int
acl_check(const struct store_account *acct, struct db *db, uint64_t mailbox_id, unsigned need,
          unsigned *rights_out, enum store_error *err_out)
{
	unsigned rights = STORE_RIGHTS_ALL;

	if (acct->who != NULL && rights_read(db, mailbox_id, acct->who, &rights, err_out) < 0)
		return -1;
	if (rights_out != NULL)
		*rights_out = rights;
	if ((rights & need) == need)
		return 0;
	/* Section 6: no hint that a mailbox exists to one who may not see it.
	   A parent asked for 'k' (CREATE, RENAME) is not the mailbox named. */
	*err_out = rights & (STORE_RIGHT_LOOKUP | STORE_RIGHT_READ) || need == STORE_RIGHT_CREATE
	                   ? STORE_ERR_NORIGHTS
	                   : STORE_ERR_NOTFOUND;
	return -1;
}

int
store_mailbox_rights(struct store_account *acct, const char *name, unsigned *rights_out,
                     enum store_error *err_out)
{
	struct db *db;
	uint64_t id;
	int rc;

	if (db_get(acct->a, &db, err_out) < 0)
		return -1;
	rc = mailbox_name_id(db, name, &id, err_out);
	if (rc == 0)
		rc = acl_check(acct, db, id, 0, rights_out, err_out);
	db_put(acct->a, db);
	return rc;
}

unsigned
store_mailbox_my_rights(const struct store_mailbox *mbox)
{
	return mbox->rights;
}

uint32_t
acl_flag_mask(unsigned rights)
{
	uint32_t mask = 0;

	if (rights & STORE_RIGHT_SEEN)
		mask |= STORE_FLAG_SEEN;
	if (rights & STORE_RIGHT_DELMSG)
		mask |= STORE_FLAG_DELETED;
	if (rights & STORE_RIGHT_WRITE)
		mask |= STORE_FLAG_ANSWERED | STORE_FLAG_FLAGGED | STORE_FLAG_DRAFT;
	return mask;
}

int
acl_inherit(struct db *db, uint64_t parent_id, uint64_t id)
{
	static const char sql[] = "INSERT INTO acl(mailbox_id, identifier, rights)"
	                          " SELECT ?2, identifier, rights FROM acl WHERE mailbox_id = ?1";
	sqlite3_stmt *st = db_stmt(db, sql);

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, (int64_t)parent_id);
	sqlite3_bind_int64(st, 2, (int64_t)id);
	return db_step_done(db, st);
}

int
acl_delete_mailbox(struct db *db, uint64_t id)
{
	static const char sql[] = "DELETE FROM acl WHERE mailbox_id = ?";
	sqlite3_stmt *st = db_stmt(db, sql);

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, (int64_t)id);
	return db_step_done(db, st);
}

int
store_acl_get(struct store_account *acct, const char *name, struct arena *a,
              struct store_acl_entry **entries_out, size_t *n_out, enum store_error *err_out)
{
	static const char sql[] = "SELECT identifier, rights FROM acl WHERE mailbox_id = ?"
	                          " ORDER BY identifier";
	struct store_acl_entry *v = NULL;
	size_t n = 0, cap = 0;
	struct db *db;
	uint64_t id;
	int rc = -1;

	if (db_get(acct->a, &db, err_out) < 0)
		return -1;
	if (mailbox_name_id(db, name, &id, err_out) < 0 ||
	    acl_check(acct, db, id, STORE_RIGHT_ADMIN, NULL, err_out) < 0)
		goto out;
	sqlite3_stmt *st = db_stmt(db, sql);
	if (st == NULL) {
		*err_out = STORE_ERR_TEMP;
		goto out;
	}
	sqlite3_bind_int64(st, 1, (int64_t)id);
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			struct store_acl_entry *bigger;
			cap = cap ? cap * 2 : 8;
			bigger = arena_alloc(a, cap * sizeof(*bigger));
			if (n > 0)
				memcpy(bigger, v, n * sizeof(*v));
			v = bigger;
		}
		v[n].identifier = arena_strdup(a, (const char *)sqlite3_column_text(st, 0));
		v[n++].rights = (unsigned)sqlite3_column_int(st, 1);
	}
	sqlite3_reset(st);
	if (step != SQLITE_DONE) {
		*err_out = db_error(db);
		goto out;
	}
	*entries_out = v;
	*n_out = n;
	rc = 0;
out:
	db_put(acct->a, db);
	return rc;
}

/* ---- shares.db ---- */

/* Opens shares.db on first use; shares_lock held. */
static sqlite3 *
shares_db(struct store *s)
{
	static const char schema[] =
	        "PRAGMA journal_mode=WAL; PRAGMA temp_store=MEMORY;" /* no /tmp: sandbox */
	        "CREATE TABLE IF NOT EXISTS shares(owner INTEGER NOT NULL, identifier TEXT NOT NULL,"
	        " PRIMARY KEY (identifier, owner)) WITHOUT ROWID;";

	if (s->shares != NULL)
		return s->shares;
	char *path = xasprintf("%s/shares.db", s->data_dir);
	sqlite3 *h = NULL;
	char *msg = NULL;
	if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	            SQLITE_OK ||
	    (sqlite3_busy_timeout(h, 5000), sqlite3_exec(h, schema, NULL, NULL, &msg)) !=
	            SQLITE_OK) {
		log_error("store", "event=shares-open-failed file=%s err=\"%s\"", path,
		          msg != NULL ? msg : (h != NULL ? sqlite3_errmsg(h) : "cannot open"));
		sqlite3_free(msg);
		sqlite3_close(h);
		h = NULL;
	}
	free(path);
	s->shares = h;
	return h;
}

void
acl_shares_close(struct store *s)
{
	sqlite3_close(s->shares);
	s->shares = NULL;
}

/* Rewrites the owner's rows of shares.db from its acl table (db). */
static int
shares_update(struct account *a, struct db *db)
{
	static const char ids_sql[] = "SELECT DISTINCT identifier FROM acl"
	                              " WHERE rights != 0 AND substr(identifier, 1, 1) != '-'";
	struct store *s = a->store;
	sqlite3_stmt *get = db_stmt(db, ids_sql), *del = NULL, *ins = NULL;
	int rc = -1;

	if (get == NULL)
		return -1;
	pthread_mutex_lock(&s->shares_lock);
	sqlite3 *h = shares_db(s);
	if (h == NULL || sqlite3_exec(h, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		goto out;
	if (sqlite3_prepare_v2(h, "DELETE FROM shares WHERE owner = ?", -1, &del, NULL) !=
	            SQLITE_OK ||
	    sqlite3_prepare_v2(h, "INSERT OR IGNORE INTO shares(owner, identifier) VALUES (?, ?)",
	                       -1, &ins, NULL) != SQLITE_OK)
		goto rollback;
	sqlite3_bind_int64(del, 1, (int64_t)a->id);
	if (sqlite3_step(del) != SQLITE_DONE)
		goto rollback;
	int step;
	while ((step = sqlite3_step(get)) == SQLITE_ROW) {
		sqlite3_bind_int64(ins, 1, (int64_t)a->id);
		sqlite3_bind_text(ins, 2, (const char *)sqlite3_column_text(get, 0), -1,
		                  SQLITE_TRANSIENT);
		if (sqlite3_step(ins) != SQLITE_DONE)
			goto rollback;
		sqlite3_reset(ins);
	}
	if (step != SQLITE_DONE || sqlite3_exec(h, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		goto rollback;
	rc = 0;
	goto out;
rollback:
	log_error("store", "event=shares-update-failed account=%llu err=\"%s\"",
	          (unsigned long long)a->id, sqlite3_errmsg(h));
	sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL);
out:
	sqlite3_reset(get);
	sqlite3_finalize(del);
	sqlite3_finalize(ins);
	pthread_mutex_unlock(&s->shares_lock);
	return rc;
}

static int
u64_cmp(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

int
store_shared_owners(struct store *store, const struct store_identity *who, uint64_t **ids_out,
                    size_t *n_out, enum store_error *err_out)
{
	static const char sql[] = "SELECT owner FROM shares WHERE identifier = ? COLLATE NOCASE";
	uint64_t *ids = NULL;
	size_t n = 0, cap = 0;
	sqlite3_stmt *st = NULL;
	int rc = -1;

	pthread_mutex_lock(&store->shares_lock);
	sqlite3 *h = shares_db(store);
	if (h == NULL || sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK)
		goto out;
	/* The identifiers that can name who: "anyone", "authenticated", the
	   login name, "$group" for each group. */
	for (size_t k = 0; k < 3 + who->n_groups; k++) {
		char *group = NULL;
		const char *id = k == 0 ? "anyone" : k == 1 ? "authenticated" : who->name;
		if (k >= 3)
			id = group = xasprintf("$%s", who->groups[k - 3]);
		sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
		free(group);
		int step;
		while ((step = sqlite3_step(st)) == SQLITE_ROW) {
			uint64_t owner = (uint64_t)sqlite3_column_int64(st, 0);
			if (owner == who->account_id)
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 8;
				ids = xrealloc(ids, cap * sizeof(*ids));
			}
			ids[n++] = owner;
		}
		sqlite3_reset(st);
		if (step != SQLITE_DONE)
			goto out;
	}
	if (n > 1)
		qsort(ids, n, sizeof(*ids), u64_cmp);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (k == 0 || ids[k - 1] != ids[i])
			ids[k++] = ids[i];
	*ids_out = ids;
	*n_out = k;
	ids = NULL;
	rc = 0;
out:
	if (rc < 0) {
		log_error("store", "event=shares-read-failed err=\"%s\"",
		          h != NULL ? sqlite3_errmsg(h) : "cannot open");
		*err_out = STORE_ERR_TEMP;
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&store->shares_lock);
	free(ids);
	return rc;
}

int
store_acl_set(struct store_account *acct, const char *name, const char *identifier,
              enum store_rights_mod mod, unsigned rights, enum store_error *err_out)
{
	static const char get_sql[] =
	        "SELECT rights FROM acl WHERE mailbox_id = ? AND identifier = ?";
	static const char set_sql[] =
	        "INSERT OR REPLACE INTO acl(mailbox_id, identifier, rights) VALUES (?, ?, ?)";
	static const char del_sql[] = "DELETE FROM acl WHERE mailbox_id = ? AND identifier = ?";
	struct account *a = acct->a;
	struct db *db;
	uint64_t id;
	unsigned old = 0;
	int rc = -1;

	if (!store_acl_identifier_is_valid(identifier)) {
		*err_out = STORE_ERR_BADNAME;
		return -1;
	}
	if (db_get(a, &db, err_out) < 0)
		return -1;
	pthread_mutex_lock(&a->write_lock);
	if (db_begin(db, true) < 0) {
		*err_out = STORE_ERR_TEMP;
		goto out;
	}
	if (mailbox_name_id(db, name, &id, err_out) < 0 ||
	    acl_check(acct, db, id, STORE_RIGHT_ADMIN, NULL, err_out) < 0)
		goto out;
	sqlite3_stmt *st = db_stmt(db, get_sql);
	if (st == NULL)
		goto fail;
	sqlite3_bind_int64(st, 1, (int64_t)id);
	sqlite3_bind_text(st, 2, identifier, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		old = (unsigned)sqlite3_column_int(st, 0);
	sqlite3_reset(st);
	if (mod == STORE_RIGHTS_ADD)
		rights |= old;
	else if (mod == STORE_RIGHTS_REMOVE)
		rights = old & ~rights;
	rights &= STORE_RIGHTS_ALL;
	st = db_stmt(db, rights != 0 ? set_sql : del_sql);
	if (st == NULL)
		goto fail;
	sqlite3_bind_int64(st, 1, (int64_t)id);
	sqlite3_bind_text(st, 2, identifier, -1, SQLITE_STATIC);
	if (rights != 0)
		sqlite3_bind_int(st, 3, (int)rights);
	if (db_step_done(db, st) < 0 || db_commit(db) < 0)
		goto fail;
	rc = 0;
	/* The index follows the committed ACL; a failure here is logged and
	   only hides the share from "Other Users" until the next change. */
	(void)shares_update(a, db);
	goto out;
fail:
	*err_out = db_error(db);
out:
	if (rc < 0)
		db_rollback(db);
	pthread_mutex_unlock(&a->write_lock);
	if (rc == 0)
		account_list_changed(a, acct);
	db_put(a, db);
	return rc;
}
