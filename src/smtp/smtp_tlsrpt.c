/* SPDX-License-Identifier: MIT */
/*
 * smtp_tlsrpt.c: the names, the TXT record parser and the JSON report of
 * TLS-RPT (smtp_tlsrpt.h, RFC 8460 sections 3 and 4). No I/O.
 */
#include "smtp/smtp_tlsrpt.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/x509_vfy.h>

#include "lib/buf.h"
#include "lib/util.h"

static const char *const result_names[SMTP_TLSRPT_RESULT_COUNT] = {
        [SMTP_TLSRPT_SUCCESS] = "",
        [SMTP_TLSRPT_STARTTLS_NOT_SUPPORTED] = "starttls-not-supported",
        [SMTP_TLSRPT_CERT_HOST_MISMATCH] = "certificate-host-mismatch",
        [SMTP_TLSRPT_CERT_EXPIRED] = "certificate-expired",
        [SMTP_TLSRPT_CERT_NOT_TRUSTED] = "certificate-not-trusted",
        [SMTP_TLSRPT_VALIDATION_FAILURE] = "validation-failure",
        [SMTP_TLSRPT_TLSA_INVALID] = "tlsa-invalid",
        [SMTP_TLSRPT_DNSSEC_INVALID] = "dnssec-invalid",
        [SMTP_TLSRPT_DANE_REQUIRED] = "dane-required",
        [SMTP_TLSRPT_STS_POLICY_FETCH_ERROR] = "sts-policy-fetch-error",
        [SMTP_TLSRPT_STS_POLICY_INVALID] = "sts-policy-invalid",
        [SMTP_TLSRPT_STS_WEBPKI_INVALID] = "sts-webpki-invalid",
};

const char *
smtp_tlsrpt_result_name(enum smtp_tlsrpt_result r)
{
	return r < SMTP_TLSRPT_RESULT_COUNT ? result_names[r] : "validation-failure";
}

const char *
smtp_tlsrpt_policy_name(enum smtp_tlsrpt_policy p)
{
	return p == SMTP_TLSRPT_STS ? "sts" : p == SMTP_TLSRPT_TLSA ? "tlsa" : "no-policy-found";
}

enum smtp_tlsrpt_result
smtp_tlsrpt_verify_result(long x509_error, bool dane)
{
	/* With DANE the TLSA records are the trust anchors: whatever does not
	   match them is the records' (or the certificate's) fault. */
	if (dane)
		return SMTP_TLSRPT_TLSA_INVALID;
	switch (x509_error) {
	case X509_V_ERR_HOSTNAME_MISMATCH:
		return SMTP_TLSRPT_CERT_HOST_MISMATCH;
	case X509_V_ERR_CERT_HAS_EXPIRED:
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return SMTP_TLSRPT_CERT_EXPIRED;
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_CERT_UNTRUSTED:
	case X509_V_ERR_CERT_REJECTED:
		return SMTP_TLSRPT_CERT_NOT_TRUSTED;
	default:
		return SMTP_TLSRPT_VALIDATION_FAILURE;
	}
}

/* ---- section 3: the TXT record ---- */

static bool
is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* tlsrpt-ext-name = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".") */
static bool
ext_name_ok(const char *s, size_t n)
{
	if (n == 0 || n > 32 || !isalnum((unsigned char)s[0]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.')
			return false;
	return true;
}

/* tlsrpt-ext-value = 1*(%x21-3A / %x3C / %x3E-7E): no ';', no '='. */
static bool
ext_value_ok(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x21 || c > 0x7e || c == ';' || c == '=')
			return false;
	}
	return true;
}

/* tlsrpt-rua = "rua=" tlsrpt-uri *(*WSP "," *WSP tlsrpt-uri); commas
   and semicolons inside a URI are percent-encoded. */
static int
rua_parse(const char *s, size_t n, struct smtp_tlsrpt_rua *out)
{
	size_t i = 0;

	for (;;) {
		size_t start = i;
		while (i < n && s[i] != ',' && !is_wsp(s[i])) {
			unsigned char c = (unsigned char)s[i];
			if (c < 0x21 || c > 0x7e)
				return -1;
			i++;
		}
		size_t len = i - start;
		if (len == 0)
			return -1;
		/* Section 3: "mailto" and "https" are the schemes defined;
		   others are skipped, as is what does not fit. */
		bool known = (len > 7 && strncasecmp(s + start, "mailto:", 7) == 0) ||
		             (len > 8 && strncasecmp(s + start, "https://", 8) == 0);
		if (known && len < SMTP_TLSRPT_MAX_URI && out->n < SMTP_TLSRPT_MAX_RUA) {
			memcpy(out->uri[out->n], s + start, len);
			out->uri[out->n++][len] = '\0';
		}
		while (i < n && is_wsp(s[i]))
			i++;
		if (i == n)
			return 0;
		if (s[i] != ',')
			return -1;
		i++;
		while (i < n && is_wsp(s[i]))
			i++;
	}
}

int
smtp_tlsrpt_txt_parse(const char *txt, struct smtp_tlsrpt_rua *out)
{
	static const char version[] = "v=TLSRPTv1";
	const char *p = txt;
	bool has_rua = false;
	size_t fields = 0;

	out->n = 0;
	if (strncmp(p, version, sizeof(version) - 1) != 0)
		return -1;
	p += sizeof(version) - 1;
	/* tlsrpt-record = tlsrpt-version 1*(field-delim tlsrpt-field)
	   [field-delim]; field-delim = *WSP ";" *WSP */
	for (;;) {
		while (is_wsp(*p))
			p++;
		if (*p == '\0')
			break;
		if (*p != ';')
			return -1;
		p++;
		while (is_wsp(*p))
			p++;
		if (*p == '\0')
			break;
		const char *end = strchr(p, ';');
		if (end == NULL)
			end = p + strlen(p);
		const char *value_end = end;
		while (value_end > p && is_wsp(value_end[-1]))
			value_end--;
		const char *eq = memchr(p, '=', (size_t)(value_end - p));
		if (eq == NULL)
			return -1;
		const char *value = eq + 1;
		size_t vlen = (size_t)(value_end - value);
		if (eq - p == 3 && strncmp(p, "rua", 3) == 0) {
			if (rua_parse(value, vlen, out) < 0)
				return -1;
			has_rua = true;
		} else if (!ext_name_ok(p, (size_t)(eq - p)) || !ext_value_ok(value, vlen)) {
			return -1;
		}
		fields++;
		p = end;
	}
	return fields > 0 && has_rua ? 0 : -1;
}

static int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int
smtp_tlsrpt_mailto(const char *uri, char *out, size_t cap)
{
	size_t n = 0;
	bool has_at = false;

	if (strncasecmp(uri, "mailto:", 7) != 0)
		return -1;
	for (const char *p = uri + 7; *p != '\0' && *p != '?'; p++) {
		int c = (unsigned char)*p;
		if (c == '%') {
			int hi = hex_digit(p[1]), lo = hi >= 0 ? hex_digit(p[2]) : -1;
			if (lo < 0)
				return -1;
			c = hi * 16 + lo;
			p += 2;
		}
		/* One address: no list separator, nothing SMTP's path would
		   not carry. */
		if (c <= 0x20 || c >= 0x7f || c == ',' || c == '<' || c == '>' || c == '"')
			return -1;
		if (n + 1 >= cap)
			return -1;
		has_at |= c == '@';
		out[n++] = (char)c;
	}
	out[n] = '\0';
	return has_at && out[0] != '@' && out[n - 1] != '@' ? 0 : -1;
}

/* ---- section 4: the report ---- */

void
smtp_tlsrpt_json_string(struct buf *out, const char *s)
{
	buf_putc(out, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\') {
			buf_putc(out, '\\');
			buf_putc(out, (char)*p);
		} else if (*p < 0x20 || *p >= 0x7f) {
			buf_printf(out, "\\u%04x", *p);
		} else {
			buf_putc(out, (char)*p);
		}
	}
	buf_putc(out, '"');
}

/* A '\n'-joined list as a JSON array of strings. */
static void
json_lines(struct buf *out, const char *lines)
{
	const char *p = lines;

	buf_putc(out, '[');
	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
		char *line = xstrndup(p, len);
		if (p != lines)
			buf_putc(out, ',');
		smtp_tlsrpt_json_string(out, line);
		free(line);
		p += len;
		if (*p == '\n')
			p++;
	}
	buf_putc(out, ']');
}

static void
json_time(struct buf *out, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char s[32];

	gmtime_r(&tt, &tm);
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%SZ", &tm);
	buf_printf(out, "\"%s\"", s);
}

static bool
same_policy(const struct smtp_tlsrpt_row *a, const struct smtp_tlsrpt_row *b)
{
	return strcmp(a->policy_type, b->policy_type) == 0 &&
	       strcmp(a->policy_string, b->policy_string) == 0 &&
	       strcmp(a->mx_host, b->mx_host) == 0;
}

void
smtp_tlsrpt_json(const struct smtp_tlsrpt_report *r, struct buf *out)
{
	bool *done = xcalloc(r->n_rows + 1, sizeof(*done));

	buf_puts(out, "{\"organization-name\":");
	smtp_tlsrpt_json_string(out, r->organization);
	buf_puts(out, ",\"date-range\":{\"start-datetime\":");
	json_time(out, r->start);
	buf_puts(out, ",\"end-datetime\":");
	json_time(out, r->end);
	buf_puts(out, "},\"contact-info\":");
	smtp_tlsrpt_json_string(out, r->contact);
	buf_puts(out, ",\"report-id\":");
	smtp_tlsrpt_json_string(out, r->report_id);
	buf_puts(out, ",\"policies\":[");
	bool first_policy = true;
	for (size_t i = 0; i < r->n_rows; i++) {
		if (done[i])
			continue;
		const struct smtp_tlsrpt_row *p = &r->rows[i];
		uint64_t ok = 0, failed = 0;
		for (size_t j = i; j < r->n_rows; j++) {
			if (done[j] || !same_policy(p, &r->rows[j]))
				continue;
			if (r->rows[j].result[0] == '\0')
				ok += r->rows[j].count;
			else
				failed += r->rows[j].count;
		}
		if (!first_policy)
			buf_putc(out, ',');
		first_policy = false;
		/* Section 4.3: the policy as evaluated. */
		buf_puts(out, "{\"policy\":{\"policy-type\":");
		smtp_tlsrpt_json_string(out, p->policy_type);
		if (p->policy_string[0] != '\0') {
			buf_puts(out, ",\"policy-string\":");
			json_lines(out, p->policy_string);
		}
		buf_puts(out, ",\"policy-domain\":");
		smtp_tlsrpt_json_string(out, r->domain);
		if (p->mx_host[0] != '\0') {
			buf_puts(out, ",\"mx-host\":");
			json_lines(out, p->mx_host);
		}
		buf_printf(out,
		           "},\"summary\":{\"total-successful-session-count\":%llu,"
		           "\"total-failure-session-count\":%llu}",
		           (unsigned long long)ok, (unsigned long long)failed);
		bool first_failure = true;
		for (size_t j = i; j < r->n_rows; j++) {
			const struct smtp_tlsrpt_row *f = &r->rows[j];
			if (done[j] || !same_policy(p, f))
				continue;
			done[j] = true;
			if (f->result[0] == '\0')
				continue;
			/* Section 4.3: failure-details, one per kind of failure. */
			buf_puts(out, first_failure ? ",\"failure-details\":[" : ",");
			first_failure = false;
			buf_puts(out, "{\"result-type\":");
			smtp_tlsrpt_json_string(out, f->result);
			if (f->sending_ip[0] != '\0') {
				buf_puts(out, ",\"sending-mta-ip\":");
				smtp_tlsrpt_json_string(out, f->sending_ip);
			}
			if (f->receiving_mx[0] != '\0') {
				buf_puts(out, ",\"receiving-mx-hostname\":");
				smtp_tlsrpt_json_string(out, f->receiving_mx);
			}
			if (f->receiving_ip[0] != '\0') {
				buf_puts(out, ",\"receiving-ip\":");
				smtp_tlsrpt_json_string(out, f->receiving_ip);
			}
			buf_printf(out, ",\"failed-session-count\":%llu",
			           (unsigned long long)f->count);
			if (f->failure_code[0] != '\0') {
				buf_puts(out, ",\"failure-reason-code\":");
				smtp_tlsrpt_json_string(out, f->failure_code);
			}
			buf_putc(out, '}');
		}
		if (!first_failure)
			buf_putc(out, ']');
		buf_putc(out, '}');
	}
	buf_puts(out, "]}");
	free(done);
}
