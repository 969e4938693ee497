/* SPDX-License-Identifier: MIT */
/*
 * smtp_tlsrpt_db.h: the TLS-RPT counts (RFC 8460 section 4), durable in
 * DATA_DIR/tlsrpt.db (SQLite, WAL): one row per policy domain, UTC day,
 * policy and kind of outcome, with a session count. Delivery threads add
 * to it (one handle may be shared: SQLite serializes); the daily sender
 * and `tern tlsrpt send` take a day's rows out (read and delete in one
 * transaction, so two senders never report the same sessions twice).
 * synchronous=NORMAL: a power cut may lose the last counts, never the
 * database; statistics do not warrant an fsync per delivery.
 */
#ifndef TERN_SMTP_SMTP_TLSRPT_DB_H
#define TERN_SMTP_SMTP_TLSRPT_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smtp/smtp_tlsrpt.h"

struct smtp_tlsrpt_db;

/* Opens (creating) DATA_DIR/tlsrpt.db. 0, or -1 with a heap *error_out. */
int smtp_tlsrpt_db_open(const char *data_dir, struct smtp_tlsrpt_db **db_out, char **error_out);
void smtp_tlsrpt_db_close(struct smtp_tlsrpt_db **dbp);

/* The UTC day (its 00:00:00, unix time) t falls in. */
int64_t smtp_tlsrpt_day(int64_t t);

/* Adds row->count sessions to (day, domain, the row's fields). 0, or -1
   (logged). */
int smtp_tlsrpt_db_add(struct smtp_tlsrpt_db *db, int64_t day, const char *domain,
                       const struct smtp_tlsrpt_row *row);

/* A day's rows of one domain; strings and v are heap (free with
   smtp_tlsrpt_rows_free). */
struct smtp_tlsrpt_rows {
	int64_t day;
	char *domain;
	struct smtp_tlsrpt_row *v;
	size_t n;
};
void smtp_tlsrpt_rows_free(struct smtp_tlsrpt_rows *r);

/* Every (day, domain) with rows, days before `before`, oldest first, each
   with its rows: into *out (heap array, *n_out entries; free each with
   smtp_tlsrpt_rows_free, then the array). take: the rows are deleted in
   the same transaction (the caller reports them, or adds them back). 0,
   or -1 (logged). */
int smtp_tlsrpt_db_read(struct smtp_tlsrpt_db *db, int64_t before, bool take,
                        struct smtp_tlsrpt_rows **out, size_t *n_out);

#endif
