/* SPDX-License-Identifier: MIT */
/*
 * groups.c: the group_members table of accounts.db (groups.h). Every call
 * is one or two indexed statements; a session reads its user's groups once,
 * at login.
 */
#include "auth/groups.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "auth/auth_internal.h"
#include "lib/log.h"
#include "lib/util.h"

bool
auth_group_name_is_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > 64)
		return false;
	for (const char *p = name; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' && *p != '-')
			return false;
	return true;
}

static char *
lowercase(const char *s)
{
	char *p = xstrdup(s);

	for (char *q = p; *q != '\0'; q++)
		*q = (char)tolower((unsigned char)*q);
	return p;
}

/* Runs one statement with up to two text parameters; the number of rows
   changed, or -1 (logged). */
static int
run(struct auth_db *db, const char *sql, const char *a, const char *b, const char *what)
{
	sqlite3 *h = auth_db_sqlite(db);
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
		if (b != NULL)
			sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_DONE)
			rc = sqlite3_changes(h);
	}
	if (rc < 0)
		log_error("auth", "event=%s-failed err=\"%s\"", what, sqlite3_errmsg(h));
	sqlite3_finalize(st);
	return rc;
}

int
auth_group_member_add(struct auth_db *db, const char *group, const char *address,
                      enum auth_error *err_out)
{
	if (!auth_group_name_is_valid(group) || !auth_address_is_valid(address)) {
		*err_out = AUTH_ERR_INVALID;
		return -1;
	}
	char *lower = lowercase(address);
	int n = run(db, "INSERT OR IGNORE INTO group_members(name, address) VALUES (?1, ?2)", group,
	            lower, "group-add");
	free(lower);
	if (n < 0) {
		*err_out = AUTH_ERR_TEMP;
		return -1;
	}
	return 0;
}

int
auth_group_member_del(struct auth_db *db, const char *group, const char *address,
                      enum auth_error *err_out)
{
	char *lower = address != NULL ? lowercase(address) : NULL;
	int n = address != NULL
	                ? run(db, "DELETE FROM group_members WHERE name = ?1 AND address = ?2",
	                      group, lower, "group-del")
	                : run(db, "DELETE FROM group_members WHERE name = ?1", group, NULL,
	                      "group-del");
	free(lower);
	if (n <= 0) {
		*err_out = n < 0 ? AUTH_ERR_TEMP : AUTH_ERR_NOTFOUND;
		return -1;
	}
	return 0;
}

int
auth_group_foreach(struct auth_db *db, const char *group,
                   int (*fn)(const char *group, const char *address, void *arg), void *arg,
                   enum auth_error *err_out)
{
	sqlite3 *h = auth_db_sqlite(db);
	sqlite3_stmt *st = NULL;
	const char *sql = group != NULL ? "SELECT name, address FROM group_members WHERE name = ?1"
	                                  " ORDER BY name, address"
	                                : "SELECT name, address FROM group_members"
	                                  " ORDER BY name, address";
	int rc = SQLITE_ERROR;

	if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK) {
		if (group != NULL)
			sqlite3_bind_text(st, 1, group, -1, SQLITE_STATIC);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			if (fn((const char *)sqlite3_column_text(st, 0),
			       (const char *)sqlite3_column_text(st, 1), arg) != 0) {
				rc = SQLITE_DONE;
				break;
			}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		log_error("auth", "event=group-list-failed err=\"%s\"", sqlite3_errmsg(h));
		*err_out = AUTH_ERR_TEMP;
		return -1;
	}
	return 0;
}

int
auth_groups_of(struct auth_db *db, const char *address, char ***groups_out, size_t *n_out,
               enum auth_error *err_out)
{
	sqlite3 *h = auth_db_sqlite(db);
	sqlite3_stmt *st = NULL;
	char **v = NULL, *lower = lowercase(address);
	size_t n = 0;
	int rc = SQLITE_ERROR;

	if (sqlite3_prepare_v2(h, "SELECT name FROM group_members WHERE address = ?1 ORDER BY name",
	                       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, lower, -1, SQLITE_STATIC);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			v = xrealloc(v, (n + 1) * sizeof(*v));
			v[n++] = xstrdup((const char *)sqlite3_column_text(st, 0));
		}
	}
	sqlite3_finalize(st);
	free(lower);
	if (rc != SQLITE_DONE) {
		log_error("auth", "event=groups-read-failed err=\"%s\"", sqlite3_errmsg(h));
		auth_groups_free(v, n);
		*err_out = AUTH_ERR_TEMP;
		return -1;
	}
	*groups_out = v;
	*n_out = n;
	return 0;
}

void
auth_groups_free(char **groups, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(groups[i]);
	free(groups);
}
