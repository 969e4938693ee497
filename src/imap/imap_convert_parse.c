/* SPDX-License-Identifier: MIT */
/*
 * imap_convert_parse.c: the arguments of CONVERT (RFC 5259 sections 6, 8,
 * 10): see imap_convert_parse.h.
 *
 * The sections are FETCH's (imap_fetch_item_parse): BINARY[], BINARY.SIZE[]
 * and, spelled so for the fetch parser, BODYPARTSTRUCTURE[] and
 * AVAILABLECONVERSIONS[] take part numbers only; BODY[] takes HEADER (of
 * the message or a message/rfc822 part) or n.MIME, without <partial>.
 *
 * The target media type is a quoted string (quoted-to-mime-type) or NIL;
 * parameter names and values are strings (quoted, literal or atom), names
 * case-insensitive (RFC 5259 section 7). A parameter this server does not
 * know is not a syntax error: each item is answered with a BADPARAMETERS
 * error (imap_convert.c), so the client can ask again without it. Input is
 * hostile: tokens are bounded by IMAP_CONVERT_MAX_TOKEN, parameters by
 * IMAP_CONVERT_MAX_PARAMS, items by IMAP_CONVERT_MAX_ITEMS, part numbers
 * as FETCH bounds them; strings must be printable US-ASCII.
 */
#include "imap/imap_convert_parse.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "imap/imap_fetch_parse.h"
#include "lib/arena.h"
#include "lib/util.h"

/* RFC 2045 section 5.1 token characters. */
static bool
is_token(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f ||
		    strchr("()<>@,;:\\\"/[]?=", s[i]) != NULL)
			return false;
	return true;
}

static char *
lower_dup(struct arena *a, const char *s, size_t n)
{
	char *d = arena_strndup(a, s, n);
	for (char *c = d; *c != '\0'; c++)
		*c = (char)tolower((unsigned char)*c);
	return d;
}

bool
imap_convert_media_type_parse(struct arena *a, const char *s, bool wildcard, const char **type_out,
                              const char **subtype_out)
{
	const char *slash = strchr(s, '/');

	if (slash == NULL)
		return false;
	size_t tn = (size_t)(slash - s), sn = strlen(slash + 1);
	/* "*" is a token character, but as a half it means "any". */
	bool t_any = tn == 1 && s[0] == '*';
	bool s_any = sn == 1 && slash[1] == '*';
	if (((t_any || s_any) && !wildcard) || (!t_any && !is_token(s, tn)) ||
	    (!s_any && !is_token(slash + 1, sn)))
		return false;
	*type_out = lower_dup(a, s, tn);
	*subtype_out = lower_dup(a, slash + 1, sn);
	return true;
}

/* A string argument (quoted, literal or atom but NIL) of printable
   US-ASCII, at most IMAP_CONVERT_MAX_TOKEN long. */
static bool
arg_string(const struct imap_arg *arg, bool atom_ok, const char **out)
{
	if (arg->type == IMAP_ARG_LIST || (arg->type == IMAP_ARG_ATOM && !atom_ok))
		return false;
	if (arg->type == IMAP_ARG_ATOM && strcasecmp(arg->str, "NIL") == 0)
		return false;
	if (arg->len > IMAP_CONVERT_MAX_TOKEN)
		return false;
	for (size_t i = 0; i < arg->len; i++)
		if ((unsigned char)arg->str[i] < 0x20 || (unsigned char)arg->str[i] > 0x7e)
			return false;
	*out = arg->str;
	return true;
}

static bool
is_nil(const struct imap_arg *arg)
{
	return arg->type == IMAP_ARG_ATOM && strcasecmp(arg->str, "NIL") == 0;
}

/* Takes a parameter the server knows into the target, or notes the first
   it cannot honour. */
static void
apply_param(struct imap_convert_params *out, const char *name, const char *value)
{
	const char **slot = NULL;

	/* RFC 5259 section 7.1: the target charset of a text conversion;
	   ours: the transfer encoding to deliver the result in. */
	if (strcmp(name, "charset") == 0)
		slot = &out->target.charset;
	else if (strcmp(name, "content-transfer-encoding") == 0)
		slot = &out->target.encoding;
	if (slot == NULL || *slot != NULL) {
		if (out->bad_param == NULL)
			out->bad_param = name;
		return;
	}
	*slot = value;
}

bool
imap_convert_params_parse(struct arena *a, const struct imap_arg *arg,
                          struct imap_convert_params *out, const char **error_out)
{
	const char *type;

	memset(out, 0, sizeof(*out));
	*error_out = "Expected: (\"type/subtype\" [(<name> <value> ...)]) or (NIL ...)";
	if (arg->type != IMAP_ARG_LIST || arg->count < 1 || arg->count > 2)
		return false;
	if (is_nil(&arg->list[0])) {
		out->is_default = true;
	} else if (!arg_string(&arg->list[0], false, &type) ||
	           !imap_convert_media_type_parse(a, type, false, &out->target.type,
	                                          &out->target.subtype)) {
		*error_out = "Invalid target media type";
		return false;
	}
	if (arg->count == 1)
		return true;
	const struct imap_arg *pl = &arg->list[1];
	if (pl->type != IMAP_ARG_LIST || pl->count % 2 != 0) {
		*error_out = "Expected: (<name> <value> ...)";
		return false;
	}
	if (pl->count / 2 > IMAP_CONVERT_MAX_PARAMS) {
		*error_out = "Too many conversion parameters";
		return false;
	}
	out->n_params = pl->count / 2;
	out->params = arena_alloc(a, (out->n_params + 1) * sizeof(*out->params));
	for (size_t i = 0; i < out->n_params; i++) {
		const char *name, *value;
		if (!arg_string(&pl->list[2 * i], true, &name) ||
		    !arg_string(&pl->list[2 * i + 1], true, &value)) {
			*error_out = "Expected: (<name> <value> ...)";
			return false;
		}
		out->params[i].name = lower_dup(a, name, strlen(name));
		out->params[i].value = arena_strdup(a, value);
		apply_param(out, out->params[i].name, out->params[i].value);
	}
	return true;
}

/* The section after "[", as the fetch parser reads it under prefix;
   false when it is not one or not of the kind wanted. */
static bool
parse_section(struct arena *a, const char *prefix, const char *rest, enum imap_fetch_kind want,
              struct imap_fetch_item *fi, const char **error_out)
{
	size_t pn = strlen(prefix), rn = strlen(rest);
	char *atom = arena_alloc(a, pn + rn + 1);

	memcpy(atom, prefix, pn);
	memcpy(atom + pn, rest, rn + 1);
	if (!imap_fetch_item_parse(a, atom, fi, error_out))
		return false;
	if (fi->kind != want) {
		*error_out = "Unknown CONVERT data item";
		return false;
	}
	return true;
}

bool
imap_convert_item_parse(struct arena *a, const char *atom, struct imap_convert_item *out,
                        const char **error_out)
{
	static const struct {
		const char *prefix; /* as sent, "[" included */
		const char *as;     /* the fetch item that reads the same section */
		enum imap_fetch_kind fetch;
		enum imap_convert_kind kind;
	} items[] = {
	        {"BINARY[", "BINARY[", IMAP_FETCH_BINARY, IMAP_CONVERT_BINARY},
	        {"BINARY.SIZE[", "BINARY.SIZE[", IMAP_FETCH_BINARY_SIZE, IMAP_CONVERT_BINARY_SIZE},
	        {"BODYPARTSTRUCTURE[", "BINARY.SIZE[", IMAP_FETCH_BINARY_SIZE,
	         IMAP_CONVERT_BODYPARTSTRUCTURE},
	        {"AVAILABLECONVERSIONS[", "BINARY.SIZE[", IMAP_FETCH_BINARY_SIZE,
	         IMAP_CONVERT_AVAILABLECONVERSIONS},
	        {"BODY[", "BODY[", IMAP_FETCH_SECTION, IMAP_CONVERT_HEADER},
	};
	struct imap_fetch_item fi;

	memset(out, 0, sizeof(*out));
	*error_out = "Unknown CONVERT data item";
	if (strcasecmp(atom, "UID") == 0) {
		out->kind = IMAP_CONVERT_UID;
		out->name = "UID";
		return true;
	}
	for (size_t i = 0; i < ARRAY_LEN(items); i++) {
		size_t pn = strlen(items[i].prefix);
		if (strncasecmp(atom, items[i].prefix, pn) != 0)
			continue;
		if (!parse_section(a, items[i].as, atom + pn, items[i].fetch, &fi, error_out))
			return false;
		out->kind = items[i].kind;
		if (out->kind == IMAP_CONVERT_HEADER) {
			/* RFC 5259 section 6: HEADER of the message or a part,
			   a part's MIME header; nothing else of BODY[]. */
			if (fi.text == IMAP_SECTION_MIME)
				out->kind = IMAP_CONVERT_MIME;
			else if (fi.text != IMAP_SECTION_HEADER)
				return false;
			if (fi.has_partial) {
				*error_out = "No <partial> with a header conversion";
				return false;
			}
			out->name = fi.name;
		} else {
			/* fi.name is "BINARY.SIZE[..]" for the last two. */
			const char *section = strchr(fi.name, '[');
			size_t bn = strlen(items[i].prefix) - 1;
			char *name = arena_alloc(a, bn + strlen(section) + 1);
			memcpy(name, items[i].prefix, bn);
			strcpy(name + bn, section);
			out->name = name;
		}
		out->path = fi.path;
		out->path_len = fi.path_len;
		out->has_partial = fi.has_partial;
		out->partial_offset = fi.partial_offset;
		out->partial_length = fi.partial_length;
		return true;
	}
	return false;
}

static bool
same_path(const struct imap_convert_item *x, const struct imap_convert_item *y)
{
	return x->path_len == y->path_len &&
	       (x->path_len == 0 || memcmp(x->path, y->path, x->path_len * sizeof(*x->path)) == 0);
}

bool
imap_convert_same_section(const struct imap_convert_item *x, const struct imap_convert_item *y)
{
	bool xh = x->kind == IMAP_CONVERT_HEADER || x->kind == IMAP_CONVERT_MIME;
	bool yh = y->kind == IMAP_CONVERT_HEADER || y->kind == IMAP_CONVERT_MIME;
	if (xh || yh)
		return x->kind == y->kind && same_path(x, y);
	return same_path(x, y);
}

/* Whether arg is convert-params rather than data items: a list that opens
   with a string or NIL (no data item is either). */
static bool
looks_like_params(const struct imap_arg *arg)
{
	return arg->type == IMAP_ARG_LIST && arg->count > 0 &&
	       (is_nil(&arg->list[0]) || arg->list[0].type == IMAP_ARG_QUOTED ||
	        arg->list[0].type == IMAP_ARG_LITERAL);
}

bool
imap_convert_request_parse(struct arena *a, const struct imap_arg *args, size_t nargs,
                           struct imap_convert_request *out, const char **error_out)
{
	memset(out, 0, sizeof(*out));
	*error_out = "Expected: (<target media type or NIL> [(<parameters>)]) <data items>";
	if (nargs != 2)
		return false;
	/* RFC 5259 section 10 puts convert-params first; clients written
	   from its examples send the items first (docs/IMAP.md). */
	const struct imap_arg *params = &args[0], *items = &args[1];
	if (!looks_like_params(params) && looks_like_params(items)) {
		params = &args[1];
		items = &args[0];
	}
	if (!imap_convert_params_parse(a, params, &out->params, error_out))
		return false;

	const struct imap_arg *list = items;
	size_t n = 1;
	if (items->type == IMAP_ARG_LIST) {
		list = items->list;
		n = items->count;
	}
	if (n == 0 || n > IMAP_CONVERT_MAX_ITEMS) {
		*error_out = n == 0 ? "Expected: (<data item> ...)" : "Too many CONVERT data items";
		return false;
	}
	out->items = arena_alloc(a, n * sizeof(*out->items));
	bool converts = false;
	for (size_t i = 0; i < n; i++) {
		struct imap_convert_item *it = &out->items[i];
		if (list[i].type != IMAP_ARG_ATOM) {
			*error_out = "Expected a CONVERT data item";
			return false;
		}
		if (!imap_convert_item_parse(a, list[i].str, it, error_out))
			return false;
		if (it->kind == IMAP_CONVERT_UID)
			continue;
		converts = true;
		/* RFC 5259 section 6: "BODY[HEADER], BODY[section.HEADER], or
		   BODY[section.MIME] can only be used with the default
		   conversion". */
		if ((it->kind == IMAP_CONVERT_HEADER || it->kind == IMAP_CONVERT_MIME) &&
		    !out->params.is_default) {
			*error_out = "A header conversion takes the default conversion (NIL) only";
			return false;
		}
		if (it->kind == IMAP_CONVERT_AVAILABLECONVERSIONS)
			continue;
		bool seen = false;
		for (size_t k = 0; k < i && !seen; k++)
			seen = out->items[k].kind != IMAP_CONVERT_UID &&
			       out->items[k].kind != IMAP_CONVERT_AVAILABLECONVERSIONS &&
			       imap_convert_same_section(&out->items[k], it);
		if (!seen)
			out->n_parts++;
	}
	out->n = n;
	if (!converts) {
		*error_out = "CONVERT needs a data item besides UID";
		return false;
	}
	return true;
}
