/* SPDX-License-Identifier: MIT */
/*
 * collation.h: the comparators of the RFC 4790 registry that SEARCH and
 * SORT use (RFC 5255 section 4): i;unicode-casemap (RFC 5051, the
 * default), i;ascii-casemap and i;octet (RFC 4790 9.2, 9.3). Pure string
 * functions: no protocol, no store.
 */
#ifndef TERN_LIB_COLLATION_H
#define TERN_LIB_COLLATION_H

#include <stdbool.h>
#include <stddef.h>

struct buf;

/* In the order the COMPARATOR response lists them; 0 is the default. */
enum collation {
	COLLATION_UNICODE_CASEMAP,
	COLLATION_ASCII_CASEMAP,
	COLLATION_OCTET,
	COLLATION_COUNT
};

#define COLLATION_DEFAULT COLLATION_UNICODE_CASEMAP

/* The registered name ("i;unicode-casemap"); c must be below COLLATION_COUNT. */
const char *collation_name(enum collation c);

/*
 * Whether order is a collation-order of RFC 4790 section 3.1: "default",
 * or a name of collation-chars (ALPHA DIGIT "-" ";" "=" ".") where "*"
 * stands for any run of them (section 3.2). Matching is ASCII
 * case-insensitive, as the registry's names are.
 */
bool collation_order_is_valid(const char *order);

/*
 * Whether a valid order names c: "default" names COLLATION_DEFAULT, a name
 * without "*" names the collation spelled so, a wildcard each collation it
 * matches. Linear in strlen(order) * strlen(name): no backtracking blow-up.
 */
bool collation_order_matches(const char *order, enum collation c);

/*
 * COMPARATOR's choice among orders[0..n) (RFC 5255 4.7): the first order
 * that names an installed collation wins, and its first match (in enum
 * order) becomes *active_out; *matched_out gets bit (1 << c) for every
 * collation any order names. Returns 1 when one was chosen, 0 when none
 * matched (NO [BADCOMPARATOR], *active_out untouched), -1 when orders[i]
 * is not a collation-order (BAD) with *bad_out = i.
 */
int collation_select(const char *const *orders, size_t n, enum collation *active_out,
                     unsigned *matched_out, size_t *bad_out);

/*
 * Appends to out the key that c compares with i;octet (RFC 4790 4.2):
 * s itself (i;octet), s with a-z mapped to A-Z (i;ascii-casemap), or the
 * "titlecased canonicalized UTF-8" of RFC 5051 section 2: each code point
 * mapped to its simple titlecase, the result in NFKD. Returns false, out
 * unchanged, when s is not valid input for c (invalid UTF-8 for
 * i;unicode-casemap; the other two take any octets).
 */
bool collation_key(enum collation c, const char *s, size_t n, struct buf *out);

/*
 * Appends the sort key of s under c to out: its collation_key(), or for
 * input c rejects, 0xFF and the original octets, so every rejected string
 * sorts after every valid one and they compare as i;octet among
 * themselves (RFC 5255 section 4.6, "ordering operation"). Keys compare
 * with memcmp(), shorter first on a tie.
 */
void collation_sort_key(enum collation c, const char *s, size_t n, struct buf *out);

/*
 * The substring operation (RFC 4790 4.2.2) of c: whether needle occurs in
 * hay. When c rejects either string, the originals are compared with
 * i;octet (RFC 5255 section 4.6 (c)). An empty needle always matches.
 */
bool collation_contains(enum collation c, const char *hay, size_t hn, const char *needle,
                        size_t nn);

#endif
