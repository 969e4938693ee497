/* SPDX-License-Identifier: MIT */
/*
 * imap_annotate_parse.c: RFC 5257's argument grammar (section 7) over the
 * IMAP parser's argument tree, and the FETCH ANNOTATION response writer.
 * Input is hostile: names are checked byte by byte and copied lowercased
 * into the command arena, lists are walked by count, and wildcard entries
 * are matched by the LIST matcher (list_pattern.c), bounded whatever the
 * pattern holds. No session, no store.
 */
#include "imap/imap_annotate.h"

#include <string.h>
#include <strings.h>

#include "imap/list_pattern.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/util.h"
#include "mail/imap_string.h"
#include "store/store.h"

const char *
imap_annotate_entry_check(struct arena *a, const char *name, size_t len, bool is_match)
{
	/* An entry-match is a list-mailbox (section 7): "*" alone is one. */
	bool starts_ok = name[0] == '/' || (is_match && (name[0] == '*' || name[0] == '%'));
	if (len < 1 || len > IMAP_ANNOTATE_ENTRY_MAX || !starts_ok ||
	    (len > 1 && name[len - 1] == '/' && !is_match))
		return NULL;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c < 0x20 || c >= 0x7f || ((c == '*' || c == '%') && !is_match))
			return NULL;
		if (c == '/' && i + 1 < len && name[i + 1] == '/')
			return NULL;
	}
	char *lower = arena_strndup(a, name, len);
	for (char *p = lower; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return lower;
}

/* A section-part (section 7: the part numbers of FETCH BODY[1.2]) at *pp,
   up to the next '/': moves *pp past it. */
static bool
skip_section_part(const char **pp)
{
	const char *p = *pp;

	for (;;) {
		if (*p < '1' || *p > '9')
			return false; /* nz-number */
		while (*p >= '0' && *p <= '9')
			p++;
		if (*p != '.')
			break;
		p++;
	}
	if (*p != '/')
		return false;
	*pp = p;
	return true;
}

bool
imap_annotate_entry_is_settable(const char *entry)
{
	const char *p = entry;
	bool is_part = false;

	if (*p != '/')
		return false;
	if (p[1] >= '1' && p[1] <= '9') {
		p++;
		if (!skip_section_part(&p))
			return false;
		is_part = true;
	}
	/* p is at the '/' before the entry's own name. */
	if (strcmp(p, "/comment") == 0)
		return true;
	if (!is_part && strcmp(p, "/altsubject") == 0)
		return true;
	/* "/vendor/<vendor-token>" and anything below it. */
	return strncmp(p, "/vendor/", 8) == 0 && p[8] != '\0';
}

bool
imap_annotate_attr_parse(const char *name, unsigned *bits_out)
{
	static const struct {
		const char *name;
		unsigned bits;
	} attrs[] = {
	        {"value", IMAP_ANNOTATE_VALUE_PRIV | IMAP_ANNOTATE_VALUE_SHARED},
	        {"value.priv", IMAP_ANNOTATE_VALUE_PRIV},
	        {"value.shared", IMAP_ANNOTATE_VALUE_SHARED},
	        {"size", IMAP_ANNOTATE_SIZE_PRIV | IMAP_ANNOTATE_SIZE_SHARED},
	        {"size.priv", IMAP_ANNOTATE_SIZE_PRIV},
	        {"size.shared", IMAP_ANNOTATE_SIZE_SHARED},
	};

	for (size_t i = 0; i < ARRAY_LEN(attrs); i++) {
		if (strcasecmp(name, attrs[i].name) == 0) {
			*bits_out = attrs[i].bits;
			return true;
		}
	}
	return false;
}

/* A string argument without NULs (atom, quoted, literal), else NULL. */
static const char *
plain_string(const struct imap_arg *arg)
{
	if (arg->type == IMAP_ARG_LIST || arg->stream != NULL || arg->is_literal8 ||
	    strlen(arg->str) != arg->len)
		return NULL;
	return arg->str;
}

/* One or a parenthesised list of strings: the elements and their count. */
static bool
one_or_list(const struct imap_arg *arg, const struct imap_arg **items_out, size_t *n_out)
{
	if (arg->type == IMAP_ARG_LIST) {
		*items_out = arg->list;
		*n_out = arg->count;
		return arg->count > 0;
	}
	*items_out = arg;
	*n_out = 1;
	return true;
}

bool
imap_annotate_fetch_parse(struct arena *a, const struct imap_arg *arg,
                          struct imap_annotate_fetch *out, const char **error_out)
{
	const struct imap_arg *items;
	size_t n;

	memset(out, 0, sizeof(*out));
	*error_out = "Expected: ANNOTATION (<entries> <attributes>)";
	if (arg->type != IMAP_ARG_LIST || arg->count != 2)
		return false;
	if (!one_or_list(&arg->list[0], &items, &n))
		return false;
	out->entries = arena_alloc(a, n * sizeof(*out->entries));
	out->is_pattern = arena_alloc(a, n * sizeof(*out->is_pattern));
	for (size_t i = 0; i < n; i++) {
		const char *s = plain_string(&items[i]);
		const char *e = s ? imap_annotate_entry_check(a, s, items[i].len, true) : NULL;
		if (e == NULL) {
			*error_out = "Invalid annotation entry";
			return false;
		}
		out->entries[i] = e;
		out->is_pattern[i] = strpbrk(e, "*%") != NULL;
	}
	out->n_entries = n;
	if (!one_or_list(&arg->list[1], &items, &n))
		return false;
	for (size_t i = 0; i < n; i++) {
		const char *s = plain_string(&items[i]);
		unsigned bits;
		if (s == NULL || !imap_annotate_attr_parse(s, &bits)) {
			*error_out = "Unknown annotation attribute";
			return false;
		}
		out->attrs |= bits;
	}
	return true;
}

bool
imap_annotate_store_parse(struct arena *a, const struct imap_arg *list,
                          struct store_annotation **out, size_t *n_out, const char **error_out)
{
	size_t total = 0, k = 0;

	*out = NULL;
	*n_out = 0;
	*error_out = "Expected: ANNOTATION (<entry> (<attribute> <value> ...) ...)";
	if (list->type != IMAP_ARG_LIST || list->count == 0 || list->count % 2 != 0)
		return false;
	for (size_t i = 1; i < list->count; i += 2) {
		const struct imap_arg *av = &list->list[i];
		if (av->type != IMAP_ARG_LIST || av->count == 0 || av->count % 2 != 0)
			return false;
		total += av->count / 2;
	}
	struct store_annotation *v = arena_zalloc(a, total * sizeof(*v));
	for (size_t i = 0; i < list->count; i += 2) {
		const char *s = plain_string(&list->list[i]);
		const char *entry =
		        s ? imap_annotate_entry_check(a, s, list->list[i].len, false) : NULL;
		if (entry == NULL) {
			*error_out = "Invalid annotation entry";
			return false;
		}
		const struct imap_arg *av = &list->list[i + 1];
		for (size_t j = 0; j < av->count; j += 2) {
			const char *name = plain_string(&av->list[j]);
			const struct imap_arg *val = &av->list[j + 1];
			unsigned bits;
			if (name == NULL || !imap_annotate_attr_parse(name, &bits)) {
				*error_out = "Unknown annotation attribute";
				return false;
			}
			if (bits != IMAP_ANNOTATE_VALUE_PRIV &&
			    bits != IMAP_ANNOTATE_VALUE_SHARED) {
				/* size.* are computed; "value" names two (section 4.4). */
				*error_out = "Only value.priv and value.shared can be stored";
				return false;
			}
			if (val->type == IMAP_ARG_LIST || val->stream != NULL) {
				*error_out = "Expected a string, a literal or NIL";
				return false;
			}
			bool is_shared = bits == IMAP_ANNOTATE_VALUE_SHARED;
			for (size_t m = 0; m < k; m++) {
				if (v[m].is_shared == is_shared && strcmp(v[m].entry, entry) == 0) {
					*error_out = "Annotation attribute given twice";
					return false;
				}
			}
			v[k].entry = entry;
			v[k].is_shared = is_shared;
			if (!(val->type == IMAP_ARG_ATOM && strcasecmp(val->str, "NIL") == 0)) {
				v[k].value = (const unsigned char *)val->str;
				v[k].len = val->len;
			}
			k++;
		}
	}
	*out = v;
	*n_out = k;
	return true;
}

static void
append_value(struct buf *out, const struct store_annotation *x)
{
	if (x == NULL)
		buf_puts(out, "NIL");
	else
		mail_imap_string_append(out, (const char *)x->value, x->len,
		                        MAIL_IMAP_STRING_LITERAL8);
}

static void
append_size(struct buf *out, const struct store_annotation *x)
{
	buf_putc(out, '"');
	buf_put_u64(out, x != NULL ? x->len : 0);
	buf_putc(out, '"');
}

/* An entry as the RFC's examples write it, an atom, when it can be one
   (no '*' or '%' here: those never name a stored entry); else quoted. */
static void
append_entry_name(struct buf *out, const char *entry)
{
	for (const char *p = entry; *p != '\0'; p++) {
		if (strchr(" (){\"\\]%*", *p) != NULL) {
			mail_imap_string_append(out, entry, strlen(entry), 0);
			return;
		}
	}
	buf_puts(out, entry);
}

/* The entry's attributes as asked: "(value.priv ... size.shared ...)". */
static void
append_entry(struct buf *out, const char *entry, unsigned attrs,
             const struct store_annotation *priv, const struct store_annotation *shared)
{
	bool first = true;

	append_entry_name(out, entry);
	buf_puts(out, " (");
	if (attrs & IMAP_ANNOTATE_VALUE_PRIV) {
		buf_puts(out, "value.priv ");
		append_value(out, priv);
		first = false;
	}
	if (attrs & IMAP_ANNOTATE_VALUE_SHARED) {
		buf_puts(out, first ? "value.shared " : " value.shared ");
		append_value(out, shared);
		first = false;
	}
	if (attrs & IMAP_ANNOTATE_SIZE_PRIV) {
		buf_puts(out, first ? "size.priv " : " size.priv ");
		append_size(out, priv);
		first = false;
	}
	if (attrs & IMAP_ANNOTATE_SIZE_SHARED) {
		buf_puts(out, first ? "size.shared " : " size.shared ");
		append_size(out, shared);
	}
	buf_putc(out, ')');
}

void
imap_annotate_fetch_append(struct arena *a, struct buf *out, const struct imap_annotate_fetch *req,
                           const struct store_annotation *v, size_t n)
{
	struct imap_list_pattern **pats = arena_alloc(a, (req->n_entries + 1) * sizeof(*pats));
	bool *listed = arena_zalloc(a, req->n_entries + 1);
	bool first = true;

	for (size_t i = 0; i < req->n_entries; i++)
		pats[i] = req->is_pattern[i] ? imap_list_pattern_new(a, req->entries[i]) : NULL;
	buf_puts(out, "ANNOTATION (");
	/* Stored entries in order (priv and shared of one entry are
	   neighbours); each is listed once, whichever specifiers name it. */
	for (size_t i = 0; i < n;) {
		const struct store_annotation *priv = NULL, *shared = NULL;
		const char *entry = v[i].entry;
		bool wanted = false;

		for (; i < n && strcmp(v[i].entry, entry) == 0; i++) {
			if (v[i].is_shared)
				shared = &v[i];
			else
				priv = &v[i];
		}
		for (size_t j = 0; j < req->n_entries; j++) {
			bool hit = pats[j] ? imap_list_pattern_matches(pats[j], entry)
			                   : strcmp(req->entries[j], entry) == 0;
			if (hit && pats[j] == NULL)
				listed[j] = true;
			wanted |= hit;
		}
		/* Only a value the attributes ask for makes a wildcard match. */
		unsigned has =
		        (priv ? IMAP_ANNOTATE_VALUE_PRIV | IMAP_ANNOTATE_SIZE_PRIV : 0) |
		        (shared ? IMAP_ANNOTATE_VALUE_SHARED | IMAP_ANNOTATE_SIZE_SHARED : 0);
		if (!wanted || (has & req->attrs) == 0) {
			/* An entry named exactly is still listed below, with NIL. */
			for (size_t j = 0; j < req->n_entries; j++)
				if (pats[j] == NULL && strcmp(req->entries[j], entry) == 0)
					listed[j] = false;
			continue;
		}
		if (!first)
			buf_putc(out, ' ');
		first = false;
		append_entry(out, entry, req->attrs, priv, shared);
	}
	/* Entries named exactly that hold nothing: NIL values (section 4.2). */
	for (size_t j = 0; j < req->n_entries; j++) {
		if (pats[j] != NULL || listed[j])
			continue;
		bool twice = false;
		for (size_t m = 0; m < j && !twice; m++)
			twice = pats[m] == NULL && strcmp(req->entries[m], req->entries[j]) == 0;
		if (twice)
			continue;
		if (!first)
			buf_putc(out, ' ');
		first = false;
		append_entry(out, req->entries[j], req->attrs, NULL, NULL);
	}
	buf_putc(out, ')');
}
