/* SPDX-License-Identifier: MIT */
/*
 * fuzzy.c: fuzzy full-text search (SEARCH=FUZZY, RFC 6203): which messages
 * hold words like the needle's, and how relevant each is (section 4).
 *
 * Indexes (schema 8). Each distinct word of the account's indexed texts
 * (words.h: lower-case runs of letters and digits, 3 to 32 characters) is
 * a row of fuzzy_words; fuzzy_vocab is a trigram index of those words, and
 * fuzzy_index an FTS5 index of the texts by whole word (unicode61, which
 * cuts and lower-cases as words.h does). The trigram index fts answers
 * substrings, but a common word's phrase query reads the position lists
 * of its trigrams in most messages (47 ms for "meeting" in 5,000 of 10,000
 * messages); a word's lookup reads one list without positions (2 ms). The
 * indexer fills all three in the transaction that moves a batch into fts
 * (fuzzy_vocab_add_texts), so a text is either pending or in every index;
 * the collector deletes a text from fuzzy_index with fts (expunge.c). An
 * upgraded database queues its indexed texts in fuzzy_backlog, which the
 * indexer works off after everything else (fuzzy_backlog_batch); searches
 * look those texts up in fts meanwhile (word_lookup).
 * Words are never removed from the vocabulary: a word whose messages are
 * gone only costs a lookup that finds nothing.
 *
 * Search, for each needle word (at most FUZZY_TERMS of them):
 *   1. variants: the word itself, the vocabulary words sharing a trigram
 *      with it (the word between blanks: " he", "hel", "elo", "lo " for
 *      "helo"), for a short word those with its first letter and about its
 *      length, and the words of the mailbox's pending texts, each kept
 *      when its similarity (mail_word_similarity: edits, swaps, added
 *      endings) is FUZZY_WORD_MIN or more; the best FUZZY_VARIANTS.
 *      Pending texts are read before the vocabulary, so a text the indexer
 *      moves meanwhile is seen in one of them;
 *   2. messages: each variant looked up as a word in the asked field
 *      (word_lookup: the word index, and tern_has_word() over pending
 *      texts, in one statement, so in one snapshot); SUBJECT, FROM, TO
 *      and CC check the cached field of the messages the index names;
 *   3. a message's word score is its best variant's similarity.
 * FUZZY matches words, not substrings: "eet" finds nothing in "meeting"
 * (the exact search does), "meet" finds "meeting" as an inflection.
 * A message matches when the mean of its word scores (0 for a word none of
 * whose variants it holds) is FUZZY_MATCH_MIN or more: half the words of
 * "IMAP break" are enough ("broken IMAP"). Its relevancy maps that mean
 * onto 1..100 (section 4: "SHOULD use the full 1-100 range"): 100 is every
 * word as typed, a typo or a missing word costs in proportion.
 *
 * Needles are SQL values and quoted FTS phrases of letters, digits and
 * blanks: no injection possible. The work is bounded: FUZZY_TERMS words,
 * FUZZY_VARIANTS lookups each, FUZZY_CANDIDATES vocabulary rows per word.
 */
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>
#include <unistr.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/hash.h"
#include "lib/log.h"
#include "lib/util.h"
#include "mail/words.h"

/* Needle words looked at; more are ignored (RFC 6203 section 8: "very long
   search keys might cause excessive memory or CPU usage"). */
#define FUZZY_TERMS 8
/* Index lookups per needle word: the word and its closest variants. */
#define FUZZY_VARIANTS 8
/* Vocabulary words compared per needle word: those sharing one common
   trigram ("ing") can be many; the comparison is cheap, the rows are not. */
#define FUZZY_CANDIDATES 50000
/* Words of up to this many characters also look at the vocabulary words
   with their first letter (offer_vocabulary). */
#define FUZZY_SHORT 6
/* Least similarity (mail_word_similarity) of a variant: one edit in a
   three-letter word (67), three in an eight-letter one (63). */
#define FUZZY_WORD_MIN 60
/* Least mean word score of a match. */
#define FUZZY_MATCH_MIN 50

int
fuzzy_vocab_add_texts(struct db *db, const char *texts_sql, int64_t arg)
{
	static const char word_sql[] = "INSERT OR IGNORE INTO fuzzy_words(word) VALUES (?)";
	static const char vocab_sql[] = "INSERT INTO fuzzy_vocab(rowid, word) VALUES (?, ?)";
	struct hash *seen = hash_new(HASH_KEYS_STR, 4096);
	struct arena *a = arena_new(64 * 1024);
	sqlite3_stmt *st = db_stmt(db, texts_sql);
	char word[MAIL_WORD_BUF];
	size_t len, pos = 0;
	struct hash_entry e;
	int rc = 0;

	if (st == NULL) {
		rc = -1;
		goto out;
	}
	sqlite3_bind_int64(st, 1, arg);
	/* The batch's distinct words first: a text repeats its words, and a
	   batch its texts', so each reaches SQLite once. */
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (int col = 0; col < 2; col++) {
			struct mail_word_iter it;
			const char *text = (const char *)sqlite3_column_text(st, col);
			if (text == NULL)
				continue;
			mail_word_iter_init(&it, text, (size_t)sqlite3_column_bytes(st, col));
			while (mail_word_iter_next(&it, word, &len)) {
				if (hash_str_find(seen, word) != NULL)
					continue;
				char *copy = arena_strndup(a, word, len);
				hash_str_set(seen, copy, copy);
			}
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		db_log_error(db, "fuzzy-words");
		rc = -1;
		goto out;
	}
	rc = 0;
	while (rc == 0 && hash_next(seen, &pos, &e)) {
		sqlite3_stmt *w = db_stmt(db, word_sql), *v;
		if (w == NULL) {
			rc = -1;
			break;
		}
		sqlite3_bind_text(w, 1, e.str, -1, SQLITE_STATIC);
		if (db_step_done(db, w) < 0) {
			rc = -1;
			break;
		}
		if (sqlite3_changes(db->h) == 0)
			continue; /* known already */
		/* Between blanks, so the first and last letters make trigrams
		   too (" he", "lo "): a short word needs them to be found. */
		char *padded = arena_printf(a, " %s ", e.str);
		v = db_stmt(db, vocab_sql);
		if (v == NULL) {
			rc = -1;
			break;
		}
		sqlite3_bind_int64(v, 1, sqlite3_last_insert_rowid(db->h));
		sqlite3_bind_text(v, 2, padded, -1, SQLITE_STATIC);
		if (db_step_done(db, v) < 0)
			rc = -1;
	}
out:
	hash_free(&seen);
	arena_free(&a);
	return rc;
}

int
fuzzy_backlog_batch(struct account *a, struct db *db, unsigned max)
{
	static const char last_sql[] =
	        "SELECT count(*), max(id) FROM (SELECT id FROM fuzzy_backlog ORDER BY id LIMIT ?)";
	/* CROSS JOIN: the backlog outermost, as in indexer_batch(). */
	static const char words_sql[] = "SELECT t.header, t.body FROM fuzzy_backlog q"
	                                " CROSS JOIN texts t ON t.id = q.id WHERE q.id <= ?1";
	static const char ins_sql[] = "INSERT INTO fuzzy_index(rowid, header, body)"
	                              " SELECT t.id, t.header, t.body FROM fuzzy_backlog q"
	                              " CROSS JOIN texts t ON t.id = q.id WHERE q.id <= ?";
	static const char del_sql[] = "DELETE FROM fuzzy_backlog WHERE id <= ?";
	sqlite3_stmt *st;
	int64_t n = 0, last = 0;

	if (db_begin(db, true) < 0)
		return -1;
	if ((st = db_stmt(db, last_sql)) == NULL)
		goto fail;
	sqlite3_bind_int64(st, 1, max);
	if (sqlite3_step(st) == SQLITE_ROW) {
		n = sqlite3_column_int64(st, 0);
		last = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	if (n == 0) {
		db_rollback(db);
		a->fuzzy_backlog = false;
		return 0;
	}
	if (fuzzy_vocab_add_texts(db, words_sql, last) < 0)
		goto fail;
	for (int i = 0; i < 2; i++) {
		if ((st = db_stmt(db, i == 0 ? ins_sql : del_sql)) == NULL)
			goto fail;
		sqlite3_bind_int64(st, 1, last);
		if (db_step_done(db, st) < 0)
			goto fail;
	}
	if (db_exec(db, "COMMIT") < 0)
		goto fail;
	return (int)n;
fail:
	log_error("store", "event=fuzzy-backlog-failed account=%llu", (unsigned long long)a->id);
	db_rollback(db);
	return -1;
}

struct variant {
	const char *word;
	unsigned score;
};

struct term {
	const char *word; /* needle word, lower case */
	struct variant v[FUZZY_VARIANTS];
	size_t n;
};

/* Keeps word among t's variants if it is close enough and among the best. */
static void
term_offer(struct arena *a, struct term *t, const char *word)
{
	unsigned s = mail_word_similarity(t->word, word);
	size_t worst = 0;

	if (s < FUZZY_WORD_MIN)
		return;
	for (size_t i = 0; i < t->n; i++) {
		if (strcmp(t->v[i].word, word) == 0)
			return;
		if (t->v[i].score < t->v[worst].score)
			worst = i;
	}
	if (t->n < FUZZY_VARIANTS) {
		t->v[t->n++] = (struct variant){arena_strdup(a, word), s};
	} else if (s > t->v[worst].score) {
		t->v[worst] = (struct variant){arena_strdup(a, word), s};
	}
}

/* The words of the mailbox's texts the indexer has not reached, offered to
   every term (bounded by INDEX_BACKLOG_MAX texts). An upgrade's backlog
   is not read: a million texts are too many to cut into words per search;
   until the indexer has added them, their words are variants only when
   another text has them too (the needle's own words always are). */
static int
offer_pending(struct db *db, struct store_mailbox *mbox, struct arena *a, struct term *terms,
              size_t n_terms)
{
	static const char sql[] = "SELECT t.header, t.body FROM fts_pending p"
	                          " CROSS JOIN messages m ON m.blob_id = p.id"
	                          " CROSS JOIN texts t ON t.id = p.id WHERE m.mailbox_id = ?1";
	sqlite3_stmt *st = db_stmt(db, sql);
	char word[MAIL_WORD_BUF];
	size_t len;
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, (int64_t)mbox->id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (int col = 0; col < 2; col++) {
			struct mail_word_iter it;
			const char *text = (const char *)sqlite3_column_text(st, col);
			if (text == NULL)
				continue;
			mail_word_iter_init(&it, text, (size_t)sqlite3_column_bytes(st, col));
			while (mail_word_iter_next(&it, word, &len))
				for (size_t i = 0; i < n_terms; i++)
					term_offer(a, &terms[i], word);
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		db_log_error(db, "fuzzy-pending");
		return -1;
	}
	return 0;
}

/* '" he" OR "hel" OR "elo" OR "lo "': the trigrams of " word ". */
static const char *
trigram_query(struct arena *a, const char *word)
{
	const char *padded = arena_printf(a, " %s ", word);
	const uint8_t *p = (const uint8_t *)padded;
	size_t len = strlen(padded);
	size_t starts[MAIL_WORD_BUF + 2], n = 0;
	struct buf b;

	for (size_t off = 0; off < len; n++) {
		starts[n] = off;
		ucs4_t c;
		off += (size_t)u8_mbtouc(&c, p + off, len - off);
	}
	starts[n] = len;
	buf_init(&b);
	for (size_t i = 0; i + 3 <= n; i++) {
		if (b.len > 0)
			buf_puts(&b, " OR ");
		buf_printf(&b, "\"%.*s\"", (int)(starts[i + 3] - starts[i]), padded + starts[i]);
	}
	const char *q = b.len > 0 ? arena_strdup(a, b.data) : NULL;
	buf_deinit(&b);
	return q;
}

/* Offers t each word the bound statement st gives, then resets it. */
static int
offer_rows(struct db *db, struct arena *a, struct term *t, sqlite3_stmt *st)
{
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *w = (const char *)sqlite3_column_text(st, 0);
		if (w != NULL)
			term_offer(a, t, w);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		db_log_error(db, "fuzzy-vocab");
		return -1;
	}
	return 0;
}

/*
 * The vocabulary words that may be close to t's word, offered to it: those
 * sharing a trigram with it and, for a word of up to FUZZY_SHORT
 * characters, those of about its length with its first letter. A swap in a
 * short word leaves no trigram in common ("wrok" and "work" share none),
 * so trigrams alone miss what the similarity would forgive.
 */
static int
offer_vocabulary(struct db *db, struct arena *a, struct term *t)
{
	static const char tri_sql[] = "SELECT w.word FROM fuzzy_vocab v CROSS JOIN fuzzy_words w"
	                              " ON w.id = v.rowid WHERE fuzzy_vocab MATCH ?1 LIMIT ?2";
	static const char short_sql[] =
	        "SELECT word FROM fuzzy_words WHERE word >= ?1 AND word < ?2"
	        " AND length(word) BETWEEN ?3 - 1 AND ?3 + 1 LIMIT ?4";
	size_t len = strlen(t->word), chars = u8_mbsnlen((const uint8_t *)t->word, len);
	const char *q = trigram_query(a, t->word);
	sqlite3_stmt *st;

	if (q != NULL) {
		if ((st = db_stmt(db, tri_sql)) == NULL)
			return -1;
		sqlite3_bind_text(st, 1, q, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, FUZZY_CANDIDATES);
		if (offer_rows(db, a, t, st) < 0)
			return -1;
	}
	if (chars > FUZZY_SHORT)
		return 0;
	/* [first letter, first letter + 0xff): the words it starts, a range
	   of the index on fuzzy_words.word (bytes; no UTF-8 byte is 0xff). */
	ucs4_t c;
	int n = u8_mbtouc(&c, (const uint8_t *)t->word, len);
	char *hi = arena_printf(a, "%.*s\xff", n, t->word);
	if ((st = db_stmt(db, short_sql)) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, t->word, n, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, hi, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, (int)chars);
	sqlite3_bind_int(st, 4, FUZZY_CANDIDATES);
	return offer_rows(db, a, t, st);
}

/* Messages with a score each, ascending by uid; heap arrays. */
struct scored {
	uint32_t *uid;
	uint16_t *score;
	size_t n;
};

static void
scored_free(struct scored *s)
{
	free(s->uid);
	free(s->score);
	*s = (struct scored){0};
}

/*
 * x united with uids (ascending), each of these scored score; a message in
 * both keeps the higher score (keep_max) or the sum of both. One merge
 * walk. x is freed and replaced.
 */
static void
scored_merge(struct scored *x, const uint32_t *uids, const uint16_t *scores, uint16_t score,
             size_t n, bool keep_max)
{
	struct scored r = {xmalloc((x->n + n + 1) * sizeof(uint32_t)),
	                   xmalloc((x->n + n + 1) * sizeof(uint16_t)), 0};
	size_t i = 0, j = 0;

	while (i < x->n || j < n) {
		uint16_t sj = j < n ? (scores != NULL ? scores[j] : score) : 0;
		if (j >= n || (i < x->n && x->uid[i] < uids[j])) {
			r.uid[r.n] = x->uid[i];
			r.score[r.n++] = x->score[i++];
		} else if (i >= x->n || uids[j] < x->uid[i]) {
			r.uid[r.n] = uids[j++];
			r.score[r.n++] = sj;
		} else {
			r.uid[r.n] = uids[j++];
			r.score[r.n++] =
			        keep_max ? MAX(x->score[i], sj) : (uint16_t)(x->score[i] + sj);
			i++;
		}
	}
	scored_free(x);
	*x = r;
}

static int
cmp_u32(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;

	return a < b ? -1 : a > b;
}

static int
cmp_variant(const void *x, const void *y)
{
	const struct variant *a = x, *b = y;

	return (int)b->score - (int)a->score;
}

/* tern_has_word(text, word): whether text holds word (lower case, as
   words.h cuts it): the pending texts' and cached fields' test, the same
   words the word index holds. */
static void
fn_has_word(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const char *text = (const char *)sqlite3_value_text(argv[0]);
	const char *word = (const char *)sqlite3_value_text(argv[1]);
	struct mail_word_iter it;
	char w[MAIL_WORD_BUF];
	size_t len;
	bool found = false;

	(void)argc;
	if (text != NULL && word != NULL) {
		mail_word_iter_init(&it, text, (size_t)sqlite3_value_bytes(argv[0]));
		while (!found && mail_word_iter_next(&it, w, &len))
			found = strcmp(w, word) == 0;
	}
	sqlite3_result_int(ctx, found);
}

void
fuzzy_register(sqlite3 *h)
{
	sqlite3_create_function(h, "tern_has_word", 2,
	                        SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
	                        fn_has_word, NULL, NULL);
}

/*
 * The uids of the mailbox's messages holding word in field, ascending, in
 * a: a lookup of the word index (?2) for indexed texts, tern_has_word for
 * pending ones (?3); a cached field (subject, addresses) is checked too,
 * the index naming only the messages whose header has the word. With
 * in_backlog, the texts of an upgrade's backlog (in fts, not yet in the
 * word index) are looked up in fts, the same ?2 being a phrase there: a
 * substring, slower, until the indexer has added them. CROSS JOINs keep
 * the index (or the small pending table) outermost: left free, the
 * planner scanned all of blobs for the pending side (0.4 s at 100,000
 * messages for a word in no message).
 */
static int
word_lookup(struct db *db, struct store_mailbox *mbox, enum store_text_field field,
            const char *word, bool in_backlog, struct arena *a, uint32_t **uids_out, size_t *n_out)
{
#define TEXT_SQL(pending)                                                                          \
	"SELECT m.uid FROM fuzzy_index f CROSS JOIN messages m ON m.blob_id = f.rowid"             \
	" WHERE fuzzy_index MATCH ?2 AND m.mailbox_id = ?1"                                        \
	" UNION ALL SELECT m.uid FROM fts_pending p CROSS JOIN messages m ON m.blob_id = p.id"     \
	" CROSS JOIN texts t ON t.id = p.id WHERE m.mailbox_id = ?1 AND " pending
#define FIELD_SQL(col)                                                                             \
	"SELECT m.uid FROM fuzzy_index f CROSS JOIN messages m ON m.blob_id = f.rowid"             \
	" CROSS JOIN blobs b ON b.id = m.blob_id WHERE fuzzy_index MATCH ?2"                       \
	" AND m.mailbox_id = ?1 AND tern_has_word(" col ", ?3)"                                    \
	" UNION ALL SELECT m.uid FROM fts_pending p CROSS JOIN messages m ON m.blob_id = p.id"     \
	" CROSS JOIN blobs b ON b.id = m.blob_id WHERE m.mailbox_id = ?1"                          \
	" AND tern_has_word(" col ", ?3)"
#define BACKLOG_SQL(check)                                                                         \
	" UNION ALL SELECT m.uid FROM fts CROSS JOIN messages m ON m.blob_id = fts.rowid"          \
	" CROSS JOIN blobs b ON b.id = m.blob_id WHERE fts MATCH ?2 AND m.mailbox_id = ?1"         \
	" AND m.blob_id IN (SELECT id FROM fuzzy_backlog)" check
#define FIELDS(sql, backlog)                                                                       \
	{                                                                                          \
		[STORE_TEXT_BODY] = TEXT_SQL("tern_has_word(t.body, ?3)") backlog(""),             \
		[STORE_TEXT_TEXT] = TEXT_SQL("(tern_has_word(t.header, ?3)"                        \
		                             " OR tern_has_word(t.body, ?3))") backlog(""),        \
		[STORE_TEXT_HEADERS] = TEXT_SQL("tern_has_word(t.header, ?3)") backlog(""),        \
		[STORE_TEXT_SUBJECT] =                                                             \
		        FIELD_SQL("b.subject") backlog(" AND tern_has_word(b.subject, ?3)"),       \
		[STORE_TEXT_FROM] = FIELD_SQL("b.from_addr || ' ' || b.from_display")              \
		        backlog(" AND tern_has_word(b.from_addr || ' ' || b.from_display, ?3)"),   \
		[STORE_TEXT_TO] = FIELD_SQL("b.to_addr || ' ' || b.to_display")                    \
		        backlog(" AND tern_has_word(b.to_addr || ' ' || b.to_display, ?3)"),       \
		[STORE_TEXT_CC] =                                                                  \
		        FIELD_SQL("b.cc_addr") backlog(" AND tern_has_word(b.cc_addr, ?3)"),       \
	}
#define NO_BACKLOG(check) ""
	static const char *const sqls[] = FIELDS(sqls, NO_BACKLOG);
	static const char *const backlog_sqls[] = FIELDS(backlog_sqls, BACKLOG_SQL);
#undef TEXT_SQL
#undef FIELD_SQL
#undef BACKLOG_SQL
#undef FIELDS
#undef NO_BACKLOG
	const char *query = arena_printf(a, "%s\"%s\"",
	                                 field == STORE_TEXT_BODY   ? "{body} : "
	                                 : field == STORE_TEXT_TEXT ? ""
	                                                            : "{header} : ",
	                                 word);
	sqlite3_stmt *st;

	if ((size_t)field >= ARRAY_LEN(sqls) ||
	    (st = db_stmt(db, (in_backlog ? backlog_sqls : sqls)[field])) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, (int64_t)mbox->id);
	sqlite3_bind_text(st, 2, query, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, word, -1, SQLITE_STATIC);
	if (db_collect_uids(db, st, a, uids_out, n_out) < 0)
		return -1;
	/* Index order is text order, which is mostly uid order: check first. */
	for (size_t i = 1; i < *n_out; i++) {
		if ((*uids_out)[i - 1] > (*uids_out)[i]) {
			qsort(*uids_out, *n_out, sizeof(uint32_t), cmp_u32);
			break;
		}
	}
	return 0;
}

/* Whether an upgrade's backlog still waits for the indexer. */
static int
backlog_exists(struct db *db, bool *exists_out)
{
	static const char sql[] = "SELECT EXISTS (SELECT 1 FROM fuzzy_backlog)";
	sqlite3_stmt *st = db_stmt(db, sql);

	if (st == NULL || sqlite3_step(st) != SQLITE_ROW) {
		if (st != NULL)
			sqlite3_reset(st);
		return -1;
	}
	*exists_out = sqlite3_column_int(st, 0) != 0;
	sqlite3_reset(st);
	return 0;
}

/* The needle's words, lower case, at most FUZZY_TERMS, each once. */
static size_t
needle_terms(struct arena *a, const char *needle, struct term *terms)
{
	struct mail_word_iter it;
	char word[MAIL_WORD_BUF];
	size_t len, n = 0;

	mail_word_iter_init(&it, needle, strlen(needle));
	while (n < FUZZY_TERMS && mail_word_iter_next(&it, word, &len)) {
		size_t i = 0;
		while (i < n && strcmp(terms[i].word, word) != 0)
			i++;
		if (i < n)
			continue;
		terms[n] = (struct term){.word = arena_strndup(a, word, len)};
		terms[n].v[0] = (struct variant){terms[n].word, 100};
		terms[n].n = 1;
		n++;
	}
	return n;
}

int
store_search_fuzzy(struct store_mailbox *mbox, enum store_text_field field, const char *needle,
                   struct arena *a, uint32_t **uids_out, uint8_t **scores_out, size_t *n_out,
                   enum store_error *err_out)
{
	struct term terms[FUZZY_TERMS];
	size_t n_terms = needle_terms(a, needle, terms);
	size_t n = 0;
	struct db *db;
	int rc = 0;

	/* No word to be fuzzy about ("a", "%"): the exact search, all of it
	   equally relevant. */
	if (n_terms == 0) {
		if (store_search_text(mbox, field, needle, COLLATION_DEFAULT, a, uids_out, n_out,
		                      err_out) < 0)
			return -1;
		*scores_out = arena_alloc(a, *n_out + 1);
		memset(*scores_out, 100, *n_out);
		return 0;
	}
	if (db_get(mbox->acct, &db, err_out) < 0)
		return -1;
	/* Once empty, the backlog stays so (only an upgrade fills it): a
	   search that saw it empty needs no lookups in it. */
	bool in_backlog = false;
	rc = backlog_exists(db, &in_backlog);
	if (rc == 0)
		rc = offer_pending(db, mbox, a, terms, n_terms);
	for (size_t i = 0; rc == 0 && i < n_terms; i++)
		rc = offer_vocabulary(db, a, &terms[i]);

	/* Per word, its best variant per message; over the words, the sum. */
	struct scored sum = {0};
	for (size_t i = 0; rc == 0 && i < n_terms; i++) {
		struct scored word = {0};
		qsort(terms[i].v, terms[i].n, sizeof(terms[i].v[0]), cmp_variant);
		for (size_t j = 0; rc == 0 && j < terms[i].n; j++) {
			uint32_t *uids;
			size_t k;
			rc = word_lookup(db, mbox, field, terms[i].v[j].word, in_backlog, a, &uids,
			                 &k);
			if (rc == 0)
				scored_merge(&word, uids, NULL, (uint16_t)terms[i].v[j].score, k,
				             true);
		}
		scored_merge(&sum, word.uid, word.score, 0, word.n, false);
		scored_free(&word);
	}
	if (rc < 0) {
		*err_out = db_error(db);
		scored_free(&sum);
	}
	db_put(mbox->acct, db);
	if (rc < 0)
		return -1;
	*uids_out = arena_alloc(a, (sum.n + 1) * sizeof(uint32_t));
	*scores_out = arena_alloc(a, sum.n + 1);
	for (size_t i = 0; i < sum.n; i++) {
		unsigned mean = sum.score[i] / (unsigned)n_terms;
		if (mean < FUZZY_MATCH_MIN)
			continue;
		(*uids_out)[n] = sum.uid[i];
		(*scores_out)[n] =
		        (uint8_t)(1 + (mean - FUZZY_MATCH_MIN) * 99 / (100 - FUZZY_MATCH_MIN));
		n++;
	}
	scored_free(&sum);
	*n_out = n;
	return 0;
}
