/* SPDX-License-Identifier: MIT */
/*
 * imap_metadata_parse.c: RFC 5464's argument grammar (section 5) over the
 * IMAP parser's argument tree. Input is hostile: names are checked byte by
 * byte and copied lowercased into the command arena, numbers are bounded,
 * lists are walked by count; nothing else is allocated.
 */
#include "imap/imap_metadata.h"

#include <string.h>
#include <strings.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/util.h"
#include "mail/imap_string.h"

const char *
imap_metadata_entry_check(struct arena *a, const char *name, size_t len)
{
	size_t components = 0;

	if (len < 2 || len > IMAP_METADATA_NAME_MAX || name[0] != '/' || name[len - 1] == '/')
		return NULL;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c <= 0x19 || c >= 0x7f || c == '*' || c == '%')
			return NULL;
		if (c == '/') {
			if (name[i + 1] == '/')
				return NULL;
			components++;
		}
	}
	char *lower = arena_strndup(a, name, len);
	for (char *p = lower; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	bool is_private = strncmp(lower, "/private/", 9) == 0;
	if (!is_private && strncmp(lower, "/shared/", 8) != 0)
		return NULL;
	const char *rest = lower + (is_private ? 8 : 7);
	/* "/shared/vendor/<token>" is the vendor's top: its entries are below
	   it (section 3.2: at least four components). */
	if ((strcmp(rest, "/vendor") == 0 || strncmp(rest, "/vendor/", 8) == 0) && components < 4)
		return NULL;
	return components >= 2 ? lower : NULL;
}

/* An entry: astring without NULs. */
static const char *
entry_arg(struct arena *a, const struct imap_arg *arg)
{
	if (arg->type == IMAP_ARG_LIST || arg->stream != NULL || strlen(arg->str) != arg->len)
		return NULL;
	return imap_metadata_entry_check(a, arg->str, arg->len);
}

/* A list whose first element is an option name. */
static bool
is_options(const struct imap_arg *arg)
{
	return arg->type == IMAP_ARG_LIST && arg->count > 0 && arg->list[0].type == IMAP_ARG_ATOM &&
	       (strcasecmp(arg->list[0].str, "MAXSIZE") == 0 ||
	        strcasecmp(arg->list[0].str, "DEPTH") == 0);
}

static bool
parse_options(const struct imap_arg *list, struct imap_getmetadata *out, bool *seen_maxsize,
              bool *seen_depth, const char **error_out)
{
	if (list->count % 2 != 0) {
		*error_out = "GETMETADATA options come in pairs: MAXSIZE n, DEPTH d";
		return false;
	}
	for (size_t i = 0; i < list->count; i += 2) {
		const struct imap_arg *k = &list->list[i], *v = &list->list[i + 1];
		if (k->type != IMAP_ARG_ATOM || v->type != IMAP_ARG_ATOM) {
			*error_out = "Unknown GETMETADATA option";
			return false;
		}
		if (strcasecmp(k->str, "MAXSIZE") == 0 && !*seen_maxsize) {
			/* number = 1*DIGIT, a 32-bit value (RFC 9051) */
			if (!str_to_u64(v->str, UINT32_MAX, &out->maxsize)) {
				*error_out = "MAXSIZE takes a number";
				return false;
			}
			out->has_maxsize = *seen_maxsize = true;
		} else if (strcasecmp(k->str, "DEPTH") == 0 && !*seen_depth) {
			if (strcmp(v->str, "0") == 0)
				out->depth = IMAP_METADATA_DEPTH_0;
			else if (strcmp(v->str, "1") == 0)
				out->depth = IMAP_METADATA_DEPTH_1;
			else if (strcasecmp(v->str, "infinity") == 0)
				out->depth = IMAP_METADATA_DEPTH_INFINITY;
			else {
				*error_out = "DEPTH is 0, 1 or infinity";
				return false;
			}
			*seen_depth = true;
		} else {
			*error_out = "Unknown or repeated GETMETADATA option";
			return false;
		}
	}
	return true;
}

bool
imap_getmetadata_parse(struct arena *a, const struct imap_arg *args, size_t nargs,
                       struct imap_getmetadata *out, const char **error_out)
{
	bool seen_maxsize = false, seen_depth = false;
	size_t i = 0;

	memset(out, 0, sizeof(*out));
	*error_out = "Expected: GETMETADATA [(options)] <mailbox> <entries>";
	if (nargs > 0 && is_options(&args[0])) {
		if (!parse_options(&args[0], out, &seen_maxsize, &seen_depth, error_out))
			return false;
		i = 1;
	}
	if (i >= nargs || args[i].type == IMAP_ARG_LIST)
		return false;
	out->mailbox = i++;
	if (i < nargs && i + 1 < nargs && is_options(&args[i])) {
		if (!parse_options(&args[i], out, &seen_maxsize, &seen_depth, error_out))
			return false;
		i++;
	}
	if (i >= nargs)
		return false;
	const struct imap_arg *entries = &args[i];
	size_t n = nargs - i;
	if (args[i].type == IMAP_ARG_LIST) {
		if (n != 1 || args[i].count == 0)
			return false;
		entries = args[i].list;
		n = args[i].count;
	}
	out->entries = arena_alloc(a, n * sizeof(*out->entries));
	for (size_t k = 0; k < n; k++) {
		out->entries[k] = entry_arg(a, &entries[k]);
		if (out->entries[k] == NULL) {
			*error_out = "Invalid entry name (RFC 5464 section 3.2)";
			return false;
		}
	}
	out->n_entries = n;
	return true;
}

bool
imap_setmetadata_parse(struct arena *a, const struct imap_arg *list,
                       struct imap_metadata_value **out, size_t *n_out, const char **error_out)
{
	if (list->type != IMAP_ARG_LIST || list->count == 0 || list->count % 2 != 0) {
		*error_out = "Expected: SETMETADATA <mailbox> (<entry> <value> ...)";
		return false;
	}
	size_t n = list->count / 2;
	struct imap_metadata_value *v = arena_alloc(a, n * sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		const struct imap_arg *e = &list->list[2 * i], *val = &list->list[2 * i + 1];
		v[i].name = entry_arg(a, e);
		if (v[i].name == NULL) {
			*error_out = "Invalid entry name (RFC 5464 section 3.2)";
			return false;
		}
		if (val->type == IMAP_ARG_ATOM && strcasecmp(val->str, "NIL") == 0) {
			v[i].value = NULL;
			v[i].len = 0;
		} else if ((val->type == IMAP_ARG_QUOTED || val->type == IMAP_ARG_LITERAL) &&
		           val->stream == NULL) {
			v[i].value = val->str;
			v[i].len = val->len;
		} else {
			*error_out = "A value is a string, a literal or NIL";
			return false;
		}
	}
	*out = v;
	*n_out = n;
	return true;
}

bool
imap_metadata_in_depth(const char *prefix, const char *name, enum imap_metadata_depth depth)
{
	size_t plen = strlen(prefix);

	if (strncmp(name, prefix, plen) != 0)
		return false;
	if (name[plen] == '\0')
		return true;
	if (name[plen] != '/' || depth == IMAP_METADATA_DEPTH_0)
		return false;
	return depth == IMAP_METADATA_DEPTH_INFINITY || strchr(name + plen + 1, '/') == NULL;
}

void
imap_metadata_entry_append(struct buf *out, const char *name)
{
	/* ATOM-CHAR: no "(", ")", "{", SP, CTL, list-wildcards, quoted-specials
	   or resp-specials (RFC 9051 section 9). */
	if (strpbrk(name, "(){ %*\"\\]") == NULL) {
		buf_puts(out, name);
		return;
	}
	mail_imap_string_append(out, name, strlen(name), 0);
}
