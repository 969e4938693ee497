/* SPDX-License-Identifier: MIT */
/*
 * imap_esearch_source.c: ESEARCH's "IN (...)" source options (RFC 7377
 * section 2.2, grammar in the header). Input is the client's: every
 * argument's type is checked, names are decoded and validated, and
 * the two forms section 2.2 rules out ("selected-delayed", scope options,
 * none being defined) are BAD. What the names mean is the session's
 * business (imap_multisearch.c); this file only reads them.
 */
#include "imap/imap_esearch_source.h"

#include <string.h>
#include <strings.h>

#include "imap/mutf7.h"
#include "lib/arena.h"
#include "lib/util.h"

/* A mailbox name argument as UTF-8, "INBOX" (and "INBOX/...") for any
   case of it (RFC 9051 5.1); NULL when it is no valid name. */
static const char *
mailbox_name(struct arena *a, const struct imap_arg *arg, bool utf8_names)
{
	if (arg->type == IMAP_ARG_LIST || arg->str == NULL || strlen(arg->str) != arg->len ||
	    arg->len == 0)
		return NULL;
	const char *name = utf8_names ? arg->str : imap_mutf7_decode(a, arg->str);
	if (name == NULL || !imap_utf8_is_valid(name))
		return NULL;
	if (strcasecmp(name, "INBOX") == 0)
		return "INBOX";
	if (strncasecmp(name, "INBOX/", 6) == 0)
		return arena_printf(a, "INBOX/%s", name + 6);
	return name;
}

/* one-or-more-mailbox at arg into f. */
static bool
parse_names(struct arena *a, const struct imap_arg *arg, bool utf8_names,
            struct imap_esearch_filter *f, const char **error_out)
{
	size_t n = arg->type == IMAP_ARG_LIST ? arg->count : 1;

	if (n == 0) {
		*error_out = "Expected one or more mailbox names";
		return false;
	}
	f->names = arena_alloc(a, n * sizeof(*f->names));
	for (size_t i = 0; i < n; i++) {
		const struct imap_arg *m = arg->type == IMAP_ARG_LIST ? &arg->list[i] : arg;
		f->names[i] = mailbox_name(a, m, utf8_names);
		if (f->names[i] == NULL) {
			*error_out = "Invalid mailbox name";
			return false;
		}
	}
	f->n_names = n;
	return true;
}

bool
imap_esearch_source_parse(struct arena *a, const struct imap_arg *list, bool utf8_names,
                          struct imap_esearch_source *out, const char **error_out)
{
	static const struct {
		const char *word;
		enum imap_esearch_filter_kind kind;
		bool takes_names;
	} words[] = {
	        {"selected", IMAP_ESEARCH_SELECTED, false},
	        {"inboxes", IMAP_ESEARCH_INBOXES, false},
	        {"personal", IMAP_ESEARCH_PERSONAL, false},
	        {"subscribed", IMAP_ESEARCH_SUBSCRIBED, false},
	        {"subtree", IMAP_ESEARCH_SUBTREE, true},
	        {"subtree-one", IMAP_ESEARCH_SUBTREE_ONE, true},
	        {"mailboxes", IMAP_ESEARCH_MAILBOXES, true},
	};

	memset(out, 0, sizeof(*out));
	if (list->type != IMAP_ARG_LIST || list->count == 0) {
		*error_out = "Expected IN (<source mailboxes>)";
		return false;
	}
	/* At most one filter per argument. */
	out->filters = arena_alloc(a, list->count * sizeof(*out->filters));
	for (size_t i = 0; i < list->count; i++) {
		const struct imap_arg *w = &list->list[i];
		if (w->type == IMAP_ARG_LIST) {
			/* "(" scope-options ")" may only end the list, and section 4
			   defines none: whatever it holds is unknown. */
			*error_out = i + 1 == list->count && out->n_filters > 0
			                     ? "Unknown scope option"
			                     : "Expected a source mailbox specifier";
			return false;
		}
		if (w->type != IMAP_ARG_ATOM) {
			*error_out = "Expected a source mailbox specifier";
			return false;
		}
		if (strcasecmp(w->str, "selected-delayed") == 0) {
			*error_out = "selected-delayed is not valid in ESEARCH (RFC 7377 2.2)";
			return false;
		}
		size_t k = 0;
		while (k < ARRAY_LEN(words) && strcasecmp(w->str, words[k].word) != 0)
			k++;
		if (k == ARRAY_LEN(words)) {
			*error_out = "Unknown source mailbox specifier";
			return false;
		}
		struct imap_esearch_filter *f = &out->filters[out->n_filters++];
		*f = (struct imap_esearch_filter){.kind = words[k].kind};
		if (f->kind == IMAP_ESEARCH_SELECTED)
			out->has_selected = true;
		if (!words[k].takes_names)
			continue;
		if (i + 1 == list->count) {
			*error_out = "Expected one or more mailbox names";
			return false;
		}
		if (!parse_names(a, &list->list[++i], utf8_names, f, error_out))
			return false;
	}
	return true;
}

bool
imap_esearch_in_subtree(const char *name, const char *top, bool only_children)
{
	size_t n = strlen(top);

	if (strncmp(name, top, n) != 0)
		return false;
	if (name[n] == '\0')
		return true;
	if (name[n] != '/' || name[n + 1] == '\0')
		return false;
	return !only_children || strchr(name + n + 1, '/') == NULL;
}
