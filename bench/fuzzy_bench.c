/* SPDX-License-Identifier: MIT */
/*
 * fuzzy_bench.c: SEARCH=FUZZY figures for docs/PERFORMANCE.md (not a timed
 * test).
 *   fuzzy_bench [-n MESSAGES] [-d DIR] [-r RUNS] [-k]
 * Builds a mailbox of MESSAGES messages (default 100,000; fsync off for the
 * build, which is not measured) of ~1.5 KiB of English-like text: 240
 * common words, picked by a Zipf law (the commonest in most messages), and
 * a long tail of 30,000 made-up words (each in a few dozen messages), so
 * the vocabulary is as large and as skewed as a real mailbox's; message i
 * with i % 1000 == 7 holds "needleword<i / 1000>" (as bench/mailgen.py).
 * Then it completes the index and times fuzzy searches, typos of rare,
 * tail and common words, as the IMAP search engine runs them
 * (imap_search_parse + imap_search_eval_scored: what SEARCH does on the
 * query pool, less the socket), each the median of RUNS (default 9),
 * next to the exact search of the same word. -k keeps the mailbox DIR
 * holds from an earlier run (and MESSAGES is then what it holds).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "imap/parser.h"
#include "imap/search.h"
#include "imap/search_parse.h"
#include "lib/arena.h"
#include "lib/util.h"
#include "store/store.h"

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* This thread's CPU time: on a loaded machine (two cores shared by many)
   the wall time is mostly waiting for a core; the CPU time is what the
   search costs, and its wall time on an idle core. */
static double
cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static const char *const common[] = {
        "the",         "and",        "for",        "that",         "this",        "with",
        "you",         "not",        "are",        "from",         "your",        "all",
        "have",        "new",        "more",       "was",          "will",        "can",
        "about",       "has",        "our",        "one",          "other",       "but",
        "they",        "what",       "there",      "which",        "their",       "time",
        "would",       "been",       "when",       "who",          "also",        "people",
        "into",        "some",       "could",      "them",         "than",        "first",
        "any",         "work",       "last",       "most",         "should",      "after",
        "over",        "make",       "like",       "just",         "where",       "team",
        "meeting",     "report",     "budget",     "review",       "project",     "deadline",
        "lunch",       "update",     "invoice",    "release",      "server",      "backup",
        "quarter",     "customer",   "design",     "draft",        "monday",      "friday",
        "agenda",      "notes",      "travel",     "contract",     "launch",      "feedback",
        "schedule",    "receive",    "payment",    "account",      "office",      "manager",
        "question",    "answer",     "problem",    "solution",     "support",     "service",
        "product",     "market",     "sales",      "price",        "order",       "delivery",
        "shipping",    "address",    "phone",      "email",        "message",     "attached",
        "document",    "please",     "thanks",     "regards",      "hello",       "morning",
        "evening",     "weekend",    "holiday",    "vacation",     "office",      "building",
        "parking",     "security",   "password",   "login",        "network",     "system",
        "software",    "hardware",   "computer",   "laptop",       "printer",     "screen",
        "keyboard",    "database",   "website",    "internet",     "download",    "upload",
        "version",     "testing",    "quality",    "process",      "policy",      "training",
        "workshop",    "seminar",    "conference", "presentation", "proposal",    "analysis",
        "research",    "strategy",   "planning",   "forecast",     "revenue",     "profit",
        "expense",     "receipt",    "approval",   "request",      "response",    "issue",
        "ticket",      "priority",   "status",     "progress",     "complete",    "pending",
        "cancelled",   "confirmed",  "received",   "reminder",     "calendar",    "appointment",
        "interview",   "candidate",  "position",   "salary",       "benefits",    "contract",
        "employee",    "department", "director",   "president",    "company",     "business",
        "partner",     "client",     "vendor",     "supplier",     "inventory",   "warehouse",
        "logistics",   "transport",  "meeting",    "discussion",   "decision",    "agreement",
        "signature",   "legal",      "finance",    "marketing",    "engineering", "operations",
        "resources",   "facilities", "morning",    "afternoon",    "tomorrow",    "yesterday",
        "today",       "week",       "month",      "year",         "january",     "february",
        "march",       "april",      "june",       "july",         "august",      "september",
        "october",     "november",   "december",   "summary",      "details",     "example",
        "information", "important",  "urgent",     "available",    "possible",    "different",
        "similar",
};

#define TAIL_WORDS 30000

/* A made-up word of the long tail: syllables, 6 to 11 letters. */
static void
tail_word(unsigned k, char out[32])
{
	static const char *const syl[] = {"ba",  "ker", "lo",  "min", "sta", "tri", "vel", "dor",
	                                  "qua", "zen", "pho", "rin", "gal", "mut", "sev", "nox"};
	unsigned x = k * 2654435761u + 17;
	size_t n = 0;

	for (int s = 0; s < 3 + (int)(k % 2); s++, x >>= 4)
		n += (size_t)snprintf(out + n, 32 - n, "%s", syl[x % 16]);
	snprintf(out + n, 32 - n, "%c", 'a' + k % 26);
}

static unsigned rng = 1;

static unsigned
next_rand(void)
{
	rng = rng * 1103515245u + 12345u;
	return rng >> 8;
}

/* Zipf over the common words: rank r with weight 1/r (table of cumulative
   weights, binary search). */
static double zipf_cum[ARRAY_LEN(common)];

static const char *
pick_word(char tail[32])
{
	/* one word in ten from the tail */
	if (next_rand() % 10 == 0) {
		tail_word(next_rand() % TAIL_WORDS, tail);
		return tail;
	}
	double u = (next_rand() % 1000000) / 1e6 * zipf_cum[ARRAY_LEN(common) - 1];
	size_t lo = 0, hi = ARRAY_LEN(common) - 1;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (zipf_cum[mid] < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return common[lo];
}

static char *
make_message(unsigned i, size_t *len_out)
{
	char *m = xmalloc(8192), tail[32];
	size_t n;

	n = (size_t)snprintf(m, 8192,
	                     "From: User %u <user%u@example.org>\r\nTo: you@example.org\r\n"
	                     "Subject: %s %s %s\r\nMessage-ID: <%u@bench>\r\n"
	                     "Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\n",
	                     i % 1000, i % 1000, pick_word(tail), common[next_rand() % 60],
	                     common[next_rand() % 60 + 50], i);
	for (int line = 0; line < 18; line++) {
		for (int w = 0; w < 12; w++)
			n += (size_t)snprintf(m + n, 8192 - n, "%s ", pick_word(tail));
		if (line == 9 && i % 1000 == 7)
			n += (size_t)snprintf(m + n, 8192 - n, "needleword%u ", i / 1000);
		n += (size_t)snprintf(m + n, 8192 - n, "\r\n");
	}
	*len_out = n;
	return m;
}

static const struct imap_parser_limits limits = {
        .max_line = 8192, .max_literal = 1024, .max_depth = 32};

/* Parses "t SEARCH <args>" and evaluates it: hits, the wall time in ms,
   and the CPU time in *cpu_out. */
static double
run_search(struct store_mailbox *mb, struct store_account *acct, const char *args, size_t *hits_out,
           double *cpu_out)
{
	struct arena *a = arena_new(1 << 16);
	struct imap_parser *p = imap_parser_new(&limits);
	char *line = arena_printf(a, "t SEARCH %s\r\n", args);
	struct imap_command cmd;
	struct imap_search_program prog;
	const char *err;
	bool toobig;
	size_t used, n = 0;
	uint32_t *uids;
	uint8_t *scores;
	enum store_error serr;
	double t0 = now_ms(), c0 = cpu_ms(), t1;

	if (imap_parser_feed(p, a, line, strlen(line), &used, &cmd, &err, &toobig) !=
	            IMAP_PARSE_DONE ||
	    imap_search_parse(a, cmd.args, cmd.nargs, true, NULL, &prog, &err) != IMAP_SEARCH_OK) {
		fprintf(stderr, "parse: %s\n", args);
		exit(1);
	}
	struct imap_search_input in = {.mbox = mb, .acct = acct, .now = (int64_t)time(NULL)};
	if (imap_search_eval_scored(&in, prog.root, a, &uids, &scores, &n, &serr) < 0) {
		fprintf(stderr, "search: %s\n", store_error_str(serr));
		exit(1);
	}
	t1 = now_ms();
	*cpu_out = cpu_ms() - c0;
	imap_parser_free(&p);
	arena_free(&a);
	*hits_out = n;
	return t1 - t0;
}

static int
cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return a < b ? -1 : a > b;
}

int
main(int argc, char **argv)
{
	static const char *const queries[] = {
	        "BODY needleword42",
	        "FUZZY BODY neeldeword42", /* rare: 1 message */
	        "BODY warehouse",
	        "FUZZY BODY wharehouse", /* uncommon */
	        "BODY forecast",
	        "FUZZY BODY forcast", /* uncommon */
	        "BODY meeting",
	        "FUZZY BODY meetnig", /* common */
	        "SUBJECT budget",
	        "FUZZY SUBJECT budjet", /* subject */
	        "TEXT \"invoice payment\"",
	        "FUZZY TEXT \"invoce paymnet\"", /* two words */
	        "FUZZY BODY xylophonic",         /* nothing */
	};
	unsigned total = 100000, batch = 1000, runs = 9;
	bool keep = false;
	const char *dir = "build/bench-fuzzy";
	struct store_settings set;
	struct store *store;
	struct store_account *acct;
	struct store_mailbox *mb;
	enum store_error err;
	double t0, t1, sum = 0, sum_cpu = 0;
	int opt;

	while ((opt = getopt(argc, argv, "n:d:r:k")) != -1) {
		if (opt == 'n')
			total = (unsigned)atoi(optarg);
		else if (opt == 'd')
			dir = optarg;
		else if (opt == 'r')
			runs = (unsigned)MAX(1, atoi(optarg));
		else if (opt == 'k')
			keep = true;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (size_t i = 0; i < ARRAY_LEN(common); i++)
		zipf_cum[i] = (i > 0 ? zipf_cum[i - 1] : 0) + 1.0 / (double)(i + 1);
	char *cmd = xasprintf("rm -rf '%s' && mkdir -p '%s'", dir, dir);
	if (!keep && system(cmd) != 0)
		return 1;
	free(cmd);
	store_settings_defaults(&set);
	set.no_fsync = true;
	if (store_open(dir, &set, &store, &err) < 0 ||
	    store_account_open(store, 1, &acct, &err) < 0)
		return 1;
	t0 = now_ms();
	for (unsigned i = 0; !keep && i < total; i += batch) {
		struct store_append ap[1000];
		char *msgs[1000];
		unsigned k = MIN(batch, total - i);
		for (unsigned j = 0; j < k; j++) {
			size_t len;
			msgs[j] = make_message(i + j, &len);
			ap[j] = (struct store_append){.data = (const unsigned char *)msgs[j],
			                              .len = len};
		}
		if (store_message_append(acct, "INBOX", ap, k, NULL, NULL, &err) < 0) {
			fprintf(stderr, "append: %s\n", store_error_str(err));
			return 1;
		}
		for (unsigned j = 0; j < k; j++)
			free(msgs[j]);
	}
	if (store_account_index_flush(acct, &err) < 0)
		return 1;
	t1 = now_ms();
	printf("build+index messages=%u ms=%.0f (no fsync, batches of %u)\n", total, t1 - t0,
	       batch);
	if (store_mailbox_open(acct, "INBOX", 0, &mb, &err) < 0)
		return 1;
	/* A word of the tail, exact and with two letters swapped. */
	char tail[32], *tail_q[2];
	tail_word(4242, tail);
	tail_q[0] = xasprintf("BODY %s", tail);
	size_t tl = strlen(tail);
	char t = tail[tl - 2];
	tail[tl - 2] = tail[tl - 3];
	tail[tl - 3] = t;
	tail_q[1] = xasprintf("FUZZY BODY %s", tail);
	for (size_t q = 0; q < ARRAY_LEN(queries) + 2; q++) {
		const char *query = q < 2 ? tail_q[q] : queries[q - 2];
		double *ms = xmalloc(runs * sizeof(*ms)), *cpu = xmalloc(runs * sizeof(*cpu));
		size_t hits = 0;
		for (unsigned r = 0; r < runs; r++)
			ms[r] = run_search(mb, acct, query, &hits, &cpu[r]);
		qsort(ms, runs, sizeof(*ms), cmp_double);
		qsort(cpu, runs, sizeof(*cpu), cmp_double);
		printf("search %-32s hits=%-6zu median_ms=%.1f max_ms=%.1f cpu_ms=%.1f\n", query,
		       hits, ms[runs / 2], ms[runs - 1], cpu[runs / 2]);
		if (strncmp(query, "FUZZY", 5) == 0) {
			sum = MAX(sum, ms[runs / 2]);
			sum_cpu = MAX(sum_cpu, cpu[runs / 2]);
		}
		free(ms);
		free(cpu);
	}
	double load[1] = {0};
	getloadavg(load, 1);
	printf("fuzzy slowest median_ms=%.1f cpu_ms=%.1f load=%.1f (target < 100 on 100,000"
	       " messages)\n",
	       sum, sum_cpu, load[0]);
	free(tail_q[0]);
	free(tail_q[1]);
	store_mailbox_close(&mb);
	store_account_close(&acct);
	store_close(&store);
	return 0;
}
