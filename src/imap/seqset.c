/* SPDX-License-Identifier: MIT */
/*
 * seqset.c: sequence-set parsing and resolution. Resolution walks each range
 * over the snapshot with binary search for UID ranges, so "1:*" on a million
 * messages is one linear pass, and a small UID set on a huge mailbox is
 * O(ranges log n). Overlapping ranges are merged by a final sort+unique.
 */
#include "imap/seqset.h"

#include <stdlib.h>
#include <string.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/sorted.h"
#include "lib/util.h"

static bool
parse_number(const char **p, uint32_t *out)
{
	uint64_t v = 0;
	const char *s = *p;

	if (*s == '*') {
		*out = IMAP_SEQ_STAR;
		*p = s + 1;
		return true;
	}
	/* nz-number: no leading zero, 1..4294967295 */
	if (*s < '1' || *s > '9')
		return false;
	for (; *s >= '0' && *s <= '9'; s++) {
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > UINT32_MAX)
			return false;
	}
	*out = (uint32_t)v;
	*p = s;
	return true;
}

bool
imap_seqset_parse(struct arena *a, const char *s, struct imap_seqset *out)
{
	size_t cap = 1;

	memset(out, 0, sizeof(*out));
	if (strcmp(s, "$") == 0) {
		out->is_saved = true;
		return true;
	}
	for (const char *p = s; *p != '\0'; p++)
		if (*p == ',')
			cap++;
	out->ranges = arena_alloc(a, cap * sizeof(*out->ranges));
	const char *p = s;
	for (;;) {
		uint32_t lo, hi;
		if (!parse_number(&p, &lo))
			return false;
		hi = lo;
		if (*p == ':') {
			p++;
			if (!parse_number(&p, &hi))
				return false;
		}
		if (lo > hi && hi != IMAP_SEQ_STAR) {
			uint32_t t = lo;
			lo = hi;
			hi = t;
		}
		out->ranges[out->n++] = (struct imap_seq_range){lo, hi};
		if (*p == '\0')
			return true;
		if (*p != ',')
			return false;
		p++;
	}
}

/* The indexes [first, end) of uids that range r covers; false when a
   sequence number is out of range. */
static bool
range_span(struct imap_seq_range r, bool is_uid, const uint32_t *uids, uint32_t count,
           uint32_t *first, uint32_t *end)
{
	uint32_t star = is_uid ? (count ? uids[count - 1] : 0) : count;
	uint32_t lo = r.lo == IMAP_SEQ_STAR ? star : r.lo;
	uint32_t hi = r.hi == IMAP_SEQ_STAR ? star : r.hi;

	if (lo > hi) {
		uint32_t t = lo;
		lo = hi;
		hi = t;
	}
	if (is_uid) {
		*first = (uint32_t)sorted_u32_lower_bound(uids, count, lo);
		*end = (uint32_t)sorted_u32_upper_bound(uids, count, hi);
		return true;
	}
	if (lo == 0 || hi > count)
		return false;
	*first = lo - 1;
	*end = hi;
	return true;
}

bool
imap_seqset_resolve(const struct imap_seqset *set, bool is_uid, const uint32_t *uids,
                    uint32_t count, struct arena *a, uint32_t **out, size_t *n_out)
{
	size_t total = 0;
	uint32_t first, end;

	*out = NULL;
	*n_out = 0;
	/* First pass: validate and count, so one allocation suffices. */
	for (size_t i = 0; i < set->n; i++) {
		if (!range_span(set->ranges[i], is_uid, uids, count, &first, &end))
			return false;
		total += end - first;
	}
	if (total == 0)
		return true;
	uint32_t *res = arena_alloc(a, total * sizeof(*res));
	size_t n = 0;
	for (size_t i = 0; i < set->n; i++) {
		range_span(set->ranges[i], is_uid, uids, count, &first, &end);
		memcpy(res + n, uids + first, (end - first) * sizeof(*res));
		n += end - first;
	}
	if (set->n > 1) {
		qsort(res, n, sizeof(*res), uid_cmp);
		size_t w = 0;
		for (size_t r = 0; r < n; r++)
			if (w == 0 || res[w - 1] != res[r])
				res[w++] = res[r];
		n = w;
	}
	*out = res;
	*n_out = n;
	return true;
}

static int
range_cmp(const void *x, const void *y)
{
	const struct imap_seq_range *a = x, *b = y;

	return a->lo < b->lo ? -1 : a->lo > b->lo;
}

size_t
imap_seqset_filter(const struct imap_seqset *set, uint32_t star, struct arena *a, uint32_t *v,
                   size_t n)
{
	struct imap_seq_range *r = arena_alloc(a, (set->n + 1) * sizeof(*r));
	size_t nr = 0, out = 0, k = 0;

	for (size_t i = 0; i < set->n; i++) {
		uint32_t lo = set->ranges[i].lo == IMAP_SEQ_STAR ? star : set->ranges[i].lo;
		uint32_t hi = set->ranges[i].hi == IMAP_SEQ_STAR ? star : set->ranges[i].hi;
		r[nr++] = (struct imap_seq_range){MIN(lo, hi), MAX(lo, hi)};
	}
	qsort(r, nr, sizeof(*r), range_cmp);
	/* Merged, the ranges are disjoint and ascending: one walk with v. */
	size_t m = 0;
	for (size_t i = 0; i < nr; i++) {
		if (m > 0 && r[i].lo <= r[m - 1].hi + 1ull)
			r[m - 1].hi = MAX(r[m - 1].hi, r[i].hi);
		else
			r[m++] = r[i];
	}
	for (size_t i = 0; i < n; i++) {
		while (k < m && r[k].hi < v[i])
			k++;
		if (k < m && r[k].lo <= v[i])
			v[out++] = v[i];
	}
	return out;
}

bool
imap_seqset_has_star(const struct imap_seqset *set)
{
	for (size_t i = 0; i < set->n; i++)
		if (set->ranges[i].lo == IMAP_SEQ_STAR || set->ranges[i].hi == IMAP_SEQ_STAR)
			return true;
	return false;
}

const char *
imap_seqset_format(struct arena *a, const uint32_t *uids, size_t n)
{
	struct buf b;

	buf_init(&b);
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j + 1 < n && uids[j + 1] == uids[j] + 1)
			j++;
		if (b.len > 0)
			buf_putc(&b, ',');
		if (j == i)
			buf_printf(&b, "%u", uids[i]);
		else
			buf_printf(&b, "%u:%u", uids[i], uids[j]);
		i = j + 1;
	}
	const char *s = arena_strdup(a, b.data != NULL ? b.data : "");
	buf_deinit(&b);
	return s;
}
