/* SPDX-License-Identifier: MIT */
/*
 * sorted.c: binary search over ascending uint32_t arrays (sorted.h).
 */
#include "lib/sorted.h"

size_t
sorted_u32_lower_bound(const uint32_t *a, size_t n, uint32_t v)
{
	size_t lo = 0, hi = n;

	/* Invariant: a[i] < v for i < lo, a[i] >= v for i >= hi. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (a[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

size_t
sorted_u32_upper_bound(const uint32_t *a, size_t n, uint32_t v)
{
	/* v + 1 would wrap: nothing is above UINT32_MAX. */
	return v == UINT32_MAX ? n : sorted_u32_lower_bound(a, n, v + 1);
}

bool
sorted_u32_contains(const uint32_t *a, size_t n, uint32_t v)
{
	size_t i = sorted_u32_lower_bound(a, n, v);

	return i < n && a[i] == v;
}
