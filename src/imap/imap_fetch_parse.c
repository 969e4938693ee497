/* SPDX-License-Identifier: MIT */
/*
 * imap_fetch_parse.c: FETCH attributes from atoms, and HEADER.FIELDS
 * subsetting. The command parser (parser.c) hands a whole attribute such as
 * "BODY.PEEK[HEADER.FIELDS (FROM TO)]<0.100>" over as one atom, so the
 * grammar of RFC 9051 section 9 is applied here:
 *
 *	fetch-att    = "ENVELOPE" / "FLAGS" / "INTERNALDATE" / "RFC822.SIZE" /
 *	               "BODY" ["STRUCTURE"] / "UID" / "BODY" section [partial] /
 *	               "BODY.PEEK" section [partial] /
 *	               "BINARY" [".PEEK"] section-binary [partial] /
 *	               "BINARY.SIZE" section-binary
 *	               (+ RFC822, RFC822.HEADER, RFC822.TEXT of RFC 3501, MODSEQ,
 *	               EMAILID, THREADID, SAVEDATE, and RFC 8970 section 6:
 *	               "PREVIEW" [SP "(" preview-mod *(SP preview-mod) ")"],
 *	               preview-mod = "LAZY")
 *	section      = "[" [section-spec] "]"
 *	section-spec = section-msgtext / (section-part ["." section-text])
 *	section-part = nz-number *("." nz-number)
 *	section-text = section-msgtext / "MIME"
 *	section-msgtext = "HEADER" / "HEADER.FIELDS" [".NOT"] SP header-list / "TEXT"
 *	header-list  = "(" header-fld-name *(SP header-fld-name) ")"
 *	partial      = "<" number64 "." nz-number64 ">"
 *
 * Input is the client's: every number is range-checked, names are checked
 * against the RFC 5322 field-name syntax, nothing is trusted.
 */
#include "imap/imap_fetch_parse.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "imap/imap_annotate.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "mail/imap_string.h"
#include "store/store.h"

#define MAX_PATH   64  /* deeper MIME nesting is refused by the MIME parser anyway */
#define MAX_FIELDS 256 /* names in one HEADER.FIELDS list; real clients send < 30 */

static const struct {
	const char *name;
	enum imap_fetch_kind kind;
} simple_items[] = {
        {"FLAGS", IMAP_FETCH_FLAGS},
        {"INTERNALDATE", IMAP_FETCH_INTERNALDATE},
        {"RFC822.SIZE", IMAP_FETCH_RFC822_SIZE},
        {"ENVELOPE", IMAP_FETCH_ENVELOPE},
        {"BODY", IMAP_FETCH_BODY},
        {"BODYSTRUCTURE", IMAP_FETCH_BODYSTRUCTURE},
        {"UID", IMAP_FETCH_UID},
        {"MODSEQ", IMAP_FETCH_MODSEQ},
        {"EMAILID", IMAP_FETCH_EMAILID},
        {"THREADID", IMAP_FETCH_THREADID},
        {"SAVEDATE", IMAP_FETCH_SAVEDATE},
        {"PREVIEW", IMAP_FETCH_PREVIEW},
};

/* Parses a decimal number at *p (no sign, no leading zeros unless "0"),
   at most max; advances *p. */
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

/* RFC 5322 field-name: printable US-ASCII except ':'. */
static bool
is_ftext(unsigned char c)
{
	return c >= 33 && c <= 126 && c != ':';
}

/* Characters a field name may hold and still go out as an atom. */
static bool
is_atom_safe(unsigned char c)
{
	return strchr("(){%*\"\\]", c) == NULL;
}

/*
 * header-list after "HEADER.FIELDS[.NOT]": SP "(" names ")". Names are
 * atoms or quoted strings; they go out as upper-case atoms where possible.
 */
static bool
parse_header_list(struct arena *a, const char **pp, struct imap_fetch_item *it, struct buf *name,
                  const char **error_out)
{
	const char *p = *pp;
	const char **fields = arena_alloc(a, MAX_FIELDS * sizeof(char *));
	size_t n = 0;

	if (p[0] != ' ' || p[1] != '(') {
		*error_out = "Expected a list of header field names";
		return false;
	}
	p += 2;
	buf_puts(name, " (");
	for (;;) {
		struct buf f;
		buf_init(&f);
		if (*p == '"') {
			for (p++; *p != '"'; p++) {
				if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
					p++;
				if (*p == '\0')
					break;
				buf_putc(&f, (char)toupper((unsigned char)*p));
			}
			if (*p == '"')
				p++;
			else
				f.len = 0; /* unterminated */
		} else {
			while (*p != '\0' && *p != ' ' && *p != ')') {
				buf_putc(&f, (char)toupper((unsigned char)*p));
				p++;
			}
		}
		bool ok = f.len > 0 && n < MAX_FIELDS;
		bool atom_safe = true;
		for (size_t i = 0; ok && i < f.len; i++) {
			ok = is_ftext((unsigned char)f.data[i]);
			atom_safe = atom_safe && is_atom_safe((unsigned char)f.data[i]);
		}
		if (!ok) {
			buf_deinit(&f);
			*error_out = "Invalid header field name";
			return false;
		}
		fields[n] = arena_strdup(a, f.data);
		if (n > 0)
			buf_putc(name, ' ');
		if (atom_safe) {
			buf_puts(name, fields[n]);
		} else {
			/* ftext is printable 7-bit: always quoted, never refused */
			(void)mail_imap_string_append(name, f.data, f.len, 0);
		}
		n++;
		buf_deinit(&f);
		if (*p == ')')
			break;
		if (*p != ' ' || p[1] == ' ' || p[1] == ')') {
			*error_out = "Invalid header field list";
			return false;
		}
		p++;
	}
	buf_putc(name, ')');
	*pp = p + 1;
	it->fields = fields;
	it->n_fields = n;
	return true;
}

/* The inside of "[...]"; *pp points after '[' and is left after ']'. */
static bool
parse_section(struct arena *a, const char **pp, bool binary, struct imap_fetch_item *it,
              struct buf *name, const char **error_out)
{
	static const struct {
		const char *word;
		enum imap_section_text text;
	} texts[] = {
	        /* Longest first: HEADER is a prefix of the others. */
	        {"HEADER.FIELDS.NOT", IMAP_SECTION_HEADER_FIELDS_NOT},
	        {"HEADER.FIELDS", IMAP_SECTION_HEADER_FIELDS},
	        {"HEADER", IMAP_SECTION_HEADER},
	        {"TEXT", IMAP_SECTION_TEXT},
	        {"MIME", IMAP_SECTION_MIME},
	};
	const char *p = *pp;
	uint32_t path[MAX_PATH];
	size_t n = 0;

	*error_out = "Invalid section";
	while (isdigit((unsigned char)*p)) {
		uint64_t v;
		if (!parse_number(&p, UINT32_MAX, &v) || v == 0 || n == MAX_PATH)
			return false;
		path[n++] = (uint32_t)v;
		buf_printf(name, "%s%llu", n > 1 ? "." : "", (unsigned long long)v);
		if (*p != '.')
			break;
		p++;
		if (!isdigit((unsigned char)*p))
			break; /* a section-text follows */
	}
	it->text = IMAP_SECTION_WHOLE;
	if (*p != ']') {
		size_t i;
		if (binary)
			return false; /* section-binary has part numbers only */
		if (n > 0 && p[-1] != '.')
			return false;
		for (i = 0; i < ARRAY_LEN(texts); i++) {
			size_t wl = strlen(texts[i].word);
			if (strncasecmp(p, texts[i].word, wl) == 0 &&
			    (p[wl] == ']' || p[wl] == ' ')) {
				it->text = texts[i].text;
				buf_printf(name, "%s%s", n > 0 ? "." : "", texts[i].word);
				p += wl;
				break;
			}
		}
		if (i == ARRAY_LEN(texts))
			return false;
		/* RFC 9051 6.4.5.1: MIME must follow a part number. */
		if (it->text == IMAP_SECTION_MIME && n == 0)
			return false;
		if (it->text == IMAP_SECTION_HEADER_FIELDS ||
		    it->text == IMAP_SECTION_HEADER_FIELDS_NOT) {
			if (!parse_header_list(a, &p, it, name, error_out))
				return false;
		}
		if (*p != ']')
			return false;
	} else if (n > 0 && p[-1] == '.') {
		return false; /* "1.]" */
	}
	it->path = n > 0 ? arena_memdup(a, path, n * sizeof(uint32_t)) : NULL;
	it->path_len = n;
	*pp = p + 1;
	return true;
}

static bool
parse_partial(const char **pp, struct imap_fetch_item *it)
{
	const char *p = *pp;
	uint64_t off, len;

	/* partial = "<" number64 "." nz-number64 ">" */
	if (*p++ != '<' || !parse_number(&p, INT64_MAX, &off) || *p++ != '.' ||
	    !parse_number(&p, INT64_MAX, &len) || len == 0 || *p++ != '>')
		return false;
	it->has_partial = true;
	it->partial_offset = off;
	it->partial_length = len;
	*pp = p;
	return true;
}

bool
imap_fetch_item_parse(struct arena *a, const char *atom, struct imap_fetch_item *out,
                      const char **error_out)
{
	static const struct {
		const char *prefix, *name;
		enum imap_fetch_kind kind;
		bool sets_seen;
	} sectioned[] = {
	        {"BODY[", "BODY[", IMAP_FETCH_SECTION, true},
	        {"BODY.PEEK[", "BODY[", IMAP_FETCH_SECTION, false},
	        {"BINARY[", "BINARY[", IMAP_FETCH_BINARY, true},
	        {"BINARY.PEEK[", "BINARY[", IMAP_FETCH_BINARY, false},
	        {"BINARY.SIZE[", "BINARY.SIZE[", IMAP_FETCH_BINARY_SIZE, false},
	};

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < ARRAY_LEN(simple_items); i++) {
		if (strcasecmp(atom, simple_items[i].name) == 0) {
			out->kind = simple_items[i].kind;
			out->name = simple_items[i].name;
			return true;
		}
	}
	/* RFC 3501 6.4.5: RFC822 = BODY[], RFC822.HEADER = BODY.PEEK[HEADER],
	   RFC822.TEXT = BODY[TEXT], each answered under its own name. */
	if (strcasecmp(atom, "RFC822") == 0 || strcasecmp(atom, "RFC822.HEADER") == 0 ||
	    strcasecmp(atom, "RFC822.TEXT") == 0) {
		out->kind = IMAP_FETCH_SECTION;
		out->name = atom[6] == '\0'                    ? "RFC822"
		            : atom[7] == 'H' || atom[7] == 'h' ? "RFC822.HEADER"
		                                               : "RFC822.TEXT";
		out->text = atom[6] == '\0'       ? IMAP_SECTION_WHOLE
		            : out->name[7] == 'H' ? IMAP_SECTION_HEADER
		                                  : IMAP_SECTION_TEXT;
		out->sets_seen = out->text != IMAP_SECTION_HEADER;
		return true;
	}
	for (size_t i = 0; i < ARRAY_LEN(sectioned); i++) {
		size_t pl = strlen(sectioned[i].prefix);
		if (strncasecmp(atom, sectioned[i].prefix, pl) != 0)
			continue;
		const char *p = atom + pl;
		struct buf name;
		buf_init(&name);
		buf_puts(&name, sectioned[i].name);
		out->kind = sectioned[i].kind;
		out->sets_seen = sectioned[i].sets_seen;
		bool ok = parse_section(a, &p, out->kind != IMAP_FETCH_SECTION, out, &name,
		                        error_out);
		buf_putc(&name, ']');
		if (ok && *p == '<' && out->kind != IMAP_FETCH_BINARY_SIZE) {
			ok = parse_partial(&p, out);
			*error_out = "Invalid partial range";
		}
		if (ok && *p != '\0') {
			ok = false;
			*error_out = "Unexpected text after a fetch attribute";
		}
		out->name = arena_strdup(a, name.data);
		buf_deinit(&name);
		return ok;
	}
	*error_out = "Unknown fetch attribute";
	return false;
}

/* "(" preview-mod *(SP preview-mod) ")" after PREVIEW. RFC 8970 section 3.2
   defines LAZY only; anything else is a syntax error. */
static bool
parse_preview_mods(const struct imap_arg *list, struct imap_fetch_item *it, const char **error_out)
{
	if (list->count == 0) {
		*error_out = "Expected PREVIEW modifiers";
		return false;
	}
	for (size_t i = 0; i < list->count; i++) {
		if (list->list[i].type != IMAP_ARG_ATOM ||
		    strcasecmp(list->list[i].str, "LAZY") != 0) {
			*error_out = "Unknown PREVIEW modifier";
			return false;
		}
		it->is_lazy = true;
	}
	return true;
}

static bool
add_item(struct arena *a, const char *atom, struct imap_fetch_request *req, const char **error_out)
{
	struct imap_fetch_item *it = &req->items[req->n];

	if (!imap_fetch_item_parse(a, atom, it, error_out))
		return false;
	req->n++;
	req->sets_seen |= it->sets_seen;
	switch (it->kind) {
	case IMAP_FETCH_UID:
		req->has_uid = true;
		break;
	case IMAP_FETCH_FLAGS:
		req->has_flags = true;
		break;
	case IMAP_FETCH_MODSEQ:
		req->has_modseq = true;
		break;
	case IMAP_FETCH_ENVELOPE:
		req->store_fields |= STORE_FETCH_ENVELOPE;
		break;
	case IMAP_FETCH_PREVIEW:
		req->store_fields |= STORE_FETCH_PREVIEW;
		break;
	case IMAP_FETCH_BODY:
	case IMAP_FETCH_BODYSTRUCTURE:
		req->store_fields |= STORE_FETCH_STRUCTURE;
		break;
	case IMAP_FETCH_SECTION:
	case IMAP_FETCH_BINARY:
	case IMAP_FETCH_BINARY_SIZE:
		/* The part table says where sections lie; BODY[] and
		   BODY[]<partial> are the whole file and need only its size. */
		if (it->path_len > 0 || it->text != IMAP_SECTION_WHOLE)
			req->store_fields |= STORE_FETCH_PARTS;
		req->needs_content = true;
		break;
	default:
		break;
	}
	return true;
}

/* RFC 5257: "ANNOTATION" SP "(" entries SP attribs ")". */
static bool
add_annotation(struct arena *a, const struct imap_arg *arg, struct imap_fetch_request *req,
               const char **error_out)
{
	struct imap_fetch_item *it = &req->items[req->n];

	memset(it, 0, sizeof(*it));
	it->kind = IMAP_FETCH_ANNOTATION;
	it->name = "ANNOTATION";
	it->annotate = arena_alloc(a, sizeof(*it->annotate));
	if (!imap_annotate_fetch_parse(a, arg, it->annotate, error_out))
		return false;
	req->n++;
	return true;
}

bool
imap_fetch_request_parse(struct arena *a, const struct imap_arg *arg,
                         struct imap_fetch_request *out, const char **error_out)
{
	static const struct {
		const char *name;
		const char *const items[5];
	} macros[] = {
	        /* RFC 9051 6.4.5 */
	        {"ALL", {"FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", NULL}},
	        {"FAST", {"FLAGS", "INTERNALDATE", "RFC822.SIZE", NULL}},
	        {"FULL", {"FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODY"}},
	};

	memset(out, 0, sizeof(*out));
	if (arg->type == IMAP_ARG_ATOM) {
		for (size_t i = 0; i < ARRAY_LEN(macros); i++) {
			if (strcasecmp(arg->str, macros[i].name) != 0)
				continue;
			out->items = arena_alloc(a, 5 * sizeof(*out->items));
			for (size_t j = 0; j < 5 && macros[i].items[j] != NULL; j++)
				if (!add_item(a, macros[i].items[j], out, error_out))
					return false;
			return true;
		}
		out->items = arena_alloc(a, sizeof(*out->items));
		return add_item(a, arg->str, out, error_out);
	}
	if (arg->type != IMAP_ARG_LIST || arg->count == 0) {
		*error_out = "Expected fetch attributes";
		return false;
	}
	out->items = arena_alloc(a, arg->count * sizeof(*out->items));
	for (size_t i = 0; i < arg->count; i++) {
		if (arg->list[i].type != IMAP_ARG_ATOM) {
			*error_out = "Expected fetch attributes";
			return false;
		}
		if (strcasecmp(arg->list[i].str, "ANNOTATION") == 0 && i + 1 < arg->count) {
			if (!add_annotation(a, &arg->list[++i], out, error_out))
				return false;
			continue;
		}
		/* A macro "must be used by itself" (RFC 9051 6.4.5). */
		if (!add_item(a, arg->list[i].str, out, error_out))
			return false;
		struct imap_fetch_item *it = &out->items[out->n - 1];
		if (it->kind == IMAP_FETCH_PREVIEW && i + 1 < arg->count &&
		    arg->list[i + 1].type == IMAP_ARG_LIST) {
			if (!parse_preview_mods(&arg->list[++i], it, error_out))
				return false;
		}
	}
	return true;
}

size_t
imap_fetch_att_nargs(const struct imap_arg *args, size_t nargs)
{
	if (nargs < 2 || args[0].type != IMAP_ARG_ATOM || strcasecmp(args[0].str, "PREVIEW") != 0 ||
	    args[1].type != IMAP_ARG_LIST || args[1].count == 0)
		return 1;
	/* Only preview modifiers: CHANGEDSINCE and VANISHED are not one. */
	for (size_t i = 0; i < args[1].count; i++)
		if (args[1].list[i].type != IMAP_ARG_ATOM ||
		    strcasecmp(args[1].list[i].str, "LAZY") != 0)
			return 1;
	return 2;
}

/* Does the field starting at line (its name up to ':') match a name? */
static bool
field_matches(const char *line, size_t len, const char *const *names, size_t n_names)
{
	const char *colon = memchr(line, ':', len);
	size_t nl;

	if (colon == NULL)
		return false;
	nl = (size_t)(colon - line);
	while (nl > 0 && (line[nl - 1] == ' ' || line[nl - 1] == '\t'))
		nl--; /* obsolete syntax: WSP before the colon (RFC 5322 4.5) */
	for (size_t i = 0; i < n_names; i++)
		if (strlen(names[i]) == nl && strncasecmp(names[i], line, nl) == 0)
			return true;
	return false;
}

void
imap_fetch_header_filter(const char *header, size_t len, const char *const *names, size_t n_names,
                         bool keep_matching, struct buf *out)
{
	size_t pos = 0;

	while (pos < len) {
		/* One field: its first line and every continuation line. */
		size_t start = pos, end;
		const char *nl = memchr(header + pos, '\n', len - pos);
		end = nl ? (size_t)(nl - header) + 1 : len;
		if (end - start <= 2 && (header[start] == '\r' || header[start] == '\n'))
			break; /* the blank line */
		while (end < len && (header[end] == ' ' || header[end] == '\t')) {
			nl = memchr(header + end, '\n', len - end);
			end = nl ? (size_t)(nl - header) + 1 : len;
		}
		if (field_matches(header + start, end - start, names, n_names) == keep_matching) {
			buf_append(out, header + start, end - start);
			if (header[end - 1] != '\n')
				buf_append(out, "\r\n", 2); /* header without its blank line */
		}
		pos = end;
	}
	buf_append(out, "\r\n", 2);
}
