/* SPDX-License-Identifier: MIT */
/*
 * imap_filters.c: FILTER's lookup (RFC 5466 section 3.1). The value of a
 * filter entry is search-criteria text a client stored with SETMETADATA;
 * it is hostile like any command, so it goes through the same IMAP parser
 * with the session's line limit, as the arguments of a made-up command
 * line, and the search parser then checks it as it checks SEARCH itself.
 */
#include "imap/imap_filters.h"

#include <string.h>

#include "imap/parser.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "store/store.h"

/* The stored value of name, private first (section 3.2), or NULL. */
static const struct store_metadata_entry *
lookup(struct imap_session *s, struct arena *a, const char *name)
{
	static const char *const scopes[] = {"/private", "/shared"};

	for (size_t i = 0; i < 2; i++) {
		struct store_metadata_entry *e;
		size_t n;
		enum store_error err;
		char *entry = arena_printf(a, "%s/filters/values/%s", scopes[i], name);
		for (char *p = entry; *p != '\0'; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		if (store_metadata_get(s->account, "", entry, false, a, &e, &n, &err) == 0 &&
		    n == 1)
			return e;
	}
	return NULL;
}

static bool
resolve(void *ctx, struct arena *a, const char *name, const struct imap_arg **args_out,
        size_t *nargs_out)
{
	struct imap_session *s = ctx;
	const struct store_metadata_entry *e = lookup(s, a, name);

	if (e == NULL || e->len + 16 > s->settings.max_line ||
	    memchr(e->value, '\0', e->len) != NULL)
		return false;
	struct imap_parser_limits lim = {.max_line = (size_t)s->settings.max_line,
	                                 .max_literal = (size_t)s->settings.max_line,
	                                 .max_depth = IMAP_SEARCH_MAX_DEPTH};
	struct imap_parser *p = imap_parser_new(&lim);
	const char *line = arena_printf(a, "f FILTER %s\r\n", (const char *)e->value);
	struct imap_command cmd;
	const char *error;
	size_t used;
	bool toobig;
	enum imap_parse_status st =
	        imap_parser_feed(p, a, line, strlen(line), &used, &cmd, &error, &toobig);
	imap_parser_free(&p);
	/* One command, all of the value: no CRLF may end it early. */
	if (st != IMAP_PARSE_DONE || used != strlen(line))
		return false;
	*args_out = cmd.args;
	*nargs_out = cmd.nargs;
	return true;
}

struct imap_search_filters
imap_filters_for(struct imap_session *s)
{
	return (struct imap_search_filters){.resolve = resolve, .ctx = s};
}
