/* SPDX-License-Identifier: MIT */
/*
 * test.h: the unit-test framework, small on purpose. A test file defines
 * functions that call the checks below and lists them in main() with
 * TEST_RUN(). A failed check prints file:line, the table row (or -1), what it
 * got and what it wanted, and the test goes on so one run shows every failure.
 * The binary's last line is "<name>: N passed, N failed"; tests/run.py sums them.
 */
#ifndef TERN_TEST_H
#define TERN_TEST_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Time bounds in tests (a linear algorithm against a quadratic one) are
   multiplied by this: sanitizer builds on a loaded machine run ~10x slower. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define TEST_SLOWDOWN 10
#else
#define TEST_SLOWDOWN 1
#endif

static int test_failed_checks;
static int test_passed, test_failed;

#define TEST_RUN(fn)                                                                               \
	do {                                                                                       \
		int before_ = test_failed_checks;                                                  \
		fn();                                                                              \
		if (test_failed_checks == before_) {                                               \
			test_passed++;                                                             \
		} else {                                                                           \
			test_failed++;                                                             \
			printf("FAIL %s\n", #fn);                                                  \
		}                                                                                  \
	} while (0)

#define TEST_DONE(name)                                                                            \
	(printf("%s: %d passed, %d failed\n", name, test_passed, test_failed),                     \
	 test_failed == 0 ? 0 : 1)

#define test_fail_(row, ...)                                                                       \
	do {                                                                                       \
		test_failed_checks++;                                                              \
		printf("  %s:%d: row %d: ", __FILE__, __LINE__, (int)(row));                       \
		printf(__VA_ARGS__);                                                               \
		printf("\n");                                                                      \
	} while (0)

#define test_assert(row, cond)                                                                     \
	do {                                                                                       \
		if (!(cond))                                                                       \
			test_fail_(row, "expected %s", #cond);                                     \
	} while (0)

#define test_str_eq(row, got, want)                                                                \
	do {                                                                                       \
		const char *g_ = (got), *w_ = (want);                                              \
		if (g_ == NULL || w_ == NULL ? g_ != w_ : strcmp(g_, w_) != 0)                     \
			test_fail_(row, "got \"%s\", wanted \"%s\"", g_ ? g_ : "(null)",           \
			           w_ ? w_ : "(null)");                                            \
	} while (0)

#define test_int_eq(row, got, want)                                                                \
	do {                                                                                       \
		long long g_ = (long long)(got), w_ = (long long)(want);                           \
		if (g_ != w_)                                                                      \
			test_fail_(row, "%s: got %lld, wanted %lld", #got, g_, w_);                \
	} while (0)

#endif
