/* SPDX-License-Identifier: MIT */
/*
 * smtp_tlsrpt.h: SMTP TLS Reporting (RFC 8460), the pure part: the result
 * and policy types a delivery attempt is counted under (section 4.3,
 * 4.4), the `_smtp._tls` TXT record (section 3) with its rua URIs, and the
 * JSON report (section 4) built from counted rows. Recording the counts
 * is smtp_tlsrpt_db.h; sending the reports smtp_tlsrpt_send.h.
 *
 * The TXT record, the policy strings and MX names come from the network:
 * the parser is bounded and pure, and every string written into JSON is
 * escaped (bytes past ASCII as \u00XX, so the output is always valid JSON
 * whatever a policy held).
 */
#ifndef TERN_SMTP_SMTP_TLSRPT_H
#define TERN_SMTP_SMTP_TLSRPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Section 4.4's result types; SUCCESS is a session that met its policy
   (the summary's total-successful-session-count). */
enum smtp_tlsrpt_result {
	SMTP_TLSRPT_SUCCESS,
	SMTP_TLSRPT_STARTTLS_NOT_SUPPORTED,
	SMTP_TLSRPT_CERT_HOST_MISMATCH,
	SMTP_TLSRPT_CERT_EXPIRED,
	SMTP_TLSRPT_CERT_NOT_TRUSTED,
	SMTP_TLSRPT_VALIDATION_FAILURE,
	SMTP_TLSRPT_TLSA_INVALID,
	SMTP_TLSRPT_DNSSEC_INVALID,
	SMTP_TLSRPT_DANE_REQUIRED,
	SMTP_TLSRPT_STS_POLICY_FETCH_ERROR,
	SMTP_TLSRPT_STS_POLICY_INVALID,
	SMTP_TLSRPT_STS_WEBPKI_INVALID,
	SMTP_TLSRPT_RESULT_COUNT,
};

/* Section 4.3's policy types. */
enum smtp_tlsrpt_policy {
	SMTP_TLSRPT_NO_POLICY, /* "no-policy-found" */
	SMTP_TLSRPT_STS,       /* "sts" */
	SMTP_TLSRPT_TLSA,      /* "tlsa" */
};

/* "certificate-expired", ...; "" for SUCCESS. */
const char *smtp_tlsrpt_result_name(enum smtp_tlsrpt_result r);
/* "sts", "tlsa", "no-policy-found". */
const char *smtp_tlsrpt_policy_name(enum smtp_tlsrpt_policy p);

/* The result type of a failed certificate check: x509_error is OpenSSL's
   X509_V_ERR_* (SSL_get_verify_result), dane says the check was against
   TLSA records (then every mismatch is tlsa-invalid). */
enum smtp_tlsrpt_result smtp_tlsrpt_verify_result(long x509_error, bool dane);

#define SMTP_TLSRPT_MAX_RUA 8
#define SMTP_TLSRPT_MAX_URI 512

struct smtp_tlsrpt_rua {
	char uri[SMTP_TLSRPT_MAX_RUA][SMTP_TLSRPT_MAX_URI]; /* "mailto:..." or "https://..." */
	size_t n;
};

/* A TXT record's text (section 3: "v=TLSRPTv1" first, then fields split
   by ';', rua a list split by ','; unknown extensions skipped). 0 with
   out->n URIs (mailto and https only; others skipped, at most
   SMTP_TLSRPT_MAX_RUA), -1 when it is not a valid TLSRPTv1 record or has
   no rua field. */
int smtp_tlsrpt_txt_parse(const char *txt, struct smtp_tlsrpt_rua *out);

/* The address of a mailto: URI (RFC 6068: up to '?', percent-decoded)
   into out. -1 when it is not one address of printable ASCII with an
   '@' that fits. */
int smtp_tlsrpt_mailto(const char *uri, char *out, size_t cap);

/* One counted row: sessions of one policy domain and day alike in
   everything below. Multi-valued fields are '\n'-joined. */
struct smtp_tlsrpt_row {
	const char *policy_type;   /* smtp_tlsrpt_policy_name() */
	const char *policy_string; /* lines of the policy; "" = none */
	const char *mx_host;       /* MX patterns (sts) or host (tlsa); "" = none */
	const char *result;        /* smtp_tlsrpt_result_name(); "" = success */
	const char *sending_ip;    /* sending-mta-ip; "" = not known */
	const char *receiving_mx;  /* "" = not known */
	const char *receiving_ip;
	const char *failure_code; /* failure-reason-code; "" = none */
	uint64_t count;
};

struct smtp_tlsrpt_report {
	const char *organization, *contact, *report_id, *domain;
	int64_t start, end; /* the date-range, unix time */
	const struct smtp_tlsrpt_row *rows;
	size_t n_rows;
};

struct buf;

/* Appends the report (section 4) as JSON to out: one "policies" entry per
   distinct (policy_type, policy_string, mx_host), its summary from the
   rows' counts and a "failure-details" entry per failure row. */
void smtp_tlsrpt_json(const struct smtp_tlsrpt_report *r, struct buf *out);

/* Appends s as a JSON string (quotes included) to out. */
void smtp_tlsrpt_json_string(struct buf *out, const char *s);

#endif
