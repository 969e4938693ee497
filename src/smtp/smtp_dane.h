/* SPDX-License-Identifier: MIT */
/*
 * smtp_dane.h: DANE for SMTP (RFC 7672): the TLSA records of an MX host
 * (_PORT._tcp.HOST), DNSSEC-validated by libunbound with the trust anchors
 * of `dns.trust_anchor_file`. When they apply, the SMTP client verifies
 * the server's certificate against them with OpenSSL's SSL_dane_* API
 * (smtp_client.c) instead of against CAs, and a host that does not match
 * is not used (a temporary failure, RFC 7672 section 2.2).
 *
 * Only DANE-TA(2) and DANE-EE(3) are usable for SMTP (section 3.1; PKIX
 * usages 0 and 1 are not), selectors Cert(0) and SPKI(1), matching types
 * Full(0), SHA2-256(1) and SHA2-512(2). The rdata is hostile input: the
 * parser is pure and bounded.
 */
#ifndef TERN_SMTP_SMTP_DANE_H
#define TERN_SMTP_SMTP_DANE_H

#include <stddef.h>
#include <stdint.h>

#define SMTP_DANE_MAX_TLSA 8
#define SMTP_TLSA_MAX_DATA 2048 /* a Full(0) certificate of ordinary size */

struct smtp_tlsa {
	uint8_t usage, selector, mtype;
	size_t len;
	unsigned char data[SMTP_TLSA_MAX_DATA];
};

struct smtp_dane {
	struct smtp_tlsa tlsa[SMTP_DANE_MAX_TLSA];
	size_t n;           /* usable records */
	char expanded[256]; /* the CNAME-expanded name the records are at, a
	                       second reference identifier; "" = the host's */
};

/* One TLSA rdata (RFC 6698 section 2.1). 0 with *out when it is usable
   for SMTP (above), 1 when well-formed but unusable, -1 when malformed. */
int smtp_tlsa_parse(const unsigned char *rdata, size_t len, struct smtp_tlsa *out);

struct smtp_resolver;

/* The usable TLSA records of host at port (section 2.2.3: when host is an
   alias, expanded names its CNAME target, "" otherwise; the records at
   the expanded name are used when there are any, else the host's own):
   1 with out->n > 0 when DANE applies (a validated answer with usable
   records); 2 when validated records exist but none is usable (PKIX-TA
   and PKIX-EE only, section 3.1.3, or unknown parameters): TLS is then
   mandatory but not authenticated (section 2.2); 0 when DANE does not
   apply (no records, not signed); -1 when the host must not be used (a
   bogus answer or a failed lookup: section 2.2 says an attacker may be
   hiding the records). Only ask for hosts whose MX and address records
   were secure (smtp_mx_host.is_secure). */
int smtp_dane_lookup(struct smtp_resolver *r, const char *host, const char *expanded, uint16_t port,
                     struct smtp_dane *out, char *why, size_t why_len);

#endif
