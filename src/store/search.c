/* SPDX-License-Identifier: MIT */
/*
 * search.c: what SEARCH and SORT (RFC 9051 6.4.4, RFC 5256, RFC 5957) can
 * get from the index: substring text search, column ranges, sort orders.
 * The IMAP engine combines these uid sets with flags from the view.
 * Strings compare under the session's comparator (RFC 5255 section 4,
 * lib/collation.h): tern_contains(hay, needle, collation) for substrings,
 * tern_sortkey(s, collation) for ORDER BY.
 *
 * Text: an FTS5 table with the trigram tokenizer (case_sensitive 0, so
 * Unicode simple case folding) over decoded headers and text parts of each
 * blob. The index is filled in the background (indexer.c): texts still in
 * fts_pending are scanned with tern_contains() in the same statement, so
 * the answer is exact whatever the indexer's progress.
 * A needle of 3+ characters is a phrase query, i.e. an index lookup of its
 * trigrams; SUBJECT/FROM/TO/CC use the header index to narrow, then check
 * the cached field. Shorter needles cannot use trigrams and scan the cached
 * text of the mailbox with tern_contains().
 *
 * The index folds case more loosely than i;ascii-casemap and i;octet, so
 * for them its hits are candidates that tern_contains() then checks. For
 * i;unicode-casemap (titlecase + NFKD) and an ASCII needle its hits on
 * BODY/TEXT/HEADER are the answer (SQLite folds neither "İ" nor "ı" to
 * "i", and keeps accents, so it finds nothing the comparator would not).
 * A non-ASCII needle under it is looked up by its ASCII runs ("Émile" by
 * "mile", fts_ascii_runs()), else by the needle itself, and each hit
 * checked. SUBJECT/FROM/TO/CC check the cached field of every candidate;
 * an ASCII needle narrows them by phrases and trigrams that allow for the
 * letters the index does not fold (fts_casemap_pieces()), a non-ASCII one
 * scans.
 * What the index cannot see, so 3+ character needles miss it (shorter
 * ones scan and are exact): letters in compatibility forms (fullwidth
 * "Ｍ" for "M"); for BODY/TEXT/HEADER also "ızmir" for "izmir", an accent
 * on the text's letter matching the needle's last ("café" for "cafe":
 * RFC 5051 keys "CAFE\u0301"), and, for a needle without ASCII runs,
 * letters the index folds apart from titlecase ("IŞIK" for "ışık").
 * Needles are SQL values and quoted FTS phrases: no injection possible.
 */
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>
#include <unistr.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/collation.h"
#include "lib/util.h"

static bool
ascii_only(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return false;
	return true;
}

static bool
arg_collation(sqlite3_value *v, enum collation *out)
{
	int c = sqlite3_value_int(v);

	if (c < 0 || c >= COLLATION_COUNT)
		return false;
	*out = (enum collation)c;
	return true;
}

/* tern_contains(hay, needle, collation): the collation's substring test. */
static void
fn_contains(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const char *hay = (const char *)sqlite3_value_text(argv[0]);
	const char *needle = (const char *)sqlite3_value_text(argv[1]);
	enum collation c;

	(void)argc;
	if (hay == NULL || needle == NULL || !arg_collation(argv[2], &c)) {
		sqlite3_result_int(ctx, 0);
		return;
	}
	sqlite3_result_int(ctx, collation_contains(c, hay, (size_t)sqlite3_value_bytes(argv[0]),
	                                           needle, (size_t)sqlite3_value_bytes(argv[1])));
}

/* tern_sortkey(s, collation): a BLOB that sorts (memcmp) as the collation
   orders s; NULL stays NULL (sorts first, as before). */
static void
fn_sortkey(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const char *s = (const char *)sqlite3_value_text(argv[0]);
	enum collation c;
	struct buf key;

	(void)argc;
	if (s == NULL || !arg_collation(argv[1], &c)) {
		sqlite3_result_null(ctx);
		return;
	}
	buf_init(&key);
	collation_sort_key(c, s, (size_t)sqlite3_value_bytes(argv[0]), &key);
	sqlite3_result_blob(ctx, key.len > 0 ? key.data : "", (int)key.len, SQLITE_TRANSIENT);
	buf_deinit(&key);
}

void
search_register(sqlite3 *h)
{
	int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;

	sqlite3_create_function(h, "tern_contains", 3, flags, NULL, fn_contains, NULL, NULL);
	sqlite3_create_function(h, "tern_sortkey", 2, flags, NULL, fn_sortkey, NULL, NULL);
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

/*
 * The narrowing query for an ASCII needle of a cached field under
 * i;unicode-casemap, which the index must not make miss anything. The
 * needle's last character is left out, since an accent on the text's
 * letter there still matches ("cafe" is in "café"'s key "CAFE\u0301");
 * the rest is cut into pieces at seps (an address's '@', '.' and blanks:
 * the cached address is the parsed one), and all pieces are required.
 * A piece without the letters whose RFC 5051 keys are ASCII letters the
 * index does not fold to them (dotless "ı" for i, long "ſ" for s, Kelvin
 * "K" for k) is one phrase; a piece with them is its trigrams, each an
 * OR of its spellings. Pieces under 3 characters are left out; NULL when
 * none is left: the field is scanned. Other compatibility forms
 * (fullwidth letters) are not looked for: those texts are missed.
 */
static const char *
fts_casemap_pieces(struct arena *a, const char *needle, const char *seps)
{
	static const char *const alt[128] = {
	        ['i'] = "ı", ['I'] = "ı", ['s'] = "ſ", ['S'] = "ſ", ['k'] = "K", ['K'] = "K",
	};
	size_t len = strlen(needle) > 0 ? strlen(needle) - 1 : 0;
	struct buf q;
	const char *r = NULL;

	buf_init(&q);
	for (size_t at = 0; at < len;) {
		size_t n = strcspn(needle + at, seps);
		const char *p = needle + at;
		n = MIN(n, len - at);
		at += n + 1;
		if (n < 3)
			continue;
		if (strcspn(p, "iIsSkK") >= n) {
			if (q.len > 0)
				buf_puts(&q, " AND ");
			buf_puts(&q, fts_phrase(a, "header", arena_strndup(a, p, n)));
			continue;
		}
		for (size_t i = 0; i + 3 <= n; i++) {
			if (q.len > 0)
				buf_puts(&q, " AND ");
			buf_puts(&q, "{header} : (");
			/* every spelling: bit j of m picks position j's alternative */
			for (unsigned m = 0; m < 8; m++) {
				char spelling[16]; /* UNSAFE: 3 letters of at most 3 bytes */
				size_t w = 0;
				bool ok = true;
				for (unsigned j = 0; j < 3 && ok; j++) {
					const char *x = alt[(unsigned char)p[i + j] & 0x7f];
					if (!(m & (1u << j)))
						spelling[w++] = p[i + j];
					else if ((ok = x != NULL))
						w += (size_t)sprintf(spelling + w, "%s", x);
				}
				spelling[w] = '\0';
				if (ok)
					buf_printf(&q, "%s%s", m > 0 ? " OR " : "",
					           fts_phrase(a, NULL, spelling));
			}
			buf_putc(&q, ')');
		}
	}
	if (q.len > 0)
		r = arena_strdup(a, q.data);
	buf_deinit(&q);
	return r;
}

static int
cmp_u32(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;

	return a < b ? -1 : a > b;
}

/*
 * The index query for a non-ASCII needle under i;unicode-casemap: the
 * phrases (in col) of its runs of 3+ ASCII characters, all required; NULL
 * when it has none. A run's last character is left out when a non-ASCII
 * one follows it: that may be a combining mark, and "e" + U+0301 in the
 * needle is "é" in the text ("cafe\u0301" is looked up by "caf").
 */
static const char *
fts_ascii_runs(struct arena *a, const char *col, const char *needle)
{
	struct buf q;
	const char *r = NULL;

	buf_init(&q);
	for (const char *p = needle; *p != '\0';) {
		size_t n = 0;
		while (p[n] != '\0' && (unsigned char)p[n] < 0x80)
			n++;
		size_t use = p[n] != '\0' && n > 0 ? n - 1 : n;
		if (use >= 3) {
			if (q.len > 0)
				buf_puts(&q, " AND ");
			buf_puts(&q, fts_phrase(a, col, arena_strndup(a, p, use)));
		}
		p += n;
		while ((unsigned char)*p >= 0x80)
			p++;
	}
	if (q.len > 0)
		r = arena_strdup(a, q.data);
	buf_deinit(&q);
	return r;
}

int
store_search_text(struct store_mailbox *mbox, enum store_text_field field, const char *needle,
                  enum collation coll, struct arena *a, uint32_t **uids_out, size_t *n_out,
                  enum store_error *err_out)
{
	/* Index lookups: ?1 mailbox, ?2 FTS query, plus a scan of the texts
	   the indexer has not reached yet (?3 needle, ?4 collation): a text
	   is in exactly one of the two at any snapshot. CROSS JOIN keeps the
	   FTS table (and the small pending table) outermost: the other order
	   would run the MATCH once per row, and texts outermost (which a plain
	   JOIN let SQLite choose for the account-wide form) ran the needle
	   over every text of the account. The _checked forms also test each
	   hit (the index folds more loosely than the comparator). */
#define FTS_SQL(check, expr)                                                                       \
	"SELECT m.uid FROM fts CROSS JOIN messages m ON m.blob_id = fts.rowid" check               \
	" WHERE fts MATCH ?2 AND m.mailbox_id = ?1"                                                \
	" UNION ALL SELECT m.uid FROM fts_pending p CROSS JOIN messages m ON m.blob_id = p.id"     \
	" CROSS JOIN texts t ON t.id = p.id WHERE m.mailbox_id = ?1 AND " expr
#define CHECK(expr) " JOIN texts t ON t.id = m.blob_id AND " expr
#define BODY        "tern_contains(t.body, ?3, ?4)"
#define TEXT        "(tern_contains(t.header, ?3, ?4) OR tern_contains(t.body, ?3, ?4))"
#define HEADERS     "tern_contains(t.header, ?3, ?4)"
	static const char fts_body[] = FTS_SQL("", BODY);
	static const char fts_text[] = FTS_SQL("", TEXT);
	static const char fts_headers[] = FTS_SQL("", HEADERS);
	static const char fts_body_checked[] = FTS_SQL(CHECK(BODY), BODY);
	static const char fts_text_checked[] = FTS_SQL(CHECK(TEXT), TEXT);
	static const char fts_headers_checked[] = FTS_SQL(CHECK(HEADERS), HEADERS);
	/* Scans of the cached text: ?1 mailbox, ?3 needle, ?4 collation. */
	static const char scan_body[] =
	        "SELECT m.uid FROM messages m JOIN texts t ON t.id = m.blob_id"
	        " WHERE m.mailbox_id = ?1 AND " BODY;
	static const char scan_text[] =
	        "SELECT m.uid FROM messages m JOIN texts t ON t.id = m.blob_id"
	        " WHERE m.mailbox_id = ?1 AND " TEXT;
	static const char scan_headers[] =
	        "SELECT m.uid FROM messages m JOIN texts t ON t.id = m.blob_id"
	        " WHERE m.mailbox_id = ?1 AND " HEADERS;
#undef FTS_SQL
#undef CHECK
#undef BODY
#undef TEXT
#undef HEADERS
	/* Cached fields, narrowed by the header index (?2) when it can. */
#define FIELD_SQL(expr)                                                                            \
	"SELECT m.uid FROM messages m JOIN blobs b ON b.id = m.blob_id"                            \
	" WHERE m.mailbox_id = ?1 AND tern_contains(" expr ", ?3, ?4)"                             \
	" AND (?2 IS NULL OR m.blob_id IN (SELECT rowid FROM fts WHERE fts MATCH ?2)"              \
	" OR m.blob_id IN (SELECT id FROM fts_pending))"
	static const char f_subject[] = FIELD_SQL("b.subject");
	static const char f_from[] = FIELD_SQL("b.from_addr || ' ' || b.from_display");
	static const char f_to[] = FIELD_SQL("b.to_addr || ' ' || b.to_display");
	static const char f_cc[] = FIELD_SQL("b.cc_addr");
	static const char all_sql[] = "SELECT uid FROM messages WHERE mailbox_id = ?1";
#undef FIELD_SQL
	static const char *const cols[] = {
	        [STORE_TEXT_BODY] = "body",
	        [STORE_TEXT_TEXT] = NULL,
	        [STORE_TEXT_HEADERS] = "header",
	};
	size_t chars = u8_mbsnlen((const uint8_t *)needle, strlen(needle));
	/* Whether the index's hits are the answer (see the top). */
	bool index_exact = coll == COLLATION_UNICODE_CASEMAP && ascii_only(needle, strlen(needle));
	bool indexed = chars >= 3;
	const char *sql, *query = NULL;
	struct db *db;
	sqlite3_stmt *st;
	int rc = -1;

	switch (field) {
	case STORE_TEXT_BODY:
		sql = !indexed ? scan_body : index_exact ? fts_body : fts_body_checked;
		break;
	case STORE_TEXT_TEXT:
		sql = !indexed ? scan_text : index_exact ? fts_text : fts_text_checked;
		break;
	case STORE_TEXT_HEADERS:
		sql = !indexed ? scan_headers : index_exact ? fts_headers : fts_headers_checked;
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
	if (field <= STORE_TEXT_HEADERS) {
		if (coll == COLLATION_UNICODE_CASEMAP && !index_exact)
			query = fts_ascii_runs(a, cols[field], needle);
		if (query == NULL)
			query = fts_phrase(a, cols[field], needle);
	} else if (coll == COLLATION_UNICODE_CASEMAP) {
		/* the index might miss ("ı" for "i"): narrow only where it cannot */
		query = index_exact ? fts_casemap_pieces(a, needle, sql == f_subject ? "" : "@. \t")
		                    : NULL;
	} else if (sql == f_subject) {
		query = indexed ? fts_phrase(a, "header", needle) : NULL;
	} else {
		query = fts_address_pieces(a, needle);
	}
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
			sqlite3_bind_int(st, 4, (int)coll);
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

static int
hit_cmp(const void *x, const void *y)
{
	const struct store_text_hit *a = x, *b = y;

	if (a->mailbox_id != b->mailbox_id)
		return a->mailbox_id < b->mailbox_id ? -1 : 1;
	return a->uid < b->uid ? -1 : a->uid > b->uid;
}

int
store_search_text_account(struct store_account *acct, enum store_text_field field,
                          const char *needle, enum collation coll, struct arena *a,
                          struct store_text_hit **hits_out, size_t *n_out,
                          enum store_error *err_out)
{
	/* store_search_text's index lookups without the mailbox: ?1 FTS
	   query, ?2 needle for the texts the indexer has not reached, ?3 the
	   collation. Only where the index's hits are the answer (an ASCII
	   needle under i;unicode-casemap): the checked forms stay per mailbox. */
#define ALL_SQL(expr)                                                                              \
	"SELECT m.mailbox_id, m.uid FROM fts CROSS JOIN messages m ON m.blob_id = fts.rowid"       \
	" WHERE fts MATCH ?1"                                                                      \
	" UNION ALL SELECT m.mailbox_id, m.uid FROM fts_pending p"                                 \
	" CROSS JOIN messages m ON m.blob_id = p.id CROSS JOIN texts t ON t.id = p.id WHERE " expr
	static const char all_body[] = ALL_SQL("tern_contains(t.body, ?2, ?3)");
	static const char all_text[] =
	        ALL_SQL("(tern_contains(t.header, ?2, ?3) OR tern_contains(t.body, ?2, ?3))");
	static const char all_headers[] = ALL_SQL("tern_contains(t.header, ?2, ?3)");
#undef ALL_SQL
	const char *sql, *query;
	struct db *db;
	sqlite3_stmt *st;
	int step;

	/* A non-owner may not read every mailbox: theirs go one by one, as
	   do needles the trigram index cannot answer. */
	if (acct->who != NULL || u8_mbsnlen((const uint8_t *)needle, strlen(needle)) < 3 ||
	    coll != COLLATION_UNICODE_CASEMAP || !ascii_only(needle, strlen(needle)))
		return 1;
	switch (field) {
	case STORE_TEXT_BODY:
		sql = all_body;
		query = fts_phrase(a, "body", needle);
		break;
	case STORE_TEXT_TEXT:
		sql = all_text;
		query = fts_phrase(a, NULL, needle);
		break;
	case STORE_TEXT_HEADERS:
		sql = all_headers;
		query = fts_phrase(a, "header", needle);
		break;
	default:
		return 1;
	}
	if (db_get(acct->a, &db, err_out) < 0)
		return -1;
	st = db_stmt(db, sql);
	size_t n = 0, cap = 64;
	struct store_text_hit *v = arena_alloc(a, cap * sizeof(*v));
	if (st == NULL) {
		step = SQLITE_ERROR;
	} else {
		sqlite3_bind_text(st, 1, query, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, needle, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 3, (int)coll);
		while ((step = sqlite3_step(st)) == SQLITE_ROW) {
			if (n == cap) {
				struct store_text_hit *bigger =
				        arena_alloc(a, 2 * cap * sizeof(*v));
				memcpy(bigger, v, n * sizeof(*v));
				v = bigger;
				cap *= 2;
			}
			v[n].mailbox_id = (uint64_t)sqlite3_column_int64(st, 0);
			v[n].uid = (uint32_t)sqlite3_column_int64(st, 1);
			n++;
		}
		sqlite3_reset(st);
	}
	if (step != SQLITE_DONE)
		*err_out = db_error(db);
	db_put(acct->a, db);
	if (step != SQLITE_DONE)
		return -1;
	qsort(v, n, sizeof(*v), hit_cmp);
	*hits_out = v;
	*n_out = n;
	return 0;
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
                enum collation coll, struct arena *a, uint32_t **uids_out, size_t *n_out,
                enum store_error *err_out)
{
	/* Strings compare under the comparator (RFC 5255 4.2; RFC 5256 2.3
	   made it i;ascii-casemap before): tern_sortkey() gives each row's
	   key once, and the sorter compares the BLOBs with memcmp(). A
	   key of i;ascii-casemap maps ASCII letters to upper case, so "["
	   and "_" sort after the letters (NOCASE would map to lower case).
	   FROM, TO and CC compare the first address's mailbox part only
	   (BASE.6.4.SORT, "addr-mailbox"); the cached key is mailbox@host,
	   which SEARCH FROM uses too. ?2 is the collation. */
#define CASEMAP(col)      "tern_sortkey(" col ", ?2)"
#define MAILBOX_PART(col) CASEMAP("substr(" col ", 1, instr(" col " || '@', '@') - 1)")
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
	        /* RFC 5257 4.3: the annotation's value as a string; a
	           message without one sorts as the empty string. Its entry
	           and owner are bound (?3, ?4 for the first such key...). */
	        [STORE_SORT_ANNOTATION] = NULL,
	};
#undef CASEMAP
#undef MAILBOX_PART
	struct buf sql;
	struct db *db;
	sqlite3_stmt *st = NULL;
	int rc = -1, param = 3; /* ?1 mailbox, ?2 collation */

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
		/* Only our own fixed expressions go into the text; an
		   annotation's entry and owner are parameters. */
		if (keys[i].key == STORE_SORT_ANNOTATION) {
			buf_printf(&sql,
			           "upper(coalesce((SELECT CAST(value AS TEXT) FROM annotations a"
			           " WHERE a.mailbox_id = m.mailbox_id AND a.uid = m.uid"
			           " AND a.entry = ?%d AND a.owner = ?%d), ''))%s, ",
			           param, param + 1, keys[i].reverse ? " DESC" : "");
			param += 2;
			continue;
		}
		buf_printf(&sql, "%s%s, ", exprs[keys[i].key], keys[i].reverse ? " DESC" : "");
	}
	buf_puts(&sql, "m.uid");
	if (db_get(mbox->acct, &db, err_out) < 0) {
		buf_deinit(&sql);
		return -1;
	}
	if (sqlite3_prepare_v2(db->h, sql.data, -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, (int64_t)mbox->id);
		sqlite3_bind_int(st, 2, (int)coll);
		param = 3;
		for (size_t i = 0; i < n_keys; i++) {
			if (keys[i].key != STORE_SORT_ANNOTATION)
				continue;
			sqlite3_bind_text(st, param, keys[i].entry, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, param + 1, keys[i].is_shared ? "" : keys[i].user, -1,
			                  SQLITE_STATIC);
			param += 2;
		}
		rc = db_collect_uids(db, st, a, uids_out, n_out);
	}
	if (rc < 0)
		*err_out = db_error(db);
	sqlite3_finalize(st);
	db_put(mbox->acct, db);
	buf_deinit(&sql);
	return rc;
}
