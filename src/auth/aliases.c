/* SPDX-License-Identifier: MIT */
/*
 * aliases.c: the aliases table and recipient resolution (aliases.h). A
 * resolution is a handful of indexed reads (account, alias, sub-address,
 * catch-all), each a prepared statement per call like the rest of
 * accounts.db: RCPT is not a hot loop next to the message it announces.
 */
#include "auth/aliases.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "auth/auth_internal.h"
#include "lib/log.h"
#include "lib/util.h"

static int
fail(enum auth_error *err_out, enum auth_error err)
{
	*err_out = err;
	return -1;
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

	if (sqlite3_prepare_v2(auth_db_sqlite(db), sql, -1, &st, NULL) != SQLITE_OK) {
		log_error("auth", "event=sql-prepare-failed err=\"%s\"",
		          sqlite3_errmsg(auth_db_sqlite(db)));
		return NULL;
	}
	return st;
}

static bool
alias_is_valid(const char *alias)
{
	if (alias[0] == '@') {
		char *probe = xasprintf("x%s", alias);
		bool ok = auth_address_is_valid(probe);
		free(probe);
		return ok;
	}
	return auth_address_is_valid(alias);
}

int
auth_alias_add(struct auth_db *db, const char *alias, const char *target, enum auth_error *err_out)
{
	if (!alias_is_valid(alias) || !auth_address_is_valid(target))
		return fail(err_out, AUTH_ERR_INVALID);
	char *a = lowercase(alias), *t = lowercase(target);
	int rc = -1;
	if (strcmp(a, t) == 0) {
		*err_out = AUTH_ERR_INVALID;
		goto out;
	}
	sqlite3_stmt *st =
	        prepare(db, "INSERT INTO aliases(address, target, created) VALUES (?1, ?2, ?3)");
	if (st == NULL) {
		*err_out = AUTH_ERR_TEMP;
		goto out;
	}
	sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, t, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)time(NULL));
	int step = sqlite3_step(st);
	sqlite3_finalize(st);
	if (step == SQLITE_CONSTRAINT) {
		*err_out = AUTH_ERR_EXISTS;
	} else if (step != SQLITE_DONE) {
		log_error("auth", "event=alias-add-failed err=\"%s\"",
		          sqlite3_errmsg(auth_db_sqlite(db)));
		*err_out = AUTH_ERR_TEMP;
	} else {
		rc = 0;
	}
out:
	free(a);
	free(t);
	return rc;
}

int
auth_alias_delete(struct auth_db *db, const char *alias, const char *target,
                  enum auth_error *err_out)
{
	sqlite3_stmt *st =
	        prepare(db, target != NULL ? "DELETE FROM aliases WHERE address = ?1 AND "
	                                     "target = ?2"
	                                   : "DELETE FROM aliases WHERE address = ?1");
	if (st == NULL)
		return fail(err_out, AUTH_ERR_TEMP);
	char *a = lowercase(alias), *t = target != NULL ? lowercase(target) : NULL;
	sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
	if (t != NULL)
		sqlite3_bind_text(st, 2, t, -1, SQLITE_STATIC);
	int step = sqlite3_step(st);
	sqlite3_finalize(st);
	free(a);
	free(t);
	if (step != SQLITE_DONE)
		return fail(err_out, AUTH_ERR_TEMP);
	if (sqlite3_changes(auth_db_sqlite(db)) == 0)
		return fail(err_out, AUTH_ERR_NOTFOUND);
	return 0;
}

int
auth_alias_list(struct auth_db *db, const char *alias, struct auth_alias **out, size_t *n_out,
                enum auth_error *err_out)
{
	sqlite3_stmt *st =
	        prepare(db, alias != NULL ? "SELECT address, target, created FROM aliases "
	                                    "WHERE address = ?1 ORDER BY address, target"
	                                  : "SELECT address, target, created FROM aliases "
	                                    "ORDER BY address, target");
	struct auth_alias *v = NULL;
	size_t n = 0;
	int step;

	*out = NULL;
	*n_out = 0;
	if (st == NULL)
		return fail(err_out, AUTH_ERR_TEMP);
	char *a = alias != NULL ? lowercase(alias) : NULL;
	if (a != NULL)
		sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		v = xrealloc(v, (n + 1) * sizeof(*v));
		v[n].address = xstrdup((const char *)sqlite3_column_text(st, 0));
		v[n].target = xstrdup((const char *)sqlite3_column_text(st, 1));
		v[n].created = sqlite3_column_int64(st, 2);
		n++;
	}
	sqlite3_finalize(st);
	free(a);
	if (step != SQLITE_DONE) {
		auth_aliases_free(&v, n);
		return fail(err_out, AUTH_ERR_TEMP);
	}
	*out = v;
	*n_out = n;
	return 0;
}

void
auth_aliases_free(struct auth_alias **vp, size_t n)
{
	struct auth_alias *v = *vp;

	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		free(v[i].address);
		free(v[i].target);
	}
	free(v);
	*vp = NULL;
}

/* ---- resolution ---- */

struct resolution {
	struct auth_db *db;
	const char *separator;
	bool use_catchall;
	struct auth_recipient *v;
	size_t n;
	bool failed; /* a database error */
};

/* 1 found (added), 0 not an account, -1 error. */
static int
add_account(struct resolution *r, const char *address, const char *folder)
{
	sqlite3_stmt *st = prepare(r->db, "SELECT id, address FROM accounts WHERE address = ?1");

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, address, -1, SQLITE_STATIC);
	int step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		uint64_t id = (uint64_t)sqlite3_column_int64(st, 0);
		bool dup = false;
		for (size_t i = 0; i < r->n && !dup; i++)
			dup = r->v[i].account_id == id;
		if (!dup) {
			r->v = xrealloc(r->v, (r->n + 1) * sizeof(*r->v));
			struct auth_recipient *rc = &r->v[r->n++];
			memset(rc, 0, sizeof(*rc));
			rc->account_id = id;
			snprintf(rc->address, sizeof(rc->address), "%s",
			         (const char *)sqlite3_column_text(st, 1));
			snprintf(rc->folder, sizeof(rc->folder), "%s", folder);
		}
	}
	sqlite3_finalize(st);
	return step == SQLITE_ROW ? 1 : step == SQLITE_DONE ? 0 : -1;
}

/* The targets of alias (heap strings). 0, or -1 on error. */
static int
alias_targets(struct resolution *r, const char *alias, char ***out, size_t *n_out)
{
	sqlite3_stmt *st =
	        prepare(r->db, "SELECT target FROM aliases WHERE address = ?1 ORDER BY target");
	char **v = NULL;
	size_t n = 0;
	int step;

	*out = NULL;
	*n_out = 0;
	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, alias, -1, SQLITE_STATIC);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		v = xrealloc(v, (n + 1) * sizeof(*v));
		v[n++] = xstrdup((const char *)sqlite3_column_text(st, 0));
	}
	sqlite3_finalize(st);
	*out = v;
	*n_out = n;
	return step == SQLITE_DONE ? 0 : -1;
}

static void
free_strings(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static bool resolve(struct resolution *r, const char *address, const char *folder, int depth);

/* Resolves each target of alias; false when alias has none. */
static bool
resolve_alias(struct resolution *r, const char *alias, const char *folder, int depth)
{
	char **targets;
	size_t n;

	if (alias_targets(r, alias, &targets, &n) < 0) {
		r->failed = true;
		return false;
	}
	for (size_t i = 0; i < n; i++)
		resolve(r, targets[i], folder, depth + 1);
	free_strings(targets, n);
	return n > 0;
}

/* Adds what address leads to; false when it leads nowhere. */
static bool
resolve(struct resolution *r, const char *address, const char *folder, int depth)
{
	size_t before = r->n;

	if (depth >= AUTH_ALIAS_DEPTH || r->failed)
		return false;
	int found = add_account(r, address, folder);
	if (found < 0) {
		r->failed = true;
		return false;
	}
	if (found > 0)
		return true;
	if (resolve_alias(r, address, folder, depth))
		return r->n > before;
	const char *at = strrchr(address, '@');
	size_t sep_len = strlen(r->separator);
	const char *sep = sep_len > 0 ? strstr(address, r->separator) : NULL;
	if (sep != NULL && at != NULL && sep < at && sep > address) {
		/* local+tag@domain: the tag names a folder, and must not itself
		   hold another separator's worth of path. */
		char *base = xasprintf("%.*s%s", (int)(sep - address), address, at);
		char *tag = xstrndup(sep + sep_len, (size_t)(at - sep - (ptrdiff_t)sep_len));
		bool use_catchall = r->use_catchall;
		r->use_catchall = false; /* the base's catch-all is step 4's */
		bool ok = resolve(r, base, folder[0] != '\0' ? folder : tag, depth + 1);
		r->use_catchall = use_catchall;
		free(base);
		free(tag);
		if (ok)
			return true;
	}
	if (r->use_catchall && at != NULL && depth == 0) {
		if (resolve_alias(r, at, folder, depth))
			return r->n > before;
	}
	return false;
}

static int
resolve_into(struct auth_db *db, const char *address, const char *separator, bool catchall,
             struct resolution *r, enum auth_error *err_out)
{
	char *lower = lowercase(address);

	memset(r, 0, sizeof(*r));
	r->db = db;
	r->separator = separator != NULL ? separator : "";
	r->use_catchall = catchall;
	resolve(r, lower, "", 0);
	free(lower);
	if (r->failed) {
		free(r->v);
		r->v = NULL;
		return fail(err_out, AUTH_ERR_TEMP);
	}
	return 0;
}

int
auth_recipient_resolve(struct auth_db *db, const char *address, const char *separator,
                       struct auth_recipient **out, size_t *n_out, enum auth_error *err_out)
{
	struct resolution r;

	*out = NULL;
	*n_out = 0;
	if (resolve_into(db, address, separator, true, &r, err_out) < 0)
		return -1;
	if (r.n == 0)
		return fail(err_out, AUTH_ERR_NOTFOUND);
	*out = r.v;
	*n_out = r.n;
	return 0;
}

int
auth_address_owned(struct auth_db *db, uint64_t account_id, const char *address,
                   const char *separator, bool *owned_out, enum auth_error *err_out)
{
	struct resolution r;

	*owned_out = false;
	if (resolve_into(db, address, separator, false, &r, err_out) < 0)
		return -1;
	for (size_t i = 0; i < r.n; i++)
		if (r.v[i].account_id == account_id)
			*owned_out = true;
	free(r.v);
	return 0;
}

int
auth_service_resolve(struct auth_service *svc, const char *address, const char *separator,
                     struct auth_recipient **out, size_t *n_out, enum auth_error *err_out)
{
	struct auth_db *db = auth_thread_db(svc);

	if (db == NULL) {
		*out = NULL;
		*n_out = 0;
		return fail(err_out, AUTH_ERR_TEMP);
	}
	return auth_recipient_resolve(db, address, separator, out, n_out, err_out);
}

int
auth_service_address_owned(struct auth_service *svc, uint64_t account_id, const char *address,
                           const char *separator, bool *owned_out, enum auth_error *err_out)
{
	struct auth_db *db = auth_thread_db(svc);

	*owned_out = false;
	if (db == NULL)
		return fail(err_out, AUTH_ERR_TEMP);
	return auth_address_owned(db, account_id, address, separator, owned_out, err_out);
}
