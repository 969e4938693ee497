/* SPDX-License-Identifier: MIT */
/*
 * list_pattern.h: LIST and LSUB mailbox patterns (RFC 9051 section 6.3.9):
 * '*' matches any run of characters, '%' any run without the hierarchy
 * delimiter '/', every other byte itself; INBOX matches case-insensitively.
 * The pattern is the client's, so matching is iterative and bounded:
 * O(length of the pattern) to compile, then O(length of the name squared)
 * per name at worst, whatever the pattern holds.
 */
#ifndef TERN_IMAP_LIST_PATTERN_H
#define TERN_IMAP_LIST_PATTERN_H

#include <stdbool.h>

struct arena;
struct imap_list_pattern;

/* Compiles pat (reference already prepended, UTF-8) in a. Cannot fail. */
struct imap_list_pattern *imap_list_pattern_new(struct arena *a, const char *pat);

/* Whether name matches. Uses scratch space inside p: one caller at a time. */
bool imap_list_pattern_matches(struct imap_list_pattern *p, const char *name);

#endif
