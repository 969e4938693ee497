/* SPDX-License-Identifier: MIT */
/*
 * sortkeys.c: what SORT and THREAD compare, computed once at delivery:
 * sent date (RFC 5256 section 2.2 via RFC 5322 section 3.3 dates), decoded
 * and base subject (RFC 5256 section 2.1, followed step by step), first
 * address and display name (RFC 5256 FROM/TO/CC, RFC 5957 DISPLAYFROM and
 * DISPLAYTO), and the message-id fields THREAD=REFERENCES needs. Header
 * values are hostile: every parser here returns "" or 0 on garbage.
 */
#include "mail/sortkeys.h"

#include <string.h>
#include <strings.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "mail/envelope.h"
#include "mail/message.h"
#include "mail/rfc2047.h"

/* ---- dates ---- */

static void
skip_cfws(const char **pp)
{
	const char *p = *pp;

	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (*p != '(')
			break;
		int depth = 0;
		for (; *p != '\0'; p++) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			else if (*p == '(')
				depth++;
			else if (*p == ')' && --depth == 0) {
				p++;
				break;
			}
		}
	}
	*pp = p;
}

static bool
is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Reads 1..max digits; returns the count (0 when none). */
static int
read_num(const char **pp, int max, long *v)
{
	int n = 0;

	*v = 0;
	while (n < max && is_digit(**pp)) {
		*v = *v * 10 + (**pp - '0');
		(*pp)++;
		n++;
	}
	return n;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; H. Hinnant's method). */
static long long
days_from_civil(long y, long m, long d)
{
	y -= m <= 2;
	long long era = (y >= 0 ? y : y - 399) / 400;
	long long yoe = y - era * 400;
	long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int
zone_offset(const char **pp, bool *ok)
{
	static const struct {
		const char *name;
		int minutes;
	} zones[] = {
	        {"UT", 0},        {"UTC", 0},       {"GMT", 0},       {"Z", 0},
	        {"EST", -5 * 60}, {"EDT", -4 * 60}, {"CST", -6 * 60}, {"CDT", -5 * 60},
	        {"MST", -7 * 60}, {"MDT", -6 * 60}, {"PST", -8 * 60}, {"PDT", -7 * 60},
	};
	const char *p = *pp;

	*ok = true;
	if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1;
		long v;
		p++;
		if (read_num(&p, 4, &v) != 4 || v % 100 >= 60) {
			*ok = false;
			return 0;
		}
		*pp = p;
		return sign * (int)(v / 100 * 60 + v % 100);
	}
	const char *s = p;
	while (is_alpha(*p))
		p++;
	size_t n = (size_t)(p - s);
	*pp = p;
	if (n == 0)
		return 0; /* no zone: read as UTC */
	for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
		if (strlen(zones[i].name) == n && strncasecmp(zones[i].name, s, n) == 0)
			return zones[i].minutes;
	}
	/* Military zones and unknown names: RFC 5322 section 4.3 says to
	   treat them as -0000, i.e. UTC with no information. */
	return 0;
}

time_t
mail_date_parse(const char *s)
{
	int zone;

	return mail_date_parse_zone(s, &zone);
}

time_t
mail_date_parse_zone(const char *s, int *zone_out)
{
	static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";
	const char *p = s;
	long day, year, hour, min, sec = 0;
	bool ok;

	*zone_out = 0;
	if (s == NULL)
		return 0;
	skip_cfws(&p);
	if (is_alpha(*p)) {
		/* [day-of-week ","] */
		while (is_alpha(*p))
			p++;
		skip_cfws(&p);
		if (*p == ',')
			p++;
		skip_cfws(&p);
	}
	if (read_num(&p, 2, &day) == 0 || day < 1 || day > 31)
		return 0;
	skip_cfws(&p);
	if (*p == '-')
		p++; /* "3-Feb-2020" from some old mailers */
	const char *m = p;
	while (is_alpha(*p))
		p++;
	if (p - m < 3)
		return 0;
	long month = 0;
	for (int i = 0; i < 12; i++) {
		if (strncasecmp(m, months + 3 * i, 3) == 0)
			month = i + 1;
	}
	if (month == 0)
		return 0;
	skip_cfws(&p);
	if (*p == '-')
		p++;
	int ydigits = read_num(&p, 4, &year);
	if (ydigits < 2)
		return 0;
	if (ydigits == 2)
		year += year < 50 ? 2000 : 1900; /* RFC 5322 section 4.3 */
	else if (ydigits == 3)
		year += 1900;
	skip_cfws(&p);
	if (read_num(&p, 2, &hour) == 0 || hour > 23)
		return 0;
	skip_cfws(&p);
	if (*p != ':')
		return 0;
	p++;
	skip_cfws(&p);
	if (read_num(&p, 2, &min) == 0 || min > 59)
		return 0;
	skip_cfws(&p);
	if (*p == ':') {
		p++;
		skip_cfws(&p);
		if (read_num(&p, 2, &sec) == 0 || sec > 60)
			return 0;
		skip_cfws(&p);
	}
	int zone = zone_offset(&p, &ok);
	if (!ok)
		return 0;
	long long t = days_from_civil(year, month, day) * 86400LL + hour * 3600 + min * 60 + sec -
	              (long long)zone * 60;
	*zone_out = zone;
	return (time_t)t;
}

/* ---- base subject (RFC 5256 section 2.1) ---- */

static bool
is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* subj-blob = "[" *BLOBCHAR "]" *WSP; returns its length at p, or 0. */
static size_t
blob_len(const char *p)
{
	if (*p != '[')
		return 0;
	const char *q = p + 1;
	while (*q != '\0' && *q != '[' && *q != ']')
		q++;
	if (*q != ']')
		return 0;
	q++;
	while (is_wsp(*q))
		q++;
	return (size_t)(q - p);
}

/* subj-leader = (*subj-blob subj-refwd) / WSP; returns its length, or 0. */
static size_t
leader_len(const char *p)
{
	if (is_wsp(*p))
		return 1;
	const char *q = p;
	size_t n;
	while ((n = blob_len(q)) > 0)
		q += n;
	/* subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":" */
	if (strncasecmp(q, "re", 2) == 0)
		q += 2;
	else if (strncasecmp(q, "fwd", 3) == 0)
		q += 3;
	else if (strncasecmp(q, "fw", 2) == 0)
		q += 2;
	else
		return 0;
	while (is_wsp(*q))
		q++;
	q += blob_len(q);
	if (*q != ':')
		return 0;
	return (size_t)(q + 1 - p);
}

static bool
has_nonwsp(const char *p)
{
	for (; *p != '\0'; p++) {
		if (!is_wsp(*p))
			return true;
	}
	return false;
}

char *
mail_base_subject(struct arena *a, const char *subject)
{
	size_t len = strlen(subject);
	char *s = arena_alloc(a, len + 1);
	size_t n = 0;

	/* (1) tabs to spaces, runs of spaces to one */
	for (size_t i = 0; i < len; i++) {
		char c = subject[i] == '\t' || subject[i] == '\r' || subject[i] == '\n'
		                 ? ' '
		                 : subject[i];
		if (c == ' ' && n > 0 && s[n - 1] == ' ')
			continue;
		s[n++] = c;
	}
	s[n] = '\0';

	char *start = s;
	size_t end = n; /* start[0..end) is the current text */
	for (;;) {
		/* (2) trailing "(fwd)" and blanks */
		for (;;) {
			if (end > 0 && is_wsp(start[end - 1]))
				end--;
			else if (end >= 5 && strncasecmp(start + end - 5, "(fwd)", 5) == 0)
				end -= 5;
			else
				break;
		}
		start[end] = '\0';
		/* (3)-(5) leaders and blobs */
		for (bool changed = true; changed;) {
			changed = false;
			size_t l;
			while ((l = leader_len(start)) > 0) {
				start += l;
				end -= l;
				changed = true;
			}
			l = blob_len(start);
			if (l > 0 && has_nonwsp(start + l)) {
				start += l;
				end -= l;
				changed = true;
			}
		}
		/* (6) "[fwd:" ... "]" */
		if (end >= 6 && strncasecmp(start, "[fwd:", 5) == 0 && start[end - 1] == ']') {
			start += 5;
			end -= 6;
			start[end] = '\0';
			continue;
		}
		break;
	}
	return start;
}

/* ---- message-ids ---- */

const char *
mail_msgids(struct arena *a, const char *value, bool first_only, bool need_at)
{
	struct buf b;
	const char *p = value;

	if (value == NULL)
		return "";
	buf_init(&b);
	for (;;) {
		skip_cfws(&p);
		if (*p == '\0')
			break;
		if (*p != '<') {
			p++;
			continue;
		}
		const char *q = ++p;
		while (*q != '\0' && *q != '>' && *q != '<')
			q++;
		if (*q != '>') {
			p = q;
			continue;
		}
		size_t mark = b.len;
		if (b.len > 0)
			buf_putc(&b, ' ');
		buf_putc(&b, '<');
		bool at = false, any = false;
		for (const char *r = p; r < q; r++) {
			if (*r == ' ' || *r == '\t' || *r == '\r' || *r == '\n')
				continue;
			at |= *r == '@';
			any = true;
			buf_putc(&b, *r);
		}
		buf_putc(&b, '>');
		p = q + 1;
		if (!any || (need_at && !at)) {
			b.len = mark;
			b.data[b.len] = '\0';
			continue;
		}
		if (first_only)
			break;
	}
	if (b.len == 0 && !need_at) {
		/* "Message-ID: abc@example.com": a bare id, given its brackets. */
		const char *s = value;
		skip_cfws(&s);
		size_t l = strcspn(s, " \t\r\n(<>");
		const char *rest = s + l;
		skip_cfws(&rest);
		if (l > 0 && *rest == '\0' && memchr(s, '@', l) != NULL)
			buf_printf(&b, "<%.*s>", (int)l, s);
	}
	const char *r = arena_strndup(a, b.data != NULL ? b.data : "", b.len);
	buf_deinit(&b);
	return r;
}

/* ---- addresses ---- */

static char *
lower(struct arena *a, const char *s)
{
	char *l = arena_strdup(a, s);

	for (char *p = l; *p != '\0'; p++) {
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p + 32);
	}
	return l;
}

/* RFC 5256: the first address's mailbox (here with its domain). */
static const char *
addr_key(struct arena *a, const struct mail_address *ad)
{
	if (ad == NULL || ad->mailbox == NULL)
		return "";
	if (ad->domain == NULL || *ad->domain == '\0')
		return lower(a, ad->mailbox);
	return lower(a, arena_printf(a, "%s@%s", ad->mailbox, ad->domain));
}

/* RFC 5957 section 3: decoded name, else mailbox@host, else mailbox. */
static const char *
display_key(struct arena *a, const struct mail_address *ad)
{
	if (ad == NULL)
		return "";
	if (ad->name != NULL) {
		const char *d =
		        mail_rfc2047_decode(a, (const unsigned char *)ad->name, strlen(ad->name));
		if (*d != '\0')
			return d;
	}
	if (ad->mailbox == NULL)
		return "";
	if (ad->domain != NULL && *ad->domain != '\0' && *ad->mailbox != '\0')
		return arena_printf(a, "%s@%s", ad->mailbox, ad->domain);
	return ad->mailbox;
}

void
mail_sortkeys_fill(struct arena *a, const struct mail_envelope *env, struct mail_parsed *out)
{
	out->sent_date = mail_date_parse(env->date);
	out->subject = env->subject == NULL
	                       ? ""
	                       : mail_rfc2047_decode(a, (const unsigned char *)env->subject,
	                                             strlen(env->subject));
	out->base_subject = mail_base_subject(a, out->subject);
	out->from_addr = addr_key(a, env->from);
	out->from_display = display_key(a, env->from);
	out->to_addr = addr_key(a, env->to);
	out->to_display = display_key(a, env->to);
	out->cc_addr = addr_key(a, env->cc);
	out->message_id = mail_msgids(a, env->message_id, true, false);
	out->in_reply_to = mail_msgids(a, env->in_reply_to, true, true);
	out->references = mail_msgids(a, env->references, false, true);
}
