/* SPDX-License-Identifier: MIT */
/* test_store_fuzzy.c: tests for src/store/fuzzy.c: typo and inflection
   recall, the relevancy scores, texts the indexer has not reached, the
   vocabulary kept by the indexer, and the upgrade of a version 7
   database. */
#include "store/store_int.h" /* indexer_hold, indexer_stop */
#include "store_test_util.h"
#include "test.h"

static const char *const bodies[] = {
        "Please receive the minutes of the meeting.",      /* uid 1 */
        "The budget meetings are scheduled weekly.",       /* uid 2 */
        "We did not recieve your payment.",                /* uid 3 */
        "Completely different: gardening and tomatoes.",   /* uid 4 */
        "Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln, Stra\xc3\x9f" "e", /* uid 5 */
};

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
        {STORE_TEXT_BODY, "meeting", "1:100 2:100"}, /* "meetings" holds it */
        {STORE_TEXT_BODY, "meetings", "1:76 2:100"},
        {STORE_TEXT_BODY, "tomato", "4:100"},
        {STORE_TEXT_BODY, "tomatos", "4:76"},
        {STORE_TEXT_BODY, "budget meeting", "1:1 2:100"}, /* one word of two */
        {STORE_TEXT_BODY, "STRAẞE", "5:100"},               /* lower case of "ẞ" */
        {STORE_TEXT_BODY, "koeln", "5:20"},               /* "köln" */
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
	/* "strasse" for "Straße": found both ways, scored 100 while pending
	   (the exact scan folds "ß" to "ss", as tern_icontains does) and as
	   the variant "straße" two edits away once indexed (FTS5 does not). */
	test_assert(round, strncmp(fuzzy(a, mb, STORE_TEXT_BODY, "strasse"), "5:", 2) == 0);
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

/* A version 7 database (no vocabulary) gets one from its indexed texts. */
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
	tsql(t.dir, "DROP TABLE fuzzy_vocab; DROP TABLE fuzzy_words;"
	            " UPDATE account SET schema_version = 7");
	test_int_eq(-1, store_account_open(t.store, 7, &t.acct, &err), 0);
	test_int_eq(-1, tsql_int(t.dir, "SELECT schema_version FROM account"), 8);
	test_int_eq(-1, tsql_int(t.dir, "SELECT count(*) FROM fuzzy_words WHERE word = 'recieve'"),
	            1);
	check_cases(&t, 2);
	tstore_close(&t);
}

int
main(void)
{
	TEST_RUN(test_pending_and_indexed_agree);
	TEST_RUN(test_version_7_database_gets_vocabulary);
	return TEST_DONE("test_store_fuzzy");
}
