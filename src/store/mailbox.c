/* SPDX-License-Identifier: MIT */
/*
 * mailbox.c: the mailbox rows (SQLite backend): create (with parents),
 * delete, rename (with children; INBOX per RFC 9051 section 6.3.6), STATUS,
 * LIST and subscriptions (RFC 9051 sections 6.3.4-6.3.9).
 *
 * Names are hostile client input. They are checked by
 * store_mailbox_name_is_valid() (mailbox_name.c) and then only ever used as
 * SQL values: no path on disk is built from a name (a mailbox is a row, not
 * a directory). "INBOX" is stored upper case.
 */
#include "store/store_int.h"

#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/arena.h"
#include "lib/log.h"
#include "lib/util.h"

/* Columns of mailbox_info_read() and the list, in this order. */
#define INFO_COLUMNS                                                                               \
	"m.id, m.name, m.objectid, m.special_use, m.uidvalidity, m.uidnext, m.highestmodseq,"      \
	" m.messages, m.unseen, m.deleted, m.recent, m.size,"                                      \
	" EXISTS(SELECT 1 FROM mailboxes c WHERE c.name > m.name || '/'"                           \
	"  AND c.name < m.name || '0'),"                                                           \
	" EXISTS(SELECT 1 FROM subscriptions s WHERE s.name = m.name), m.deleted_size"

int
mailbox_name_id(struct db *db, const char *name, uint64_t *id_out, enum store_error *err_out)
{
	if (name == NULL || name[0] == '\0') {
		*id_out = 0;
		return 0;
	}
	char *canon = mailbox_name_canon(name);
	if (canon == NULL) {
		*err_out = STORE_ERR_NOTFOUND;
		return -1;
	}
	int rc = mailbox_id_lookup(db, canon, id_out, err_out);
	free(canon);
	return rc;
}

int
mailbox_id_lookup(struct db *db, const char *canon, uint64_t *id_out, enum store_error *err_out)
{
	static const char sql[] = "SELECT id FROM mailboxes WHERE name = ?";
	sqlite3_stmt *st = db_stmt(db, sql);
	int rc;

	if (st == NULL) {
		*err_out = STORE_ERR_TEMP;
		return -1;
	}
	sqlite3_bind_text(st, 1, canon, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*id_out = (uint64_t)sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		return 0;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		db_log_error(db, "mailbox-lookup");
		*err_out = db_error(db);
	} else {
		*err_out = STORE_ERR_NOTFOUND;
	}
	return -1;
}

uint64_t
mailbox_modseq_next(struct db *db, uint64_t mailbox_id)
{
	static const char sql[] = "UPDATE mailboxes SET highestmodseq = highestmodseq + 1"
	                          " WHERE id = ? RETURNING highestmodseq";
	sqlite3_stmt *st = db_stmt(db, sql);
	uint64_t modseq = 0;

	if (st == NULL)
		return 0;
	sqlite3_bind_int64(st, 1, (int64_t)mailbox_id);
	if (sqlite3_step(st) == SQLITE_ROW)
		modseq = (uint64_t)sqlite3_column_int64(st, 0);
	else
		db_log_error(db, "modseq");
	sqlite3_reset(st);
	return modseq;
}

int
mailbox_insert(struct db *db, const char *canon, unsigned special_use, uint64_t *id_out)
{
	static const char uv_sql[] =
	        "UPDATE account SET last_uidvalidity = max(last_uidvalidity + 1, ?)"
	        " RETURNING last_uidvalidity";
	static const char ins_sql[] =
	        "INSERT INTO mailboxes(name, objectid, special_use, uidvalidity) VALUES (?, ?, ?, ?)";
	sqlite3_stmt *st;
	unsigned char rnd[8];
	char objectid[24];
	int64_t uidvalidity = 0;

	st = db_stmt(db, uv_sql);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, (int64_t)(time(NULL) & 0x7fffffff));
	if (sqlite3_step(st) == SQLITE_ROW)
		uidvalidity = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (uidvalidity <= 0 || uidvalidity > 0xffffffffll)
		return -1;
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return -1;
	snprintf(objectid, sizeof(objectid), "F%02x%02x%02x%02x%02x%02x%02x%02x", rnd[0], rnd[1],
	         rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
	st = db_stmt(db, ins_sql);
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, canon, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, objectid, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 3, (int)special_use);
	sqlite3_bind_int64(st, 4, uidvalidity);
	if (db_step_done(db, st) < 0)
		return -1;
	*id_out = (uint64_t)sqlite3_last_insert_rowid(db->h);
	return 0;
}

static void
info_from_row(sqlite3_stmt *st, struct arena *a, struct store_mailbox_info *out)
{
	memset(out, 0, sizeof(*out));
	out->id = (uint64_t)sqlite3_column_int64(st, 0);
	out->name = a ? arena_strdup(a, (const char *)sqlite3_column_text(st, 1)) : NULL;
	snprintf(out->objectid, sizeof(out->objectid), "%s",
	         (const char *)sqlite3_column_text(st, 2));
	out->special_use = (unsigned)sqlite3_column_int(st, 3);
	out->uidvalidity = (uint32_t)sqlite3_column_int64(st, 4);
	out->uidnext = (uint32_t)sqlite3_column_int64(st, 5);
	out->highestmodseq = (uint64_t)sqlite3_column_int64(st, 6);
	out->messages = (uint32_t)sqlite3_column_int64(st, 7);
	out->unseen = (uint32_t)sqlite3_column_int64(st, 8);
	out->deleted = (uint32_t)sqlite3_column_int64(st, 9);
	out->recent = (uint32_t)sqlite3_column_int64(st, 10);
	out->size = (uint64_t)sqlite3_column_int64(st, 11);
	out->has_children = sqlite3_column_int(st, 12) != 0;
	out->is_subscribed = sqlite3_column_int(st, 13) != 0;
	out->deleted_size = (uint64_t)sqlite3_column_int64(st, 14);
	out->rights = STORE_RIGHTS_ALL; /* the owner's; list and status narrow it */
}

int
mailbox_info_read(struct db *db, uint64_t id, struct arena *a, struct store_mailbox_info *out,
                  enum store_error *err_out)
{
	static const char sql[] = "SELECT " INFO_COLUMNS " FROM mailboxes m WHERE m.id = ?";
	sqlite3_stmt *st = db_stmt(db, sql);
	int rc;

	if (st == NULL) {
		*err_out = STORE_ERR_TEMP;
		return -1;
	}
	sqlite3_bind_int64(st, 1, (int64_t)id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		info_from_row(st, a, out);
	else if (rc == SQLITE_DONE)
		*err_out = STORE_ERR_NOTFOUND;
	else
		*err_out = db_error(db);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

/* The nearest existing parent of canon ("a/b/c": "a/b", else "a"), 0 (the
   root) when none: where CREATE needs 'k' and what the new mailboxes
   inherit their ACL from (RFC 4314 section 4). */
static int
nearest_parent(struct db *db, const char *canon, uint64_t *id_out, enum store_error *err_out)
{
	char *copy = xstrdup(canon);
	int rc = 0;

	*id_out = 0;
	for (char *p = strrchr(copy, '/'); p != NULL; p = strrchr(copy, '/')) {
		*p = '\0';
		if (mailbox_id_lookup(db, copy, id_out, err_out) == 0)
			break;
		if (*err_out != STORE_ERR_NOTFOUND) {
			rc = -1;
			break;
		}
		*id_out = 0;
	}
	free(copy);
	return rc;
}

/* Creates every missing parent of canon ("a/b/c": "a", "a/b"), each with
   the ACL of acl_from. In a txn. */
static int
create_parents(struct db *db, const char *canon, uint64_t acl_from)
{
	char *copy = xstrdup(canon);
	uint64_t id;
	enum store_error err;
	int rc = 0;

	for (char *p = strchr(copy, '/'); p != NULL && rc == 0; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (mailbox_id_lookup(db, copy, &id, &err) < 0)
			rc = err == STORE_ERR_NOTFOUND && mailbox_insert(db, copy, 0, &id) == 0
			             ? acl_inherit(db, acl_from, id)
			             : -1;
		*p = '/';
	}
	free(copy);
	return rc;
}

int
store_mailbox_create(struct store_account *acct, const char *name, unsigned special_use,
                     enum store_error *err_out)
{
	struct account *a = acct->a;
	char *canon = mailbox_name_canon(name);
	struct db *db = NULL;
	struct quota_usage before;
	uint64_t id;
	int rc = -1;

	if (canon == NULL) {
		*err_out = STORE_ERR_BADNAME;
		return -1;
	}
	if (db_get(a, &db, err_out) < 0)
		goto out_free;
	pthread_mutex_lock(&a->write_lock);
	if (db_begin(db, true) < 0) {
		*err_out = STORE_ERR_TEMP;
		goto out;
	}
	if (mailbox_id_lookup(db, canon, &id, err_out) == 0) {
		*err_out = STORE_ERR_EXISTS;
		goto out;
	}
	if (*err_out != STORE_ERR_NOTFOUND)
		goto out;
	uint64_t parent;
	if (quota_usage(db, &before) < 0) {
		*err_out = db_error(db);
		goto out;
	}
	if (nearest_parent(db, canon, &parent, err_out) < 0 ||
	    acl_check(acct, db, parent, STORE_RIGHT_CREATE, NULL, err_out) < 0)
		goto out;
	if (create_parents(db, canon, parent) < 0 ||
	    mailbox_insert(db, canon, special_use, &id) < 0 || acl_inherit(db, parent, id) < 0) {
		*err_out = db_error(db);
		goto out;
	}
	/* RFC 9208 section 5.3: parents count too, so a CREATE of a/b/c may
	   need room for three. */
	if (quota_enforce(db, &before, err_out) < 0)
		goto out;
	if (db_commit(db) < 0) {
		*err_out = db_error(db);
		goto out;
	}
	rc = 0;
	account_list_changed(a, acct);
out:
	if (rc < 0)
		db_rollback(db);
	pthread_mutex_unlock(&a->write_lock);
	db_put(a, db);
out_free:
	free(canon);
	return rc;
}

/* True if canon has children (rows named canon/...). */
static int
has_children(struct db *db, const char *canon, bool *yes_out)
{
	static const char sql[] = "SELECT EXISTS(SELECT 1 FROM mailboxes"
	                          " WHERE name > ?1 || '/' AND name < ?1 || '0')";
	sqlite3_stmt *st = db_stmt(db, sql);

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, canon, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return -1;
	}
	*yes_out = sqlite3_column_int(st, 0) != 0;
	sqlite3_reset(st);
	return 0;
}

int
store_mailbox_delete(struct store_account *acct, const char *name, enum store_error *err_out)
{
	static const char del_msgs[] = "DELETE FROM messages WHERE mailbox_id = ?";
	static const char del_exp[] = "DELETE FROM expunged WHERE mailbox_id = ?";
	static const char del_box[] = "DELETE FROM mailboxes WHERE id = ?";
	/* RFC 5464 section 4.1: a new mailbox of the same name starts bare. */
	static const char del_meta[] = "DELETE FROM metadata WHERE mailbox_id = ?";
	const char *const steps[] = {del_msgs, del_exp, del_meta, del_box};
	struct account *a = acct->a;
	char *canon = mailbox_name_canon(name);
	struct db *db = NULL;
	uint64_t id;
	bool children = false;
	int rc = -1;

	if (canon == NULL) {
		*err_out = STORE_ERR_BADNAME;
		return -1;
	}
	if (strcmp(canon, "INBOX") == 0) {
		free(canon);
		*err_out = STORE_ERR_PERM;
		return -1;
	}
	if (db_get(a, &db, err_out) < 0)
		goto out_free;
	pthread_mutex_lock(&a->write_lock);
	if (db_begin(db, true) < 0) {
		*err_out = STORE_ERR_TEMP;
		goto out;
	}
	if (mailbox_id_lookup(db, canon, &id, err_out) < 0 ||
	    acl_check(acct, db, id, STORE_RIGHT_DELETE, NULL, err_out) < 0)
		goto out;
	if (has_children(db, canon, &children) < 0) {
		*err_out = db_error(db);
		goto out;
	}
	if (children) {
		*err_out = STORE_ERR_HASCHILDREN;
		goto out;
	}
	for (size_t i = 0; i < ARRAY_LEN(steps); i++) {
		sqlite3_stmt *st = db_stmt(db, steps[i]);

		if (st == NULL) {
			*err_out = STORE_ERR_TEMP;
			goto out;
		}
		sqlite3_bind_int64(st, 1, (int64_t)id);
		if (db_step_done(db, st) < 0) {
			*err_out = db_error(db);
			goto out;
		}
	}
	if (acl_delete_mailbox(db, id) < 0 || db_commit(db) < 0) {
		*err_out = db_error(db);
		goto out;
	}
	rc = 0;
	changes_deleted(a, id);
	blobs_collect_later(a); /* its messages' blobs, off this call (expunge.c) */
	account_list_changed(a, acct);
out:
	if (rc < 0)
		db_rollback(db);
	pthread_mutex_unlock(&a->write_lock);
	db_put(a, db);
	if (rc == 0)
		indexer_kick(a);
out_free:
	free(canon);
	return rc;
}

/* INBOX rename (RFC 9051 section 6.3.6): a new mailbox gets INBOX's messages. */
static int
rename_inbox(struct account *a, struct db *db, const char *new_canon,
             const struct quota_usage *before, enum store_error *err_out)
{
	static const char uids_sql[] = "SELECT uid FROM messages WHERE mailbox_id = ? ORDER BY uid";
	uint64_t inbox_id, new_id;
	uint32_t *uids = NULL, *src_uids = NULL, *dst_uids = NULL;
	size_t n = 0, cap = 0, n_copied = 0;
	uint64_t src_modseq = 0, dst_modseq = 0;
	sqlite3_stmt *st;
	int rc = -1;

	if (mailbox_id_lookup(db, "INBOX", &inbox_id, err_out) < 0)
		return -1;
	/* INBOX keeps its annotations and the new mailbox gets a copy (RFC
	   5464 section 4.1). */
	static const char meta_sql[] = "INSERT INTO metadata(mailbox_id, name, value)"
	                               " SELECT ?, name, value FROM metadata WHERE mailbox_id = ?";
	uint64_t parent;
	if (nearest_parent(db, new_canon, &parent, err_out) < 0)
		return -1;
	if (create_parents(db, new_canon, parent) < 0 ||
	    mailbox_insert(db, new_canon, 0, &new_id) < 0 || acl_inherit(db, parent, new_id) < 0 ||
	    (st = db_stmt(db, meta_sql)) == NULL) {
		*err_out = db_error(db);
		return -1;
	}
	sqlite3_bind_int64(st, 1, (int64_t)new_id);
	sqlite3_bind_int64(st, 2, (int64_t)inbox_id);
	if (db_step_done(db, st) < 0) {
		*err_out = db_error(db);
		return -1;
	}
	st = db_stmt(db, uids_sql);
	if (st == NULL) {
		*err_out = STORE_ERR_TEMP;
		return -1;
	}
	sqlite3_bind_int64(st, 1, (int64_t)inbox_id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			uids = xrealloc(uids, cap * sizeof(*uids));
		}
		uids[n++] = (uint32_t)sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	src_uids = xcalloc(n ? n : 1, sizeof(*src_uids));
	dst_uids = xcalloc(n ? n : 1, sizeof(*dst_uids));
	if (copy_in_txn(a, db, NULL, inbox_id, new_id, uids, n, true, STORE_RIGHTS_ALL, src_uids,
	                dst_uids, NULL, NULL, &n_copied, &src_modseq, &dst_modseq, err_out) < 0 ||
	    quota_enforce(db, before, err_out) < 0)
		goto out;
	if (db_commit(db) < 0) {
		*err_out = db_error(db);
		goto out;
	}
	if (n_copied > 0)
		changes_expunged(a, inbox_id, NULL, src_uids, n_copied, src_modseq);
	rc = 0;
out:
	free(uids);
	free(src_uids);
	free(dst_uids);
	return rc;
}

int
store_mailbox_rename(struct store_account *acct, const char *old_name, const char *new_name,
                     enum store_error *err_out)
{
	static const char ren_sql[] =
	        "UPDATE mailboxes SET name = ?2 || substr(name, length(?1) + 1)"
	        " WHERE name = ?1 OR (name > ?1 || '/' AND name < ?1 || '0')";
	static const char sub_sql[] =
	        "UPDATE OR REPLACE subscriptions SET name = ?2 || substr(name, length(?1) + 1)"
	        " WHERE name = ?1 OR (name > ?1 || '/' AND name < ?1 || '0')";
	struct account *a = acct->a;
	char *old_canon = mailbox_name_canon(old_name), *new_canon = mailbox_name_canon(new_name);
	struct db *db = NULL;
	struct quota_usage before;
	uint64_t id;
	size_t old_len;
	int rc = -1;

	if (old_canon == NULL || new_canon == NULL) {
		*err_out = old_canon == NULL ? STORE_ERR_NOTFOUND : STORE_ERR_BADNAME;
		goto out_free;
	}
	old_len = strlen(old_canon);
	if (strncmp(new_canon, old_canon, old_len) == 0 &&
	    (new_canon[old_len] == '/' || new_canon[old_len] == '\0')) {
		*err_out = strcmp(new_canon, old_canon) == 0 ? STORE_ERR_EXISTS : STORE_ERR_PERM;
		goto out_free;
	}
	if (strcmp(new_canon, "INBOX") == 0 || strncmp(new_canon, "INBOX/", 6) == 0) {
		/* Nothing may be renamed into INBOX's place or its children
		   except by creating INBOX children directly. */
		if (strcmp(new_canon, "INBOX") == 0) {
			*err_out = STORE_ERR_EXISTS;
			goto out_free;
		}
	}
	if (db_get(a, &db, err_out) < 0)
		goto out_free;
	pthread_mutex_lock(&a->write_lock);
	if (db_begin(db, true) < 0) {
		*err_out = STORE_ERR_TEMP;
		goto out;
	}
	if (mailbox_id_lookup(db, old_canon, &id, err_out) < 0 ||
	    acl_check(acct, db, id, STORE_RIGHT_DELETE, NULL, err_out) < 0)
		goto out;
	if (mailbox_id_lookup(db, new_canon, &id, err_out) == 0) {
		*err_out = STORE_ERR_EXISTS;
		goto out;
	}
	if (*err_out != STORE_ERR_NOTFOUND)
		goto out;
	/* The new INBOX, or parents made for the new name, count as mailboxes
	   (RFC 9208 section 5.3). */
	if (quota_usage(db, &before) < 0) {
		*err_out = db_error(db);
		goto out;
	}
	/* RFC 4314 section 4: 'x' on the old name, 'k' on the new parent. */
	uint64_t parent;
	if (nearest_parent(db, new_canon, &parent, err_out) < 0 ||
	    acl_check(acct, db, parent, STORE_RIGHT_CREATE, NULL, err_out) < 0)
		goto out;
	if (strcmp(old_canon, "INBOX") == 0) {
		rc = rename_inbox(a, db, new_canon, &before, err_out);
		goto out;
	}
	for (int i = 0; i < 2; i++) {
		sqlite3_stmt *st = db_stmt(db, i == 0 ? ren_sql : sub_sql);

		if (st == NULL) {
			*err_out = STORE_ERR_TEMP;
			goto out;
		}
		sqlite3_bind_text(st, 1, old_canon, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, new_canon, -1, SQLITE_STATIC);
		if (db_step_done(db, st) < 0) {
			/* A child's new name already taken. */
			*err_out = (sqlite3_errcode(db->h) & 0xff) == SQLITE_CONSTRAINT
			                   ? STORE_ERR_EXISTS
			                   : db_error(db);
			goto out;
		}
	}
	if (create_parents(db, new_canon, parent) < 0) {
		*err_out = db_error(db);
		goto out;
	}
	if (quota_enforce(db, &before, err_out) < 0)
		goto out;
	if (db_commit(db) < 0) {
		*err_out = db_error(db);
		goto out;
	}
	rc = 0;
out:
	if (rc < 0)
		db_rollback(db);
	pthread_mutex_unlock(&a->write_lock);
	if (rc == 0)
		account_list_changed(a, acct);
	db_put(a, db);
out_free:
	free(old_canon);
	free(new_canon);
	return rc;
}

/* UNSEEN as another user sees it: their own \Seen (seen.c), unless the
   mailbox shares it. A count over that user's rows, not the stored counter. */
static void
user_unseen(const struct store_account *acct, struct db *db, struct store_mailbox_info *out)
{
	if (acct->who == NULL || seen_is_shared(db, out->id))
		return;
	int64_t n = seen_count(db, out->id, acct->who->name);
	if (n >= 0)
		out->unseen = n >= (int64_t)out->messages ? 0 : out->messages - (uint32_t)n;
}

int
store_mailbox_status(struct store_account *acct, const char *name, struct arena *a,
                     struct store_mailbox_info *out, enum store_error *err_out)
{
	static const char sql[] = "SELECT " INFO_COLUMNS " FROM mailboxes m WHERE m.name = ?";
	char *canon = mailbox_name_canon(name);
	struct db *db;
	sqlite3_stmt *st;
	int rc;

	if (canon == NULL) {
		*err_out = STORE_ERR_NOTFOUND;
		return -1;
	}
	if (db_get(acct->a, &db, err_out) < 0) {
		free(canon);
		return -1;
	}
	st = db_stmt(db, sql);
	rc = st ? SQLITE_ERROR : SQLITE_ERROR;
	if (st != NULL) {
		sqlite3_bind_text(st, 1, canon, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			info_from_row(st, a, out);
		else if (rc == SQLITE_DONE)
			*err_out = STORE_ERR_NOTFOUND;
		else
			*err_out = db_error(db);
		sqlite3_reset(st);
	} else {
		*err_out = STORE_ERR_TEMP;
	}
	if (rc == SQLITE_ROW &&
	    acl_check(acct, db, out->id, STORE_RIGHT_READ, &out->rights, err_out) < 0)
		rc = SQLITE_ERROR;
	if (rc == SQLITE_ROW)
		user_unseen(acct, db, out);
	db_put(acct->a, db);
	free(canon);
	return rc == SQLITE_ROW ? 0 : -1;
}

int
store_mailbox_list(struct store_account *acct, struct arena *a,
                   struct store_mailbox_info **list_out, size_t *n_out, enum store_error *err_out)
{
	static const char sql[] =
	        "SELECT " INFO_COLUMNS " FROM mailboxes m"
	        " ORDER BY (m.name <> 'INBOX' AND substr(m.name, 1, 6) <> 'INBOX/'),"
	        " m.name";
	struct store_mailbox_info *list = NULL;
	size_t n = 0, cap = 0;
	struct db *db;
	sqlite3_stmt *st;
	int rc;

	if (db_get(acct->a, &db, err_out) < 0)
		return -1;
	st = db_stmt(db, sql);
	if (st == NULL) {
		db_put(acct->a, db);
		*err_out = STORE_ERR_TEMP;
		return -1;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			struct store_mailbox_info *bigger;

			cap = cap ? cap * 2 : 16;
			bigger = arena_alloc(a, cap * sizeof(*bigger));
			if (n > 0)
				memcpy(bigger, list, n * sizeof(*bigger));
			list = bigger;
		}
		info_from_row(st, a, &list[n++]);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		*err_out = db_error(db);
	/* Another user sees only what gives them 'l' (RFC 4314 section 4:
	   never a NO for what they cannot list). */
	size_t k = 0;
	for (size_t i = 0; rc == SQLITE_DONE && i < n; i++) {
		if (acl_check(acct, db, list[i].id, 0, &list[i].rights, err_out) < 0)
			rc = SQLITE_ERROR;
		else if (list[i].rights & STORE_RIGHT_LOOKUP) {
			user_unseen(acct, db, &list[i]);
			list[k++] = list[i];
		}
	}
	db_put(acct->a, db);
	*list_out = list;
	*n_out = k;
	return rc == SQLITE_DONE ? 0 : -1;
}

int
store_subscription_set(struct store_account *acct, const char *name, bool subscribed,
                       enum store_error *err_out)
{
	static const char on_sql[] = "INSERT OR IGNORE INTO subscriptions(name) VALUES (?)";
	static const char off_sql[] = "DELETE FROM subscriptions WHERE name = ?";
	char *canon = mailbox_name_canon(name);
	struct db *db;
	sqlite3_stmt *st;
	int rc = -1;

	if (canon == NULL) {
		*err_out = STORE_ERR_BADNAME;
		return -1;
	}
	if (db_get(acct->a, &db, err_out) < 0) {
		free(canon);
		return -1;
	}
	/* One autocommit statement; write_lock keeps it off other writers. */
	pthread_mutex_lock(&acct->a->write_lock);
	st = db_stmt(db, subscribed ? on_sql : off_sql);
	if (st != NULL) {
		sqlite3_bind_text(st, 1, canon, -1, SQLITE_STATIC);
		rc = db_step_done(db, st);
	}
	pthread_mutex_unlock(&acct->a->write_lock);
	if (rc < 0)
		*err_out = db_error(db);
	else
		account_list_changed(acct->a, acct);
	db_put(acct->a, db);
	free(canon);
	return rc;
}

int
store_subscription_list(struct store_account *acct, struct arena *a, const char ***names_out,
                        size_t *n_out, enum store_error *err_out)
{
	static const char sql[] = "SELECT name FROM subscriptions ORDER BY name";
	const char **names = NULL;
	size_t n = 0, cap = 0;
	struct db *db;
	sqlite3_stmt *st;
	int rc = SQLITE_ERROR;

	if (db_get(acct->a, &db, err_out) < 0)
		return -1;
	st = db_stmt(db, sql);
	while (st != NULL && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			const char **bigger;

			cap = cap ? cap * 2 : 16;
			bigger = arena_alloc(a, cap * sizeof(*bigger));
			if (n > 0)
				memcpy(bigger, names, n * sizeof(*bigger));
			names = bigger;
		}
		names[n++] = arena_strdup(a, (const char *)sqlite3_column_text(st, 0));
	}
	if (st != NULL)
		sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		*err_out = db_error(db);
	db_put(acct->a, db);
	*names_out = names;
	*n_out = n;
	return rc == SQLITE_DONE ? 0 : -1;
}
