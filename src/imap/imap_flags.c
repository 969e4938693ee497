/* SPDX-License-Identifier: MIT */
/*
 * imap_flags.c: flag-list and date parsing. Keywords follow the atom syntax
 * (no '\\', no atom-specials); system flags are the five of RFC 9051
 * section 2.3.2. Dates are strict: the grammar is small and clients follow it.
 */
#include "imap/imap_flags.h"

#include <string.h>
#include <strings.h>
#include <time.h>

#include "lib/arena.h"
#include "store/store.h"

static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

const char *const imap_registered_keywords[IMAP_REGISTERED_KEYWORDS] = {
        "$Forwarded", "$MDNSent", "$Junk", "$NotJunk", "$Phishing", "$Important",
};

bool
imap_keyword_is_registered(const char *kw)
{
	for (size_t i = 0; i < IMAP_REGISTERED_KEYWORDS; i++)
		if (strcasecmp(imap_registered_keywords[i], kw) == 0)
			return true;
	return false;
}

static bool
is_keyword(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c <= ' ' || c >= 0x7f || strchr("(){%*\"\\]", c) != NULL)
			return false;
	}
	return true;
}

static bool
add_flag(struct arena *a, const struct imap_arg *f, struct imap_flag_list *out, size_t cap,
         const char **error_out)
{
	static const struct {
		const char *name;
		uint32_t bit;
	} system[] = {
	        {"\\Seen", STORE_FLAG_SEEN},       {"\\Answered", STORE_FLAG_ANSWERED},
	        {"\\Flagged", STORE_FLAG_FLAGGED}, {"\\Deleted", STORE_FLAG_DELETED},
	        {"\\Draft", STORE_FLAG_DRAFT},
	};

	if (f->type != IMAP_ARG_ATOM) {
		*error_out = "Flags must be atoms";
		return false;
	}
	if (f->str[0] == '\\') {
		for (size_t i = 0; i < sizeof(system) / sizeof(system[0]); i++) {
			if (strcasecmp(f->str, system[i].name) == 0) {
				out->flags |= system[i].bit;
				return true;
			}
		}
		*error_out = strcasecmp(f->str, "\\Recent") == 0 ? "\\Recent cannot be set"
		                                                 : "Unknown system flag";
		return false;
	}
	if (!is_keyword(f->str)) {
		*error_out = "Invalid keyword";
		return false;
	}
	for (size_t i = 0; i < out->n_keywords; i++)
		if (strcasecmp(out->keywords[i], f->str) == 0)
			return true;
	if (out->n_keywords < cap)
		out->keywords[out->n_keywords++] = arena_strdup(a, f->str);
	return true;
}

bool
imap_flag_list_parse(struct arena *a, const struct imap_arg *arg, struct imap_flag_list *out,
                     const char **error_out)
{
	memset(out, 0, sizeof(*out));
	if (arg->type != IMAP_ARG_LIST) {
		out->keywords = arena_alloc(a, sizeof(char *));
		return add_flag(a, arg, out, 1, error_out);
	}
	out->keywords = arena_alloc(a, (arg->count + 1) * sizeof(char *));
	for (size_t i = 0; i < arg->count; i++)
		if (!add_flag(a, &arg->list[i], out, arg->count, error_out))
			return false;
	return true;
}

static int
month_index(const char *m)
{
	for (int i = 0; i < 12; i++)
		if (strncasecmp(m, months[i], 3) == 0)
			return i;
	return -1;
}

static bool
valid_day(int day, int mon, int year)
{
	static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	if (day < 1 || day > days[mon])
		return false;
	return !(mon == 1 && day == 29 && !leap);
}

/* n decimal digits at s, nothing else (sscanf would take signs and
   blanks: "+-800" was once read as a zone of -8 hours). */
static bool
read_digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

bool
imap_date_time_parse(const char *s, int64_t *out)
{
	int day, m, year, hh, mm, ss, zh, zm;

	/* date-time = DQUOTE date-day-fixed "-" date-month "-" date-year
	               SP time SP zone DQUOTE, here without the quotes:
	   "DD-Mon-YYYY HH:MM:SS +HHMM", 26 bytes, each in its place */
	if (strlen(s) != 26 || s[2] != '-' || s[6] != '-' || s[11] != ' ' || s[14] != ':' ||
	    s[17] != ':' || s[20] != ' ' || (s[21] != '+' && s[21] != '-'))
		return false;
	/* date-day-fixed = (SP DIGIT) / 2DIGIT */
	if (!(s[0] == ' ' ? read_digits(s + 1, 1, &day) : read_digits(s, 2, &day)))
		return false;
	char mon[4] = {s[3], s[4], s[5], '\0'};
	m = month_index(mon);
	if (m < 0 || !read_digits(s + 7, 4, &year) || !read_digits(s + 12, 2, &hh) ||
	    !read_digits(s + 15, 2, &mm) || !read_digits(s + 18, 2, &ss) ||
	    !read_digits(s + 22, 2, &zh) || !read_digits(s + 24, 2, &zm))
		return false;
	if (year < 1900 || !valid_day(day, m, year) || hh > 23 || mm > 59 || ss > 60 || zm > 59)
		return false;
	struct tm tm = {.tm_year = year - 1900,
	                .tm_mon = m,
	                .tm_mday = day,
	                .tm_hour = hh,
	                .tm_min = mm,
	                .tm_sec = ss};
	int64_t t = (int64_t)timegm(&tm);
	/* zone = ("+" / "-") 4DIGIT: the local time is UTC plus the offset */
	int64_t off = (int64_t)zh * 3600 + (int64_t)zm * 60;
	*out = s[21] == '+' ? t - off : t + off;
	return true;
}

const char *
imap_date_time_format(struct arena *a, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	return arena_printf(a, "%02d-%s-%04d %02d:%02d:%02d +0000", tm.tm_mday, months[tm.tm_mon],
	                    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

bool
imap_date_parse(const char *s, int64_t *out)
{
	/* date-text = date-day "-" date-month "-" date-year; date-day = 1*2DIGIT */
	size_t dlen = s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9' ? 2 : 1;
	int day, m, year;

	if (strlen(s) != dlen + 9 || !read_digits(s, (int)dlen, &day) || s[dlen] != '-' ||
	    s[dlen + 4] != '-')
		return false;
	char mon[4] = {s[dlen + 1], s[dlen + 2], s[dlen + 3], '\0'};
	m = month_index(mon);
	if (m < 0 || !read_digits(s + dlen + 5, 4, &year) || year < 1900 ||
	    !valid_day(day, m, year))
		return false;
	struct tm tm = {.tm_year = year - 1900, .tm_mon = m, .tm_mday = day};
	*out = (int64_t)timegm(&tm);
	return true;
}
