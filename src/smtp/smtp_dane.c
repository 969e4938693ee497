/* SPDX-License-Identifier: MIT */
/*
 * smtp_dane.c: TLSA lookups and parsing for DANE (smtp_dane.h). The
 * certificate check itself is OpenSSL's (SSL_dane_enable and
 * SSL_dane_tlsa_add in smtp_client.c).
 */
#include "smtp/smtp_dane.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <unbound.h>

#include "smtp/smtp_mx.h"

#define RR_TLSA        52
#define RCODE_SERVFAIL 2

int
smtp_tlsa_parse(const unsigned char *rdata, size_t len, struct smtp_tlsa *out)
{
	/* usage(1) selector(1) mtype(1) data; the digest lengths are fixed */
	if (len < 4)
		return -1;
	size_t dlen = len - 3;
	uint8_t mtype = rdata[2];
	if ((mtype == 1 && dlen != 32) || (mtype == 2 && dlen != 64))
		return -1;
	if (rdata[0] < 2 || rdata[0] > 3 || rdata[1] > 1 || mtype > 2 || dlen > SMTP_TLSA_MAX_DATA)
		return 1; /* RFC 7672 section 3.1: unusable here */
	out->usage = rdata[0];
	out->selector = rdata[1];
	out->mtype = mtype;
	out->len = dlen;
	memcpy(out->data, rdata + 3, dlen);
	return 0;
}

/* One base domain's TLSA RRset: smtp_dane_lookup's answers. */
static int
lookup(struct smtp_resolver *r, const char *host, uint16_t port, struct smtp_dane *out, char *why,
       size_t why_len)
{
	char name[300];
	struct ub_result *res;
	bool any = false;

	out->n = 0;
	snprintf(name, sizeof(name), "_%u._tcp.%s", (unsigned)port, host);
	if (smtp_resolver_query(r, name, RR_TLSA, &res) < 0) {
		snprintf(why, why_len, "TLSA lookup for %s failed", name);
		return -1;
	}
	if (res->bogus || res->rcode == RCODE_SERVFAIL) {
		snprintf(why, why_len, "TLSA lookup for %s: %s", name,
		         res->bogus ? "DNSSEC validation failed" : "server failure");
		ub_resolve_free(res);
		return -1;
	}
	if (!res->secure || !res->havedata) {
		ub_resolve_free(res); /* unsigned or none: no DANE (section 2.2) */
		return 0;
	}
	for (int i = 0; res->data[i] != NULL && out->n < SMTP_DANE_MAX_TLSA; i++) {
		int rc = smtp_tlsa_parse((const unsigned char *)res->data[i], (size_t)res->len[i],
		                         &out->tlsa[out->n]);
		if (rc == 0)
			out->n++;
		any |= rc == 1;
	}
	ub_resolve_free(res);
	if (out->n == 0 && any)
		snprintf(why, why_len, "TLSA records for %s: none usable for SMTP", name);
	return out->n > 0 ? 1 : any ? 2 : 0;
}

int
smtp_dane_lookup(struct smtp_resolver *r, const char *host, const char *expanded, uint16_t port,
                 struct smtp_dane *out, char *why, size_t why_len)
{
	out->expanded[0] = '\0';
	/* Section 2.2.3: the CNAME-expanded name first (its records, when it
	   has any, are the server's own), then the name the MX named. The
	   address answer, CNAMEs included, was secure, or we would not be
	   asked. */
	if (expanded[0] != '\0') {
		int rc = lookup(r, expanded, port, out, why, why_len);
		if (rc != 0) {
			snprintf(out->expanded, sizeof(out->expanded), "%s", expanded);
			return rc;
		}
	}
	return lookup(r, host, port, out, why, why_len);
}
