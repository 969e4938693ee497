/* SPDX-License-Identifier: MIT */
/*
 * smtp_tlsrpt_db.c: DATA_DIR/tlsrpt.db (smtp_tlsrpt_db.h). One table; the
 * primary key is everything that tells two kinds of session apart, so a
 * session is one upsert.
 */
#include "smtp/smtp_tlsrpt_db.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/util.h"

struct smtp_tlsrpt_db {
	sqlite3 *db;
};

/* temp_store=MEMORY: no temporary files in /tmp, which the sandbox
   refuses. */
static const char schema[] = "PRAGMA journal_mode=WAL;"
                             "PRAGMA synchronous=NORMAL;"
                             "PRAGMA temp_store=MEMORY;"
                             "CREATE TABLE IF NOT EXISTS sessions("
                             "  day INTEGER NOT NULL,"
                             "  domain TEXT NOT NULL,"
                             "  policy_type TEXT NOT NULL,"
                             "  policy_string TEXT NOT NULL,"
                             "  mx_host TEXT NOT NULL,"
                             "  result TEXT NOT NULL,"
                             "  sending_ip TEXT NOT NULL,"
                             "  receiving_mx TEXT NOT NULL,"
                             "  receiving_ip TEXT NOT NULL,"
                             "  failure_code TEXT NOT NULL,"
                             "  count INTEGER NOT NULL,"
                             "  PRIMARY KEY(day, domain, policy_type, policy_string, mx_host,"
                             "              result, sending_ip, receiving_mx, receiving_ip,"
                             "              failure_code));";

int
smtp_tlsrpt_db_open(const char *data_dir, struct smtp_tlsrpt_db **db_out, char **error_out)
{
	char *path = xasprintf("%s/tlsrpt.db", data_dir);
	sqlite3 *db = NULL;
	char *msg = NULL;

	/* FULLMUTEX: the delivery threads share the handle. */
	if (sqlite3_open_v2(path, &db,
	                    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
	                    NULL) != SQLITE_OK ||
	    (sqlite3_busy_timeout(db, 5000), sqlite3_exec(db, schema, NULL, NULL, &msg)) !=
	            SQLITE_OK) {
		*error_out = xasprintf("%s: %s", path,
		                       msg != NULL  ? msg
		                       : db != NULL ? sqlite3_errmsg(db)
		                                    : "cannot open");
		sqlite3_free(msg);
		sqlite3_close(db);
		free(path);
		return -1;
	}
	free(path);
	*db_out = xcalloc(1, sizeof(**db_out));
	(*db_out)->db = db;
	return 0;
}

void
smtp_tlsrpt_db_close(struct smtp_tlsrpt_db **dbp)
{
	if (*dbp == NULL)
		return;
	sqlite3_close((*dbp)->db);
	free(*dbp);
	*dbp = NULL;
}

int64_t
smtp_tlsrpt_day(int64_t t)
{
	return t - ((t % 86400) + 86400) % 86400;
}

int
smtp_tlsrpt_db_add(struct smtp_tlsrpt_db *db, int64_t day, const char *domain,
                   const struct smtp_tlsrpt_row *row)
{
	static const char sql[] = "INSERT INTO sessions VALUES(?,?,?,?,?,?,?,?,?,?,?)"
	                          " ON CONFLICT DO UPDATE SET count = count + excluded.count";
	sqlite3_stmt *st = NULL;
	const char *text[] = {
	        domain,           row->policy_type, row->policy_string, row->mx_host,
	        row->result,      row->sending_ip,  row->receiving_mx,  row->receiving_ip,
	        row->failure_code};
	int rc = sqlite3_prepare_v2(db->db, sql, -1, &st, NULL);

	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, day);
		for (size_t i = 0; i < ARRAY_LEN(text); i++)
			sqlite3_bind_text(st, (int)i + 2, text[i], -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 11, (sqlite3_int64)row->count);
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		log_error("outbound", "event=tlsrpt-record-failed domain=%s err=\"%s\"", domain,
		          sqlite3_errmsg(db->db));
		return -1;
	}
	return 0;
}

void
smtp_tlsrpt_rows_free(struct smtp_tlsrpt_rows *r)
{
	for (size_t i = 0; i < r->n; i++) {
		struct smtp_tlsrpt_row *w = &r->v[i];
		free((char *)w->policy_type);
		free((char *)w->policy_string);
		free((char *)w->mx_host);
		free((char *)w->result);
		free((char *)w->sending_ip);
		free((char *)w->receiving_mx);
		free((char *)w->receiving_ip);
		free((char *)w->failure_code);
	}
	free(r->v);
	free(r->domain);
	*r = (struct smtp_tlsrpt_rows){0};
}

static char *
column(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	return xstrdup(s != NULL ? (const char *)s : "");
}

int
smtp_tlsrpt_db_read(struct smtp_tlsrpt_db *db, int64_t before, bool take,
                    struct smtp_tlsrpt_rows **out, size_t *n_out)
{
	static const char sql[] = "SELECT day, domain, policy_type, policy_string, mx_host, result,"
	                          " sending_ip, receiving_mx, receiving_ip, failure_code, count"
	                          " FROM sessions"
	                          " WHERE day < ? ORDER BY day, domain, policy_type, policy_string,"
	                          " mx_host, result";
	sqlite3_stmt *st = NULL;
	struct smtp_tlsrpt_rows *v = NULL;
	size_t n = 0;
	int rc;

	*out = NULL;
	*n_out = 0;
	/* IMMEDIATE: the write lock from the start, so a second sender waits
	   and then finds the rows gone. */
	if (sqlite3_exec(db->db, take ? "BEGIN IMMEDIATE" : "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	rc = sqlite3_prepare_v2(db->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		goto fail;
	sqlite3_bind_int64(st, 1, before);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t day = sqlite3_column_int64(st, 0);
		const char *domain = (const char *)sqlite3_column_text(st, 1);
		if (domain == NULL)
			domain = "";
		if (n == 0 || v[n - 1].day != day || strcmp(v[n - 1].domain, domain) != 0) {
			v = xrealloc(v, (n + 1) * sizeof(*v));
			v[n++] = (struct smtp_tlsrpt_rows){.day = day, .domain = xstrdup(domain)};
		}
		struct smtp_tlsrpt_rows *r = &v[n - 1];
		r->v = xrealloc(r->v, (r->n + 1) * sizeof(*r->v));
		r->v[r->n++] = (struct smtp_tlsrpt_row){
		        .policy_type = column(st, 2),
		        .policy_string = column(st, 3),
		        .mx_host = column(st, 4),
		        .result = column(st, 5),
		        .sending_ip = column(st, 6),
		        .receiving_mx = column(st, 7),
		        .receiving_ip = column(st, 8),
		        .failure_code = column(st, 9),
		        .count = (uint64_t)sqlite3_column_int64(st, 10),
		};
	}
	sqlite3_finalize(st);
	st = NULL;
	if (rc != SQLITE_DONE)
		goto fail;
	if (take) {
		if (sqlite3_prepare_v2(db->db, "DELETE FROM sessions WHERE day < ?", -1, &st,
		                       NULL) != SQLITE_OK)
			goto fail;
		sqlite3_bind_int64(st, 1, before);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		st = NULL;
		if (rc != SQLITE_DONE)
			goto fail;
	}
	if (sqlite3_exec(db->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	*out = v;
	*n_out = n;
	return 0;
fail:
	log_error("outbound", "event=tlsrpt-read-failed err=\"%s\"", sqlite3_errmsg(db->db));
	sqlite3_finalize(st);
	sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
	for (size_t i = 0; i < n; i++)
		smtp_tlsrpt_rows_free(&v[i]);
	free(v);
	return -1;
}
