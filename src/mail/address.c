/* SPDX-License-Identifier: MIT */
/*
 * address.c: RFC 5322 address-list parser (sections 3.4, 3.4.1 and the
 * obsolete forms of 4.4) for ENVELOPE and the SORT keys. Two steps: a
 * tokenizer turns the value into atoms (dots included, so "a.b" and obsolete
 * phrases are one word), quoted strings, domain literals, comments and
 * special characters; then each address is read between top-level commas.
 * Input is hostile and often broken, so the reader never fails: it takes
 * the most plausible reading ("John john@x" is name "John", mailbox
 * "john"), and drops what cannot be an address. Linear in the input.
 */
#include "mail/address.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/util.h"

enum tok_type {
	TOK_ATOM,
	TOK_QUOTED,
	TOK_DOMLIT,
	TOK_COMMENT,
	TOK_SPECIAL,
};

struct tok {
	enum tok_type type;
	bool ws_before;
	char special;
	const char *text; /* NUL-terminated copy; unquoted for TOK_QUOTED */
	size_t len;
};

struct toks {
	struct tok *v;
	size_t n, cap;
};

static bool
is_special(unsigned char c)
{
	return c == '(' || c == ')' || c == '<' || c == '>' || c == '[' || c == ']' || c == ':' ||
	       c == ';' || c == '@' || c == '\\' || c == ',' || c == '"';
}

static bool
is_blank(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void
tok_push(struct toks *t, struct tok tk)
{
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->v = xrealloc(t->v, t->cap * sizeof(*t->v));
	}
	t->v[t->n++] = tk;
}

/* Reads a quoted string or comment body from in[*i] (just past the opener). */
static char *
read_delimited(struct arena *a, const unsigned char *in, size_t len, size_t *i, bool comment,
               size_t *len_out)
{
	struct buf b;
	int depth = 1;

	buf_init(&b);
	while (*i < len) {
		unsigned char c = in[*i];
		if (c == '\\' && *i + 1 < len) {
			(*i)++;
			c = in[*i];
			if (c != '\r' && c != '\n' && c != '\0')
				buf_putc(&b, (char)c);
			(*i)++;
			continue;
		}
		(*i)++;
		if (!comment && c == '"')
			break;
		if (comment && c == '(')
			depth++;
		if (comment && c == ')' && --depth == 0)
			break;
		if (c != '\r' && c != '\n' && c != '\0')
			buf_putc(&b, (char)c);
	}
	*len_out = b.len;
	char *s = arena_strndup(a, b.data != NULL ? b.data : "", b.len);
	buf_deinit(&b);
	return s;
}

static void
tokenize(struct arena *a, const unsigned char *in, size_t len, struct toks *t)
{
	size_t i = 0;
	bool ws = false;

	while (i < len) {
		unsigned char c = in[i];
		struct tok tk = {.ws_before = ws};

		if (is_blank(c) || c == '\0') {
			ws = true;
			i++;
			continue;
		}
		ws = false;
		if (c == '"' || c == '(') {
			i++;
			tk.type = c == '"' ? TOK_QUOTED : TOK_COMMENT;
			tk.text = read_delimited(a, in, len, &i, c == '(', &tk.len);
			if (c == '(')
				ws = true; /* a comment separates words like a blank */
		} else if (c == '[') {
			size_t s = i;
			while (i < len && in[i] != ']')
				i += in[i] == '\\' && i + 1 < len ? 2 : 1;
			if (i < len)
				i++;
			tk.type = TOK_DOMLIT;
			tk.text = arena_strndup(a, (const char *)in + s, i - s);
			tk.len = i - s;
		} else if (is_special(c)) {
			tk.type = TOK_SPECIAL;
			tk.special = (char)c;
			tk.text = "";
			i++;
		} else {
			size_t s = i;
			while (i < len && !is_blank(in[i]) && !is_special(in[i]) && in[i] != '\0')
				i++;
			tk.type = TOK_ATOM;
			tk.text = arena_strndup(a, (const char *)in + s, i - s);
			tk.len = i - s;
		}
		tok_push(t, tk);
	}
}

static bool
is_word(const struct tok *tk)
{
	return tk->type == TOK_ATOM || tk->type == TOK_QUOTED;
}

static bool
is_sp(const struct tok *tk, char c)
{
	return tk->type == TOK_SPECIAL && tk->special == c;
}

/* Display name from tokens [s, e): words joined by one space, comments
   dropped, stray specials kept. NULL when there are no words. */
static const char *
phrase(struct arena *a, const struct tok *v, size_t s, size_t e)
{
	struct buf b;
	bool any = false;

	buf_init(&b);
	for (size_t i = s; i < e; i++) {
		if (v[i].type == TOK_COMMENT)
			continue;
		if (v[i].type == TOK_SPECIAL) {
			if (v[i].special != '<' && v[i].special != '>' && v[i].special != '"')
				buf_putc(&b, v[i].special);
			continue;
		}
		if (any && b.len > 0)
			buf_putc(&b, ' ');
		buf_append(&b, v[i].text, v[i].len);
		any = true;
	}
	const char *r = any ? arena_strndup(a, b.data, b.len) : NULL;
	buf_deinit(&b);
	return r;
}

/* Concatenates tokens [s, e) without blanks or comments (local part,
   domain, obsolete "a . b"). */
static const char *
concat(struct arena *a, const struct tok *v, size_t s, size_t e)
{
	struct buf b;

	buf_init(&b);
	for (size_t i = s; i < e; i++) {
		if (v[i].type == TOK_COMMENT)
			continue;
		if (v[i].type == TOK_SPECIAL)
			buf_putc(&b, v[i].special);
		else
			buf_append(&b, v[i].text, v[i].len);
	}
	const char *r = arena_strndup(a, b.data != NULL ? b.data : "", b.len);
	buf_deinit(&b);
	return r;
}

struct list {
	struct mail_address *head, **tail;
};

static struct mail_address *
emit(struct arena *a, struct list *l, const char *name, const char *route, const char *mailbox,
     const char *domain)
{
	struct mail_address *ad = arena_zalloc(a, sizeof(*ad));

	ad->name = name;
	ad->route = route;
	ad->mailbox = mailbox;
	ad->domain = domain;
	*l->tail = ad;
	l->tail = &ad->next;
	return ad;
}

/* The run of words and dots glued together (no blank) that ends just before
   index e; returns its start. */
static size_t
glued_run_start(const struct tok *v, size_t s, size_t e)
{
	size_t k = e;

	while (k > s && (is_word(&v[k - 1]) || v[k - 1].type == TOK_DOMLIT)) {
		k--;
		if (v[k].ws_before)
			break;
	}
	return k;
}

/* Tokens [s, e) hold "local@domain" with perhaps a name before it. */
static void
addr_spec(struct arena *a, struct list *l, const struct tok *v, size_t s, size_t e,
          const char *name, bool take_name)
{
	size_t at = e;
	const char *comment = NULL;

	for (size_t k = s; k < e; k++) {
		if (is_sp(&v[k], '@') && at == e)
			at = k;
		if (v[k].type == TOK_COMMENT && v[k].len > 0)
			comment = v[k].text; /* the last one: "a@b (Name)" */
	}
	/* Local part: the words glued before "@" (or the last words when
	   there is no "@"); words before that are a display name. */
	size_t end_local = at;
	while (end_local > s && v[end_local - 1].type == TOK_COMMENT)
		end_local--;
	size_t ls = glued_run_start(v, s, end_local);
	if (ls == end_local && at == e)
		return; /* no words at all: not an address */
	if (take_name && name == NULL && ls > s)
		name = phrase(a, v, s, ls);
	const char *local = concat(a, v, ls, end_local);

	const char *domain = "";
	if (at < e) {
		size_t ds = at + 1;
		while (ds < e && v[ds].type == TOK_COMMENT)
			ds++;
		size_t de = ds;
		/* Domain: glued atoms and dots, or a literal; stop at a blank
		   unless a dot joins (obs-domain "a . b"). */
		while (de < e && v[de].type != TOK_COMMENT && !is_sp(&v[de], '@') &&
		       !is_sp(&v[de], '<') && !is_sp(&v[de], '>') && v[de].type != TOK_QUOTED &&
		       (de == ds || !v[de].ws_before))
			de++;
		domain = concat(a, v, ds, de);
	}
	if (take_name && name == NULL)
		name = comment;
	emit(a, l, name, NULL, local, domain);
}

/* Tokens [s, e) are the inside of "<...>": [route ":"] addr-spec. */
static void
angle_addr(struct arena *a, struct list *l, const struct tok *v, size_t s, size_t e,
           const char *name)
{
	const char *route = NULL;

	while (s < e && v[s].type == TOK_COMMENT)
		s++;
	if (s < e && is_sp(&v[s], '@')) {
		size_t colon = s;
		while (colon < e && !is_sp(&v[colon], ':'))
			colon++;
		if (colon < e) {
			route = concat(a, v, s, colon);
			s = colon + 1;
		}
	}
	struct list tmp = {NULL, &tmp.head};
	addr_spec(a, &tmp, v, s, e, NULL, false);
	if (tmp.head == NULL)
		emit(a, l, name, route, "", ""); /* "<>" */
	else
		emit(a, l, name, route, tmp.head->mailbox, tmp.head->domain);
}

struct mail_address *
mail_address_parse(struct arena *a, const unsigned char *value, size_t len)
{
	struct toks t = {NULL, 0, 0};
	struct list l = {NULL, NULL};
	bool in_group = false;
	size_t i = 0;

	l.tail = &l.head;
	tokenize(a, value, len, &t);
	const struct tok *v = t.v;
	while (i < t.n) {
		if (is_sp(&v[i], ',')) {
			i++;
			continue;
		}
		if (is_sp(&v[i], ';')) {
			if (in_group)
				emit(a, &l, NULL, NULL, NULL, NULL);
			in_group = false;
			i++;
			continue;
		}
		/* Find the end of this address: a top-level "," or ";". */
		size_t j = i, lt = SIZE_MAX, gt = SIZE_MAX, colon = SIZE_MAX, at = SIZE_MAX;
		bool in_angle = false;
		for (; j < t.n; j++) {
			if (in_angle) {
				if (is_sp(&v[j], '>')) {
					in_angle = false;
					gt = j;
				} else if ((is_sp(&v[j], ',') || is_sp(&v[j], ';')) &&
				           !(j + 1 < t.n && is_sp(&v[j + 1], '@'))) {
					break; /* unclosed "<" */
				}
				continue;
			}
			if (is_sp(&v[j], ',') || is_sp(&v[j], ';'))
				break;
			if (is_sp(&v[j], '<') && lt == SIZE_MAX) {
				lt = j;
				in_angle = true;
			} else if (is_sp(&v[j], '@') && at == SIZE_MAX) {
				at = j;
			} else if (is_sp(&v[j], ':') && colon == SIZE_MAX && lt == SIZE_MAX &&
			           at == SIZE_MAX && !in_group) {
				colon = j;
				break;
			}
		}
		if (colon != SIZE_MAX) {
			/* group = display-name ":" [group-list] ";" */
			const char *gname = phrase(a, v, i, colon);
			emit(a, &l, NULL, NULL, gname != NULL ? gname : "", NULL);
			in_group = true;
			i = colon + 1;
			continue;
		}
		if (lt != SIZE_MAX) {
			const char *name = phrase(a, v, i, lt);
			angle_addr(a, &l, v, lt + 1, gt != SIZE_MAX ? gt : j, name);
		} else {
			addr_spec(a, &l, v, i, j, NULL, true);
		}
		i = j;
	}
	if (in_group)
		emit(a, &l, NULL, NULL, NULL, NULL);
	free(t.v);
	return l.head;
}
