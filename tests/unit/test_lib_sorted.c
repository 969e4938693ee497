/* SPDX-License-Identifier: MIT */
/* test_lib_sorted.c: tests for src/lib/sorted.c, the one binary search over
   ascending uint32_t arrays (UID lists). */
#include "lib/sorted.h"
#include "lib/util.h"
#include "test.h"

static void
test_lower_and_upper_bound_table(void)
{
	static const uint32_t uids[] = {3, 4, 5, 9, 10, 20, UINT32_MAX - 1};
	static const struct {
		uint32_t v;
		size_t lower, upper;
		bool contains;
	} cases[] = {
	        {0, 0, 0, false},          {1, 0, 0, false},
	        {3, 0, 1, true},           {4, 1, 2, true},
	        {6, 3, 3, false},          {9, 3, 4, true},
	        {11, 5, 5, false},         {20, 5, 6, true},
	        {21, 6, 6, false},         {UINT32_MAX - 1, 6, 7, true},
	        {UINT32_MAX, 7, 7, false}, /* upper bound must not wrap v + 1 */
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		test_int_eq(i, sorted_u32_lower_bound(uids, ARRAY_LEN(uids), cases[i].v),
		            cases[i].lower);
		test_int_eq(i, sorted_u32_upper_bound(uids, ARRAY_LEN(uids), cases[i].v),
		            cases[i].upper);
		test_int_eq(i, sorted_u32_contains(uids, ARRAY_LEN(uids), cases[i].v),
		            cases[i].contains);
	}
}

static void
test_empty_and_single(void)
{
	static const uint32_t one[] = {7};

	test_int_eq(-1, sorted_u32_lower_bound(NULL, 0, 5), 0);
	test_int_eq(-1, sorted_u32_upper_bound(NULL, 0, UINT32_MAX), 0);
	test_assert(-1, !sorted_u32_contains(NULL, 0, 0));
	test_int_eq(-1, sorted_u32_lower_bound(one, 1, 7), 0);
	test_int_eq(-1, sorted_u32_lower_bound(one, 1, 8), 1);
	test_int_eq(-1, sorted_u32_upper_bound(one, 1, 7), 1);
	test_assert(-1, sorted_u32_contains(one, 1, 7));
	test_assert(-1, !sorted_u32_contains(one, 1, 6));
}

/* Every prefix length of an array with gaps and duplicates, every value in
   and around it, against a linear scan. */
static void
test_matches_linear_scan(void)
{
	uint32_t a[64];
	size_t n = ARRAY_LEN(a);

	for (size_t i = 0; i < n; i++)
		a[i] = (uint32_t)(i * 3 / 2 + (i % 5 == 0)); /* ascending, some repeats */
	for (size_t len = 0; len <= n; len++) {
		for (uint32_t v = 0; v <= a[n - 1] + 2; v++) {
			size_t lower = 0, upper = 0;
			bool found = false;
			while (lower < len && a[lower] < v)
				lower++;
			while (upper < len && a[upper] <= v)
				upper++;
			for (size_t i = 0; i < len; i++)
				found = found || a[i] == v;
			int row = (int)(len * 1000 + v);
			test_int_eq(row, sorted_u32_lower_bound(a, len, v), lower);
			test_int_eq(row, sorted_u32_upper_bound(a, len, v), upper);
			test_int_eq(row, sorted_u32_contains(a, len, v), found);
		}
	}
}

int
main(void)
{
	TEST_RUN(test_lower_and_upper_bound_table);
	TEST_RUN(test_empty_and_single);
	TEST_RUN(test_matches_linear_scan);
	return TEST_DONE("test_lib_sorted");
}
