/* SPDX-License-Identifier: MIT */
/*
 * imap_convert_parse.c: CONVERT data items (RFC 5259 sections 6, 8 and the
 * formal syntax): see imap_convert_parse.h.
 *
 *   convert-att     = "UID" / "BINARY" section-convert [partial] /
 *                     "BINARY.SIZE" section-convert
 *   section-convert = "[" [section-part SP] convert-params "]"
 *   convert-params  = "(" media-type [SP "(" param *(SP param) ")"] ")"
 *   param           = astring SP astring       ; name, value
 *   partial         = "<" number64 "." nz-number64 ">"
 *
 * The media type and the parameters are strings (quoted or atoms); names
 * are case-insensitive. A parameter this server does not know is not a
 * syntax error: the item is answered NIL and the tagged NO says
 * [BADPARAMS] (imap_convert.c), so the client can retry without it. Input
 * is hostile: each token is bounded by IMAP_CONVERT_MAX_TOKEN, the
 * parameter count by IMAP_CONVERT_MAX_PARAMS, part numbers like FETCH's;
 * only printable US-ASCII is accepted inside the brackets.
 */
#include "imap/imap_convert_parse.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/util.h"

#define MAX_PATH 100 /* part nesting: as MAIL_MIME_MAX_DEPTH */

static bool
parse_number(const char **p, uint64_t max, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;

	if (!isdigit((unsigned char)*s) || (s[0] == '0' && isdigit((unsigned char)s[1])))
		return false;
	for (; isdigit((unsigned char)*s); s++) {
		uint64_t d = (uint64_t)(*s - '0');
		if (v > (max - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*p = s;
	*out = v;
	return true;
}

static void
skip_spaces(const char **p)
{
	while (**p == ' ')
		(*p)++;
}

/* A string at *p: "quoted" (with \" and \\) or an atom up to a space,
   parenthesis, quote or "]". Lower-cased into a when lower. */
static bool
parse_string(struct arena *a, const char **pp, bool lower, const char **out)
{
	const char *p = *pp;
	char tok[IMAP_CONVERT_MAX_TOKEN + 1];
	size_t n = 0;

	if (*p == '"') {
		for (p++; *p != '"'; p++) {
			if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
				p++;
			if (*p == '\0' || n == IMAP_CONVERT_MAX_TOKEN)
				return false;
			tok[n++] = *p;
		}
		p++;
	} else {
		while (*p != '\0' && strchr(" ()\"]\\{", *p) == NULL) {
			if (n == IMAP_CONVERT_MAX_TOKEN)
				return false;
			tok[n++] = *p++;
		}
		if (n == 0 || (n == 3 && strncasecmp(tok, "NIL", 3) == 0))
			return false;
	}
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)tok[i] < 0x20 || (unsigned char)tok[i] > 0x7e)
			return false;
		if (lower)
			tok[i] = (char)tolower((unsigned char)tok[i]);
	}
	*out = arena_strndup(a, tok, n);
	*pp = p;
	return true;
}

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
	char *t = arena_strndup(a, s, tn), *st = arena_strdup(a, slash + 1);
	for (char *c = t; *c != '\0'; c++)
		*c = (char)tolower((unsigned char)*c);
	for (char *c = st; *c != '\0'; c++)
		*c = (char)tolower((unsigned char)*c);
	*type_out = t;
	*subtype_out = st;
	return true;
}

/* Appends s as a quoted string. */
static void
put_quoted(struct buf *b, const char *s)
{
	buf_putc(b, '"');
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			buf_putc(b, '\\');
		buf_putc(b, *s);
	}
	buf_putc(b, '"');
}

/* Takes a parameter the server knows into the target, or notes the first
   it cannot honour. */
static void
apply_param(struct imap_convert_item *it, const char *name, const char *value)
{
	const char **slot = NULL;

	/* RFC 5259 section 7.1: the target charset of a text conversion;
	   the transfer encoding to deliver the result in. */
	if (strcmp(name, "charset") == 0)
		slot = &it->target.charset;
	else if (strcmp(name, "content-transfer-encoding") == 0)
		slot = &it->target.encoding;
	if (slot == NULL || *slot != NULL) {
		if (it->bad_param == NULL)
			it->bad_param = name;
		return;
	}
	*slot = value;
}

/* convert-params after "[" and the part: *pp at "(". */
static bool
parse_params(struct arena *a, const char **pp, struct imap_convert_item *it, struct buf *name,
             const char **error_out)
{
	const char *p = *pp, *type;

	*error_out = "Expected: (\"type/subtype\" [(<name> <value> ...)])";
	if (*p++ != '(')
		return false;
	skip_spaces(&p);
	if (!parse_string(a, &p, true, &type) ||
	    !imap_convert_media_type_parse(a, type, false, &it->target.type, &it->target.subtype)) {
		*error_out = "Invalid media type";
		return false;
	}
	buf_printf(name, "(\"%s/%s\"", it->target.type, it->target.subtype);
	skip_spaces(&p);
	if (*p == '(') {
		struct imap_convert_param params[IMAP_CONVERT_MAX_PARAMS];
		size_t n = 0;
		p++;
		buf_puts(name, " (");
		for (skip_spaces(&p); *p != ')'; skip_spaces(&p)) {
			if (n == IMAP_CONVERT_MAX_PARAMS) {
				*error_out = "Too many conversion parameters";
				return false;
			}
			const char *pname, *pvalue;
			if (!parse_string(a, &p, true, &pname) || *p++ != ' ' ||
			    (skip_spaces(&p), !parse_string(a, &p, false, &pvalue))) {
				*error_out = "Expected: (<name> <value> ...)";
				return false;
			}
			if (n > 0)
				buf_putc(name, ' ');
			put_quoted(name, pname);
			buf_putc(name, ' ');
			put_quoted(name, pvalue);
			params[n].name = pname;
			params[n].value = pvalue;
			apply_param(it, pname, pvalue);
			n++;
		}
		p++;
		buf_putc(name, ')');
		it->params = arena_memdup(a, params, n * sizeof(params[0]));
		it->n_params = n;
		skip_spaces(&p);
	}
	if (*p++ != ')')
		return false;
	buf_putc(name, ')');
	*pp = p;
	return true;
}

bool
imap_convert_item_parse(struct arena *a, const char *atom, struct imap_convert_item *out,
                        const char **error_out)
{
	const char *p = atom;
	struct buf name;
	bool ok = false;

	memset(out, 0, sizeof(*out));
	*error_out = "Unknown CONVERT data item";
	if (strcasecmp(atom, "UID") == 0) {
		out->kind = IMAP_CONVERT_UID;
		out->name = "UID";
		return true;
	}
	if (strncasecmp(p, "BINARY.SIZE[", 12) == 0) {
		out->kind = IMAP_CONVERT_BINARY_SIZE;
		p += 12;
	} else if (strncasecmp(p, "BINARY[", 7) == 0) {
		out->kind = IMAP_CONVERT_BINARY;
		p += 7;
	} else {
		return false;
	}
	buf_init(&name);
	buf_puts(&name, out->kind == IMAP_CONVERT_BINARY ? "BINARY[" : "BINARY.SIZE[");

	/* section-part = nz-number *("." nz-number) */
	uint32_t path[MAX_PATH];
	size_t n = 0;
	while (isdigit((unsigned char)*p)) {
		uint64_t v;
		if (n == MAX_PATH || !parse_number(&p, UINT32_MAX, &v) || v == 0) {
			*error_out = "Invalid part number";
			goto out;
		}
		path[n++] = (uint32_t)v;
		if (*p != '.')
			break;
		p++;
		if (!isdigit((unsigned char)*p)) {
			*error_out = "Invalid part number";
			goto out;
		}
	}
	if (n > 0) {
		if (*p != ' ') {
			*error_out = "Expected: [<part> (<media type> ...)]";
			goto out;
		}
		skip_spaces(&p);
		for (size_t i = 0; i < n; i++)
			buf_printf(&name, "%s%u", i > 0 ? "." : "", path[i]);
		buf_putc(&name, ' ');
	}
	skip_spaces(&p);
	out->path = arena_memdup(a, path, n * sizeof(path[0]));
	out->path_len = n;
	if (!parse_params(a, &p, out, &name, error_out))
		goto out;
	skip_spaces(&p);
	if (*p++ != ']') {
		*error_out = "Expected ']'";
		goto out;
	}
	buf_putc(&name, ']');
	if (*p == '<' && out->kind == IMAP_CONVERT_BINARY) {
		uint64_t off, len;
		/* partial = "<" number64 "." nz-number64 ">" */
		p++;
		if (!parse_number(&p, INT64_MAX, &off) || *p++ != '.' ||
		    !parse_number(&p, INT64_MAX, &len) || len == 0 || *p++ != '>') {
			*error_out = "Invalid partial range";
			goto out;
		}
		out->has_partial = true;
		out->partial_offset = off;
		out->partial_length = len;
	}
	if (*p != '\0') {
		*error_out = "Junk after CONVERT data item";
		goto out;
	}
	out->name = arena_strndup(a, name.data, name.len);
	ok = true;
out:
	buf_deinit(&name);
	return ok;
}

bool
imap_convert_request_parse(struct arena *a, const struct imap_arg *arg,
                           struct imap_convert_request *out, const char **error_out)
{
	const struct imap_arg *list = arg;
	size_t n = 1;

	memset(out, 0, sizeof(*out));
	if (arg->type == IMAP_ARG_LIST) {
		list = arg->list;
		n = arg->count;
	}
	if (n == 0) {
		*error_out = "Expected: (<data item> ...)";
		return false;
	}
	out->items = arena_alloc(a, n * sizeof(*out->items));
	for (size_t i = 0; i < n; i++) {
		if (list[i].type != IMAP_ARG_ATOM) {
			*error_out = "Expected a CONVERT data item";
			return false;
		}
		if (!imap_convert_item_parse(a, list[i].str, &out->items[i], error_out))
			return false;
		if (out->items[i].kind != IMAP_CONVERT_UID)
			out->n_parts++;
	}
	out->n = n;
	if (out->n_parts == 0) {
		*error_out = "CONVERT needs a BINARY or BINARY.SIZE data item";
		return false;
	}
	return true;
}
