/* SPDX-License-Identifier: MIT */
/*
 * smtp_mx.c: MX resolution on libunbound (smtp_mx.h). Queries are
 * synchronous (ub_resolve) on the delivery thread that owns the resolver.
 */
#include "smtp/smtp_mx.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <arpa/inet.h>
#include <openssl/rand.h>
#include <unbound.h>

#include "lib/util.h"

#define RR_A           1
#define RR_MX          15
#define RR_AAAA        28
#define CLASS_IN       1
#define RCODE_SERVFAIL 2

struct smtp_resolver {
	struct ub_ctx *ctx;
};

struct smtp_resolver *
smtp_resolver_new(const char *nameservers, char **error_out)
{
	struct smtp_resolver *r = xcalloc(1, sizeof(*r));
	int rc = 0;

	r->ctx = ub_ctx_create();
	if (r->ctx == NULL) {
		*error_out = xstrdup("dns: cannot create a resolver");
		free(r);
		return NULL;
	}
	if (nameservers[0] == '\0') {
		rc = ub_ctx_resolvconf(r->ctx, NULL);
	} else {
		/* "IP:PORT IP ..." -> unbound's "IP@PORT" (the last ':' of an
		   IPv6 address without brackets is not a port). */
		char *copy = xstrdup(nameservers), *save = NULL;
		for (char *t = strtok_r(copy, " ,", &save); t != NULL && rc == 0;
		     t = strtok_r(NULL, " ,", &save)) {
			char addr[128];
			const char *colon = strrchr(t, ':');
			if (t[0] == '[' && strchr(t, ']') != NULL) {
				const char *close = strchr(t, ']');
				snprintf(addr, sizeof(addr), "%.*s%s%s", (int)(close - t - 1),
				         t + 1, close[1] == ':' ? "@" : "",
				         close[1] == ':' ? close + 2 : "");
			} else if (colon != NULL && strchr(t, ':') == colon) {
				snprintf(addr, sizeof(addr), "%.*s@%s", (int)(colon - t), t,
				         colon + 1);
			} else {
				snprintf(addr, sizeof(addr), "%s", t);
			}
			rc = ub_ctx_set_fwd(r->ctx, addr);
		}
		free(copy);
	}
	if (rc != 0) {
		*error_out = xasprintf("dns.nameservers: %s", ub_strerror(rc));
		smtp_resolver_free(&r);
		return NULL;
	}
	return r;
}

int
smtp_resolver_add_trust_anchors(struct smtp_resolver *r, const char *file, char **error_out)
{
	int rc = ub_ctx_add_ta_file(r->ctx, file);

	if (rc != 0) {
		*error_out = xasprintf("dns.trust_anchor_file %s: %s", file, ub_strerror(rc));
		return -1;
	}
	return 0;
}

void
smtp_resolver_free(struct smtp_resolver **rp)
{
	struct smtp_resolver *r = *rp;

	if (r == NULL)
		return;
	*rp = NULL;
	ub_ctx_delete(r->ctx);
	free(r);
}

int
smtp_resolver_query(struct smtp_resolver *r, const char *name, int rrtype,
                    struct ub_result **res_out)
{
	*res_out = NULL;
	if (ub_resolve(r->ctx, name, rrtype, CLASS_IN, res_out) != 0) {
		*res_out = NULL;
		return -1;
	}
	return 0;
}

int
smtp_dns_txt_join(const unsigned char *rdata, size_t len, char *out, size_t cap)
{
	size_t o = 0;

	/* RFC 1035 section 3.3.14: one or more <character-string>s, each a
	   length byte and that many bytes; RFC 7208 section 3.3 and RFC 6376
	   section 3.6.2.2 join them without a separator. */
	for (size_t i = 0; i < len;) {
		size_t l = rdata[i++];
		if (i + l > len || o + l + 1 > cap)
			return -1;
		memcpy(out + o, rdata + i, l);
		o += l;
		i += l;
	}
	if (cap == 0)
		return -1;
	out[o] = '\0';
	return memchr(out, '\0', o) != NULL ? -1 : 0;
}

int
smtp_dns_wire_name(const unsigned char *p, size_t len, char *out, size_t cap)
{
	size_t i = 0, o = 0;

	while (i < len && p[i] != 0) {
		size_t l = p[i++];
		if (l > 63 || i + l > len || o + l + 2 > cap)
			return -1;
		if (o > 0)
			out[o++] = '.';
		for (size_t k = 0; k < l; k++) {
			unsigned char ch = p[i + k];
			/* Only hostname bytes: a name is later written into SNI,
			   logs and a DSN. */
			if (!(ch == '-' || ch == '_' || (ch >= '0' && ch <= '9') ||
			      ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z')))
				return -1;
			out[o++] = (char)ch;
		}
		i += l;
	}
	if (i >= len)
		return -1;
	out[o] = '\0';
	return 0;
}

static int
pref_cmp(const void *x, const void *y)
{
	const struct smtp_mx_record *a = x, *b = y;

	return a->pref < b->pref ? -1 : a->pref > b->pref;
}

void
smtp_mx_order(struct smtp_mx_record *v, size_t n, uint32_t (*rnd)(void *), void *rnd_arg)
{
	qsort(v, n, sizeof(*v), pref_cmp);
	for (size_t start = 0; start < n;) {
		size_t end = start + 1;
		while (end < n && v[end].pref == v[start].pref)
			end++;
		/* Fisher-Yates within [start, end): RFC 5321 section 5.1. */
		for (size_t i = end - 1; i > start; i--) {
			size_t j = start + rnd(rnd_arg) % (i - start + 1);
			struct smtp_mx_record t = v[i];
			v[i] = v[j];
			v[j] = t;
		}
		start = end;
	}
}

static uint32_t
rand_u32(void *arg)
{
	uint32_t x;

	if (RAND_bytes((unsigned char *)&x, sizeof(x)) != 1)
		abort();
	return x;
}

/* Appends name's addresses of type (A or AAAA). -1 on a temporary failure. */
static int
addresses(struct smtp_resolver *r, const char *name, unsigned pref, int type, bool chain_secure,
          struct smtp_mx_host *hosts, size_t *n)
{
	struct ub_result *res = NULL;

	if (ub_resolve(r->ctx, name, type, CLASS_IN, &res) != 0)
		return -1;
	int rc = res->rcode == RCODE_SERVFAIL ? -1 : 0;
	for (int i = 0; rc == 0 && res->havedata && res->data[i] != NULL; i++) {
		int want = type == RR_A ? 4 : 16;
		if (res->len[i] != want || *n == SMTP_MX_MAX_HOSTS)
			continue;
		struct smtp_mx_host *h = &hosts[(*n)++];
		snprintf(h->name, sizeof(h->name), "%s", name);
		inet_ntop(type == RR_A ? AF_INET : AF_INET6, res->data[i], h->ip, sizeof(h->ip));
		h->pref = pref;
		h->is_secure = chain_secure && res->secure;
		h->expanded[0] = '\0';
		if (res->canonname != NULL) {
			/* The end of the CNAME chain, without the root's dot. */
			size_t len = strlen(res->canonname);
			if (len > 0 && res->canonname[len - 1] == '.')
				len--;
			if (len < sizeof(h->expanded) &&
			    (strlen(name) != len || strncasecmp(res->canonname, name, len) != 0))
				snprintf(h->expanded, sizeof(h->expanded), "%.*s", (int)len,
				         res->canonname);
		}
	}
	ub_resolve_free(res);
	return rc;
}

enum smtp_mx_status
smtp_mx_lookup(struct smtp_resolver *r, const char *domain, struct smtp_mx_host *hosts_out,
               size_t *n_out, char *why_out, size_t why_len)
{
	struct ub_result *res = NULL;
	struct smtp_mx_record mx[SMTP_MX_MAX_HOSTS];
	size_t n_mx = 0;
	bool is_null = false, mx_secure;

	*n_out = 0;
	int err = ub_resolve(r->ctx, domain, RR_MX, CLASS_IN, &res);
	if (err != 0) {
		snprintf(why_out, why_len, "MX lookup for %s: %s", domain, ub_strerror(err));
		return SMTP_MX_TEMPFAIL;
	}
	if (res->rcode == RCODE_SERVFAIL) {
		snprintf(why_out, why_len, "MX lookup for %s: server failure", domain);
		ub_resolve_free(res);
		return SMTP_MX_TEMPFAIL;
	}
	if (res->nxdomain) {
		snprintf(why_out, why_len, "no such domain: %s", domain);
		ub_resolve_free(res);
		return SMTP_MX_NO_DOMAIN;
	}
	/* Secure data, or a secure denial that there is any (the implicit MX
	   is then as secure as the domain's own address records). */
	mx_secure = res->secure;
	for (int i = 0; res->havedata && res->data[i] != NULL; i++) {
		const unsigned char *d = (const unsigned char *)res->data[i];
		if (res->len[i] < 3 || n_mx == SMTP_MX_MAX_HOSTS)
			continue;
		struct smtp_mx_record *m = &mx[n_mx];
		m->pref = (unsigned)(d[0] << 8 | d[1]);
		if (smtp_dns_wire_name(d + 2, (size_t)res->len[i] - 2, m->name, sizeof(m->name)) <
		    0)
			continue;
		if (m->name[0] == '\0') {
			is_null = true; /* RFC 7505 section 3: "." */
			continue;
		}
		n_mx++;
	}
	ub_resolve_free(res);
	if (is_null && n_mx == 0) {
		snprintf(why_out, why_len, "%s accepts no mail (null MX)", domain);
		return SMTP_MX_NULL;
	}
	if (n_mx == 0) {
		/* RFC 5321 section 5.1: the domain itself, preference 0. */
		snprintf(mx[0].name, sizeof(mx[0].name), "%s", domain);
		mx[0].pref = 0;
		n_mx = 1;
	}
	smtp_mx_order(mx, n_mx, rand_u32, NULL);
	bool temp = false;
	for (size_t i = 0; i < n_mx; i++) {
		if (addresses(r, mx[i].name, mx[i].pref, RR_A, mx_secure, hosts_out, n_out) < 0)
			temp = true;
		if (addresses(r, mx[i].name, mx[i].pref, RR_AAAA, mx_secure, hosts_out, n_out) < 0)
			temp = true;
	}
	if (*n_out == 0) {
		snprintf(why_out, why_len, "no address for the mail hosts of %s", domain);
		return temp ? SMTP_MX_TEMPFAIL : SMTP_MX_NO_DOMAIN;
	}
	return SMTP_MX_OK;
}
