/* SPDX-License-Identifier: MIT */
/* test_imap_list_pattern.c: tests for src/imap/list_pattern.c, the LIST
   wildcard matcher (RFC 9051 section 6.3.9): a table of patterns, every
   short pattern against a slow reference matcher, and the hostile patterns
   that made the old recursive matcher spin or overflow the stack. */
#include <stdio.h>

#include "imap/list_pattern.h"
#include "lib/arena.h"
#include "lib/util.h"
#include "test.h"

static bool
matches(struct arena *a, const char *pat, const char *name)
{
	return imap_list_pattern_matches(imap_list_pattern_new(a, pat), name);
}

static void
test_table(void)
{
	static const struct {
		const char *pat, *name;
		bool want;
	} cases[] = {
	        {"*", "INBOX", true},
	        {"*", "", true},
	        {"%", "", true},
	        {"", "", true},
	        {"", "a", false},
	        {"*", "a/b/c", true},
	        {"%", "a/b", false}, /* '%' stops at the delimiter */
	        {"%", "Sent", true},
	        {"%/%", "a/b", true},
	        {"%/%", "a/b/c", false},
	        {"a/*", "a/b/c", true},
	        {"a/%", "a/b/c", false},
	        {"a/%", "a/", true},
	        {"a*", "a", true},
	        {"a*c", "abc", true},
	        {"a*c", "abcd", false},
	        {"a%c", "ab/c", false},
	        {"a*c", "ab/c", true},
	        {"*/c", "a/b/c", true},
	        {"%/c", "a/b/c", false},
	        {"a%%%b", "axyzb", true},
	        {"a%*%b", "a/x/b", true}, /* a run with a '*' is a '*' */
	        {"a%%b", "a/b", false},
	        {"Arch*2023", "Archive/2023", true},
	        {"Arch%2023", "Archive/2023", false},
	        {"abc", "abd", false},
	        {"abc", "ab", false},
	        {"ab", "abc", false},
	        /* INBOX in any case; other names keep their case */
	        {"inbox", "INBOX", true},
	        {"InBoX/%", "INBOX/Sub", true},
	        {"inbox*", "INBOX.old", true},
	        {"inbox", "inbox", true},
	        {"inbox*", "inboxes", true},
	        {"INBOX", "inbox", false},
	        {"sent", "Sent", false},
	        {"inbox/sub", "INBOX/Sub", false},
	        /* UTF-8 names are bytes like any */
	        {"Entw\xc3\xbcrfe", "Entw\xc3\xbcrfe", true},
	        {"Entw%rfe", "Entw\xc3\xbcrfe", true},
	};
	struct arena *a = arena_new(1024);

	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		test_int_eq(i, matches(a, cases[i].pat, cases[i].name), cases[i].want);
	arena_free(&a);
}

/* The old matcher, kept as the reference: plainly right, exponential. */
static bool
slow_match(const char *pat, const char *name)
{
	for (; *pat != '\0'; pat++, name++) {
		if (*pat == '*' || *pat == '%') {
			for (const char *n = name;; n++) {
				if (slow_match(pat + 1, n))
					return true;
				if (*n == '\0' || (*pat == '%' && *n == '/'))
					return false;
			}
		}
		if (*pat != *name)
			return false;
	}
	return *name == '\0';
}

/* Every pattern up to 5 symbols over {a, b, /, *, %} against every name up
   to 5 bytes over {a, b, /}. */
static void
test_agrees_with_reference(void)
{
	static const char pat_alpha[] = "ab/*%", name_alpha[] = "ab/";
	struct arena *a = arena_new(4096);
	char pat[8], name[8];
	int row = 0;

	for (int plen = 0; plen <= 5; plen++) {
		int pcount = 1;
		for (int k = 0; k < plen; k++)
			pcount *= 5;
		for (int pi = 0; pi < pcount; pi++) {
			for (int k = 0, v = pi; k < plen; k++, v /= 5)
				pat[k] = pat_alpha[v % 5];
			pat[plen] = '\0';
			struct imap_list_pattern *p = imap_list_pattern_new(a, pat);
			for (int nlen = 0; nlen <= 5; nlen++) {
				int ncount = 1;
				for (int k = 0; k < nlen; k++)
					ncount *= 3;
				for (int ni = 0; ni < ncount; ni++, row++) {
					for (int k = 0, v = ni; k < nlen; k++, v /= 3)
						name[k] = name_alpha[v % 3];
					name[nlen] = '\0';
					bool want = slow_match(pat, name);
					if (imap_list_pattern_matches(p, name) != want)
						test_fail_(row, "\"%s\" on \"%s\": wanted %d", pat,
						           name, want);
				}
			}
			arena_reset(a);
		}
	}
	arena_free(&a);
}

/* The patterns of the report: each must be answered at once. */
static void
test_hostile_patterns_are_fast(void)
{
	enum { BIG = 1000000 };
	static const char *const names[] = {
	        "INBOX", "Archive/2023/Projects/tern/very/deep/folder/name/here", "Sent",
	        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
	struct arena *a = arena_new(1 << 20);
	char *star_pct = xmalloc(BIG + 2), *stars = xmalloc(BIG + 1);
	char *star_a = xmalloc(2 * 60 + 2);
	uint64_t start = time_mono_ms();

	/* "*%*%*%...*%x": exponential for a backtracking matcher */
	for (size_t i = 0; i < BIG; i++)
		star_pct[i] = i % 2 ? '%' : '*';
	star_pct[BIG] = 'x';
	star_pct[BIG + 1] = '\0';
	/* a million '*': a million frames for a recursive one */
	memset(stars, '*', BIG);
	stars[BIG] = '\0';
	/* "*a*a*a...*a*b": the classic worst case for naive backtracking,
	   short enough that the literal count does not rule it out */
	size_t k = 0;
	for (int i = 0; i < 60; i++) {
		star_a[k++] = '*';
		star_a[k++] = 'a';
	}
	star_a[k++] = 'b';
	star_a[k] = '\0';
	struct imap_list_pattern *p1 = imap_list_pattern_new(a, star_pct);
	struct imap_list_pattern *p2 = imap_list_pattern_new(a, stars);
	struct imap_list_pattern *p3 = imap_list_pattern_new(a, star_a);
	for (size_t i = 0; i < ARRAY_LEN(names); i++) {
		test_assert(i, !imap_list_pattern_matches(p1, names[i]));
		test_assert(i, imap_list_pattern_matches(p2, names[i]));
		test_assert(i, !imap_list_pattern_matches(p3, names[i]));
	}
	test_assert(-1, imap_list_pattern_matches(p1, "box"));
	uint64_t ms = time_mono_ms() - start;
	test_assert(-1, ms < 1000 * TEST_SLOWDOWN);
	free(star_pct);
	free(stars);
	free(star_a);
	arena_free(&a);
}

int
main(void)
{
	TEST_RUN(test_table);
	TEST_RUN(test_agrees_with_reference);
	TEST_RUN(test_hostile_patterns_are_fast);
	return TEST_DONE("test_imap_list_pattern");
}
