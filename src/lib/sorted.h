/* SPDX-License-Identifier: MIT */
/*
 * sorted.h: searches over ascending uint32_t arrays: a mailbox snapshot's
 * UIDs, a SEARCH result, a set of changed UIDs. One binary search for every
 * layer, so the "first index not below v" edge cases (empty array, v past the
 * end, UINT32_MAX) are settled and tested once (tests/unit/test_lib_sorted.c).
 */
#ifndef TERN_LIB_SORTED_H
#define TERN_LIB_SORTED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The first index i with a[i] >= v in ascending a[0..n), or n when every
   element is below v. O(log n); a may be NULL when n is 0. */
size_t sorted_u32_lower_bound(const uint32_t *a, size_t n, uint32_t v);

/* The first index i with a[i] > v, or n. */
size_t sorted_u32_upper_bound(const uint32_t *a, size_t n, uint32_t v);

/* Whether v is in ascending a[0..n). */
bool sorted_u32_contains(const uint32_t *a, size_t n, uint32_t v);

#endif
