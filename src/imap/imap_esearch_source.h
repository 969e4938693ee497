/* SPDX-License-Identifier: MIT */
/*
 * imap_esearch_source.h: the source options of MULTISEARCH's ESEARCH
 * command (RFC 7377 section 2.2): which mailboxes to search, as RFC 5465's
 * filter-mailboxes with "subtree-one" added and "selected-delayed" taken
 * away. Pure: arguments in, a struct out; nothing about sessions or the
 * store (tests/unit/test_imap_esearch_source.c, fuzz/fuzz_imap_esearch_source.c).
 */
#ifndef TERN_IMAP_ESEARCH_SOURCE_H
#define TERN_IMAP_ESEARCH_SOURCE_H

#include <stdbool.h>
#include <stddef.h>

#include "imap/parser.h"

struct arena;

enum imap_esearch_filter_kind {
	IMAP_ESEARCH_SELECTED,    /* the selected mailbox */
	IMAP_ESEARCH_INBOXES,     /* where mail is delivered: INBOX */
	IMAP_ESEARCH_PERSONAL,    /* every mailbox of the personal namespace */
	IMAP_ESEARCH_SUBSCRIBED,  /* every subscribed mailbox */
	IMAP_ESEARCH_SUBTREE,     /* the names and everything below them */
	IMAP_ESEARCH_SUBTREE_ONE, /* the names and their children */
	IMAP_ESEARCH_MAILBOXES,   /* the names exactly (no wildcards) */
};

struct imap_esearch_filter {
	enum imap_esearch_filter_kind kind;
	const char **names; /* SUBTREE, SUBTREE_ONE, MAILBOXES: UTF-8, "INBOX" for any case */
	size_t n_names;
};

struct imap_esearch_source {
	struct imap_esearch_filter *filters;
	size_t n_filters;
	bool has_selected; /* some filter is "selected" */
};

/*
 * Parses the list after "IN":
 *
 *   esearch-source-opts = "IN" SP "(" source-mbox [SP "(" scope-options ")"] ")"
 *   source-mbox         = filter-mailboxes *(SP filter-mailboxes)
 *   filter-mailboxes    = "selected" / "inboxes" / "personal" / "subscribed" /
 *                         ("subtree" / "subtree-one" / "mailboxes") SP
 *                         one-or-more-mailbox
 *   one-or-more-mailbox = mailbox / "(" mailbox *(SP mailbox) ")"
 *
 * Keywords are case-insensitive. Mailbox names are modified UTF-7 unless
 * utf8_names (IMAP4rev2, UTF8=ACCEPT). No scope option is defined (section
 * 4), so any is unknown. Returns true with *out in a, or false with
 * *error_out (static) for BAD.
 */
bool imap_esearch_source_parse(struct arena *a, const struct imap_arg *list, bool utf8_names,
                               struct imap_esearch_source *out, const char **error_out);

/* Whether name is top itself or below it (any depth; one level with
   only_children). Both UTF-8 full names, '/' the separator. */
bool imap_esearch_in_subtree(const char *name, const char *top, bool only_children);

#endif
