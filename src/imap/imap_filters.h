/* SPDX-License-Identifier: MIT */
/*
 * imap_filters.h: named searches (IMAP FILTERS, RFC 5466) for SEARCH, SORT
 * and THREAD: "FILTER name" is the account's server METADATA entry
 * /private/filters/values/<name>, else /shared/filters/values/<name>
 * (section 3.2), parsed as search keys. Descriptions live beside them in
 * /private|shared/filters/descriptions/<name>, for clients only.
 */
#ifndef TERN_IMAP_FILTERS_H
#define TERN_IMAP_FILTERS_H

#include "imap/search_parse.h"
#include "imap/session.h"

/* A resolver reading s's account; valid while s is. */
struct imap_search_filters imap_filters_for(struct imap_session *s);

#endif
