/* SPDX-License-Identifier: MIT */
/*
 * smtp_tlsrpt_send.c: building and sending TLS-RPT reports
 * (smtp_tlsrpt_send.h): the TXT lookup, gzip (zlib), the report mail into
 * the outbound queue, the HTTPS POST (libcurl through smtp_https.h).
 */
#include "smtp/smtp_tlsrpt_send.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <unbound.h>
#include <zlib.h>

#include "lib/buf.h"
#include "lib/log.h"
#include "lib/util.h"
#include "smtp/smtp_https.h"
#include "smtp/smtp_mx.h"
#include "smtp/smtp_queue.h"
#include "smtp/smtp_tlsrpt.h"
#include "smtp/smtp_tlsrpt_db.h"
#include "smtp/smtp_trace.h"

#define RR_TXT         16
#define RCODE_SERVFAIL 2
#define MAX_TXT        2048

void
smtp_tlsrpt_report_id(const struct smtp_tlsrpt_settings *s, int64_t day, char *out, size_t cap)
{
	unsigned char rnd[8];
	char hex[17];
	time_t t = (time_t)day;
	struct tm tm;
	char date[16];

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		memset(rnd, 0, sizeof(rnd)); /* still unique enough with the time below */
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%Y-%m-%d", &tm);
	snprintf(out, cap, "%s.%s.%llx@%s", date, hex, (unsigned long long)time(NULL),
	         s->submitter);
}

void
smtp_tlsrpt_report_build(const struct smtp_tlsrpt_settings *s, const struct smtp_tlsrpt_rows *rows,
                         const char *report_id, int64_t now, struct buf *out)
{
	int64_t end = rows->day + 86399; /* section 4.1: 00:00:00 to 23:59:59 UTC */
	struct smtp_tlsrpt_report rep = {
	        .organization = s->organization,
	        .contact = s->contact,
	        .report_id = report_id,
	        .domain = rows->domain,
	        .start = rows->day,
	        .end = end < now ? end : now,
	        .rows = rows->v,
	        .n_rows = rows->n,
	};

	smtp_tlsrpt_json(&rep, out);
}

/* Section 3: 1 with the URIs of the one valid record, 0 when there is
   none (or several: "If the number of resulting records is not one,
   senders MUST assume the recipient domain does not implement TLSRPT"),
   -1 on a temporary failure. */
static int
txt_lookup(struct smtp_resolver *r, const char *domain, struct smtp_tlsrpt_rua *out)
{
	char name[300];
	struct ub_result *res;
	int found = 0;

	snprintf(name, sizeof(name), "_smtp._tls.%s", domain);
	if (smtp_resolver_query(r, name, RR_TXT, &res) < 0)
		return -1;
	if (res->rcode == RCODE_SERVFAIL) {
		ub_resolve_free(res);
		return -1;
	}
	for (int i = 0; res->havedata && res->data[i] != NULL; i++) {
		char txt[MAX_TXT];
		struct smtp_tlsrpt_rua rua;
		if (smtp_dns_txt_join((const unsigned char *)res->data[i], (size_t)res->len[i], txt,
		                      sizeof(txt)) < 0 ||
		    strncmp(txt, "v=TLSRPTv1", 10) != 0)
			continue; /* not a TLSRPT record */
		if (found++ > 0 || smtp_tlsrpt_txt_parse(txt, &rua) < 0) {
			found = 2;
			continue;
		}
		*out = rua;
	}
	ub_resolve_free(res);
	return found == 1 ? 1 : 0;
}

/* Section 5.2: gzip (RFC 1952), not a bare deflate stream. */
static int
gzip(const struct buf *in, struct buf *out)
{
	z_stream z = {0};

	if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK)
		return -1;
	uLong bound = deflateBound(&z, (uLong)in->len);
	unsigned char *dst = (unsigned char *)buf_reserve(out, bound);
	z.next_in = (Bytef *)in->data;
	z.avail_in = (uInt)in->len;
	z.next_out = dst;
	z.avail_out = (uInt)bound;
	int rc = deflate(&z, Z_FINISH);
	buf_advance(out, bound - z.avail_out);
	deflateEnd(&z);
	return rc == Z_STREAM_END ? 0 : -1;
}

static void
base64_lines(struct buf *out, const struct buf *in)
{
	unsigned char line[80];

	/* 57 bytes make 76 characters, the line length of RFC 2045 6.8. */
	for (size_t i = 0; i < in->len; i += 57) {
		size_t n = in->len - i < 57 ? in->len - i : 57;
		int len = EVP_EncodeBlock(line, (const unsigned char *)in->data + i, (int)n);
		buf_append(out, line, (size_t)len);
		buf_puts(out, "\r\n");
	}
}

/* Section 5.3: the report mail to one address, into the queue. */
static int
send_mail(const struct smtp_tlsrpt_settings *s, const struct smtp_tlsrpt_rows *rows,
          const char *report_id, const struct buf *gz, const char *to, int64_t now)
{
	struct buf m;
	char date[40], boundary[64], qid[40];
	struct smtp_queue *q = NULL;
	struct smtp_queue_msg *qm = NULL;
	char *error = NULL;
	int rc = -1;

	buf_init(&m);
	smtp_trace_date(now, date, sizeof(date));
	snprintf(boundary, sizeof(boundary), "tlsrpt.%.40s", report_id);
	char *at = strchr(boundary, '@');
	if (at != NULL)
		*at = '.'; /* a boundary is no msg-id */
	int64_t end = rows->day + 86399 < now ? rows->day + 86399 : now;
	buf_printf(&m,
	           "From: <%s>\r\nTo: <%s>\r\nDate: %s\r\nMessage-ID: <%s>\r\n"
	           /* section 5.3's Subject, folded */
	           "Subject: Report Domain: %s\r\n Submitter: %s\r\n Report-ID: <%s>\r\n"
	           "TLS-Report-Domain: %s\r\nTLS-Report-Submitter: %s\r\n"
	           "MIME-Version: 1.0\r\n"
	           "Content-Type: multipart/report; report-type=\"tlsrpt\";\r\n"
	           "\tboundary=\"%s\"\r\n\r\n"
	           "This is a multipart message in MIME format.\r\n\r\n"
	           "--%s\r\nContent-Type: text/plain; charset=\"us-ascii\"\r\n"
	           "Content-Transfer-Encoding: 7bit\r\n\r\n"
	           "This is an aggregate TLS report from %s for %s.\r\n\r\n"
	           "--%s\r\nContent-Type: application/tlsrpt+gzip\r\n"
	           "Content-Transfer-Encoding: base64\r\n"
	           /* section 5.1: sender!policy-domain!begin!end[!unique].json.gz */
	           "Content-Disposition: attachment;\r\n"
	           "\tfilename=\"%s!%s!%lld!%lld.json.gz\"\r\n\r\n",
	           s->from, to, date, report_id, rows->domain, s->submitter, report_id,
	           rows->domain, s->submitter, boundary, boundary, s->submitter, rows->domain,
	           boundary, s->submitter, rows->domain, (long long)rows->day, (long long)end);
	base64_lines(&m, gz);
	buf_printf(&m, "\r\n--%s--\r\n", boundary);

	/* NOTIFY=NEVER: a report that cannot be delivered is not worth a
	   bounce to a no-reply address. */
	struct smtp_mail_params mp = {.body = SMTP_BODY_7BIT};
	struct smtp_queue_rcpt rcpt = {.address = to, .notify = SMTP_NOTIFY_NEVER};
	struct smtp_envelope env = {.sender = s->from,
	                            .account = "",
	                            .mail = &mp,
	                            .rcpts = &rcpt,
	                            .n_rcpts = 1,
	                            .is_tlsrpt = true};
	if (smtp_queue_open(s->data_dir, &q, &error) < 0 || smtp_queue_msg_new(q, &qm) < 0 ||
	    smtp_queue_msg_write(qm, m.data, m.len) < 0 ||
	    smtp_queue_msg_commit(qm, &env, qid) < 0) {
		log_error("outbound", "event=tlsrpt-failed domain=%s to=mailto:%s err=\"%s\"",
		          rows->domain, to, error != NULL ? error : "cannot queue the report");
	} else {
		log_info("outbound", "event=tlsrpt-sent domain=%s to=mailto:%s queue=%s id=%s",
		         rows->domain, to, qid, report_id);
		rc = 0;
	}
	free(error);
	smtp_queue_msg_free(&qm);
	smtp_queue_close(&q);
	buf_deinit(&m);
	return rc;
}

/* Section 5.3.1: POST the gzip'd report; any 2xx is success. */
static int
send_https(struct smtp_resolver *r, const struct smtp_tlsrpt_settings *s, const char *domain,
           const char *uri, const struct buf *gz)
{
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL;
	struct smtp_https h = {0};
	struct curl_slist *headers = NULL;
	const char *why = NULL;
	long status = 0;
	int rc = -1;

	if (u == NULL || curl_url_set(u, CURLUPART_URL, uri, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
		why = "not a URL";
		goto out;
	}
	if (smtp_https_init(&h, r, host, (uint16_t)atoi(port), s->ca_file, s->timeout_ms, &why) < 0)
		goto out;
	headers = curl_slist_append(NULL, "Content-Type: application/tlsrpt+gzip");
	curl_easy_setopt(h.curl, CURLOPT_URL, uri);
	curl_easy_setopt(h.curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(h.curl, CURLOPT_POSTFIELDS, gz->data);
	curl_easy_setopt(h.curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)gz->len);
	CURLcode cc = curl_easy_perform(h.curl);
	if (cc != CURLE_OK) {
		why = h.error[0] != '\0' ? h.error : curl_easy_strerror(cc);
		goto out;
	}
	curl_easy_getinfo(h.curl, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status > 299) {
		why = "not a 2xx reply";
		goto out;
	}
	rc = 0;
out:
	if (rc == 0)
		log_info("outbound", "event=tlsrpt-sent domain=%s to=%s status=%ld", domain, uri,
		         status);
	else
		log_warn("outbound", "event=tlsrpt-failed domain=%s to=%s status=%ld err=\"%s\"",
		         domain, uri, status, why);
	curl_slist_free_all(headers);
	smtp_https_deinit(&h);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return rc;
}

/* One day and domain: 1 sent somewhere, 0 nowhere, -1 try again later. */
static int
send_one(struct smtp_resolver *r, const struct smtp_tlsrpt_settings *s,
         const struct smtp_tlsrpt_rows *rows, int64_t now)
{
	struct smtp_tlsrpt_rua rua;
	int found = txt_lookup(r, rows->domain, &rua);

	if (found < 0)
		return -1;
	if (found == 0 || rua.n == 0) {
		log_info("outbound", "event=tlsrpt-no-record domain=%s", rows->domain);
		return 0;
	}
	char report_id[160];
	struct buf json, gz;
	int sent = 0;
	buf_init(&json);
	buf_init(&gz);
	smtp_tlsrpt_report_id(s, rows->day, report_id, sizeof(report_id));
	smtp_tlsrpt_report_build(s, rows, report_id, now, &json);
	if (gzip(&json, &gz) < 0) {
		log_error("outbound", "event=tlsrpt-failed domain=%s err=gzip", rows->domain);
		goto out;
	}
	for (size_t i = 0; i < rua.n; i++) {
		char to[SMTP_TLSRPT_MAX_URI];
		if (strncasecmp(rua.uri[i], "mailto:", 7) == 0) {
			if (smtp_tlsrpt_mailto(rua.uri[i], to, sizeof(to)) < 0)
				log_warn(
				        "outbound",
				        "event=tlsrpt-failed domain=%s to=%s err=\"not an address\"",
				        rows->domain, rua.uri[i]);
			else if (send_mail(s, rows, report_id, &gz, to, now) == 0)
				sent = 1;
		} else if (send_https(r, s, rows->domain, rua.uri[i], &gz) == 0) {
			sent = 1;
		}
	}
out:
	buf_deinit(&json);
	buf_deinit(&gz);
	return sent;
}

int
smtp_tlsrpt_send(struct smtp_tlsrpt_db *db, struct smtp_resolver *r,
                 const struct smtp_tlsrpt_settings *s, int64_t before, int64_t now)
{
	struct smtp_tlsrpt_rows *v;
	size_t n;
	int sent = 0;

	if (smtp_tlsrpt_db_read(db, before, true, &v, &n) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int rc = send_one(r, s, &v[i], now);
		if (rc > 0)
			sent++;
		if (rc < 0) {
			/* DNS failed for the moment: back for the next run. */
			log_warn("outbound", "event=tlsrpt-deferred domain=%s", v[i].domain);
			for (size_t j = 0; j < v[i].n; j++)
				smtp_tlsrpt_db_add(db, v[i].day, v[i].domain, &v[i].v[j]);
		}
		smtp_tlsrpt_rows_free(&v[i]);
	}
	free(v);
	return sent;
}
