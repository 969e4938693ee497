/* SPDX-License-Identifier: MIT */
/* test_arena.c: tests for src/lib/arena.c and src/lib/buf.c. */
#include <stdint.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "test.h"

static void
test_allocations_are_aligned_and_distinct(void)
{
	struct arena *a = arena_new(256);
	char *prev = NULL;

	for (int i = 0; i < 200; i++) {
		char *p = arena_alloc(a, (size_t)(i % 37) + 1);
		test_assert(i, ((uintptr_t)p % 16) == 0);
		test_assert(i, p != prev);
		memset(p, 'x', (size_t)(i % 37) + 1);
		prev = p;
	}
	char *big = arena_alloc(a, 100000); /* own block */
	memset(big, 0, 100000);
	arena_reset(a);
	test_int_eq(-1, arena_used(a), 0);
	test_str_eq(-1, arena_printf(a, "%s-%d", "uid", 42), "uid-42");
	arena_free(&a);
	test_assert(-1, a == NULL);
}

static void
test_buf_grows_and_stays_terminated(void)
{
	struct buf b;

	buf_init(&b);
	for (int i = 0; i < 1000; i++)
		buf_printf(&b, "%d,", i % 10);
	test_int_eq(-1, b.len, 2000);
	test_int_eq(-1, b.data[b.len], '\0');
	buf_reset(&b);
	buf_puts(&b, "abc");
	buf_putc(&b, 'd');
	test_str_eq(-1, b.data, "abcd");
	char *s = buf_steal(&b);
	test_str_eq(-1, s, "abcd");
	test_assert(-1, b.data == NULL);
	free(s);
	buf_deinit(&b);
}

static void
test_buf_numbers_and_reserved_room(void)
{
	static const struct {
		uint64_t v;
		const char *want;
	} cases[] = {
	        {0, "0"},
	        {7, "7"},
	        {10, "10"},
	        {4294967295u, "4294967295"},
	        {UINT64_MAX, "18446744073709551615"},
	};
	struct buf b;

	buf_init(&b);
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		buf_reset(&b);
		buf_puts(&b, "x");
		buf_put_u64(&b, cases[i].v);
		test_str_eq(i, b.data + 1, cases[i].want);
	}
	/* A long printf into a buffer with a little room left formats in full. */
	buf_reset(&b);
	buf_printf(&b, "%0300d|%s", 5, "end");
	test_int_eq(-1, b.len, 304);
	test_str_eq(-1, b.data + 300, "|end");
	/* Reserve, fill part of it, advance: stays terminated. */
	buf_reset(&b);
	buf_puts(&b, "ab");
	char *p = buf_reserve(&b, 100000);
	memset(p, 'z', 3);
	buf_advance(&b, 3);
	test_str_eq(-1, b.data, "abzzz");
	test_assert(-1, b.cap >= 100000);
	buf_deinit(&b);
}

static void
test_log_str_escapes_client_input(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	        {"alice", "alice"},      {"", "\"\""},
	        {"a b", "\"a b\""},      {"evil\r\nuser=root", "\"evil\\x0d\\x0auser=root\""},
	        {"x\"y", "\"x\\x22y\""},
	};
	struct arena *a = arena_new(1024);

	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		test_str_eq(i, log_str(a, cases[i].in, strlen(cases[i].in)), cases[i].want);
	arena_free(&a);
}

static void
count_cleanup(void *p)
{
	(*(int *)p)++;
}

static void
test_cleanups_run_at_reset_and_free(void)
{
	struct arena *a = arena_new(256);
	int n = 0;

	arena_on_free(a, count_cleanup, &n);
	arena_on_free(a, count_cleanup, &n);
	test_int_eq(-1, n, 0);
	arena_reset(a);
	test_int_eq(-1, n, 2);
	arena_reset(a); /* once each */
	test_int_eq(-1, n, 2);
	arena_on_free(a, count_cleanup, &n);
	arena_on_free(a, free, arena_strdup(a, "x") ? malloc(10) : NULL);
	arena_free(&a);
	test_int_eq(-1, n, 3);
}

int
main(void)
{
	TEST_RUN(test_cleanups_run_at_reset_and_free);
	TEST_RUN(test_allocations_are_aligned_and_distinct);
	TEST_RUN(test_buf_grows_and_stays_terminated);
	TEST_RUN(test_buf_numbers_and_reserved_room);
	TEST_RUN(test_log_str_escapes_client_input);
	return TEST_DONE("test_arena");
}
