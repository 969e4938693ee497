/* SPDX-License-Identifier: MIT */
/*
 * search_parse.c: SEARCH program parser (RFC 9051 section 6.4.4, grammar
 * "search", "search-program", "search-key" and "search-return-opts" of
 * section 9; RFC 3501 6.4.4 for RECENT, NEW, OLD; RFC 4731 section 3.1 and
 * RFC 5182 section 2 for RETURN; RFC 5032, 7162 3.1.5, 8514 4, 8474 6 and
 * 6203 3 for their keys; RELEVANCY of RFC 6203 section 4). Pure: the
 * command parser's argument tree in, a key tree out, all in the command
 * arena.
 *
 * Input is hostile: nesting (NOT NOT ..., OR OR ..., parentheses) is
 * bounded by IMAP_SEARCH_MAX_DEPTH, numbers by their grammar's range, and
 * strings holding NUL or invalid in their charset are refused. Strings in a
 * charset other than UTF-8 or US-ASCII are converted with iconv
 * (mail_charset_to_utf8); a name iconv does not know is BADCHARSET, which
 * RFC 9051 wants as NO, not BAD.
 *
 * Aliases are expanded here so the evaluator has fewer cases: NEW is
 * (RECENT UNSEEN), OLD is NOT RECENT (RFC 3501 6.4.4), BCC is HEADER Bcc.
 */
#include "imap/search_parse.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "imap/imap_annotate.h"
#include "imap/imap_flags.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/util.h"
#include "mail/charset.h"
#include "store/store.h"

struct ctx {
	struct arena *a;
	const struct imap_arg *args;
	size_t nargs, i;
	const char *charset; /* NULL: UTF-8 */
	struct imap_search_program *prog;
	const char *error;
	enum imap_search_status status;
	unsigned depth;
	const struct imap_search_filters *filters;
	unsigned filter_passes; /* FILTER substitutions we are inside */
};

static bool
fail(struct ctx *c, const char *error)
{
	if (c->error == NULL) {
		c->error = error;
		c->status = IMAP_SEARCH_BAD;
	}
	return false;
}

static bool
is_utf8_charset(const char *cs)
{
	return strcasecmp(cs, "UTF-8") == 0 || strcasecmp(cs, "US-ASCII") == 0 ||
	       strcasecmp(cs, "UTF8") == 0 || strcasecmp(cs, "ASCII") == 0;
}

/* Checks the charset can be converted (an empty probe conversion). */
static bool
charset_known(const char *cs)
{
	struct buf b;
	int rc;

	if (is_utf8_charset(cs))
		return true;
	buf_init(&b);
	rc = mail_charset_to_utf8(cs, (const unsigned char *)"a", 1, &b);
	buf_deinit(&b);
	return rc == 0;
}

static const struct imap_arg *
next_arg(struct ctx *c)
{
	return c->i < c->nargs ? &c->args[c->i++] : NULL;
}

/* astring in the program's charset, as UTF-8 in the arena. */
static bool
arg_string(struct ctx *c, const char **out)
{
	const struct imap_arg *arg = next_arg(c);

	if (arg == NULL || arg->type == IMAP_ARG_LIST)
		return fail(c, "Search key needs a string");
	if (memchr(arg->str, '\0', arg->len) != NULL)
		return fail(c, "Search string contains NUL");
	if (c->charset == NULL || is_utf8_charset(c->charset)) {
		if (!mail_utf8_is_valid((const unsigned char *)arg->str, arg->len))
			return fail(c, "Search string is not valid UTF-8");
		*out = arg->str;
		return true;
	}
	struct buf b;
	buf_init(&b);
	if (mail_charset_to_utf8(c->charset, (const unsigned char *)arg->str, arg->len, &b) < 0) {
		buf_deinit(&b);
		c->status = IMAP_SEARCH_BADCHARSET;
		c->error = "Unsupported charset";
		return false;
	}
	*out = arena_strndup(c->a, b.data != NULL ? b.data : "", b.len);
	buf_deinit(&b);
	return true;
}

static bool
arg_atom(struct ctx *c, const char **out)
{
	const struct imap_arg *arg = next_arg(c);

	if (arg == NULL || arg->type != IMAP_ARG_ATOM)
		return fail(c, "Search key needs an atom");
	*out = arg->str;
	return true;
}

static bool
arg_number(struct ctx *c, uint64_t max, bool nonzero, int64_t *out)
{
	const struct imap_arg *arg = next_arg(c);
	uint64_t v;

	if (arg == NULL || arg->type != IMAP_ARG_ATOM || !str_to_u64(arg->str, max, &v) ||
	    (nonzero && v == 0))
		return fail(c, "Search key needs a number");
	*out = (int64_t)v;
	return true;
}

/* date = date-text / DQUOTE date-text DQUOTE */
static bool
arg_date(struct ctx *c, int64_t *out)
{
	const struct imap_arg *arg = next_arg(c);

	if (arg == NULL || (arg->type != IMAP_ARG_ATOM && arg->type != IMAP_ARG_QUOTED) ||
	    !imap_date_parse(arg->str, out))
		return fail(c, "Invalid date (expected e.g. 1-Feb-1994)");
	return true;
}

/* flag-keyword: an atom that is not a system flag. */
static bool
arg_keyword(struct ctx *c, const char **out)
{
	const struct imap_arg *arg = next_arg(c);

	if (arg == NULL || arg->type != IMAP_ARG_ATOM || arg->str[0] == '\\' ||
	    strpbrk(arg->str, "(){%*\"]") != NULL)
		return fail(c, "Search key needs a keyword");
	*out = arg->str;
	return true;
}

static struct imap_search_key *
new_key(struct ctx *c, enum imap_search_type type)
{
	struct imap_search_key *k = arena_zalloc(c->a, sizeof(*k));

	k->type = type;
	return k;
}

static struct imap_search_key *
flag_key(struct ctx *c, enum imap_search_type type, uint32_t flag)
{
	struct imap_search_key *k = new_key(c, type);

	k->flag = flag;
	return k;
}

static struct imap_search_key *parse_key(struct ctx *c);

/* Keys until the arguments (of the list or the command) end; one key is
   returned as is, more under an AND. */
static struct imap_search_key *
parse_key_list(struct ctx *c)
{
	struct imap_search_key *first = NULL, **tail = &first;
	size_t n = 0;

	while (c->i < c->nargs) {
		struct imap_search_key *k = parse_key(c);
		if (k == NULL)
			return NULL;
		*tail = k;
		tail = &k->next;
		n++;
	}
	if (n == 0) {
		fail(c, "Empty search key list");
		return NULL;
	}
	if (n == 1)
		return first;
	struct imap_search_key *and = new_key(c, IMAP_SK_AND);
	and->child = first;
	return and;
}

/* RFC 5466: filter-name = 1*<any ATOM-CHAR except "/">. */
static bool
valid_filter_name(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch <= 0x20 || ch >= 0x7f || strchr("(){%*\"\\]/", ch) != NULL)
			return false;
	}
	return true;
}

static void
undefined_filter(struct ctx *c, const char *name)
{
	if (c->error == NULL) {
		c->error = arena_strdup(c->a, name);
		c->status = IMAP_SEARCH_UNDEFINED_FILTER;
	}
}

/* "FILTER" SP filter-name (RFC 5466 section 3.1): the named filter's keys
   in its place, parsed as a parenthesised list would be. Its strings are
   UTF-8 (3.2), whatever CHARSET the command named. */
static struct imap_search_key *
parse_filter(struct ctx *c)
{
	const char *name;

	if (c->charset != NULL && !is_utf8_charset(c->charset)) {
		fail(c, "[BADCHARSET (UTF-8 US-ASCII)] FILTER implies CHARSET UTF-8");
		return NULL;
	}
	if (!arg_atom(c, &name) || !valid_filter_name(name)) {
		fail(c, "FILTER needs a filter name");
		return NULL;
	}
	const struct imap_arg *fargs;
	size_t fnargs;
	if (c->filter_passes >= IMAP_SEARCH_FILTER_PASSES ||
	    !c->filters->resolve(c->filters->ctx, c->a, name, &fargs, &fnargs) || fnargs == 0) {
		undefined_filter(c, name);
		return NULL;
	}
	const struct imap_arg *args = c->args;
	size_t nargs = c->nargs, i = c->i;
	const char *charset = c->charset;
	c->args = fargs;
	c->nargs = fnargs;
	c->i = 0;
	c->charset = NULL;
	c->filter_passes++;
	struct imap_search_key *k = parse_key_list(c);
	c->filter_passes--;
	c->args = args;
	c->nargs = nargs;
	c->i = i;
	c->charset = charset;
	/* A filter that is no whole search criterion, or that uses one we do
	   not have (or one too deep), is one we do not have (3.1): the client
	   hears of the one it named. */
	if (k == NULL && c->filter_passes == 0 &&
	    (c->status == IMAP_SEARCH_BAD || c->status == IMAP_SEARCH_UNDEFINED_FILTER)) {
		c->error = NULL;
		undefined_filter(c, name);
	}
	return k;
}

static const struct {
	const char *name;
	enum imap_search_type type;
	uint32_t flag;
} flag_keys[] = {
        {"ANSWERED", IMAP_SK_FLAG, STORE_FLAG_ANSWERED},
        {"DELETED", IMAP_SK_FLAG, STORE_FLAG_DELETED},
        {"DRAFT", IMAP_SK_FLAG, STORE_FLAG_DRAFT},
        {"FLAGGED", IMAP_SK_FLAG, STORE_FLAG_FLAGGED},
        {"SEEN", IMAP_SK_FLAG, STORE_FLAG_SEEN},
        {"UNANSWERED", IMAP_SK_UNFLAG, STORE_FLAG_ANSWERED},
        {"UNDELETED", IMAP_SK_UNFLAG, STORE_FLAG_DELETED},
        {"UNDRAFT", IMAP_SK_UNFLAG, STORE_FLAG_DRAFT},
        {"UNFLAGGED", IMAP_SK_UNFLAG, STORE_FLAG_FLAGGED},
        {"UNSEEN", IMAP_SK_UNFLAG, STORE_FLAG_SEEN},
};

static const struct {
	const char *name;
	enum imap_search_text text;
} text_keys[] = {
        {"BODY", IMAP_SEARCH_BODY}, {"TEXT", IMAP_SEARCH_TEXT}, {"SUBJECT", IMAP_SEARCH_SUBJECT},
        {"FROM", IMAP_SEARCH_FROM}, {"TO", IMAP_SEARCH_TO},     {"CC", IMAP_SEARCH_CC},
};

static const struct {
	const char *name;
	enum imap_search_date date;
	enum imap_search_op op;
} date_keys[] = {
        {"BEFORE", IMAP_DATE_INTERNAL, IMAP_OP_BEFORE},
        {"ON", IMAP_DATE_INTERNAL, IMAP_OP_ON},
        {"SINCE", IMAP_DATE_INTERNAL, IMAP_OP_SINCE},
        {"SENTBEFORE", IMAP_DATE_SENT, IMAP_OP_BEFORE},
        {"SENTON", IMAP_DATE_SENT, IMAP_OP_ON},
        {"SENTSINCE", IMAP_DATE_SENT, IMAP_OP_SINCE},
        {"SAVEDBEFORE", IMAP_DATE_SAVED, IMAP_OP_BEFORE},
        {"SAVEDON", IMAP_DATE_SAVED, IMAP_OP_ON},
        {"SAVEDSINCE", IMAP_DATE_SAVED, IMAP_OP_SINCE},
};

/* header-fld-name = astring; field-name of RFC 5322: printable ASCII but ':'. */
/* "ANNOTATION" SP entry-match SP att-search SP value (RFC 5257 section
   4.3; att-search = "value" / "value.priv" / "value.shared"). */
static struct imap_search_key *
parse_annotation(struct ctx *c)
{
	struct imap_search_key *k = new_key(c, IMAP_SK_ANNOTATION);
	const struct imap_arg *e = next_arg(c), *at;
	unsigned bits;

	if (e == NULL || e->type == IMAP_ARG_LIST || strlen(e->str) != e->len ||
	    (k->field = imap_annotate_entry_check(c->a, e->str, e->len, true)) == NULL) {
		fail(c, "ANNOTATION needs an entry");
		return NULL;
	}
	at = next_arg(c);
	if (at == NULL || at->type == IMAP_ARG_LIST || !imap_annotate_attr_parse(at->str, &bits) ||
	    (bits & ~(unsigned)(IMAP_ANNOTATE_VALUE_PRIV | IMAP_ANNOTATE_VALUE_SHARED)) != 0) {
		fail(c, "ANNOTATION needs value, value.priv or value.shared");
		return NULL;
	}
	k->num = bits;
	return arg_string(c, &k->str) ? k : NULL;
}

static bool
valid_field_name(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 32 || (unsigned char)*s >= 127 || *s == ':')
			return false;
	return true;
}

static struct imap_search_key *
parse_named(struct ctx *c, const char *name)
{
	struct imap_search_key *k;

	for (size_t j = 0; j < ARRAY_LEN(flag_keys); j++)
		if (strcasecmp(name, flag_keys[j].name) == 0)
			return flag_key(c, flag_keys[j].type, flag_keys[j].flag);
	for (size_t j = 0; j < ARRAY_LEN(text_keys); j++) {
		if (strcasecmp(name, text_keys[j].name) == 0) {
			k = new_key(c, IMAP_SK_TEXT);
			k->text = text_keys[j].text;
			return arg_string(c, &k->str) ? k : NULL;
		}
	}
	for (size_t j = 0; j < ARRAY_LEN(date_keys); j++) {
		if (strcasecmp(name, date_keys[j].name) == 0) {
			k = new_key(c, IMAP_SK_DATE);
			k->date = date_keys[j].date;
			k->op = date_keys[j].op;
			return arg_date(c, &k->num) ? k : NULL;
		}
	}
	if (strcasecmp(name, "ALL") == 0)
		return new_key(c, IMAP_SK_ALL);
	if (strcasecmp(name, "RECENT") == 0)
		return new_key(c, IMAP_SK_RECENT);
	if (strcasecmp(name, "NEW") == 0) {
		k = new_key(c, IMAP_SK_AND);
		k->child = new_key(c, IMAP_SK_RECENT);
		k->child->next = flag_key(c, IMAP_SK_UNFLAG, STORE_FLAG_SEEN);
		return k;
	}
	if (strcasecmp(name, "OLD") == 0) {
		k = new_key(c, IMAP_SK_NOT);
		k->child = new_key(c, IMAP_SK_RECENT);
		return k;
	}
	if (strcasecmp(name, "SAVEDATESUPPORTED") == 0)
		return new_key(c, IMAP_SK_SAVEDATESUPPORTED);
	if (strcasecmp(name, "KEYWORD") == 0 || strcasecmp(name, "UNKEYWORD") == 0) {
		k = new_key(c,
		            name[0] == 'K' || name[0] == 'k' ? IMAP_SK_KEYWORD : IMAP_SK_UNKEYWORD);
		return arg_keyword(c, &k->str) ? k : NULL;
	}
	if (strcasecmp(name, "BCC") == 0 || strcasecmp(name, "HEADER") == 0) {
		k = new_key(c, IMAP_SK_HEADER);
		if (name[0] == 'B' || name[0] == 'b') {
			k->field = "Bcc";
		} else {
			const struct imap_arg *f = next_arg(c);
			if (f == NULL || f->type == IMAP_ARG_LIST || strlen(f->str) != f->len ||
			    !valid_field_name(f->str)) {
				fail(c, "HEADER needs a field name");
				return NULL;
			}
			k->field = f->str;
		}
		return arg_string(c, &k->str) ? k : NULL;
	}
	/* number64 for sizes (RFC 9051), nz-number for intervals (RFC 5032). */
	if (strcasecmp(name, "LARGER") == 0 || strcasecmp(name, "SMALLER") == 0) {
		k = new_key(c, name[0] == 'L' || name[0] == 'l' ? IMAP_SK_LARGER : IMAP_SK_SMALLER);
		return arg_number(c, INT64_MAX, false, &k->num) ? k : NULL;
	}
	if (strcasecmp(name, "OLDER") == 0 || strcasecmp(name, "YOUNGER") == 0) {
		k = new_key(c, name[0] == 'O' || name[0] == 'o' ? IMAP_SK_OLDER : IMAP_SK_YOUNGER);
		return arg_number(c, UINT32_MAX, true, &k->num) ? k : NULL;
	}
	if (strcasecmp(name, "MODSEQ") == 0) {
		/* "MODSEQ" SP [search-modseq-ext SP] mod-sequence-valzer
		   search-modseq-ext = entry-name SP entry-type-req (quoted name) */
		k = new_key(c, IMAP_SK_MODSEQ);
		c->prog->has_modseq = true;
		if (c->i < c->nargs && c->args[c->i].type != IMAP_ARG_ATOM) {
			const struct imap_arg *e = next_arg(c);
			if (e->type == IMAP_ARG_LIST || strlen(e->str) != e->len ||
			    strncasecmp(e->str, "/flags/", 7) != 0) {
				fail(c, "MODSEQ entry name must be \"/flags/<flag>\"");
				return NULL;
			}
			k->field = e->str;
			if (!arg_atom(c, &k->str))
				return NULL;
			if (strcasecmp(k->str, "priv") != 0 && strcasecmp(k->str, "shared") != 0 &&
			    strcasecmp(k->str, "all") != 0) {
				fail(c, "MODSEQ entry type must be priv, shared or all");
				return NULL;
			}
		}
		return arg_number(c, INT64_MAX, false, &k->num) ? k : NULL;
	}
	if (strcasecmp(name, "EMAILID") == 0 || strcasecmp(name, "THREADID") == 0) {
		/* objectid = 1*255(ALPHA / DIGIT / "_" / "-") */
		k = new_key(c,
		            name[0] == 'E' || name[0] == 'e' ? IMAP_SK_EMAILID : IMAP_SK_THREADID);
		if (!arg_atom(c, &k->str))
			return NULL;
		size_t len = strlen(k->str);
		if (len == 0 || len > 255 ||
		    strspn(k->str, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		                   "abcdefghijklmnopqrstuvwxyz"
		                   "0123456789_-") != len) {
			fail(c, "Invalid object id");
			return NULL;
		}
		return k;
	}
	if (strcasecmp(name, "ANNOTATION") == 0)
		return parse_annotation(c);
	if (strcasecmp(name, "FUZZY") == 0) {
		/* "FUZZY" SP search-key (RFC 6203 section 7) */
		k = new_key(c, IMAP_SK_FUZZY);
		if (c->i >= c->nargs) {
			fail(c, "FUZZY needs a search key");
			return NULL;
		}
		c->prog->has_fuzzy = true;
		return (k->child = parse_key(c)) != NULL ? k : NULL;
	}
	if (strcasecmp(name, "FILTER") == 0 && c->filters != NULL)
		return parse_filter(c);
	if (strcasecmp(name, "UID") == 0) {
		const struct imap_arg *s = next_arg(c);
		k = new_key(c, IMAP_SK_UIDSET);
		if (s == NULL || s->type != IMAP_ARG_ATOM ||
		    !imap_seqset_parse(c->a, s->str, &k->set)) {
			fail(c, "UID needs a sequence set");
			return NULL;
		}
		c->prog->uses_saved |= k->set.is_saved;
		return k;
	}
	if (strcasecmp(name, "NOT") == 0 || strcasecmp(name, "OR") == 0) {
		bool is_or = name[0] == 'O' || name[0] == 'o';
		k = new_key(c, is_or ? IMAP_SK_OR : IMAP_SK_NOT);
		if (c->i >= c->nargs) {
			fail(c, is_or ? "OR needs two search keys" : "NOT needs a search key");
			return NULL;
		}
		if ((k->child = parse_key(c)) == NULL)
			return NULL;
		if (is_or) {
			if (c->i >= c->nargs) {
				fail(c, "OR needs two search keys");
				return NULL;
			}
			if ((k->child->next = parse_key(c)) == NULL)
				return NULL;
		}
		return k;
	}
	/* sequence-set, including "$" (RFC 5182) */
	k = new_key(c, IMAP_SK_SEQSET);
	if (imap_seqset_parse(c->a, name, &k->set)) {
		c->prog->uses_saved |= k->set.is_saved;
		return k;
	}
	fail(c, "Unknown search key");
	return NULL;
}

static struct imap_search_key *
parse_key(struct ctx *c)
{
	const struct imap_arg *arg = next_arg(c);
	struct imap_search_key *k;

	if (arg == NULL) {
		fail(c, "Missing search key");
		return NULL;
	}
	if (++c->depth > IMAP_SEARCH_MAX_DEPTH) {
		fail(c, "Search program nested too deeply");
		return NULL;
	}
	if (arg->type == IMAP_ARG_LIST) {
		/* "(" search-key *(SP search-key) ")": parse the list's own args */
		const struct imap_arg *args = c->args;
		size_t nargs = c->nargs, i = c->i;
		c->args = arg->list;
		c->nargs = arg->count;
		c->i = 0;
		k = parse_key_list(c);
		c->args = args;
		c->nargs = nargs;
		c->i = i;
	} else if (arg->type == IMAP_ARG_ATOM) {
		k = parse_named(c, arg->str);
	} else {
		fail(c, "Search key must be an atom");
		k = NULL;
	}
	c->depth--;
	return k;
}

enum imap_search_status
imap_search_parse_keys(struct arena *a, const struct imap_arg *args, size_t nargs,
                       const char *charset, const struct imap_search_filters *filters,
                       struct imap_search_program *out, const char **error_out)
{
	struct ctx c = {.a = a, .args = args, .nargs = nargs, .prog = out, .filters = filters};

	if (charset != NULL && !charset_known(charset)) {
		*error_out = "Unsupported charset";
		return IMAP_SEARCH_BADCHARSET;
	}
	c.charset = charset;
	out->charset = charset;
	out->root = parse_key_list(&c);
	if (out->root == NULL) {
		*error_out = c.error != NULL ? c.error : "Invalid search program";
		return c.status != IMAP_SEARCH_OK ? c.status : IMAP_SEARCH_BAD;
	}
	return IMAP_SEARCH_OK;
}

/* One end of a partial-range: [-]nz-number, within int32. */
static bool
partial_end(const char **pp, bool negative, int32_t *out)
{
	const char *p = *pp;
	long long v = 0;

	if (negative && *p++ != '-')
		return false;
	if (*p < '1' || *p > '9')
		return false;
	for (; *p >= '0' && *p <= '9'; p++)
		if ((v = v * 10 + (*p - '0')) > INT32_MAX)
			return false;
	*out = (int32_t)(negative ? -v : v);
	*pp = p;
	return true;
}

/* partial-range = partial-range-first / partial-range-last (RFC 9394 7):
   "a:b" or "-a:-b"; either order means the same range. */
static bool
parse_partial(const char *s, int32_t *lo_out, int32_t *hi_out)
{
	bool negative = *s == '-';
	int32_t a, b;

	if (!partial_end(&s, negative, &a) || *s++ != ':' || !partial_end(&s, negative, &b) ||
	    *s != '\0')
		return false;
	*lo_out = MIN(a, b);
	*hi_out = MAX(a, b);
	return true;
}

/* search-return-opts = SP "RETURN" SP "(" [search-return-opt *(SP search-return-opt)] ")" */
bool
imap_search_parse_return(const struct imap_arg *list, struct imap_search_program *out,
                         const char **error_out)
{
	static const struct {
		const char *name;
		unsigned bit;
	} opts[] = {
	        {"MIN", IMAP_SEARCH_RET_MIN},
	        {"MAX", IMAP_SEARCH_RET_MAX},
	        {"ALL", IMAP_SEARCH_RET_ALL},
	        {"COUNT", IMAP_SEARCH_RET_COUNT},
	        {"SAVE", IMAP_SEARCH_RET_SAVE},
	        {"PARTIAL", IMAP_SEARCH_RET_PARTIAL},
	        {"UPDATE", IMAP_SEARCH_RET_UPDATE},
	        {"CONTEXT", IMAP_SEARCH_RET_CONTEXT},
	        {"RELEVANCY", IMAP_SEARCH_RET_RELEVANCY},
	};
	unsigned ret = 0;

	if (list->type != IMAP_ARG_LIST) {
		*error_out = "RETURN needs a list of options";
		return false;
	}
	for (size_t i = 0; i < list->count; i++) {
		const struct imap_arg *o = &list->list[i];
		size_t j = 0;
		if (o->type == IMAP_ARG_ATOM)
			while (j < ARRAY_LEN(opts) && strcasecmp(o->str, opts[j].name) != 0)
				j++;
		/* RFC 9051 6.4.4: options the server does not know are BAD. */
		if (o->type != IMAP_ARG_ATOM || j == ARRAY_LEN(opts)) {
			*error_out = "Unknown RETURN option";
			return false;
		}
		if (ret & opts[j].bit) {
			*error_out = "RETURN option given twice";
			return false;
		}
		if (opts[j].bit == IMAP_SEARCH_RET_PARTIAL &&
		    (i + 1 >= list->count || list->list[i + 1].type != IMAP_ARG_ATOM ||
		     !parse_partial(list->list[++i].str, &out->partial_lo, &out->partial_hi))) {
			*error_out = "PARTIAL needs a range like 1:100 or -1:-100";
			return false;
		}
		ret |= opts[j].bit;
	}
	/* RFC 5267 4.4: one PARTIAL or one ALL, not both. */
	if ((ret & IMAP_SEARCH_RET_PARTIAL) && (ret & IMAP_SEARCH_RET_ALL)) {
		*error_out = "RETURN may not have both PARTIAL and ALL";
		return false;
	}
	/* "()" means ALL (RFC 4731 section 3.1). */
	out->ret = ret == 0 ? IMAP_SEARCH_RET_ALL : ret;
	out->has_return = true;
	return true;
}

struct imap_search_key *
imap_search_key_copy(struct arena *a, const struct imap_search_key *key)
{
	struct imap_search_key *first = NULL, **tail = &first;

	/* Siblings in a loop (a program may hold thousands at one level);
	   children recurse, at most IMAP_SEARCH_MAX_DEPTH deep. */
	for (; key != NULL; key = key->next) {
		struct imap_search_key *k = arena_memdup(a, key, sizeof(*key));
		k->next = NULL;
		k->child = imap_search_key_copy(a, key->child);
		if (key->set.n > 0)
			k->set.ranges = arena_memdup(a, key->set.ranges,
			                             key->set.n * sizeof(*key->set.ranges));
		if (key->field != NULL)
			k->field = arena_strdup(a, key->field);
		if (key->str != NULL)
			k->str = arena_strdup(a, key->str);
		*tail = k;
		tail = &k->next;
	}
	return first;
}

enum imap_search_status
imap_search_parse(struct arena *a, const struct imap_arg *args, size_t nargs, bool allow_return,
                  const struct imap_search_filters *filters, struct imap_search_program *out,
                  const char **error_out)
{
	const char *charset = NULL;
	size_t i = 0;

	memset(out, 0, sizeof(*out));
	if (allow_return && nargs > 0 && args[0].type == IMAP_ARG_ATOM &&
	    strcasecmp(args[0].str, "RETURN") == 0) {
		if (nargs < 2 || !imap_search_parse_return(&args[1], out, error_out))
			return IMAP_SEARCH_BAD;
		i = 2;
	}
	if (i < nargs && args[i].type == IMAP_ARG_ATOM && strcasecmp(args[i].str, "CHARSET") == 0) {
		/* charset = atom / quoted */
		if (i + 1 >= nargs ||
		    (args[i + 1].type != IMAP_ARG_ATOM && args[i + 1].type != IMAP_ARG_QUOTED)) {
			*error_out = "CHARSET needs a name";
			return IMAP_SEARCH_BAD;
		}
		charset = args[i + 1].str;
		i += 2;
	}
	if (i >= nargs) {
		*error_out = "Missing search key";
		return IMAP_SEARCH_BAD;
	}
	enum imap_search_status st =
	        imap_search_parse_keys(a, args + i, nargs - i, charset, filters, out, error_out);
	/* RFC 6203 section 4: "The RELEVANCY return option MUST NOT be used
	   unless a FUZZY search key is also given." */
	if (st == IMAP_SEARCH_OK && (out->ret & IMAP_SEARCH_RET_RELEVANCY) && !out->has_fuzzy) {
		*error_out = "RELEVANCY needs a FUZZY search key";
		return IMAP_SEARCH_BAD;
	}
	return st;
}

/* ---- dump ---- */

static void
dump_string(struct buf *b, const char *s)
{
	buf_putc(b, '"');
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			buf_putc(b, '\\');
		buf_putc(b, *s);
	}
	buf_putc(b, '"');
}

static void
dump_set(struct buf *b, const struct imap_seqset *set)
{
	if (set->is_saved) {
		buf_putc(b, '$');
		return;
	}
	for (size_t i = 0; i < set->n; i++) {
		const struct imap_seq_range *r = &set->ranges[i];
		if (i > 0)
			buf_putc(b, ',');
		if (r->lo == IMAP_SEQ_STAR)
			buf_putc(b, '*');
		else
			buf_printf(b, "%u", r->lo);
		if (r->hi != r->lo) {
			if (r->hi == IMAP_SEQ_STAR)
				buf_puts(b, ":*");
			else
				buf_printf(b, ":%u", r->hi);
		}
	}
}

static const char *
flag_name(uint32_t flag)
{
	switch (flag) {
	case STORE_FLAG_SEEN:
		return "SEEN";
	case STORE_FLAG_ANSWERED:
		return "ANSWERED";
	case STORE_FLAG_FLAGGED:
		return "FLAGGED";
	case STORE_FLAG_DELETED:
		return "DELETED";
	default:
		return "DRAFT";
	}
}

void
imap_search_dump(struct buf *b, const struct imap_search_key *k)
{
	static const char *const texts[] = {"BODY", "TEXT", "SUBJECT", "FROM", "TO", "CC"};
	static const char *const dates[] = {"", "SENT", "SAVED"};
	static const char *const ops[] = {"BEFORE", "ON", "SINCE"};
	char day[16];
	struct tm tm;
	time_t t;

	switch (k->type) {
	case IMAP_SK_ALL:
		buf_puts(b, "ALL");
		break;
	case IMAP_SK_AND:
	case IMAP_SK_OR:
	case IMAP_SK_NOT:
	case IMAP_SK_FUZZY:
		buf_puts(b, k->type == IMAP_SK_AND   ? "(AND"
		            : k->type == IMAP_SK_OR  ? "(OR"
		            : k->type == IMAP_SK_NOT ? "(NOT"
		                                     : "(FUZZY");
		for (const struct imap_search_key *ch = k->child; ch != NULL; ch = ch->next) {
			buf_putc(b, ' ');
			imap_search_dump(b, ch);
		}
		buf_putc(b, ')');
		break;
	case IMAP_SK_SEQSET:
	case IMAP_SK_UIDSET:
		buf_puts(b, k->type == IMAP_SK_SEQSET ? "(SEQ " : "(UID ");
		dump_set(b, &k->set);
		buf_putc(b, ')');
		break;
	case IMAP_SK_FLAG:
	case IMAP_SK_UNFLAG:
		buf_printf(b, "%s%s", k->type == IMAP_SK_UNFLAG ? "UN" : "", flag_name(k->flag));
		break;
	case IMAP_SK_KEYWORD:
	case IMAP_SK_UNKEYWORD:
		buf_printf(b, "(%s %s)", k->type == IMAP_SK_KEYWORD ? "KEYWORD" : "UNKEYWORD",
		           k->str);
		break;
	case IMAP_SK_RECENT:
		buf_puts(b, "RECENT");
		break;
	case IMAP_SK_TEXT:
		buf_printf(b, "(%s ", texts[k->text]);
		dump_string(b, k->str);
		buf_putc(b, ')');
		break;
	case IMAP_SK_HEADER:
		buf_puts(b, "(HEADER ");
		dump_string(b, k->field);
		buf_putc(b, ' ');
		dump_string(b, k->str);
		buf_putc(b, ')');
		break;
	case IMAP_SK_DATE:
		t = (time_t)k->num;
		gmtime_r(&t, &tm);
		strftime(day, sizeof(day), "%Y-%m-%d", &tm);
		buf_printf(b, "(%s%s %s)", dates[k->date], ops[k->op], day);
		break;
	case IMAP_SK_LARGER:
	case IMAP_SK_SMALLER:
	case IMAP_SK_OLDER:
	case IMAP_SK_YOUNGER:
		buf_printf(b, "(%s %lld)",
		           k->type == IMAP_SK_LARGER    ? "LARGER"
		           : k->type == IMAP_SK_SMALLER ? "SMALLER"
		           : k->type == IMAP_SK_OLDER   ? "OLDER"
		                                        : "YOUNGER",
		           (long long)k->num);
		break;
	case IMAP_SK_MODSEQ:
		buf_puts(b, "(MODSEQ ");
		if (k->field != NULL) {
			dump_string(b, k->field);
			buf_printf(b, " %s ", k->str);
		}
		buf_printf(b, "%lld)", (long long)k->num);
		break;
	case IMAP_SK_SAVEDATESUPPORTED:
		buf_puts(b, "SAVEDATESUPPORTED");
		break;
	case IMAP_SK_EMAILID:
	case IMAP_SK_THREADID:
		buf_printf(b, "(%s %s)", k->type == IMAP_SK_EMAILID ? "EMAILID" : "THREADID",
		           k->str);
		break;
	case IMAP_SK_ANNOTATION:
		buf_puts(b, "(ANNOTATION ");
		dump_string(b, k->field);
		buf_printf(b, " %s ",
		           k->num == IMAP_ANNOTATE_VALUE_PRIV     ? "value.priv"
		           : k->num == IMAP_ANNOTATE_VALUE_SHARED ? "value.shared"
		                                                  : "value");
		dump_string(b, k->str);
		buf_putc(b, ')');
		break;
	}
}
