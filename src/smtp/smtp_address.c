/* SPDX-License-Identifier: MIT */
/*
 * smtp_address.c: local domains, the relay rules and From: addresses
 * (smtp_address.h). The table of refused spellings is in the header; each
 * has an integration test (tests/integration/test_smtp_relay.py).
 */
#include "smtp/smtp_address.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/arena.h"
#include "lib/util.h"
#include "mail/address.h"
#include "mail/header.h"
#include "smtp/smtp_parse.h"

static char *
lower_dup(const char *s, size_t n)
{
	char *p = xstrndup(s, n);

	for (char *q = p; *q != '\0'; q++)
		*q = (char)tolower((unsigned char)*q);
	return p;
}

void
smtp_domains_parse(struct smtp_domains *d, const char *list, const char *fallback)
{
	const char *s = list;

	memset(d, 0, sizeof(*d));
	while (*s != '\0') {
		s += strspn(s, " ,");
		size_t n = strcspn(s, " ,");
		if (n == 0)
			break;
		d->v = xrealloc(d->v, (d->n + 1) * sizeof(*d->v));
		d->v[d->n++] = lower_dup(s, n);
		s += n;
	}
	if (d->n == 0) {
		d->v = xmalloc(sizeof(*d->v));
		d->v[d->n++] = lower_dup(fallback, strlen(fallback));
	}
}

void
smtp_domains_free(struct smtp_domains *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->v[i]);
	free(d->v);
	memset(d, 0, sizeof(*d));
}

const char *
smtp_domains_primary(const struct smtp_domains *d)
{
	return d->n > 0 ? d->v[0] : "localhost";
}

bool
smtp_domains_has(const struct smtp_domains *d, const char *domain)
{
	for (size_t i = 0; i < d->n; i++)
		if (strcasecmp(d->v[i], domain) == 0)
			return true;
	return false;
}

char *
smtp_address_lower(struct arena *a, const char *address)
{
	char *p = arena_strdup(a, address);

	for (char *q = p; *q != '\0'; q++)
		if ((unsigned char)*q < 0x80)
			*q = (char)tolower((unsigned char)*q);
	return p;
}

static enum smtp_addr_class
refuse(const char **why_out, const char *why)
{
	*why_out = why;
	return SMTP_ADDR_REFUSED;
}

enum smtp_addr_class
smtp_address_classify(struct arena *a, const struct smtp_path *p, const struct smtp_domains *local,
                      bool allow_remote, const char **address_out, const char **why_out)
{
	*address_out = NULL;
	*why_out = NULL;
	if (p->is_postmaster) {
		/* RFC 5321 section 4.1.1.3: always accepted, without a domain. */
		*address_out = arena_printf(a, "postmaster@%s", smtp_domains_primary(local));
		return SMTP_ADDR_LOCAL;
	}
	if (p->has_route)
		return refuse(why_out, "Source routes are not accepted");
	if (p->is_literal)
		return refuse(why_out, "Address literals are not accepted");
	if (!smtp_domains_has(local, p->domain)) {
		if (!allow_remote)
			return refuse(why_out, "Relaying denied");
		char *lower = smtp_address_lower(a, p->domain);
		*address_out = arena_printf(a, "%s@%s", p->local, lower);
		return SMTP_ADDR_REMOTE;
	}
	/* A local domain: only plain local parts. Each of these would name
	   another host to a server that still honoured it. */
	if (p->is_quoted)
		return refuse(why_out, "Quoted local parts are not accepted");
	if (strchr(p->local, '%') != NULL)
		return refuse(why_out, "The %-hack is not accepted");
	if (strchr(p->local, '!') != NULL)
		return refuse(why_out, "Bang paths are not accepted");
	*address_out = smtp_address_lower(a, p->address);
	return SMTP_ADDR_LOCAL;
}

const char **
smtp_header_from(struct arena *a, const unsigned char *hdr, size_t len, size_t *n_out)
{
	struct mail_header_iter it;
	struct mail_header_field f;
	size_t n = 0, cap = 4;
	const char **v = arena_alloc(a, (cap + 1) * sizeof(*v));

	mail_header_iter_init(&it, hdr, len);
	while (mail_header_iter_next(&it, &f)) {
		if (!mail_header_field_is(&f, "From"))
			continue;
		for (struct mail_address *m = mail_address_parse(a, f.value, f.value_len);
		     m != NULL; m = m->next) {
			if (m->domain == NULL)
				continue; /* group start or end */
			if (n == cap) {
				const char **nv = arena_alloc(a, (cap * 2 + 1) * sizeof(*v));
				memcpy(nv, v, n * sizeof(*v));
				v = nv;
				cap *= 2;
			}
			v[n++] = smtp_address_lower(
			        a, arena_printf(a, "%s@%s", m->mailbox, m->domain));
		}
	}
	v[n] = NULL;
	*n_out = n;
	return v;
}
