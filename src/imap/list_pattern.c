/* SPDX-License-Identifier: MIT */
/*
 * list_pattern.c: matching of LIST patterns (list_pattern.h) without
 * backtracking. A recursive matcher tries every split for every wildcard:
 * "*%*%*%...x" takes exponential time, and a million '*' a million stack
 * frames. Here the pattern is first reduced: a run of wildcards is one '*'
 * if it holds a '*', else one '%', and a name shorter than the pattern's
 * literal bytes cannot match. Then one pass over the name keeps, for each
 * pattern position, whether the name read so far can end there (the rows
 * of the usual dynamic programme, two at a time): O(name x pattern), and
 * the reduced pattern is at most twice the name plus one long when a match
 * is possible at all.
 */
#include "imap/list_pattern.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "lib/arena.h"

struct imap_list_pattern {
	char *pat;        /* reduced: no two wildcards in a row */
	size_t len;       /* of pat */
	size_t literals;  /* non-wildcard bytes in pat */
	bool inbox_first; /* pat starts with "INBOX" in any case */
	bool *cur, *next; /* len + 1 each: the two rows */
};

static bool
is_wild(char c)
{
	return c == '*' || c == '%';
}

struct imap_list_pattern *
imap_list_pattern_new(struct arena *a, const char *pat)
{
	struct imap_list_pattern *p = arena_zalloc(a, sizeof(*p));
	size_t n = strlen(pat);

	p->pat = arena_alloc(a, n + 1);
	for (size_t i = 0; i < n;) {
		if (!is_wild(pat[i])) {
			p->pat[p->len++] = pat[i++];
			p->literals++;
			continue;
		}
		/* "%*" and "*%" match what "*" does; "%%" what "%" does */
		char w = '%';
		for (; i < n && is_wild(pat[i]); i++)
			if (pat[i] == '*')
				w = '*';
		p->pat[p->len++] = w;
	}
	p->pat[p->len] = '\0';
	p->inbox_first = strncasecmp(p->pat, "INBOX", 5) == 0;
	p->cur = arena_alloc(a, p->len + 1);
	p->next = arena_alloc(a, p->len + 1);
	return p;
}

bool
imap_list_pattern_matches(struct imap_list_pattern *p, const char *name)
{
	size_t m = p->len;
	/* INBOX is case-insensitive (RFC 9051 section 5.1): the pattern's
	   first five letters then match the name's "INBOX" in any case. */
	bool fold = p->inbox_first && strncmp(name, "INBOX", 5) == 0;
	bool *cur = p->cur, *next = p->next;

	if (strlen(name) < p->literals)
		return false; /* each literal byte takes one name byte */
	/* cur[j]: the name read so far matches pat[0..j). A wildcard may
	   match nothing, so each row is closed over wildcards as it is made. */
	cur[0] = true;
	for (size_t j = 0; j < m; j++)
		cur[j + 1] = cur[j] && is_wild(p->pat[j]);
	for (size_t i = 0; name[i] != '\0'; i++) {
		char c = name[i];
		bool any = false;

		next[0] = false;
		for (size_t j = 0; j < m; j++) {
			char pc = p->pat[j];
			bool v;
			if (pc == '*')
				v = cur[j + 1] || next[j];
			else if (pc == '%')
				v = (cur[j + 1] && c != '/') || next[j];
			else if (fold && j < 5)
				v = cur[j] && toupper((unsigned char)pc) == c;
			else
				v = cur[j] && pc == c;
			next[j + 1] = v;
			any = any || v;
		}
		if (!any)
			return false;
		bool *t = cur;
		cur = next;
		next = t;
	}
	return cur[m];
}
