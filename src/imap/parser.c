/* SPDX-License-Identifier: MIT */
/*
 * parser.c: the IMAP command-line state machine.
 *
 * States and transitions (one byte at a time, literal bodies in bulk):
 *   TAG --SP--> NAME --SP--> ARG_START --atom char--> ATOM --SP/)/EOL--> ...
 *   ARG_START --"--> QUOTED --"--> AFTER_ARG
 *   ARG_START --{--> LITERAL_LEN --}--> LITERAL_EOL --LF--> LITERAL_DATA
 *       (a synchronising literal returns LITERAL_WAIT first)
 *   ARG_START --(--> ARG_START (one level deeper); AFTER_ARG --)--> AFTER_ARG
 *   AFTER_ARG --SP--> ARG_START;  NAME/ARG_START/AFTER_ARG --CRLF--> DONE
 * Any syntax error returns ERROR and moves to SKIP, which discards the rest of
 * the line (and the bytes of any non-synchronising literal announced on it,
 * which the client sends without waiting) before parsing the next command.
 * A bare LF is accepted as a line end: common clients and tools send it.
 */
#include "imap/parser.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/util.h"

enum state {
	ST_TAG,
	ST_NAME,
	ST_ARG_START,
	ST_AFTER_ARG,
	ST_ATOM,
	ST_QUOTED,
	ST_QUOTED_ESC,
	ST_LITERAL_LEN,
	ST_LITERAL_EOL,
	ST_LITERAL_DATA,
	ST_LINE_LF,
	ST_SKIP,
	ST_SKIP_LITERAL,
};

struct frame {
	struct imap_arg *args;
	size_t count, cap;
};

struct imap_parser {
	struct imap_parser_limits limits;
	enum state state;
	struct buf tok;    /* atom, quoted or tag being read */
	size_t line_len;   /* command text bytes so far */
	size_t bracket;    /* '[' depth inside an atom */
	bool bracket_spec; /* the open '[' section holds a space or parenthesis */
	bool after_space;  /* ARG_START came from SP, not '(' */
	bool busy;

	/* literal being read: into lit_buf (as it arrives) or to the sink */
	size_t lit_len, lit_got;
	bool lit_plus, lit_8, lit_digits;
	struct buf lit_buf;
	void *lit_stream;
	const struct imap_literal_sink *sink;

	/* skipping a bad line: literal announcement tracking */
	enum { SK_NONE, SK_BRACE, SK_DIGITS, SK_PLUS, SK_CLOSE, SK_CR } sk;
	size_t sk_len;
	bool sk_plus;

	const char *tag;
	const char *name;
	struct frame stack[64];
	size_t depth; /* open lists; stack[0] is the command's arguments */
};

struct imap_parser *
imap_parser_new(const struct imap_parser_limits *limits)
{
	struct imap_parser *p = xcalloc(1, sizeof(*p));

	p->limits = *limits;
	if (p->limits.max_depth == 0 || p->limits.max_depth >= ARRAY_LEN(p->stack))
		p->limits.max_depth = ARRAY_LEN(p->stack) - 1;
	buf_init(&p->tok);
	buf_init(&p->lit_buf);
	return p;
}

void
imap_parser_set_sink(struct imap_parser *p, const struct imap_literal_sink *sink)
{
	p->sink = sink;
}

void
imap_parser_set_limits(struct imap_parser *p, const struct imap_parser_limits *limits)
{
	size_t depth = p->limits.max_depth;

	p->limits = *limits;
	if (p->limits.max_depth == 0 || p->limits.max_depth >= ARRAY_LEN(p->stack))
		p->limits.max_depth = depth;
}

void
imap_parser_free(struct imap_parser **pp)
{
	if (*pp == NULL)
		return;
	buf_deinit(&(*pp)->tok);
	buf_deinit(&(*pp)->lit_buf);
	free(*pp);
	*pp = NULL;
}

bool
imap_parser_is_busy(const struct imap_parser *p)
{
	return p->busy;
}

static void
reset(struct imap_parser *p)
{
	p->state = ST_TAG;
	buf_reset(&p->tok);
	p->line_len = 0;
	p->bracket = 0;
	p->bracket_spec = false;
	p->depth = 0;
	memset(&p->stack[0], 0, sizeof(p->stack[0]));
	p->tag = NULL;
	p->name = NULL;
	buf_deinit(&p->lit_buf); /* a literal cut short: its memory goes now */
	p->lit_stream = NULL;
	p->busy = false;
}

static struct imap_arg *
push_arg(struct imap_parser *p, struct arena *a, enum imap_arg_type type)
{
	struct frame *f = &p->stack[p->depth];

	if (f->count == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 8;
		struct imap_arg *n = arena_alloc(a, cap * sizeof(*n));
		if (f->count > 0)
			memcpy(n, f->args, f->count * sizeof(*n));
		f->args = n;
		f->cap = cap;
	}
	struct imap_arg *arg = &f->args[f->count++];
	memset(arg, 0, sizeof(*arg));
	arg->type = type;
	return arg;
}

static void
push_token(struct imap_parser *p, struct arena *a, enum imap_arg_type type)
{
	struct imap_arg *arg = push_arg(p, a, type);

	arg->str = arena_strndup(a, p->tok.data ? p->tok.data : "", p->tok.len);
	arg->len = p->tok.len;
	buf_reset(&p->tok);
}

/* ATOM-CHAR of RFC 9051 plus what our atoms also carry: '%' '*' (list
   wildcards, "1:*"), ']' (resp-specials) and '\' (flag names). */
static bool
is_atom_char(unsigned char c)
{
	return c > ' ' && c < 0x7f && c != '(' && c != ')' && c != '{' && c != '"';
}

/* tag = 1*<any ASTRING-CHAR except "+"> */
static bool
is_tag_char(unsigned char c)
{
	return is_atom_char(c) && c != '+' && c != '%' && c != '*' && c != '\\';
}

static enum imap_parse_status
fail(struct imap_parser *p, struct imap_command *cmd, const char **error_out, const char *msg,
     bool at_eol)
{
	cmd->tag = p->tag;
	cmd->name = p->name;
	*error_out = msg;
	buf_reset(&p->tok);
	if (at_eol) {
		reset(p);
	} else {
		p->state = ST_SKIP;
		p->sk = SK_NONE;
		p->busy = true;
	}
	return IMAP_PARSE_ERROR;
}

static enum imap_parse_status
finish(struct imap_parser *p, struct imap_command *cmd)
{
	cmd->tag = p->tag;
	cmd->name = p->name;
	cmd->args = p->stack[0].args;
	cmd->nargs = p->stack[0].count;
	reset(p);
	return IMAP_PARSE_DONE;
}

/* The closing of a list: the frame becomes one LIST argument of its parent. */
static void
close_list(struct imap_parser *p, struct arena *a)
{
	struct frame done = p->stack[p->depth--];
	struct imap_arg *arg = push_arg(p, a, IMAP_ARG_LIST);

	arg->list = done.args;
	arg->count = done.count;
}

/* Skipping: watch for "{n+}" at the end of a line, whose bytes follow. */
static bool
skip_byte(struct imap_parser *p, unsigned char c)
{
	if (c == '\n') {
		if ((p->sk == SK_CLOSE || p->sk == SK_CR) && p->sk_plus && p->sk_len > 0) {
			p->state = ST_SKIP_LITERAL;
			p->lit_len = p->sk_len;
			p->lit_got = 0;
			p->sk = SK_NONE;
			return false;
		}
		return true; /* line over */
	}
	switch (p->sk) {
	case SK_NONE:
		break;
	case SK_BRACE:
	case SK_DIGITS:
		if (c >= '0' && c <= '9' && p->sk_len < ((size_t)1 << 60)) {
			p->sk_len = p->sk_len * 10 + (c - '0');
			p->sk = SK_DIGITS;
			return false;
		}
		if (p->sk == SK_DIGITS && c == '+') {
			p->sk = SK_PLUS;
			p->sk_plus = true;
			return false;
		}
		if (p->sk == SK_DIGITS && c == '}') {
			p->sk = SK_CLOSE;
			return false;
		}
		break;
	case SK_PLUS:
		if (c == '}') {
			p->sk = SK_CLOSE;
			return false;
		}
		break;
	case SK_CLOSE:
		if (c == '\r') {
			p->sk = SK_CR;
			return false;
		}
		break;
	case SK_CR:
		break;
	}
	p->sk = SK_NONE;
	if (c == '{') {
		p->sk = SK_BRACE;
		p->sk_len = 0;
		p->sk_plus = false;
	}
	return false;
}

enum imap_parse_status
imap_parser_feed(struct imap_parser *p, struct arena *a, const char *data, size_t len,
                 size_t *used_out, struct imap_command *cmd, const char **error_out,
                 bool *error_is_toobig)
{
	size_t i = 0;
	enum imap_parse_status st = IMAP_PARSE_MORE;

	*error_is_toobig = false;
	memset(cmd, 0, sizeof(*cmd));
	while (i < len) {
		/* Literal bodies are copied (or skipped) in bulk. */
		if (p->state == ST_LITERAL_DATA || p->state == ST_SKIP_LITERAL) {
			size_t n = MIN(len - i, p->lit_len - p->lit_got);
			if (p->state == ST_LITERAL_DATA && p->lit_stream != NULL)
				p->sink->write(p->sink->ctx, p->lit_stream, data + i, n);
			else if (p->state == ST_LITERAL_DATA)
				buf_append(&p->lit_buf, data + i, n);
			p->lit_got += n;
			i += n;
			if (p->lit_got < p->lit_len)
				break;
			if (p->state == ST_SKIP_LITERAL) {
				p->state = ST_SKIP;
				continue;
			}
			struct imap_arg *arg = push_arg(p, a, IMAP_ARG_LITERAL);
			arg->len = p->lit_len;
			arg->is_literal8 = p->lit_8;
			if (p->lit_stream != NULL) {
				arg->str = "";
				arg->stream = p->lit_stream;
				p->lit_stream = NULL;
			} else {
				/* The bytes become the arena's, without a copy. */
				buf_putc(&p->lit_buf, '\0');
				char *bytes = buf_steal(&p->lit_buf);
				arena_on_free(a, free, bytes);
				arg->str = bytes;
			}
			p->state = ST_AFTER_ARG;
			continue;
		}

		unsigned char c = (unsigned char)data[i++];
		p->busy = true;
		if (p->state != ST_SKIP && ++p->line_len > p->limits.max_line) {
			st = fail(p, cmd, error_out, "Line too long", c == '\n');
			break;
		}
		switch (p->state) {
		case ST_TAG:
			if (c == ' ' && p->tok.len > 0) {
				p->tag = arena_strndup(a, p->tok.data, p->tok.len);
				buf_reset(&p->tok);
				p->state = ST_NAME;
			} else if (is_tag_char(c)) {
				buf_putc(&p->tok, (char)c);
			} else if (p->tok.len == 0 && (c == '\r' || c == '\n')) {
				/* An empty line: ignored, as most servers do. */
				if (c == '\n')
					reset(p);
			} else {
				bool eol = c == '\r' || c == '\n';
				if (eol)
					p->tag = arena_strndup(a, p->tok.data, p->tok.len);
				st = fail(p, cmd, error_out,
				          eol ? "Missing command" : "Invalid tag", c == '\n');
				goto out;
			}
			break;
		case ST_NAME:
			if (c == ' ' || c == '\r' || c == '\n') {
				if (p->tok.len == 0) {
					st = fail(p, cmd, error_out, "Missing command", c == '\n');
					goto out;
				}
				p->name = arena_strndup(a, p->tok.data, p->tok.len);
				buf_reset(&p->tok);
				if (c == ' ') {
					p->state = ST_ARG_START;
					p->after_space = true;
				} else if (c == '\r') {
					p->state = ST_LINE_LF;
				} else {
					st = finish(p, cmd);
					goto out;
				}
			} else if (is_atom_char(c) && c != '[' && c != ']') {
				buf_putc(&p->tok, (char)c);
			} else {
				st = fail(p, cmd, error_out, "Invalid command name", c == '\n');
				goto out;
			}
			break;
		case ST_ARG_START:
		case ST_AFTER_ARG:
			if (c == '\r' || c == '\n') {
				if (p->depth > 0) {
					st = fail(p, cmd, error_out, "Missing ')'", c == '\n');
					goto out;
				}
				if (c == '\r') {
					p->state = ST_LINE_LF;
					break;
				}
				st = finish(p, cmd);
				goto out;
			}
			if (c == ')') {
				if (p->depth == 0 || (p->state == ST_ARG_START && p->after_space)) {
					st = fail(p, cmd, error_out, "Unexpected ')'", false);
					goto out;
				}
				close_list(p, a);
				p->state = ST_AFTER_ARG;
				break;
			}
			if (p->state == ST_AFTER_ARG) {
				if (c != ' ') {
					st = fail(p, cmd, error_out,
					          "Missing space between arguments", false);
					goto out;
				}
				p->state = ST_ARG_START;
				p->after_space = true;
				break;
			}
			/* ARG_START: an argument begins. */
			if (c == '(') {
				if (p->depth + 1 > p->limits.max_depth) {
					st = fail(p, cmd, error_out, "Lists nested too deep",
					          false);
					goto out;
				}
				p->depth++;
				memset(&p->stack[p->depth], 0, sizeof(p->stack[0]));
				p->after_space = false;
			} else if (c == '"') {
				p->state = ST_QUOTED;
			} else if (c == '{') {
				p->state = ST_LITERAL_LEN;
				p->lit_8 = false;
				p->lit_len = 0;
				p->lit_plus = false;
				p->lit_digits = false;
			} else if (is_atom_char(c)) {
				buf_putc(&p->tok, (char)c);
				p->state = ST_ATOM;
				p->bracket_spec = false;
				if (c == '[')
					p->bracket = 1;
			} else {
				st = fail(p, cmd, error_out,
				          c == ' ' ? "Extra space" : "Invalid character", false);
				goto out;
			}
			break;
		case ST_ATOM:
			if (p->bracket > 0) {
				if ((c == '\r' || c == '\n') && !p->bracket_spec) {
					/* '[' is an ATOM-CHAR: an atom like "a[b" that
					   ends the line never opened a section. */
					p->bracket = 0;
					push_token(p, a, IMAP_ARG_ATOM);
					p->state = ST_AFTER_ARG;
					i--;
					p->line_len--;
					break;
				}
				if (c == '\r' || c == '\n') {
					st = fail(p, cmd, error_out, "Missing ']'", c == '\n');
					goto out;
				}
				if (c == '[')
					p->bracket++;
				else if (c == ']')
					p->bracket--;
				else if (!is_atom_char(c))
					p->bracket_spec = true;
				buf_putc(&p->tok, (char)c);
				break;
			}
			if (c == '{' && p->tok.len == 1 && p->tok.data[0] == '~') {
				buf_reset(&p->tok);
				p->state = ST_LITERAL_LEN;
				p->lit_8 = true;
				p->lit_len = 0;
				p->lit_plus = false;
				p->lit_digits = false;
				break;
			}
			if (is_atom_char(c)) {
				buf_putc(&p->tok, (char)c);
				if (c == '[') {
					p->bracket = 1;
					p->bracket_spec = false;
				}
				break;
			}
			push_token(p, a, IMAP_ARG_ATOM);
			p->state = ST_AFTER_ARG;
			i--; /* the byte ends the atom; read it again */
			p->line_len--;
			break;
		case ST_QUOTED:
			if (c == '"') {
				push_token(p, a, IMAP_ARG_QUOTED);
				p->state = ST_AFTER_ARG;
			} else if (c == '\\') {
				p->state = ST_QUOTED_ESC;
			} else if (c == '\r' || c == '\n' || c == '\0') {
				st = fail(p, cmd, error_out, "Unterminated quoted string",
				          c == '\n');
				goto out;
			} else {
				buf_putc(&p->tok, (char)c);
			}
			break;
		case ST_QUOTED_ESC:
			/* quoted-specials only (RFC 9051 section 9) */
			if (c != '"' && c != '\\') {
				st = fail(p, cmd, error_out, "Invalid escape in quoted string",
				          c == '\n');
				goto out;
			}
			buf_putc(&p->tok, (char)c);
			p->state = ST_QUOTED;
			break;
		case ST_LITERAL_LEN:
			if (c >= '0' && c <= '9' && !p->lit_plus) {
				if (p->lit_len > (SIZE_MAX - 9) / 10 / 2) {
					st = fail(p, cmd, error_out, "Literal too big", false);
					*error_is_toobig = true;
					goto out;
				}
				p->lit_len = p->lit_len * 10 + (c - '0');
				p->lit_digits = true;
			} else if (c == '+' && p->lit_digits && !p->lit_plus) {
				p->lit_plus = true;
			} else if (c == '}' && p->lit_digits) {
				p->state = ST_LITERAL_EOL;
			} else {
				st = fail(p, cmd, error_out, "Invalid literal", c == '\n');
				goto out;
			}
			break;
		case ST_LITERAL_EOL:
			if (c == '\r')
				break;
			if (c != '\n') {
				st = fail(p, cmd, error_out, "Literal must end the line", false);
				goto out;
			}
			enum imap_literal_route route = IMAP_LITERAL_KEEP;
			void *handle = NULL;
			if (p->lit_len <= p->limits.max_literal && p->sink != NULL &&
			    !(p->lit_plus && p->limits.max_nonsync_literal != 0 &&
			      p->lit_len > p->limits.max_nonsync_literal)) {
				const struct frame *f = &p->stack[p->depth];
				const struct frame *up = p->depth > 0 ? f - 1 : NULL;
				struct imap_literal_where w = {
				        .name = p->name,
				        .depth = p->depth,
				        .siblings = f->args,
				        .index = f->count,
				        .outer = up != NULL ? up->args : NULL,
				        .n_outer = up != NULL ? up->count : 0,
				};
				route = p->sink->begin(p->sink->ctx, a, &w, p->lit_len, p->lit_8,
				                       &handle);
			}
			bool over_nonsync = p->lit_plus && p->limits.max_nonsync_literal != 0 &&
			                    p->lit_len > p->limits.max_nonsync_literal;
			if (p->lit_len > p->limits.max_literal || route == IMAP_LITERAL_REFUSE ||
			    over_nonsync) {
				*error_is_toobig = true;
				cmd->tag = p->tag;
				cmd->name = p->name;
				*error_out = over_nonsync
				                     ? "Non-synchronizing literal over 4096 bytes "
				                       "(LITERAL-): send it synchronizing"
				                     : "Literal too big";
				buf_reset(&p->tok);
				if (p->lit_plus) {
					/* The client sends it anyway; drop its bytes. */
					p->state = ST_SKIP_LITERAL;
					p->lit_got = 0;
					p->busy = true;
				} else {
					reset(p);
				}
				st = IMAP_PARSE_ERROR;
				goto out;
			}
			/* Nothing is allocated ahead: the bytes have not come yet
			   (a client may announce 4 GB and send nothing). */
			buf_deinit(&p->lit_buf);
			p->lit_stream = route == IMAP_LITERAL_STREAM ? handle : NULL;
			p->lit_got = 0;
			p->state = ST_LITERAL_DATA;
			if (!p->lit_plus) {
				st = IMAP_PARSE_LITERAL_WAIT;
				goto out;
			}
			break;
		case ST_LINE_LF:
			if (c != '\n') {
				st = fail(p, cmd, error_out, "CR without LF", false);
				goto out;
			}
			st = finish(p, cmd);
			goto out;
		case ST_SKIP:
			if (skip_byte(p, c)) {
				reset(p);
			}
			break;
		case ST_LITERAL_DATA:
		case ST_SKIP_LITERAL:
			break; /* handled above */
		}
	}
out:
	*used_out = i;
	return st;
}

bool
imap_arg_is_string(const struct imap_arg *arg)
{
	return arg->type != IMAP_ARG_LIST;
}

bool
imap_arg_is_nil(const struct imap_arg *arg)
{
	return arg->type == IMAP_ARG_ATOM && strcasecmp(arg->str, "NIL") == 0;
}

const char *
imap_arg_astring(const struct imap_arg *arg)
{
	return arg->type == IMAP_ARG_LIST ? NULL : arg->str;
}
