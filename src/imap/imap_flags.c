/* SPDX-License-Identifier: MIT */
/*
 * imap_flags.c: flag-list and date parsing. Keywords follow the atom syntax
 * (no '\\', no atom-specials); system flags are the five of RFC 9051
 * section 2.3.2. Dates are strict: the grammar is small and clients follow it.
 */
#include "imap/imap_flags.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lib/arena.h"
#include "store/store.h"

static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

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

bool
imap_date_time_parse(const char *s, int64_t *out)
{
	char mon[4];
	int day, year, hh, mm, ss, zone, n = 0;
	char sign;

	/* date-day-fixed = (SP DIGIT) / 2DIGIT */
	if (s[0] == ' ')
		s++;
	if (sscanf(s, "%2d-%3c-%4d %2d:%2d:%2d %c%4d%n", &day, mon, &year, &hh, &mm, &ss, &sign,
	           &zone, &n) != 8 ||
	    s[n] != '\0' || (sign != '+' && sign != '-') || strlen(s) < 25)
		return false;
	mon[3] = '\0';
	int m = month_index(mon);
	if (m < 0 || year < 1900 || !valid_day(day, m, year) || hh > 23 || mm > 59 || ss > 60 ||
	    zone % 100 > 59 || zone > 9999)
		return false;
	struct tm tm = {.tm_year = year - 1900,
	                .tm_mon = m,
	                .tm_mday = day,
	                .tm_hour = hh,
	                .tm_min = mm,
	                .tm_sec = ss};
	int64_t t = (int64_t)timegm(&tm);
	int64_t off = (int64_t)((zone / 100) * 3600 + (zone % 100) * 60);
	*out = sign == '+' ? t - off : t + off;
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
	char mon[4];
	int day, year, n = 0;

	if (sscanf(s, "%2d-%3c-%4d%n", &day, mon, &year, &n) != 3 || s[n] != '\0')
		return false;
	mon[3] = '\0';
	int m = month_index(mon);
	if (m < 0 || year < 1900 || !valid_day(day, m, year))
		return false;
	struct tm tm = {.tm_year = year - 1900, .tm_mon = m, .tm_mday = day};
	*out = (int64_t)timegm(&tm);
	return true;
}
