/* SPDX-License-Identifier: MIT */
/*
 * search.c: what SEARCH and SORT (RFC 9051 6.4.4, RFC 5256, RFC 5957) can
 * get from the index: substring text search, column ranges, sort orders.
 * The IMAP engine combines these uid sets with flags from the view.
 *
 * Text: an FTS5 table with the trigram tokenizer (case_sensitive 0, so
 * Unicode case folding) over decoded headers and text parts of each blob.
 * The index is filled in the background (indexer.c): texts still in
 * fts_pending are scanned with tern_icontains() in the same statement, so
 * the answer is exact whatever the indexer's progress.
 * A needle of 3+ characters is a phrase query, i.e. an index lookup of its
 * trigrams; SUBJECT/FROM/TO/CC use the header index to narrow, then check
 * the cached field. Shorter needles cannot use trigrams and scan the cached
 * text of the mailbox with tern_icontains() (Unicode case folding too).
 * Needles are SQL values and quoted FTS phrases: no injection possible.
 */
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>
#include <unicase.h>
#include <unistr.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/util.h"

static bool
ascii_only(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return false;
	return true;
}

static char
lc(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

static bool
ascii_icontains(const char *hay, size_t hn, const char *needle, size_t nn)
{
	if (nn == 0)
		return true;
	for (size_t i = 0; i + nn <= hn; i++) {
		size_t k = 0;

		while (k < nn && lc(hay[i + k]) == lc(needle[k]))
			k++;
		if (k == nn)
			return true;
	}
	return false;
}

/* tern_icontains(hay, needle): case-insensitive (Unicode folding) substring. */
static void
fn_icontains(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const char *hay = (const char *)sqlite3_value_text(argv[0]);
	const char *needle = (const char *)sqlite3_value_text(argv[1]);
	size_t hn, nn, fh = 0, fn = 0;
	uint8_t *h2, *n2;
	bool found = false;

	(void)argc;
	if (hay == NULL || needle == NULL) {
		sqlite3_result_int(ctx, 0);
		return;
	}
	hn = (size_t)sqlite3_value_bytes(argv[0]);
	nn = (size_t)sqlite3_value_bytes(argv[1]);
	if (ascii_only(needle, nn) && ascii_only(hay, hn)) {
		sqlite3_result_int(ctx, ascii_icontains(hay, hn, needle, nn));
		return;
	}
	h2 = u8_casefold((const uint8_t *)hay, hn, NULL, NULL, NULL, &fh);
	n2 = u8_casefold((const uint8_t *)needle, nn, NULL, NULL, NULL, &fn);
	if (h2 != NULL && n2 != NULL)
		found = fn == 0 || memmem(h2, fh, n2, fn) != NULL;
	free(h2);
	free(n2);
	sqlite3_result_int(ctx, found);
}

void
search_register(sqlite3 *h)
{
	sqlite3_create_function(h, "tern_icontains", 2,
	                        SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
	                        fn_icontains, NULL, NULL);
}

/* "{col} : "needle"" with quotes doubled; col NULL for every column. */
static char *
fts_phrase(struct arena *a, const char *col, const char *needle)
{
	struct buf b;
	char *s;

	buf_init(&b);
	if (col != NULL)
		buf_printf(&b, "{%s} : ", col);
	buf_putc(&b, '"');
	for (const char *p = needle; *p != '\0'; p++) {
		if (*p == '"')
			buf_putc(&b, '"');
		buf_putc(&b, *p);
	}
	buf_putc(&b, '"');
	s = arena_strdup(a, b.data);
	buf_deinit(&b);
	return s;
}

/*
 * The narrowing query for an address needle (FROM, TO, CC): its pieces
 * between '@', '.' and blanks, each a phrase of the header index, all of
 * them required. The cached address is the parsed one (comments and
 * folding gone, "user (c)@ (c) domain.org" is user@domain.org), so the
 * whole needle need not stand in the header as one run; each piece does.
 * Pieces under 3 characters are left out (trigrams); NULL when none is
 * left: no narrowing.
 */
static const char *
fts_address_pieces(struct arena *a, const char *needle)
{
	struct buf b;
	const char *p = needle;

	buf_init(&b);
	while (*p != '\0') {
		size_t n = strcspn(p, "@. \t");
		if (n > 0 && u8_mbsnlen((const uint8_t *)p, n) >= 3) {
			if (b.len > 0)
				buf_puts(&b, " AND ");
			char *piece = arena_strndup(a, p, n);
			const char *phrase = fts_phrase(a, "header", piece);
			buf_puts(&b, phrase);
		}
		p += n;
		if (*p != '\0')
			p++;
	}
	const char *r = b.len > 0 ? arena_strdup(a, b.data) : NULL;
	buf_deinit(&b);
	return r;
}

static int
cmp_u32(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;

	return a < b ? -1 : a > b;
}

int
store_search_text(struct store_mailbox *mbox, enum store_text_field field, const char *needle,
                  struct arena *a, uint32_t **uids_out, size_t *n_out, enum store_error *err_out)
{
	/* Index lookups: ?1 mailbox, ?2 FTS query, plus a scan of the texts
	   the indexer has not reached yet (?3 needle): a text is in exactly
	   one of the two at any snapshot. CROSS JOIN keeps the FTS table
	   (and the small pending table) outermost: the other order would run
	   the MATCH once per row. */
#define FTS_SQL(expr)                                                                              \
	"SELECT m.uid FROM fts CROSS JOIN messages m ON m.blob_id = fts.rowid"                     \
	" WHERE fts MATCH ?2 AND m.mailbox_id = ?1"                                                \
	" UNION ALL SELECT m.uid FROM fts_pending p CROSS JOIN messages m ON m.blob_id = p.id"     \
	" JOIN texts t ON t.id = p.id WHERE m.mailbox_id = ?1 AND " expr
	static const char fts_body[] = FTS_SQL("tern_icontains(t.body, ?3)");
	static const char fts_text[] =
	        FTS_SQL("(tern_icontains(t.header, ?3) OR tern_icontains(t.body, ?3))");
	static const char fts_headers[] = FTS_SQL("tern_icontains(t.header, ?3)");
#undef FTS_SQL
	/* Scans of the cached text: ?1 mailbox, ?3 needle. */
	static const char scan_body[] =
	        "SELECT m.uid FROM messages m JOIN texts t ON t.id = m.blob_id"
	        " WHERE m.mailbox_id = ?1 AND tern_icontains(t.body, ?3)";
	static const char scan_text[] =
	        "SELECT m.uid FROM messages m JOIN texts t ON t.id = m.blob_id"
	        " WHERE m.mailbox_id = ?1 AND (tern_icontains(t.header, ?3)"
	        " OR tern_icontains(t.body, ?3))";
	static const char scan_headers[] =
	        "SELECT m.uid FROM messages m JOIN texts t ON t.id = m.blob_id"
	        " WHERE m.mailbox_id = ?1 AND tern_icontains(t.header, ?3)";
	/* Cached fields, narrowed by the header index (?2) when it can. */
#define FIELD_SQL(expr)                                                                            \
	"SELECT m.uid FROM messages m JOIN blobs b ON b.id = m.blob_id"                            \
	" WHERE m.mailbox_id = ?1 AND tern_icontains(" expr ", ?3)"                                \
	" AND (?2 IS NULL OR m.blob_id IN (SELECT rowid FROM fts WHERE fts MATCH ?2)"              \
	" OR m.blob_id IN (SELECT id FROM fts_pending))"
	static const char f_subject[] = FIELD_SQL("b.subject");
	static const char f_from[] = FIELD_SQL("b.from_addr || ' ' || b.from_display");
	static const char f_to[] = FIELD_SQL("b.to_addr || ' ' || b.to_display");
	static const char f_cc[] = FIELD_SQL("b.cc_addr");
	static const char all_sql[] = "SELECT uid FROM messages WHERE mailbox_id = ?1";
#undef FIELD_SQL
	size_t chars = u8_mbsnlen((const uint8_t *)needle, strlen(needle));
	bool indexed = chars >= 3;
	const char *sql, *query = NULL;
	struct db *db;
	sqlite3_stmt *st;
	int rc = -1;

	switch (field) {
	case STORE_TEXT_BODY:
		sql = indexed ? fts_body : scan_body;
		query = fts_phrase(a, "body", needle);
		break;
	case STORE_TEXT_TEXT:
		sql = indexed ? fts_text : scan_text;
		query = fts_phrase(a, NULL, needle);
		break;
	case STORE_TEXT_HEADERS:
		sql = indexed ? fts_headers : scan_headers;
		query = fts_phrase(a, "header", needle);
		break;
	case STORE_TEXT_SUBJECT:
		sql = f_subject;
		break;
	case STORE_TEXT_FROM:
		sql = f_from;
		break;
	case STORE_TEXT_TO:
		sql = f_to;
		break;
	default:
		sql = f_cc;
		break;
	}
	if (sql == f_subject)
		query = indexed ? fts_phrase(a, "header", needle) : NULL;
	else if (sql == f_from || sql == f_to || sql == f_cc)
		query = fts_address_pieces(a, needle);
	if (needle[0] == '\0')
		sql = all_sql;

	if (db_get(mbox->acct, &db, err_out) < 0)
		return -1;
	st = db_stmt(db, sql);
	if (st != NULL) {
		sqlite3_bind_int64(st, 1, (int64_t)mbox->id);
		if (sql != all_sql) {
			if (query != NULL)
				sqlite3_bind_text(st, 2, query, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 3, needle, -1, SQLITE_STATIC);
		}
		rc = db_collect_uids(db, st, a, uids_out, n_out);
	}
	if (rc < 0)
		*err_out = db_error(db);
	db_put(mbox->acct, db);
	if (rc == 0)
		qsort(*uids_out, *n_out, sizeof(uint32_t), cmp_u32);
	return rc;
}

int
store_search_range(struct store_mailbox *mbox, enum store_column col, int64_t min, int64_t max,
                   struct arena *a, uint32_t **uids_out, size_t *n_out, enum store_error *err_out)
{
#define RANGE_SQL(expr)                                                                            \
	"SELECT m.uid FROM messages m JOIN blobs b ON b.id = m.blob_id"                            \
	" WHERE m.mailbox_id = ?1 AND " expr " BETWEEN ?2 AND ?3 ORDER BY m.uid"
	static const char *const sqls[] = {
	        [STORE_COL_INTERNAL_DATE] = RANGE_SQL("m.internal_date"),
	        [STORE_COL_SENT_DATE] = RANGE_SQL("b.sent_date"),
	        [STORE_COL_SAVE_DATE] = RANGE_SQL("m.save_date"),
	        [STORE_COL_SIZE] = RANGE_SQL("m.size"),
	        [STORE_COL_MODSEQ] = RANGE_SQL("m.modseq"),
	};
#undef RANGE_SQL
	struct db *db;
	sqlite3_stmt *st;
	int rc = -1;

	if ((size_t)col >= ARRAY_LEN(sqls)) {
		*err_out = STORE_ERR_PERM;
		return -1;
	}
	if (db_get(mbox->acct, &db, err_out) < 0)
		return -1;
	st = db_stmt(db, sqls[col]);
	if (st != NULL) {
		sqlite3_bind_int64(st, 1, (int64_t)mbox->id);
		sqlite3_bind_int64(st, 2, min);
		sqlite3_bind_int64(st, 3, max);
		rc = db_collect_uids(db, st, a, uids_out, n_out);
	}
	if (rc < 0)
		*err_out = db_error(db);
	db_put(mbox->acct, db);
	return rc;
}

int
store_sort_uids(struct store_mailbox *mbox, const struct store_sort *keys, size_t n_keys,
                struct arena *a, uint32_t **uids_out, size_t *n_out, enum store_error *err_out)
{
	/* Strings compare as i;ascii-casemap (RFC 5256 section 2.3, RFC 4790
	   9.2): ASCII letters mapped to upper case, then octets. SQLite's
	   upper() maps only ASCII, which is the point; NOCASE maps to lower
	   case and would put "[" and "_" before the letters. FROM, TO and CC
	   compare the first address's mailbox part only (BASE.6.4.SORT,
	   "addr-mailbox"); the cached key is mailbox@host, which SEARCH FROM
	   uses too. */
#define CASEMAP(col)      "upper(" col ")"
#define MAILBOX_PART(col) "upper(substr(" col ", 1, instr(" col " || '@', '@') - 1))"
	static const char *const exprs[] = {
	        [STORE_SORT_ARRIVAL] = "m.internal_date",
	        [STORE_SORT_CC] = MAILBOX_PART("b.cc_addr"),
	        [STORE_SORT_DATE] = "(CASE WHEN b.sent_date <> 0 THEN b.sent_date"
	                            " ELSE m.internal_date END)",
	        [STORE_SORT_FROM] = MAILBOX_PART("b.from_addr"),
	        [STORE_SORT_SIZE] = "m.size",
	        [STORE_SORT_SUBJECT] = CASEMAP("b.base_subject"),
	        [STORE_SORT_TO] = MAILBOX_PART("b.to_addr"),
	        [STORE_SORT_DISPLAYFROM] = CASEMAP("b.from_display"),
	        [STORE_SORT_DISPLAYTO] = CASEMAP("b.to_display"),
	};
#undef CASEMAP
#undef MAILBOX_PART
	struct buf sql;
	struct db *db;
	sqlite3_stmt *st = NULL;
	int rc = -1;

	buf_init(&sql);
	buf_puts(&sql, "SELECT m.uid FROM messages m JOIN blobs b ON b.id = m.blob_id"
	               " WHERE m.mailbox_id = ?1 ORDER BY ");
	for (size_t i = 0; i < n_keys; i++) {
		if (keys[i].key == STORE_SORT_RELEVANCY)
			continue; /* the caller's (store.h) */
		if ((size_t)keys[i].key >= ARRAY_LEN(exprs)) {
			buf_deinit(&sql);
			*err_out = STORE_ERR_PERM;
			return -1;
		}
		/* Only our own fixed expressions go into the text. */
		buf_printf(&sql, "%s%s, ", exprs[keys[i].key], keys[i].reverse ? " DESC" : "");
	}
	buf_puts(&sql, "m.uid");
	if (db_get(mbox->acct, &db, err_out) < 0) {
		buf_deinit(&sql);
		return -1;
	}
	if (sqlite3_prepare_v2(db->h, sql.data, -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, (int64_t)mbox->id);
		rc = db_collect_uids(db, st, a, uids_out, n_out);
	}
	if (rc < 0)
		*err_out = db_error(db);
	sqlite3_finalize(st);
	db_put(mbox->acct, db);
	buf_deinit(&sql);
	return rc;
}
