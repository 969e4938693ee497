/* SPDX-License-Identifier: MIT */
/*
 * smtp_parse.c: the SMTP command, path, parameter and DATA parsers
 * (smtp_parse.h). Grammar references are to RFC 5321 section 4.1.2 unless
 * said otherwise; RFC 6531 section 3.3 widens atext, qtextSMTP and
 * sub-domain with UTF8-non-ascii, which is accepted everywhere and flagged
 * (is_utf8) so the session can insist on SMTPUTF8. UTF-8 is taken as bytes
 * >= 0x80 that form valid sequences; over-long forms and surrogates are
 * refused.
 */
#include "smtp/smtp_parse.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "lib/arena.h"
#include "lib/util.h"

static const struct {
	const char *name;
	enum smtp_verb verb;
} verbs[] = {
        {"HELO", SMTP_VERB_HELO}, {"EHLO", SMTP_VERB_EHLO},         {"LHLO", SMTP_VERB_LHLO},
        {"MAIL", SMTP_VERB_MAIL}, {"RCPT", SMTP_VERB_RCPT},         {"DATA", SMTP_VERB_DATA},
        {"BDAT", SMTP_VERB_BDAT}, {"RSET", SMTP_VERB_RSET},         {"NOOP", SMTP_VERB_NOOP},
        {"QUIT", SMTP_VERB_QUIT}, {"VRFY", SMTP_VERB_VRFY},         {"EXPN", SMTP_VERB_EXPN},
        {"HELP", SMTP_VERB_HELP}, {"STARTTLS", SMTP_VERB_STARTTLS}, {"AUTH", SMTP_VERB_AUTH},
};

void
smtp_command_parse(const char *line, struct smtp_command *out)
{
	size_t n = strcspn(line, " ");

	out->verb = SMTP_VERB_UNKNOWN;
	out->name = NULL;
	out->arg = line[n] == ' ' ? line + n + 1 : line + n;
	for (size_t i = 0; i < ARRAY_LEN(verbs); i++) {
		if (strlen(verbs[i].name) == n && strncasecmp(line, verbs[i].name, n) == 0) {
			out->verb = verbs[i].verb;
			out->name = verbs[i].name;
			return;
		}
	}
}

/* ---- characters ---- */

/* Length of the valid UTF-8 sequence at p (p < end, *p >= 0x80), or 0. */
static size_t
utf8_len(const unsigned char *p, const unsigned char *end)
{
	size_t n;
	unsigned min;
	unsigned cp;

	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2, min = 0x80, cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3, min = 0x800, cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4, min = 0x10000, cp = p[0] & 0x07;
	} else {
		return 0;
	}
	if ((size_t)(end - p) < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* RFC 5322 atext. */
static bool
is_atext(unsigned char c)
{
	return isalnum(c) || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* ---- Mailbox ---- */

struct cursor {
	const unsigned char *p, *end;
	bool utf8;
};

/* Dot-string = Atom *("." Atom) */
static bool
dot_string(struct cursor *c)
{
	bool need_atom = true;

	while (c->p < c->end) {
		if (*c->p == '.') {
			if (need_atom)
				return false;
			need_atom = true;
			c->p++;
		} else if (*c->p >= 0x80) {
			size_t n = utf8_len(c->p, c->end);
			if (n == 0)
				return false;
			c->p += n;
			c->utf8 = true;
			need_atom = false;
		} else if (is_atext(*c->p)) {
			c->p++;
			need_atom = false;
		} else {
			break;
		}
	}
	return !need_atom;
}

/* Quoted-string = DQUOTE *QcontentSMTP DQUOTE */
static bool
quoted_string(struct cursor *c)
{
	if (c->p >= c->end || *c->p != '"')
		return false;
	c->p++;
	while (c->p < c->end) {
		unsigned char ch = *c->p;
		if (ch == '"') {
			c->p++;
			return true;
		}
		if (ch == '\\') {
			if (c->end - c->p < 2 || c->p[1] < 32 || c->p[1] > 126)
				return false;
			c->p += 2;
		} else if (ch >= 0x80) {
			size_t n = utf8_len(c->p, c->end);
			if (n == 0)
				return false;
			c->p += n;
			c->utf8 = true;
		} else if (ch >= 32 && ch <= 126) {
			c->p++;
		} else {
			return false;
		}
	}
	return false;
}

/* Domain = sub-domain *("." sub-domain); sub-domain = Let-dig [Ldh-str],
   or a U-label (RFC 6531). A trailing dot is not a Domain. */
static bool
domain(struct cursor *c)
{
	const unsigned char *start = c->p;

	for (;;) {
		const unsigned char *label = c->p;
		bool last_hyphen = false;
		while (c->p < c->end) {
			unsigned char ch = *c->p;
			if (ch >= 0x80) {
				size_t n = utf8_len(c->p, c->end);
				if (n == 0)
					return false;
				c->p += n;
				c->utf8 = true;
				last_hyphen = false;
			} else if (isalnum(ch) || (ch == '-' && c->p != label)) {
				last_hyphen = ch == '-';
				c->p++;
			} else {
				break;
			}
		}
		if (c->p == label || last_hyphen || c->p - label > 63)
			return false;
		if (c->p < c->end && *c->p == '.' && c->end - c->p > 1 && c->p[1] != '>') {
			c->p++;
			continue;
		}
		break;
	}
	return c->p - start <= 255;
}

/* address-literal = "[" ( IPv4 / "IPv6:" IPv6 / tag ":" dcontent ) "]":
   checked only for shape; it is never a local domain anyway. */
static bool
address_literal(struct cursor *c)
{
	if (c->p >= c->end || *c->p != '[')
		return false;
	c->p++;
	const unsigned char *start = c->p;
	while (c->p < c->end && *c->p != ']') {
		if (*c->p < 33 || *c->p > 126 || *c->p == '[' || *c->p == '\\')
			return false;
		c->p++;
	}
	if (c->p >= c->end || c->p == start)
		return false;
	c->p++;
	return true;
}

/* Mailbox = Local-part "@" ( Domain / address-literal ) over [p, end):
   all of it. */
static bool
mailbox(struct arena *a, const unsigned char *p, const unsigned char *end, struct smtp_path *out)
{
	struct cursor c = {p, end, false};

	out->is_quoted = p < end && *p == '"';
	if (!(out->is_quoted ? quoted_string(&c) : dot_string(&c)))
		return false;
	const unsigned char *at = c.p;
	if (c.p >= c.end || *c.p != '@' || at - p > 128)
		return false;
	c.p++;
	const unsigned char *dom = c.p;
	out->is_literal = c.p < c.end && *c.p == '[';
	if (!(out->is_literal ? address_literal(&c) : domain(&c)) || c.p != c.end)
		return false;
	out->is_utf8 = c.utf8;
	out->local = arena_strndup(a, (const char *)p, (size_t)(at - p));
	out->domain = arena_strndup(a, (const char *)dom, (size_t)(end - dom));
	out->address = arena_strndup(a, (const char *)p, (size_t)(end - p));
	return true;
}

bool
smtp_mailbox_parse(struct arena *a, const char *s, size_t len, struct smtp_path *out)
{
	memset(out, 0, sizeof(*out));
	if (len > SMTP_MAX_PATH)
		return false;
	return mailbox(a, (const unsigned char *)s, (const unsigned char *)s + len, out);
}

/*
 * Path = "<" [ A-d-l ":" ] Mailbox ">", or "<>" when allow_null. Consumes
 * through ">". The route's domains are checked, then forgotten (RFC 5321
 * 4.1.1.3: "SHOULD ... ignore"), but has_route says there was one.
 */
static bool
path(struct arena *a, const char **sp, bool allow_null, bool allow_postmaster,
     struct smtp_path *out)
{
	const char *s = *sp;
	const char *close = strchr(s, '>');

	memset(out, 0, sizeof(*out));
	if (*s != '<' || close == NULL)
		return false;
	/* A '>' inside a quoted local part: find the real end. */
	const char *q = s + 1;
	bool in_quote = false;
	for (; *q != '\0'; q++) {
		if (in_quote && *q == '\\' && q[1] != '\0')
			q++;
		else if (*q == '"')
			in_quote = !in_quote;
		else if (*q == '>' && !in_quote)
			break;
	}
	if (*q != '>')
		return false;
	close = q;
	const unsigned char *p = (const unsigned char *)s + 1, *end = (const unsigned char *)close;
	if (end - p > SMTP_MAX_PATH)
		return false;
	*sp = close + 1;
	if (p == end) {
		out->is_null = true;
		out->local = out->domain = out->address = "";
		return allow_null;
	}
	if (*p == '@') {
		/* A-d-l = At-domain *( "," At-domain ) */
		struct cursor c = {p, end, false};
		for (;;) {
			if (c.p >= c.end || *c.p != '@')
				return false;
			c.p++;
			if (!domain(&c))
				return false;
			if (c.p < c.end && *c.p == ',') {
				c.p++;
				continue;
			}
			break;
		}
		if (c.p >= c.end || *c.p != ':')
			return false;
		out->has_route = true;
		p = c.p + 1;
	}
	if (allow_postmaster && !out->has_route && end - p == 10 &&
	    strncasecmp((const char *)p, "postmaster", 10) == 0) {
		out->is_postmaster = true;
		out->local = arena_strndup(a, (const char *)p, 10);
		out->domain = "";
		out->address = out->local;
		return true;
	}
	bool route = out->has_route;
	if (!mailbox(a, p, end, out))
		return false;
	out->has_route = route;
	return true;
}

/* ---- xtext ---- */

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *
smtp_xtext_decode(struct arena *a, const char *s, size_t len)
{
	char *out = arena_alloc(a, len + 1);
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '+') {
			if (len - i < 3 || hexval((unsigned char)s[i + 1]) < 0 ||
			    hexval((unsigned char)s[i + 2]) < 0)
				return NULL;
			int v = hexval((unsigned char)s[i + 1]) * 16 +
			        hexval((unsigned char)s[i + 2]);
			if (v == 0)
				return NULL;
			out[n++] = (char)v;
			i += 2;
		} else if (c >= 33 && c <= 126 && c != '=') {
			out[n++] = (char)c;
		} else {
			return NULL;
		}
	}
	out[n] = '\0';
	return out;
}

char *
smtp_xtext_encode(struct arena *a, const char *s)
{
	size_t len = strlen(s);
	char *out = arena_alloc(a, len * 3 + 1);
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 33 && c <= 126 && c != '+' && c != '=') {
			out[n++] = (char)c;
		} else {
			static const char hex[] = "0123456789ABCDEF";
			out[n++] = '+';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		}
	}
	out[n] = '\0';
	return out;
}

/* ---- parameters ---- */

/*
 * Calls fn for each "keyword[=value]" of s (SP-separated). esmtp-keyword =
 * (ALPHA / DIGIT) *(ALPHA / DIGIT / "-"); esmtp-value = 1*(%d33-60 /
 * %d62-126), plus UTF-8 (RFC 6531 section 3.3). Stops at fn's first error.
 */
typedef enum smtp_parse_error param_fn(struct arena *a, const char *kw, size_t kw_len,
                                       const char *val, size_t val_len, void *arg,
                                       const char **detail_out);

static enum smtp_parse_error
params_each(struct arena *a, const char *s, param_fn *fn, void *arg, const char **detail_out)
{
	while (*s != '\0') {
		if (*s == ' ') {
			s++;
			continue;
		}
		const char *kw = s;
		if (!isalnum((unsigned char)*s)) {
			*detail_out = "Invalid parameter syntax";
			return SMTP_PARSE_SYNTAX;
		}
		while (isalnum((unsigned char)*s) || *s == '-')
			s++;
		size_t kw_len = (size_t)(s - kw);
		const char *val = NULL;
		size_t val_len = 0;
		if (*s == '=') {
			val = ++s;
			while (*s != '\0' && *s != ' ' && *s != '=' &&
			       ((unsigned char)*s >= 0x80 ||
			        ((unsigned char)*s >= 33 && *s != 127)))
				s++;
			val_len = (size_t)(s - val);
			if (val_len == 0) {
				*detail_out = "Empty parameter value";
				return SMTP_PARSE_PARAM_VALUE;
			}
		}
		if (*s != '\0' && *s != ' ') {
			*detail_out = "Invalid parameter syntax";
			return SMTP_PARSE_SYNTAX;
		}
		enum smtp_parse_error e = fn(a, kw, kw_len, val, val_len, arg, detail_out);
		if (e != SMTP_PARSE_OK)
			return e;
	}
	return SMTP_PARSE_OK;
}

static bool
kw_is(const char *kw, size_t len, const char *name)
{
	return str_ieq_n(kw, len, name);
}

static bool
val_is(const char *v, size_t len, const char *name)
{
	return v != NULL && str_ieq_n(v, len, name);
}

static enum smtp_parse_error
bad_value(const char **detail_out, const char *detail)
{
	*detail_out = detail;
	return SMTP_PARSE_PARAM_VALUE;
}

static enum smtp_parse_error
mail_param(struct arena *a, const char *kw, size_t kw_len, const char *val, size_t val_len,
           void *arg, const char **detail_out)
{
	struct smtp_mail_params *p = arg;

	if (kw_is(kw, kw_len, "SIZE")) {
		/* RFC 1870 section 3: size-value = 1*20DIGIT */
		char digits[21];
		if (p->has_size || val == NULL || val_len > 20)
			return bad_value(detail_out, "Invalid SIZE");
		memcpy(digits, val, val_len);
		digits[val_len] = '\0';
		if (!str_to_u64(digits, UINT64_MAX, &p->size))
			return bad_value(detail_out, "Invalid SIZE");
		p->has_size = true;
	} else if (kw_is(kw, kw_len, "BODY")) {
		if (p->body != SMTP_BODY_NONE)
			return bad_value(detail_out, "BODY given twice");
		if (val_is(val, val_len, "7BIT"))
			p->body = SMTP_BODY_7BIT;
		else if (val_is(val, val_len, "8BITMIME"))
			p->body = SMTP_BODY_8BITMIME;
		else if (val_is(val, val_len, "BINARYMIME"))
			p->body = SMTP_BODY_BINARYMIME;
		else
			return bad_value(detail_out, "BODY must be 7BIT, 8BITMIME or BINARYMIME");
	} else if (kw_is(kw, kw_len, "SMTPUTF8")) {
		if (p->smtputf8 || val != NULL)
			return bad_value(detail_out, "SMTPUTF8 takes no value");
		p->smtputf8 = true;
	} else if (kw_is(kw, kw_len, "REQUIRETLS")) {
		if (p->requiretls || val != NULL)
			return bad_value(detail_out, "REQUIRETLS takes no value");
		p->requiretls = true;
	} else if (kw_is(kw, kw_len, "RET")) {
		if (p->ret != SMTP_RET_NONE)
			return bad_value(detail_out, "RET given twice");
		if (val_is(val, val_len, "FULL"))
			p->ret = SMTP_RET_FULL;
		else if (val_is(val, val_len, "HDRS"))
			p->ret = SMTP_RET_HDRS;
		else
			return bad_value(detail_out, "RET must be FULL or HDRS");
	} else if (kw_is(kw, kw_len, "ENVID")) {
		/* RFC 3461 section 4.4: at most 100 characters of xtext. */
		if (p->envid != NULL || val == NULL || val_len > 100 ||
		    (p->envid = smtp_xtext_decode(a, val, val_len)) == NULL)
			return bad_value(detail_out, "Invalid ENVID");
	} else if (kw_is(kw, kw_len, "AUTH")) {
		if (p->auth != NULL || val == NULL || val_len > SMTP_MAX_PATH ||
		    (p->auth = smtp_xtext_decode(a, val, val_len)) == NULL)
			return bad_value(detail_out, "Invalid AUTH");
	} else {
		*detail_out = "Unknown MAIL parameter";
		return SMTP_PARSE_PARAM_UNKNOWN;
	}
	return SMTP_PARSE_OK;
}

static enum smtp_parse_error
rcpt_param(struct arena *a, const char *kw, size_t kw_len, const char *val, size_t val_len,
           void *arg, const char **detail_out)
{
	struct smtp_rcpt_params *p = arg;

	if (kw_is(kw, kw_len, "NOTIFY")) {
		/* RFC 3461 section 4.1: "NEVER" alone, or a list of the others. */
		if (p->notify != 0 || val == NULL)
			return bad_value(detail_out, "Invalid NOTIFY");
		const char *v = val, *end = val + val_len;
		while (v < end) {
			const char *comma = memchr(v, ',', (size_t)(end - v));
			size_t n = (size_t)((comma != NULL ? comma : end) - v);
			unsigned bit = val_is(v, n, "NEVER")     ? SMTP_NOTIFY_NEVER
			               : val_is(v, n, "SUCCESS") ? SMTP_NOTIFY_SUCCESS
			               : val_is(v, n, "FAILURE") ? SMTP_NOTIFY_FAILURE
			               : val_is(v, n, "DELAY")   ? SMTP_NOTIFY_DELAY
			                                         : 0;
			if (bit == 0 || (p->notify & bit))
				return bad_value(detail_out, "Invalid NOTIFY");
			p->notify |= bit;
			v += n + (comma != NULL);
			if (comma != NULL && v == end)
				return bad_value(detail_out, "Invalid NOTIFY");
		}
		if ((p->notify & SMTP_NOTIFY_NEVER) && p->notify != SMTP_NOTIFY_NEVER)
			return bad_value(detail_out, "NOTIFY=NEVER stands alone");
	} else if (kw_is(kw, kw_len, "ORCPT")) {
		/* RFC 3461 section 4.2: ORCPT=addr-type ";" xtext */
		const char *semi = val != NULL ? memchr(val, ';', val_len) : NULL;
		if (p->orcpt != NULL || semi == NULL || semi == val || val_len > 500)
			return bad_value(detail_out, "Invalid ORCPT");
		for (const char *t = val; t < semi; t++)
			if (!isalnum((unsigned char)*t) && *t != '-')
				return bad_value(detail_out, "Invalid ORCPT");
		p->orcpt_type = arena_strndup(a, val, (size_t)(semi - val));
		p->orcpt = smtp_xtext_decode(a, semi + 1, (size_t)(val + val_len - semi - 1));
		if (p->orcpt == NULL || p->orcpt[0] == '\0')
			return bad_value(detail_out, "Invalid ORCPT");
	} else {
		*detail_out = "Unknown RCPT parameter";
		return SMTP_PARSE_PARAM_UNKNOWN;
	}
	return SMTP_PARSE_OK;
}

/* "FROM:" / "TO:", then optional spaces, then the path, then SP params. */
static enum smtp_parse_error
path_and_params(struct arena *a, const char *arg, const char *prefix, bool is_mail,
                struct smtp_path *out, const char **rest_out, const char **detail_out)
{
	size_t n = strlen(prefix);

	if (strncasecmp(arg, prefix, n) != 0) {
		*detail_out = is_mail ? "Syntax: MAIL FROM:<address>" : "Syntax: RCPT TO:<address>";
		return SMTP_PARSE_SYNTAX;
	}
	const char *s = arg + n;
	while (*s == ' ')
		s++;
	if (*s != '<') {
		*detail_out = is_mail ? "Syntax: MAIL FROM:<address>" : "Syntax: RCPT TO:<address>";
		return SMTP_PARSE_SYNTAX;
	}
	if (!path(a, &s, is_mail, !is_mail, out)) {
		*detail_out = is_mail ? "Invalid sender address" : "Invalid recipient address";
		return SMTP_PARSE_ADDRESS;
	}
	if (*s != '\0' && *s != ' ') {
		*detail_out = "Invalid parameter syntax";
		return SMTP_PARSE_SYNTAX;
	}
	*rest_out = s;
	return SMTP_PARSE_OK;
}

enum smtp_parse_error
smtp_mail_parse(struct arena *a, const char *arg, struct smtp_path *path_out,
                struct smtp_mail_params *params, const char **detail_out)
{
	const char *rest;
	enum smtp_parse_error e;

	memset(params, 0, sizeof(*params));
	*detail_out = "OK";
	e = path_and_params(a, arg, "FROM:", true, path_out, &rest, detail_out);
	if (e != SMTP_PARSE_OK)
		return e;
	return params_each(a, rest, mail_param, params, detail_out);
}

enum smtp_parse_error
smtp_rcpt_parse(struct arena *a, const char *arg, struct smtp_path *path_out,
                struct smtp_rcpt_params *params, const char **detail_out)
{
	const char *rest;
	enum smtp_parse_error e;

	memset(params, 0, sizeof(*params));
	*detail_out = "OK";
	e = path_and_params(a, arg, "TO:", false, path_out, &rest, detail_out);
	if (e != SMTP_PARSE_OK)
		return e;
	return params_each(a, rest, rcpt_param, params, detail_out);
}

bool
smtp_bdat_parse(const char *arg, uint64_t *size_out, bool *is_last_out)
{
	char digits[21];
	size_t n = strspn(arg, "0123456789");

	/* bdat-cmd = "BDAT" SP chunk-size [ SP end-marker ] CR LF */
	if (n == 0 || n > 20)
		return false;
	memcpy(digits, arg, n);
	digits[n] = '\0';
	if (!str_to_u64(digits, UINT64_MAX, size_out))
		return false;
	if (arg[n] == '\0') {
		*is_last_out = false;
		return true;
	}
	*is_last_out = arg[n] == ' ' && strcasecmp(arg + n + 1, "LAST") == 0;
	return *is_last_out;
}

/* ---- DATA ---- */

enum {
	DOT_BOL,    /* at the start of a line */
	DOT_MID,    /* inside a line */
	DOT_CR,     /* inside a line, after CR */
	DOT_DOT,    /* a line's leading '.' (dropped) */
	DOT_DOT_CR, /* "." CR at the start of a line */
};

void
smtp_dot_decoder_init(struct smtp_dot_decoder *d)
{
	d->state = DOT_BOL;
	d->is_done = false;
}

size_t
smtp_dot_decode(struct smtp_dot_decoder *d, const char *in, size_t len, char *out, size_t *out_len)
{
	size_t i = 0, n = 0;
	int st = d->state;

	while (i < len && !d->is_done) {
		char c = in[i];
		switch (st) {
		case DOT_BOL:
			if (c == '.') {
				st = DOT_DOT;
				i++;
				continue;
			}
			st = DOT_MID;
			continue; /* the byte again, as inside a line */
		case DOT_MID:
			/* The hot path: copy up to the next CR at once. */
			{
				const char *cr = memchr(in + i, '\r', len - i);
				size_t run = cr != NULL ? (size_t)(cr - (in + i)) : len - i;
				memcpy(out + n, in + i, run);
				n += run;
				i += run;
				if (cr != NULL) {
					out[n++] = '\r';
					i++;
					st = DOT_CR;
				}
			}
			continue;
		case DOT_CR:
			if (c == '\n') {
				out[n++] = c;
				i++;
				st = DOT_BOL;
			} else {
				st = DOT_MID;
			}
			continue;
		case DOT_DOT:
			if (c == '\r') {
				st = DOT_DOT_CR;
				i++;
			} else {
				st = DOT_MID;
			}
			continue;
		case DOT_DOT_CR:
			if (c == '\n') {
				d->is_done = true;
				i++;
				continue;
			}
			/* ".\r" then something else: the CR was data. */
			out[n++] = '\r';
			st = DOT_CR;
			continue;
		}
	}
	d->state = st;
	*out_len = n;
	return i;
}
