/* SPDX-License-Identifier: MIT */
/* test_store_fuzzy.c: tests for src/store/fuzzy.c: typo and inflection
   recall, the relevancy scores, texts the indexer has not reached, the
   vocabulary kept by the indexer, and the upgrade of a version 9
   database. */
#include "store/store_int.h" /* indexer_hold, indexer_stop */
#include "store_test_util.h"
#include "test.h"

static const char *const bodies[] = {
        "Please receive the minutes of the meeting.",    /* uid 1 */
        "The budget meetings are scheduled weekly.",     /* uid 2 */
        "We did not recieve your payment.",              /* uid 3 */
        "Completely different: gardening and tomatoes.", /* uid 4 */
        "Gr\xc3\xbc\xc3\x9f"
        "e aus K\xc3\xb6ln, Stra\xc3\x9f"
        "e", /* uid 5 */
};

static int word_index_check(const char *dir);

static void
fill(struct tstore *t)
{
	for (size_t i = 0; i < ARRAY_LEN(bodies); i++) {
		char *m = xasprintf("Subject: note %zu\r\n\r\n%s\r\n", i, bodies[i]);
		tappend(t, "INBOX", m, 0);
		free(m);
	}
}

/* "uid:score uid:score" of a fuzzy search. */
static char *
fuzzy(struct arena *a, struct store_mailbox *mb, enum store_text_field f, const char *needle)
{
	enum store_error err;
	uint32_t *uids;
	uint8_t *scores;
	size_t n;
	struct buf b;

	if (store_search_fuzzy(mb, f, needle, a, &uids, &scores, &n, &err) < 0)
		return arena_printf(a, "error %s", store_error_str(err));
	buf_init(&b);
	buf_puts(&b, "");
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, "%s%u:%u", i > 0 ? " " : "", uids[i], scores[i]);
	char *r = arena_strdup(a, b.data);
	buf_deinit(&b);
	return r;
}

static const struct {
	enum store_text_field field;
	const char *needle, *want;
} cases[] = {
        {STORE_TEXT_BODY, "receive", "1:100 3:72"},
        {STORE_TEXT_BODY, "recieve", "1:72 3:100"},
        {STORE_TEXT_BODY, "RECIEVE", "1:72 3:100"},
        {STORE_TEXT_BODY, "meeting", "1:100 2:80"}, /* "meetings": a letter more */
        {STORE_TEXT_BODY, "meetings", "1:80 2:100"},
        {STORE_TEXT_BODY, "tomato", "4:60"}, /* "tomatoes" */
        {STORE_TEXT_BODY, "tomatos", "4:76"},
        {STORE_TEXT_BODY, "budget meeting", "1:1 2:90"}, /* one word of two */
        {STORE_TEXT_BODY, "STRAẞE", "5:100"},            /* lower case of "ẞ" */
        {STORE_TEXT_BODY, "koeln", "5:20"},              /* "köln" */
        {STORE_TEXT_BODY, "xylophone", ""},
        {STORE_TEXT_SUBJECT, "recieve", ""}, /* a body word is no subject */
        {STORE_TEXT_SUBJECT, "nite", "1:50 2:50 3:50 4:50 5:50"},
        {STORE_TEXT_BODY, "a", "1:100 2:100 3:100 4:100 5:100"}, /* no word: exact */
};

static void
check_cases(struct tstore *t, int round)
{
	struct store_mailbox *mb;
	enum store_error err;
	struct arena *a = arena_new(4096);

	test_int_eq(-1, store_mailbox_open(t->acct, "INBOX", 0, &mb, &err), 0);
	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		test_str_eq(round * 100 + (int)i, fuzzy(a, mb, cases[i].field, cases[i].needle),
		            cases[i].want);
	/* "strasse" for "Straße": the variant "straße", two edits away. */
	test_str_eq(round, fuzzy(a, mb, STORE_TEXT_BODY, "strasse"), "5:44");
	store_mailbox_close(&mb);
	arena_free(&a);
}

/* Pending texts (the indexer held) and indexed ones give the same answers. */
static void
test_pending_and_indexed_agree(void)
{
	struct tstore t;
	enum store_error err;

	tstore_open(&t);
	indexer_hold(t.store, true);
	fill(&t);
	test_assert(-1, tsql_int(t.dir, "SELECT count(*) FROM fts_pending") == 5);
	test_int_eq(-1, tsql_int(t.dir, "SELECT count(*) FROM fuzzy_words"), 0);
	check_cases(&t, 0);
	indexer_hold(t.store, false);
	test_int_eq(-1, store_account_index_flush(t.acct, &err), 0);
	test_int_eq(-1, tsql_int(t.dir, "SELECT count(*) FROM fts_pending"), 0);
	test_int_eq(-1, tsql_int(t.dir, "SELECT count(*) FROM fuzzy_words WHERE word = 'recieve'"),
	            1);
	/* each word once, however many texts hold it */
	test_int_eq(-1, tsql_int(t.dir, "SELECT count(*) FROM fuzzy_words WHERE word = 'the'"), 1);
	check_cases(&t, 1);
	tstore_close(&t);
}

/* A version 9 database (no vocabulary) queues its indexed texts for the
   indexer, finds the needle's own words in them meanwhile (through fts),
   and gets its vocabulary and word index in the background. */
static void
test_version_7_database_gets_vocabulary(void)
{
	struct tstore t;
	enum store_error err;

	tstore_open(&t);
	fill(&t);
	indexer_stop(t.store);
	test_int_eq(-1, store_account_index_flush(t.acct, &err), 0);
	store_account_close(&t.acct);
	tsql(t.dir, "DROP TABLE fuzzy_vocab; DROP TABLE fuzzy_words; DROP TABLE fuzzy_index;"
	            " DROP TABLE fuzzy_backlog; UPDATE account SET schema_version = 9;"
	            " INSERT INTO fts(fts, rowid, header, body) SELECT 'delete', id, header, body"
	            " FROM texts WHERE id = (SELECT max(id) FROM texts);"
	            " INSERT INTO fts_pending(id) SELECT max(id) FROM texts");
	/* the last text (uid 5) is pending at the upgrade: not in the backlog */
	test_int_eq(-1, store_account_open(t.store, 7, &t.acct, &err), 0);
	test_int_eq(-1, tsql_int(t.dir, "SELECT schema_version FROM account"), 10);
	test_int_eq(-1, tsql_int(t.dir, "SELECT count(*) FROM fuzzy_backlog"), 4);
	test_int_eq(-1, tsql_int(t.dir, "SELECT count(*) FROM fuzzy_words"), 0);
	struct store_mailbox *mb;
	struct arena *a = arena_new(4096);
	uint32_t uid4 = 4, *gone;
	size_t n;
	test_int_eq(-1, store_mailbox_open(t.acct, "INBOX", 0, &mb, &err), 0);
	/* words as typed are found in the backlog; variants only once the
	   vocabulary has them (the pending text's words it has) */
	test_str_eq(-1, fuzzy(a, mb, STORE_TEXT_BODY, "recieve"), "3:100");
	test_str_eq(-1, fuzzy(a, mb, STORE_TEXT_BODY, "budget meetings"), "2:100");
	test_str_eq(-1, fuzzy(a, mb, STORE_TEXT_SUBJECT, "note"), "1:100 2:100 3:100 4:100 5:100");
	test_str_eq(-1, fuzzy(a, mb, STORE_TEXT_BODY, "koeln"), "5:20"); /* pending */
	/* uid 4 goes while its text waits in the backlog: its collection
	   must not delete from the word index what was never added */
	test_int_eq(-1, store_message_remove(mb, &uid4, 1, a, &gone, &n, &err), 0);
	/* the indexer is stopped: the flush does its work */
	test_int_eq(-1, store_account_index_flush(t.acct, &err), 0);
	test_int_eq(-1, tsql_int(t.dir, "SELECT count(*) FROM fuzzy_backlog"), 0);
	test_int_eq(-1, tsql_int(t.dir, "SELECT count(*) FROM fts_pending"), 0);
	test_int_eq(-1, tsql_int(t.dir, "SELECT count(*) FROM texts"), 4);
	test_int_eq(-1, tsql_int(t.dir, "SELECT count(*) FROM fuzzy_words WHERE word = 'recieve'"),
	            1);
	test_int_eq(-1, word_index_check(t.dir), 0);
	tsql(t.dir, "INSERT INTO fts(fts, rank) VALUES ('integrity-check', 1)");
	test_str_eq(-1, fuzzy(a, mb, STORE_TEXT_BODY, "recieve"), "1:72 3:100");
	test_str_eq(-1, fuzzy(a, mb, STORE_TEXT_BODY, "tomato"), "");
	test_str_eq(-1, fuzzy(a, mb, STORE_TEXT_BODY, "STRAẞE"), "5:100");
	test_str_eq(-1, fuzzy(a, mb, STORE_TEXT_BODY, "meetings"), "1:80 2:100");
	store_mailbox_close(&mb);
	arena_free(&a);
	tstore_close(&t);
}

/* FTS5's own check of the word index against its content: 0 when sound. */
static int
word_index_check(const char *dir)
{
	char *path = xasprintf("%s/accounts/7/index.db", dir);
	sqlite3 *h;
	int rc = -1;

	if (sqlite3_open(path, &h) == SQLITE_OK)
		rc = sqlite3_exec(h,
		                  "INSERT INTO fuzzy_index(fuzzy_index, rank)"
		                  " VALUES ('integrity-check', 1)",
		                  0, 0, 0);
	sqlite3_close(h);
	free(path);
	return rc;
}

/* An expunged message's text leaves the word index with its collection
   (expunge.c); one never indexed (pending) is not deleted from it. */
static void
test_collection_cleans_the_word_index(void)
{
	struct tstore t;
	struct store_mailbox *mb;
	enum store_error err;
	struct arena *a = arena_new(4096);
	uint32_t *gone, uid3 = 3, uid5 = 5;
	size_t n;

	tstore_open(&t);
	fill(&t);
	test_int_eq(-1, store_account_index_flush(t.acct, &err), 0);
	indexer_hold(t.store, true);
	tappend(&t, "INBOX", "Subject: late\r\n\r\nrecieve late\r\n", 0); /* uid 6, pending */
	test_int_eq(-1, store_mailbox_open(t.acct, "INBOX", 0, &mb, &err), 0);
	test_str_eq(-1, fuzzy(a, mb, STORE_TEXT_BODY, "recieve"), "1:72 3:100 6:100");
	test_int_eq(-1, store_message_remove(mb, &uid3, 1, a, &gone, &n, &err), 0);
	test_int_eq(-1, store_message_remove(mb, &uid5, 1, a, &gone, &n, &err), 0);
	uint32_t uid6 = 6;
	test_int_eq(-1, store_message_remove(mb, &uid6, 1, a, &gone, &n, &err), 0);
	indexer_hold(t.store, false);
	test_int_eq(-1, store_account_index_flush(t.acct, &err), 0);
	test_int_eq(-1, tsql_int(t.dir, "SELECT count(*) FROM texts"), 3);
	test_int_eq(-1,
	            tsql_int(t.dir, "SELECT count(*) FROM fuzzy_index"
	                            " WHERE fuzzy_index MATCH 'recieve'"),
	            0);
	test_int_eq(-1, word_index_check(t.dir), 0);
	test_str_eq(-1, fuzzy(a, mb, STORE_TEXT_BODY, "recieve"), "1:72");
	store_mailbox_close(&mb);
	arena_free(&a);
	tstore_close(&t);
}

int
main(void)
{
	TEST_RUN(test_pending_and_indexed_agree);
	TEST_RUN(test_version_7_database_gets_vocabulary);
	TEST_RUN(test_collection_cleans_the_word_index);
	return TEST_DONE("test_store_fuzzy");
}
