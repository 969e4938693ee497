/* SPDX-License-Identifier: MIT */
/* test_imap_search.c: tests for src/imap/search.c, the SEARCH evaluator, on
   a real store: each row is a SEARCH argument string (run through the
   command parser and search_parse.c first) and the UIDs it must match.
   The dates are in zones far from UTC (-1200, -0800, +0530, +1400), so a
   day computed in the wrong zone shows. */
#include "imap/imap_flags.h"
#include "imap/parser.h"
#include "imap/search.h"
#include "imap/search_parse.h"
#include "imap/seqset.h"
#include "store_test_util.h"
#include "test.h"

static const struct imap_parser_limits limits = {
        .max_line = 8192, .max_literal = 1024, .max_depth = 64};

struct fixture {
	struct tstore t;
	struct store_mailbox *mbox;
	int64_t now;
};

/*
 * uid | flags        | keywords | INTERNALDATE (APPEND)      | Date: header
 *  1  | Seen         |          | 01-Mar-2023 23:30 -0800    | Wed, 1 Mar 2023 23:30 -0800
 *  2  | Seen Flagged | $Work    | 02-Mar-2023 09:00 +1400    | Thu, 2 Mar 2023 09:00 +1400
 *  3  | Deleted      |          | 02-Mar-2023 05:00 +0530    | Thu, 2 Mar 2023 05:00 +0530
 *  4  | Answ. Draft  | $Work    | 01-Mar-2023 13:00 -1200    | Wed, 1 Mar 2023 13:00 -1200
 *  5  |              |          | 03-Mar-2023 00:00 +0000    | none
 *  6  | Seen         |          | 28-Feb-2023 22:00 -0500    | Tue, 28 Feb 2023 23:59:59 -0100
 * In UTC the internal dates fall on 2, 1, 1, 2, 3 and 1 March.
 */
static const struct {
	const char *date_time, *msg;
	uint32_t flags;
	bool work;
} msgs[] = {
        {"01-Mar-2023 23:30:00 -0800",
         "From: alice@example.org\r\nTo: bob@example.org\r\nSubject: Lunch plans\r\n"
         "Date: Wed, 1 Mar 2023 23:30:00 -0800\r\nMessage-ID: <1@x>\r\n\r\n"
         "see you at noon\r\n",
         STORE_FLAG_SEEN, false},
        {"02-Mar-2023 09:00:00 +1400",
         "From: bob@example.org\r\nTo: alice@example.org\r\nSubject: Re: Lunch plans\r\n"
         "Date: Thu, 2 Mar 2023 09:00:00 +1400\r\nX-Tag: green\r\n\r\nok\r\n",
         STORE_FLAG_SEEN | STORE_FLAG_FLAGGED, true},
        {"02-Mar-2023 05:00:00 +0530",
         "From: carol@example.com\r\nTo: alice@example.org\r\nSubject: Budget\r\n"
         "Date: Thu, 2 Mar 2023 05:00:00 +0530\r\n\r\n"
         "the numbers for the quarter, line after line after line after line\r\n"
         "and more numbers, and more numbers, and more numbers, and more\r\n",
         STORE_FLAG_DELETED, false},
        {"01-Mar-2023 13:00:00 -1200",
         "From: Dave <dave@example.net>\r\nTo: alice@example.org, bob@example.org\r\n"
         "Cc: carol@example.com\r\nSubject: Weekly report\r\n"
         "Date: Wed, 1 Mar 2023 13:00:00 -1200\r\nX-Tag: red\r\n\r\nall good\r\n",
         STORE_FLAG_ANSWERED | STORE_FLAG_DRAFT, true},
        {"03-Mar-2023 00:00:00 +0000", "From: eve@example.org\r\n\r\nbye\r\n", 0, false},
        {"28-Feb-2023 22:00:00 -0500",
         "From: frank@example.org\r\nSubject: late\r\n"
         "Date: Tue, 28 Feb 2023 23:59:59 -0100\r\n\r\nlate night\r\n",
         STORE_FLAG_SEEN, false},
};

static void
fixture_open(struct fixture *f)
{
	static const char *const work[] = {"$Work"};
	enum store_error err;
	uint32_t uv, uid;

	tstore_open(&f->t);
	for (size_t i = 0; i < ARRAY_LEN(msgs); i++) {
		struct store_append ap = {.data = (const unsigned char *)msgs[i].msg,
		                          .len = strlen(msgs[i].msg),
		                          .flags = msgs[i].flags,
		                          .keywords = msgs[i].work ? work : NULL,
		                          .n_keywords = msgs[i].work ? 1 : 0};
		if (!imap_date_time_parse(msgs[i].date_time, &ap.internal_date) ||
		    store_message_append(f->t.acct, "INBOX", &ap, 1, &uv, &uid, &err) < 0)
			abort();
	}
	if (store_mailbox_open(f->t.acct, "INBOX", 0, &f->mbox, &err) < 0)
		abort();
	/* an hour after the newest message (uid 5) */
	f->now = 1677801600 + 3600;
}

static void
fixture_close(struct fixture *f)
{
	store_mailbox_close(&f->mbox);
	tstore_close(&f->t);
}

/* The UIDs args matches ("1:2,4"), or "BAD: ..." from the parser. */
static const char *
search(struct fixture *f, struct arena *a, const char *args, const uint32_t *saved, size_t n_saved)
{
	struct imap_parser *p = imap_parser_new(&limits);
	char *line = arena_printf(a, "t SEARCH %s\r\n", args);
	struct imap_command cmd;
	struct imap_search_program prog;
	const char *err;
	bool toobig;
	size_t used, n;
	uint32_t *uids;
	enum store_error serr;

	if (imap_parser_feed(p, a, line, strlen(line), &used, &cmd, &err, &toobig) !=
	    IMAP_PARSE_DONE) {
		imap_parser_free(&p);
		return "PARSER-ERROR";
	}
	imap_parser_free(&p);
	if (imap_search_parse(a, cmd.args, cmd.nargs, false, NULL, &prog, &err) != IMAP_SEARCH_OK)
		return arena_printf(a, "BAD: %s", err);
	struct imap_search_input in = {.mbox = f->mbox,
	                               .acct = f->t.acct,
	                               .saved = saved,
	                               .n_saved = n_saved,
	                               .now = f->now};
	if (imap_search_eval(&in, prog.root, a, &uids, &n, &serr) < 0)
		return arena_printf(a, "STORE: %s", store_error_str(serr));
	return imap_seqset_format(a, uids, n);
}

struct row {
	const char *args, *want;
};

static void
run_rows(const struct row *rows, size_t n)
{
	static const uint32_t saved[] = {2, 4, 99}; /* 99: expunged since */
	struct fixture f;
	struct arena *a = arena_new(4096);

	fixture_open(&f);
	for (size_t i = 0; i < n; i++) {
		const char *got = search(&f, a, rows[i].args, saved, ARRAY_LEN(saved));
		if (strcmp(got, rows[i].want) != 0)
			test_fail_(i, "SEARCH %s: got \"%s\", wanted \"%s\"", rows[i].args, got,
			           rows[i].want);
		arena_reset(a);
	}
	arena_free(&a);
	fixture_close(&f);
}

static void
test_boolean_logic(void)
{
	static const struct row rows[] = {
	        {"ALL", "1:6"},
	        {"SEEN", "1:2,6"},
	        {"SEEN FLAGGED", "2"}, /* AND */
	        {"(SEEN FLAGGED)", "2"},
	        {"OR SEEN DELETED", "1:3,6"},
	        {"OR FLAGGED DRAFT", "2,4"},
	        {"NOT SEEN", "3:5"},
	        {"NOT NOT SEEN", "1:2,6"},
	        {"NOT (SEEN FLAGGED)", "1,3:6"},
	        {"NOT OR SEEN DELETED", "4:5"},
	        {"OR (SEEN FLAGGED) NOT DELETED", "1:2,4:6"},
	        {"OR OR SEEN DRAFT DELETED", "1:4,6"},
	        {"OR SEEN OR DRAFT DELETED", "1:4,6"},
	        {"OR NOT SEEN NOT DELETED", "1:6"},
	        {"SEEN NOT SEEN", ""},
	        {"NOT ALL", ""},
	        {"OR (SEEN NOT FLAGGED) (DRAFT NOT ANSWERED)", "1,6"},
	        {"(OR SEEN DRAFT) (OR FLAGGED ANSWERED)", "2,4"},
	        {"NOT (OR SEEN DRAFT) UNDELETED", "5"},
	        {"UNSEEN UNFLAGGED UNDELETED UNANSWERED UNDRAFT", "5"},
	};

	run_rows(rows, ARRAY_LEN(rows));
}

static void
test_sets_flags_and_sizes(void)
{
	static const struct row rows[] = {
	        {"2:4", "2:4"},
	        {"4:2", "2:4"},
	        {"*", "6"},
	        {"1,3:*", "1,3:6"},
	        {"5:100", "5:6"}, /* beyond the mailbox: no match, no error */
	        {"100", ""},
	        {"UID 2,5", "2,5"},
	        {"UID 4:*", "4:6"},
	        {"UID 7:9", ""},
	        {"$", "2,4"},
	        {"UID $", "2,4"},
	        {"NOT $", "1,3,5:6"},
	        {"OR $ 1", "1:2,4"},
	        {"1:3 NOT UID 2", "1,3"},
	        {"KEYWORD $Work", "2,4"},
	        {"keyword $work", "2,4"}, /* keywords compare case-insensitively */
	        {"UNKEYWORD $Work", "1,3,5:6"},
	        {"KEYWORD never-used", ""},
	        {"UNKEYWORD never-used", "1:6"},
	        {"DELETED", "3"},
	        {"ANSWERED DRAFT", "4"},
	        {"LARGER 200", "3"},
	        {"LARGER 180", "3"}, /* larger than, not equal */
	        {"LARGER 179", "3:4"},
	        {"SMALLER 60", "5"},
	        {"NOT LARGER 200 NOT SMALLER 60", "1:2,4,6"},
	        {"SMALLER 30", ""},
	        {"SMALLER 31", "5"},
	};

	run_rows(rows, ARRAY_LEN(rows));
}

static void
test_text_and_headers(void)
{
	static const struct row rows[] = {
	        {"SUBJECT lunch", "1:2"},
	        {"SUBJECT \"re: lunch\"", "2"},
	        {"FROM alice", "1"},
	        {"FROM dave", "4"},
	        {"TO bob", "1,4"}, /* 4: bob is the second address */
	        {"CC carol", "4"},
	        {"BODY numbers", "3"},
	        {"TEXT budget", "3"},
	        {"TEXT noon", "1"},
	        {"HEADER X-Tag red", "4"},
	        {"HEADER X-Tag \"\"", "2,4"},
	        {"NOT HEADER X-Tag \"\"", "1,3,5:6"},
	        {"OR BODY noon SUBJECT budget", "1,3"},
	        {"NOT SUBJECT lunch SEEN", "6"},
	};

	run_rows(rows, ARRAY_LEN(rows));
}

/*
 * INTERNALDATE keys compare the UTC day (tern keeps UTC seconds only and
 * reports INTERNALDATE as +0000, so that is the date clients see). The
 * SENT* keys compare the date written in the Date: header, in its own zone
 * (RFC 9051 6.4.4: "disregarding time and timezone"); a message without one
 * its INTERNALDATE, as SORT does (RFC 5256 2.2).
 */
static void
test_dates_across_zones(void)
{
	static const struct row rows[] = {
	        {"ON 28-Feb-2023", ""},
	        {"ON 1-Mar-2023", "2:3,6"},
	        {"ON 2-Mar-2023", "1,4"},
	        {"ON 3-Mar-2023", "5"},
	        {"BEFORE 2-Mar-2023", "2:3,6"},
	        {"SINCE 2-Mar-2023", "1,4:5"},
	        {"SINCE 1-Mar-2023 BEFORE 3-Mar-2023", "1:4,6"},
	        {"NOT BEFORE 3-Mar-2023", "5"},
	        {"SENTON 28-Feb-2023", "6"},
	        {"SENTON 1-Mar-2023", "1,4"},
	        {"SENTON 2-Mar-2023", "2:3"},
	        {"SENTON 3-Mar-2023", "5"}, /* no Date: its INTERNALDATE */
	        {"SENTBEFORE 1-Mar-2023", "6"},
	        {"SENTBEFORE 2-Mar-2023", "1,4,6"},
	        {"SENTSINCE 2-Mar-2023", "2:3,5"},
	        {"SENTSINCE 1-Mar-2023", "1:5"},
	        {"NOT SENTSINCE 1-Mar-2023", "6"},
	        {"SENTSINCE 1-Jan-1970", "1:6"},
	        {"OR SENTON 1-Mar-2023 ON 3-Mar-2023", "1,4:5"},
	        {"YOUNGER 7200", "5"},
	        {"OLDER 7200", "1:4,6"},
	        {"SAVEDSINCE 1-Jan-2000", "1:6"},
	};

	run_rows(rows, ARRAY_LEN(rows));
}

int
main(void)
{
	TEST_RUN(test_boolean_logic);
	TEST_RUN(test_sets_flags_and_sizes);
	TEST_RUN(test_text_and_headers);
	TEST_RUN(test_dates_across_zones);
	return TEST_DONE("test_imap_search");
}
