/* SPDX-License-Identifier: MIT */
/*
 * imap_url.c: IMAP URL parsing and resolution (imap_url.h). The grammar,
 * RFC 5092 section 11 with RFC 4467 section 9's URLAUTH:
 *
 *   imapurl        = "imap://" iserver ipath-query  /  "/" imessagepart
 *   iserver        = [iuserinfo "@"] host [":" port]
 *   imessagepart   = imailbox-ref iuid [isection] [ipartial] [iurlauth]
 *   imailbox-ref   = enc-mailbox [";UIDVALIDITY=" nz-number]
 *   iuid           = "/;UID=" nz-number
 *   isection       = "/;SECTION=" enc-section
 *   ipartial       = "/;PARTIAL=" number ["." nz-number]
 *   iurlauth       = [";EXPIRE=" date-time] ";URLAUTH=" access
 *                    [":" uauth-mechanism ":" enc-urlauth]
 *
 * Every enc-* field is %-decoded (RFC 3986); a decoded NUL, or a mailbox
 * that is not valid UTF-8, is refused. Mailbox names are UTF-8 (RFC 5092
 * section 3).
 */
#include "imap/imap_url.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap/imap_fetch_parse.h"
#include "imap/mutf7.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/util.h"
#include "mail/binary.h"
#include "mail/bodystructure.h"
#include "mail/mime.h"

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* s[0..len) %-decoded into a; NULL when an escape is broken or makes NUL. */
static const char *
pct_decode(struct arena *a, const char *s, size_t len)
{
	char *out = arena_alloc(a, len + 1);
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] != '%') {
			out[n++] = s[i];
			continue;
		}
		int h = i + 2 < len ? hexval(s[i + 1]) : -1, l = h >= 0 ? hexval(s[i + 2]) : -1;
		if (h < 0 || l < 0 || (h == 0 && l == 0))
			return NULL;
		out[n++] = (char)(h * 16 + l);
		i += 2;
	}
	out[n] = '\0';
	return out;
}

static bool
parse_u64(const char *s, size_t len, bool nz, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0 || len > 20 || (nz && s[0] == '0'))
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9' || v > (max - (uint64_t)(s[i] - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (nz && v == 0)
		return false;
	*out = v;
	return true;
}

/* RFC 3339 date-time ("2024-03-01T12:00:00Z", "...+01:00"), as UTC seconds. */
static bool
parse_expire(const char *s, int64_t *out)
{
	int y, mo, d, h, mi, sec, n = 0;

	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 ||
	    n != 19 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return false;
	const char *p = s + n;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	int64_t zone = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int zh, zm;
		if (sscanf(p + 1, "%2d:%2d%n", &zh, &zm, &n) != 2 || n != 5 || zh > 23 || zm > 59)
			return false;
		zone = (*p == '-' ? -1 : 1) * (zh * 3600 + zm * 60);
		p += 6;
	} else {
		return false;
	}
	if (*p != '\0')
		return false;
	/* Days from 1970-01-01 (H. Hinnant's days_from_civil). */
	int64_t yy = y - (mo <= 2);
	int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
	int64_t yoe = yy - era * 400;
	int64_t doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t days = era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
	*out = days * 86400 + h * 3600 + mi * 60 + sec - zone;
	return true;
}

/* The ";KEY=" at p, case-insensitively. */
static bool
has_key(const char *p, const char *key)
{
	return strncasecmp(p, key, strlen(key)) == 0;
}

/* The end of the field starting at p: the next '/', ';' or the end. */
static const char *
field_end(const char *p)
{
	return p + strcspn(p, "/;");
}

bool
imap_url_parse(struct arena *a, const char *url, struct imap_url *out, const char **error_out)
{
	const char *p = url, *e;
	uint64_t v;

	memset(out, 0, sizeof(*out));
	*error_out = "Invalid IMAP URL";
	if (strncasecmp(p, "imap://", 7) == 0) {
		out->is_absolute = true;
		p += 7;
		e = p + strcspn(p, "/");
		/* The last '@': an address left unescaped in the user still
		   parses. */
		const char *at = memrchr(p, '@', (size_t)(e - p));
		if (at != NULL) {
			/* iuserinfo = enc-user [";AUTH=" ...]: the mechanism is
			   not ours to check here. */
			const char *semi = memchr(p, ';', (size_t)(at - p));
			out->user = pct_decode(a, p, (size_t)((semi != NULL ? semi : at) - p));
			if (out->user == NULL || *out->user == '\0')
				return false;
			p = at + 1;
		}
		if (p == e)
			return false;
		out->host = arena_strndup(a, p, (size_t)(e - p));
		p = e;
	}
	if (*p != '/')
		return false;
	p++;
	/* imailbox-ref: enc-mailbox may hold '/' (bchar, RFC 5092 section
	   11: "Other Users/bob/Team"); it ends at the first ';', less the
	   '/' of a following "/;UID=". */
	e = p + strcspn(p, ";");
	if (e > p && e[-1] == '/' && *e == ';')
		e--;
	out->mailbox = pct_decode(a, p, (size_t)(e - p));
	if (out->mailbox == NULL || *out->mailbox == '\0' || !imap_utf8_is_valid(out->mailbox))
		return false;
	p = e;
	if (has_key(p, ";UIDVALIDITY=")) {
		p += 13;
		e = field_end(p);
		if (!parse_u64(p, (size_t)(e - p), true, UINT32_MAX, &v))
			return false;
		out->uidvalidity = (uint32_t)v;
		p = e;
	}
	if (!has_key(p, "/;UID=")) {
		*error_out = "The URL names no message";
		return false;
	}
	p += 6;
	e = field_end(p);
	if (!parse_u64(p, (size_t)(e - p), true, UINT32_MAX, &v))
		return false;
	out->uid = (uint32_t)v;
	p = e;
	if (has_key(p, "/;SECTION=")) {
		p += 10;
		e = field_end(p);
		out->section = pct_decode(a, p, (size_t)(e - p));
		if (out->section == NULL || *out->section == '\0')
			return false;
		p = e;
	}
	if (has_key(p, "/;PARTIAL=")) {
		p += 10;
		e = field_end(p);
		const char *dot = memchr(p, '.', (size_t)(e - p));
		if (!parse_u64(p, (size_t)((dot ? dot : e) - p), false, UINT64_MAX,
		               &out->partial_offset))
			return false;
		out->partial_length = UINT64_MAX;
		if (dot != NULL && !parse_u64(dot + 1, (size_t)(e - dot - 1), true, UINT64_MAX,
		                              &out->partial_length))
			return false;
		out->has_partial = true;
		p = e;
	}
	if (has_key(p, ";EXPIRE=")) {
		p += 8;
		e = field_end(p);
		const char *t = arena_strndup(a, p, (size_t)(e - p));
		if (!parse_expire(t, &out->expire))
			return false;
		p = e;
	}
	if (has_key(p, ";URLAUTH=")) {
		p += 9;
		/* access = ("submit+" / "user+") enc-user / "authuser" / "anonymous" */
		e = p + strcspn(p, ":/;");
		const char *access = pct_decode(a, p, (size_t)(e - p));
		if (access == NULL ||
		    !(strcasecmp(access, "authuser") == 0 || strcasecmp(access, "anonymous") == 0 ||
		      ((strncasecmp(access, "user+", 5) == 0 ||
		        strncasecmp(access, "submit+", 7) == 0) &&
		       strchr(access, '+')[1] != '\0')))
			return false;
		out->access = access;
		out->rump_len = (size_t)(e - url);
		p = e;
		if (*p == ':') {
			/* iua-verifier = ":" uauth-mechanism ":" enc-urlauth */
			const char *m = ++p;
			p += strcspn(p, ":");
			if (*p != ':' || p == m)
				return false;
			out->mechanism = arena_strndup(a, m, (size_t)(p - m));
			out->token = ++p;
			p += strlen(p);
			if (*out->token == '\0')
				return false;
			out->token = arena_strdup(a, out->token);
		}
	}
	if (*p != '\0')
		return false;
	return true;
}

/* The part a section path names, IMAP's way (RFC 9051 6.4.5: a
   non-multipart message has one part, 1, its body; message/rfc822 parts
   number the message inside). NULL when there is none. */
static const struct mail_mime_part *
part_find(const struct mail_mime_part *root, const uint32_t *path, size_t n)
{
	const struct mail_mime_part *p = root;

	for (size_t i = 0; i < n; i++) {
		const struct mail_mime_part *container = p;
		if (i > 0) {
			if (p->kind == MAIL_MIME_MESSAGE)
				container = p->children;
			else if (p->kind != MAIL_MIME_MULTIPART)
				return NULL;
		}
		if (container == NULL)
			return NULL;
		if (container->kind == MAIL_MIME_MULTIPART) {
			p = container->children;
			for (uint32_t k = 1; p != NULL && k < path[i]; k++)
				p = p->next;
			if (p == NULL)
				return NULL;
		} else if (path[i] == 1) {
			p = container;
		} else {
			return NULL;
		}
	}
	return p;
}

/* RFC 5524 BODYPARTSTRUCTURE: the part's BODYSTRUCTURE, from the message
   parsed again (a rare command; the cached string is the whole message's).
   With BINARY it describes the decoded data: sizes and line counts of the
   decoded bodies, the encodings still named as sent (as Dovecot has it). */
static int
part_structure(struct store_mailbox *mbox, uint32_t uid, const struct imap_fetch_item *it,
               bool binary, struct arena *a, const char **out, enum store_error *err_out)
{
	struct buf msg, b;
	int rc = -1;

	buf_init(&msg);
	buf_init(&b);
	if (store_message_read(mbox, uid, 0, UINT64_MAX, &msg, err_out) == 0) {
		if (binary) {
			struct buf dec;
			buf_init(&dec);
			if (mail_binary_decode_entity(
			            a, (const unsigned char *)(msg.data ? msg.data : ""), msg.len,
			            MAIL_BINARY_WITH_HEADER | MAIL_BINARY_KEEP_CTE, &dec) == 0) {
				buf_deinit(&msg);
				msg = dec;
			} else {
				buf_deinit(&dec);
			}
		}
		const unsigned char *bytes = (const unsigned char *)(msg.data ? msg.data : "");
		const struct mail_mime_part *root = mail_mime_parse(a, bytes, msg.len);
		const struct mail_mime_part *part = part_find(root, it->path, it->path_len);
		if (part != NULL) {
			mail_bodystructure_write(a, part, bytes, true, &b);
			*out = arena_strndup(a, b.data != NULL ? b.data : "", b.len);
			rc = 0;
		} else {
			*err_out = STORE_ERR_NOTFOUND;
		}
	}
	buf_deinit(&b);
	buf_deinit(&msg);
	return rc;
}

int
imap_url_fetch(struct store_account *acct, const struct imap_url *u, bool binary,
               imap_section_write_fn *write, void *ctx, struct arena *a, const char **structure_out,
               const char **why_out)
{
	struct store_mailbox *mbox;
	struct store_mailbox_info minfo;
	struct store_message_info info;
	struct imap_fetch_item it;
	const char *error;
	enum store_error err;
	bool unknown_cte;
	int rc = -1;

	*why_out = "The URL names no message";
	/* The item a FETCH would ask: "BODY[<section>]". */
	const char *atom = arena_printf(a, "%s[%s]", binary ? "BINARY" : "BODY",
	                                u->section != NULL ? u->section : "");
	if (!imap_fetch_item_parse(a, atom, &it, &error))
		return -1;
	it.has_partial = u->has_partial;
	it.partial_offset = u->partial_offset;
	it.partial_length = u->partial_length;
	if (store_mailbox_open(acct, u->mailbox, STORE_OPEN_READONLY, &mbox, &err) < 0) {
		if (err != STORE_ERR_NOTFOUND)
			*why_out = "Temporary failure, try again";
		return -1;
	}
	store_mailbox_info_get(mbox, &minfo);
	if ((u->uidvalidity != 0 && u->uidvalidity != minfo.uidvalidity) ||
	    store_mailbox_seq(mbox, u->uid) == 0)
		goto out;
	if (store_message_lookup(mbox, &u->uid, 1, STORE_FETCH_PARTS, a, &info, &err) < 0 ||
	    info.uid == 0) {
		if (info.uid != 0)
			*why_out = "Temporary failure, try again";
		goto out;
	}
	if (structure_out != NULL &&
	    part_structure(mbox, u->uid, &it, binary, a, structure_out, &err) < 0)
		goto out;
	int c = imap_section_copy(mbox, &info, &it, binary, write, ctx, &unknown_cte, &err);
	if (c == 0)
		rc = 0;
	else if (c < 0 && unknown_cte)
		*why_out = "Unknown Content-Transfer-Encoding";
	else if (c < 0 && err != STORE_ERR_EXPUNGED)
		*why_out = "Temporary failure, try again";
out:
	store_mailbox_close(&mbox);
	return rc;
}
