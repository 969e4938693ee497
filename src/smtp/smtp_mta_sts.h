/* SPDX-License-Identifier: MIT */
/*
 * smtp_mta_sts.h: MTA-STS (RFC 8461) for outbound delivery: a domain's
 * `_mta-sts` TXT record (section 3.1), its policy fetched over HTTPS from
 * mta-sts.DOMAIN with libcurl (section 3.3: a certificate valid for that
 * name, 200 only, no redirects, no HTTP cache, 64 KiB and a timeout),
 * cached in DATA_DIR/mta-sts/DOMAIN for max_age, and the two checks
 * (section 4): the MX host matches an "mx" pattern, and its certificate is
 * valid (the SMTP client's verified TLS).
 *
 * The TXT record, the policy body and the cache file are hostile input
 * (the cache only as far as a bad file must not crash us): the parsers
 * are pure and bounded. The fetch resolves mta-sts.DOMAIN through the
 * delivery resolver (libunbound, `dns.nameservers`), not libcurl's own.
 * Blocking: runs on a delivery thread.
 */
#ifndef TERN_SMTP_SMTP_MTA_STS_H
#define TERN_SMTP_SMTP_MTA_STS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SMTP_STS_MAX_MX     16
#define SMTP_STS_MAX_AGE    31557600 /* section 3.2 */
#define SMTP_STS_MAX_POLICY (64 * 1024)

enum smtp_sts_mode { SMTP_STS_NONE, SMTP_STS_TESTING, SMTP_STS_ENFORCE };

struct smtp_sts_policy {
	enum smtp_sts_mode mode;
	uint64_t max_age;
	char mx[SMTP_STS_MAX_MX][256]; /* patterns, lowercase: "mail.example", "*.example" */
	size_t n_mx;
	char id[33];     /* the TXT record's id it was fetched under */
	int64_t fetched; /* unix time of the fetch */
};

/* The policy text (section 3.2; LF or CRLF lines). 0 with *out (id and
   fetched untouched), -1 when it is not a valid STSv1 policy (a missing
   or bad version, mode or max_age, no mx outside mode none). */
int smtp_sts_policy_parse(const char *text, size_t len, struct smtp_sts_policy *out);

/* The TXT record's text (section 3.1): 0 with its id, -1 when it is not
   one ("v=STSv1" first, an id of 1 to 32 letters and digits). */
int smtp_sts_txt_parse(const char *txt, char id_out[33]);

/* Section 4.1: host (an MX name) matches one of the patterns; "*." covers
   exactly one left-most label. Case-insensitive. */
bool smtp_sts_mx_matches(const struct smtp_sts_policy *p, const char *host);

struct smtp_resolver;

struct smtp_sts_settings {
	const char *cache_dir; /* DATA_DIR/mta-sts */
	const char *ca_file;   /* extra trusted CAs (delivery.ca_file), "" for none */
	uint16_t https_port;   /* 443; tests use another */
	uint64_t timeout_ms;   /* the whole fetch */
};

/* Why a policy the TXT record announced could not be had: RFC 8460
   section 4.4's sts-policy-fetch-error, sts-policy-invalid and
   sts-webpki-invalid, for TLS-RPT. */
enum smtp_sts_failure {
	SMTP_STS_OK,
	SMTP_STS_FETCH_ERROR,
	SMTP_STS_POLICY_INVALID,
	SMTP_STS_WEBPKI_INVALID,
};

/*
 * The policy that applies to domain now (section 5.1): a cached one
 * within max_age whose id the TXT record still names, or (a new id, no
 * cache, an expired one) a fresh fetch, saved to the cache; when the TXT
 * record is gone or the fetch fails, a cached policy within max_age still
 * applies (section 3.3). After a failed fetch the same id is not fetched again
 * for five minutes (section 3.3's rate limit; DATA_DIR/mta-sts/
 * DOMAIN_failed): meanwhile the cached policy applies, or none. 1 with
 * *out, 0 when no policy applies (mode none counts as one: the caller
 * sees SMTP_STS_NONE). Failures are logged;
 * *failure_out says why a fetch failed (SMTP_STS_OK when none did), also
 * when a cached policy applies instead.
 */
int smtp_sts_policy_get(struct smtp_resolver *r, const struct smtp_sts_settings *s,
                        const char *domain, struct smtp_sts_policy *out,
                        enum smtp_sts_failure *failure_out);

#endif
