/* SPDX-License-Identifier: MIT */
/* test_imap_thread.c: tests for src/imap/thread.c, THREAD=ORDEREDSUBJECT and
   THREAD=REFERENCES (RFC 5256 section 3). Each case is a list of messages
   (sequence number = position) given by Message-ID, References, Subject and
   a day, and the thread-lists it must give. */
#include <stdio.h>

#include "imap/thread.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/util.h"
#include "mail/sortkeys.h"
#include "test.h"

struct spec {
	const char *id, *refs, *subject;
	int day; /* sent date: day of March 2023 */
};

/* What the store caches at delivery: ids normalised, base subject cut. */
static const char *
run(struct arena *a, enum imap_thread_algorithm alg, const struct spec *sp, size_t n)
{
	struct imap_thread_msg *m = arena_zalloc(a, (n + 1) * sizeof(*m));
	struct buf b;

	for (size_t i = 0; i < n; i++) {
		m[i].num = m[i].seq = (uint32_t)i + 1;
		m[i].date = 1677628800 + (int64_t)sp[i].day * 86400;
		m[i].subject = sp[i].subject;
		m[i].base_subject = mail_base_subject(a, sp[i].subject ? sp[i].subject : "");
		m[i].message_id = sp[i].id ? mail_msgids(a, sp[i].id, true, false) : NULL;
		m[i].references = sp[i].refs ? mail_msgids(a, sp[i].refs, false, true) : NULL;
	}
	buf_init(&b);
	imap_thread_format(a, alg, COLLATION_DEFAULT, m, n, &b);
	const char *r = arena_strdup(a, b.data ? b.data : "");
	buf_deinit(&b);
	return r;
}

#define REFS IMAP_THREAD_REFERENCES
#define ORDS IMAP_THREAD_ORDEREDSUBJECT

static void
test_references_basics(void)
{
	/* the integration test's mailbox (tests/integration/test_imap_search.py) */
	static const struct spec mbox[] = {
	        {"<a@x>", NULL, "Topic", 1},
	        {"<b@x>", "<a@x>", "Re: Topic", 2},
	        {"<c@x>", "<a@x> <missing@x>", "Re: Topic", 4},
	        {"<d@x>", "<b@x>", "Re: Topic", 3},
	        {"<e@x>", NULL, "Other", 5},
	        {"<f@x>", NULL, "Re: Other", 6},
	        {"<g@x>", "<nothere@x>", "Lonely", 7},
	        {"<h@x>", "<nothere@x>", "Lonely too", 8},
	};
	struct arena *a = arena_new(4096);

	/* c hangs below a through the pruned dummy <missing@x>; f joins e by
	   subject as a reply; g and h keep their dummy parent at the top */
	test_str_eq(-1, run(a, REFS, mbox, ARRAY_LEN(mbox)), "(1 (2 4)(3))(5 6)((7)(8))");
	test_str_eq(-1, run(a, ORDS, mbox, ARRAY_LEN(mbox)), "(1 (2)(4)(3))(5 6)(7)(8)");
	test_str_eq(-1, run(a, REFS, mbox, 0), "");
	test_str_eq(-1, run(a, REFS, mbox, 1), "(1)");
	arena_free(&a);
}

static void
test_references_rules(void)
{
	static const struct spec dup_ids[] = {
	        /* the second <a@x> is another message: only the first is referenced */
	        {"<a@x>", NULL, "One", 1},
	        {"<a@x>", NULL, "Two", 2},
	        {"<c@x>", "<a@x>", "Three", 3},
	};
	static const struct spec in_reply_to_chain[] = {
	        /* References lists the chain: b's missing parent becomes a dummy
	           between a and b, then is pruned */
	        {"<a@x>", NULL, "A", 1},
	        {"<b@x>", "<a@x> <gone@x>", "B", 2},
	        {"<c@x>", "<a@x> <gone@x> <b@x>", "C", 3},
	};
	static const struct spec dates_order_siblings[] = {
	        {"<p@x>", NULL, "P", 5},
	        {"<k1@x>", "<p@x>", "K1", 9},
	        {"<k2@x>", "<p@x>", "K2", 7},
	        {"<k3@x>", "<p@x>", "K3", 7}, /* same date as k2: sequence order */
	        {"<q@x>", NULL, "Q", 1},
	};
	static const struct spec subjects_merge[] = {
	        /* two non-replies of one subject get a dummy over both; a reply
	           then joins that dummy (step 5.C) */
	        {"<1@x>", NULL, "Plan", 1},
	        {"<2@x>", NULL, "Plan", 2},
	        {"<3@x>", NULL, "Re: Plan", 3},
	        {"<4@x>", NULL, "", 4}, /* no subject: never merged */
	        {"<5@x>", NULL, "", 5},
	};
	static const struct spec dummy_top_one_child[] = {
	        /* a dummy at the top with one child is replaced by that child */
	        {"<x@x>", "<absent@x>", "X", 1},
	        {"<y@x>", "<x@x>", "Y", 2},
	};
	struct arena *a = arena_new(4096);

	test_str_eq(-1, run(a, REFS, dup_ids, ARRAY_LEN(dup_ids)), "(1 3)(2)");
	test_str_eq(-1, run(a, REFS, in_reply_to_chain, ARRAY_LEN(in_reply_to_chain)), "(1 2 3)");
	test_str_eq(-1, run(a, REFS, dates_order_siblings, ARRAY_LEN(dates_order_siblings)),
	            "(5)(1 (3)(4)(2))");
	test_str_eq(-1, run(a, REFS, subjects_merge, ARRAY_LEN(subjects_merge)),
	            "((1)(2)(3))(4)(5)");
	test_str_eq(-1, run(a, ORDS, subjects_merge, ARRAY_LEN(subjects_merge)), "(1 (2)(3))(4 5)");
	test_str_eq(-1, run(a, REFS, dummy_top_one_child, ARRAY_LEN(dummy_top_one_child)), "(1 2)");
	arena_free(&a);
}

/*
 * RFC 5256 section 3 step 1: "do not add a link if adding that link would
 * introduce a loop", and in 1.B an old parent is dropped before the new link
 * is tried. Message 2 says it replies to 3, which replies to 1; message 3
 * says it replies to 2. Step 1.A of message 2 links 1 -> 3 and 1.B 3 -> 2;
 * message 3's own 1.B drops its guessed parent 1 and refuses 2 -> 3 (2 is
 * below 3), so 3 heads a thread of its own and 1 stands alone: (3 2)(1).
 * Message 1 is the newest here; the roots are in date order. tern kept the
 * guessed parent and answered (1 3 2) before.
 */
static void
test_references_loops(void)
{
	static const struct spec loop[] = {
	        {"<1@x>", NULL, "One", 3},
	        {"<2@x>", "<1@x> <3@x>", "Two", 2},
	        {"<3@x>", "<2@x>", "Three", 1},
	};
	static const struct spec loop_dates_up[] = {
	        {"<1@x>", NULL, "One", 1},
	        {"<2@x>", "<1@x> <3@x>", "Two", 2},
	        {"<3@x>", "<2@x>", "Three", 3},
	};
	static const struct spec cycle[] = {
	        /* 1 replies to 2, 2 to 3, 3 to 1: 3's link to 1 is refused */
	        {"<1@x>", "<2@x>", "A", 1},
	        {"<2@x>", "<3@x>", "B", 2},
	        {"<3@x>", "<1@x>", "C", 3},
	};
	static const struct spec self[] = {
	        /* a message naming itself last has no parent */
	        {"<s@x>", "<p@x> <s@x>", "S", 2},
	        {"<p@x>", NULL, "P", 1},
	};
	static const struct spec loop_in_one_header[] = {
	        {"<a@x>", NULL, "A", 1},
	        {"<b@x>", NULL, "B", 2},
	        {"<c@x>", "<a@x> <b@x> <a@x> <b@x>", "C", 3},
	};
	static const struct spec empty_dummies[] = {
	        /* 1.A makes d -> e -> 1 and d -> f -> 2; each message naming
	           itself last then leaves: d keeps two empty dummies, which step
	           3 removes, and then d itself (the fuzzer found d left at the
	           top with no child, and a crash in step 5) */
	        {"<m1@x>", "<d@x> <e@x> <m1@x>", "One", 1},
	        {"<m2@x>", "<d@x> <f@x> <m2@x>", "Two", 2},
	};
	struct arena *a = arena_new(4096);

	test_str_eq(-1, run(a, REFS, empty_dummies, ARRAY_LEN(empty_dummies)), "(1)(2)");
	test_str_eq(-1, run(a, REFS, loop, ARRAY_LEN(loop)), "(3 2)(1)");
	test_str_eq(-1, run(a, REFS, loop_dates_up, ARRAY_LEN(loop_dates_up)), "(1)(3 2)");
	test_str_eq(-1, run(a, REFS, cycle, ARRAY_LEN(cycle)), "(3 2 1)");
	test_str_eq(-1, run(a, REFS, self, ARRAY_LEN(self)), "(2)(1)");
	test_str_eq(-1, run(a, REFS, loop_in_one_header, ARRAY_LEN(loop_in_one_header)), "(1 2 3)");
	arena_free(&a);
}

/* Hostile sizes: a chain of 100000 replies (each References the previous)
   and the same chain delivered newest first. No recursion, and the loop
   checks must not make it quadratic. */
static void
test_references_deep_chains(void)
{
	enum { N = 100000 };
	struct arena *a = arena_new(1 << 20);
	struct imap_thread_msg *m = arena_zalloc(a, N * sizeof(*m));
	struct buf b;

	for (int order = 0; order < 2; order++) {
		uint64_t start = time_mono_ms();
		for (int i = 0; i < N; i++) {
			int k = order == 0 ? i : N - 1 - i; /* k-th message of the chain */
			m[i].num = m[i].seq = (uint32_t)i + 1;
			m[i].date = k;
			m[i].subject = m[i].base_subject = "chain";
			m[i].message_id = arena_printf(a, "<%d@x>", k);
			m[i].references = k > 0 ? arena_printf(a, "<%d@x>", k - 1) : NULL;
		}
		buf_init(&b);
		imap_thread_format(a, REFS, COLLATION_DEFAULT, m, N, &b);
		uint64_t ms = time_mono_ms() - start;
		/* one thread: "(1 2 3 ... N)" or "(N N-1 ... 1)" */
		test_assert(order, b.len > 2 && b.data[0] == '(' && b.data[b.len - 1] == ')');
		test_assert(order, strchr(b.data + 1, '(') == NULL);
		test_assert(order,
		            strncmp(b.data, order == 0 ? "(1 2 3 " : "(100000 99999 ", 7) == 0);
		/* The quadratic version took 16 s; linear takes 0.2 s. */
		test_assert(order, ms < 3000 * TEST_SLOWDOWN);
		buf_deinit(&b);
	}
	arena_free(&a);
}

static void
test_orderedsubject(void)
{
	static const struct spec mbox[] = {
	        {NULL, NULL, "Re: lunch", 3},
	        {NULL, NULL, "LUNCH", 1}, /* base subjects compare case-folded */
	        {NULL, NULL, "dinner", 2},
	        {NULL, NULL, "Fwd: lunch", 4},
	        {NULL, NULL, "[list] Lunch (fwd)", 2},
	        {NULL, NULL, NULL, 0}, /* no subject: its own group */
	};
	struct arena *a = arena_new(4096);

	test_str_eq(-1, run(a, ORDS, mbox, ARRAY_LEN(mbox)), "(6)(2 (5)(1)(4))(3)");
	arena_free(&a);
}

int
main(void)
{
	TEST_RUN(test_references_basics);
	TEST_RUN(test_references_rules);
	TEST_RUN(test_references_loops);
	TEST_RUN(test_references_deep_chains);
	TEST_RUN(test_orderedsubject);
	return TEST_DONE("test_imap_thread");
}
