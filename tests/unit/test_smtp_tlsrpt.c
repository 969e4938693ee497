/* SPDX-License-Identifier: MIT */
/*
 * test_smtp_tlsrpt.c: TLS-RPT (RFC 8460): the _smtp._tls TXT record
 * (section 3) valid and invalid, mailto addresses, the result types of
 * OpenSSL's verify errors, the JSON report (section 4) grouped by policy
 * with its summary and failure details, and tlsrpt.db counting, reading
 * and taking rows out.
 */
#include "test.h"

#include <openssl/x509_vfy.h>
#include <stdlib.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/util.h"
#include "smtp/smtp_tlsrpt.h"
#include "smtp/smtp_tlsrpt_db.h"

static void
test_txt_records(void)
{
	static const struct {
		const char *txt;
		int rc;
		size_t n;
		const char *first, *second;
	} rows[] = {
	        {"v=TLSRPTv1; rua=mailto:reports@example.com", 0, 1, "mailto:reports@example.com",
	         NULL},
	        {"v=TLSRPTv1;rua=https://reporting.example.com/v1/tlsrpt;", 0, 1,
	         "https://reporting.example.com/v1/tlsrpt", NULL},
	        {"v=TLSRPTv1; rua=mailto:a@example.com , https://b.example/x", 0, 2,
	         "mailto:a@example.com", "https://b.example/x"},
	        {"v=TLSRPTv1 ; ext.1=value; rua=mailto:a@example.com ;", 0, 1,
	         "mailto:a@example.com", NULL},
	        /* Unknown schemes are skipped; the record stays valid. */
	        {"v=TLSRPTv1; rua=ftp://x.example/,mailto:a@example.com", 0, 1,
	         "mailto:a@example.com", NULL},
	        {"v=TLSRPTv1; rua=ftp://x.example/", 0, 0, NULL, NULL},
	        {"v=TLSRPTv1", -1, 0, NULL, NULL},
	        {"v=TLSRPTv1;", -1, 0, NULL, NULL},
	        {"v=TLSRPTv2; rua=mailto:a@example.com", -1, 0, NULL, NULL},
	        {"V=TLSRPTv1; rua=mailto:a@example.com", -1, 0, NULL, NULL},
	        {"rua=mailto:a@example.com; v=TLSRPTv1", -1, 0, NULL, NULL},
	        {"v=TLSRPTv1 rua=mailto:a@example.com", -1, 0, NULL, NULL},
	        {"v=TLSRPTv1; ext=1", -1, 0, NULL, NULL},
	        {"v=TLSRPTv1; rua=", -1, 0, NULL, NULL},
	        {"v=TLSRPTv1; rua=mailto:a@example.com,", -1, 0, NULL, NULL},
	        {"v=TLSRPTv1; rua=mailto:a@example.com; bad", -1, 0, NULL, NULL},
	        {"v=TLSRPTv1; rua=mailto:a@example.com; _x=1", -1, 0, NULL, NULL},
	        {"v=TLSRPTv1; rua=mailto:a@example.com; x=a=b", -1, 0, NULL, NULL},
	};
	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		struct smtp_tlsrpt_rua rua;
		test_int_eq(i, smtp_tlsrpt_txt_parse(rows[i].txt, &rua), rows[i].rc);
		if (rows[i].rc < 0)
			continue;
		test_int_eq(i, rua.n, rows[i].n);
		if (rows[i].first != NULL)
			test_str_eq(i, rua.uri[0], rows[i].first);
		if (rows[i].second != NULL)
			test_str_eq(i, rua.uri[1], rows[i].second);
	}
	/* At most SMTP_TLSRPT_MAX_RUA URIs are kept. */
	struct buf b;
	buf_init(&b);
	buf_puts(&b, "v=TLSRPTv1; rua=");
	for (int i = 0; i < 20; i++)
		buf_printf(&b, "%smailto:r%d@example.com", i ? "," : "", i);
	struct smtp_tlsrpt_rua rua;
	test_int_eq(-1, smtp_tlsrpt_txt_parse(b.data, &rua), 0);
	test_int_eq(-1, rua.n, SMTP_TLSRPT_MAX_RUA);
	buf_deinit(&b);
}

static void
test_mailto(void)
{
	static const struct {
		const char *uri, *address;
	} rows[] = {
	        {"mailto:reports@example.com", "reports@example.com"},
	        {"MAILTO:tls%2Brpt@example.com?subject=x", "tls+rpt@example.com"},
	        {"mailto:a%2Cb@example.com", NULL},
	        {"mailto:a b@example.com", NULL},
	        {"mailto:example.com", NULL},
	        {"mailto:@example.com", NULL},
	        {"mailto:a@", NULL},
	        {"mailto:a%4@example.com", NULL},
	        {"https://example.com/", NULL},
	        {"mailto:<a@example.com>", NULL},
	};
	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		char out[64];
		int rc = smtp_tlsrpt_mailto(rows[i].uri, out, sizeof(out));
		test_int_eq(i, rc, rows[i].address != NULL ? 0 : -1);
		if (rows[i].address != NULL)
			test_str_eq(i, out, rows[i].address);
	}
	char small[8];
	test_int_eq(-1, smtp_tlsrpt_mailto("mailto:long@example.com", small, sizeof(small)), -1);
}

static void
test_verify_results(void)
{
	test_str_eq(0,
	            smtp_tlsrpt_result_name(
	                    smtp_tlsrpt_verify_result(X509_V_ERR_HOSTNAME_MISMATCH, false)),
	            "certificate-host-mismatch");
	test_str_eq(1,
	            smtp_tlsrpt_result_name(
	                    smtp_tlsrpt_verify_result(X509_V_ERR_CERT_HAS_EXPIRED, false)),
	            "certificate-expired");
	test_str_eq(2,
	            smtp_tlsrpt_result_name(smtp_tlsrpt_verify_result(
	                    X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, false)),
	            "certificate-not-trusted");
	test_str_eq(3,
	            smtp_tlsrpt_result_name(smtp_tlsrpt_verify_result(
	                    X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, false)),
	            "certificate-not-trusted");
	test_str_eq(4,
	            smtp_tlsrpt_result_name(
	                    smtp_tlsrpt_verify_result(X509_V_ERR_CERT_SIGNATURE_FAILURE, false)),
	            "validation-failure");
	test_str_eq(
	        5,
	        smtp_tlsrpt_result_name(smtp_tlsrpt_verify_result(X509_V_ERR_DANE_NO_MATCH, true)),
	        "tlsa-invalid");
	test_str_eq(6, smtp_tlsrpt_result_name(SMTP_TLSRPT_SUCCESS), "");
	test_str_eq(7, smtp_tlsrpt_policy_name(SMTP_TLSRPT_NO_POLICY), "no-policy-found");
	test_str_eq(8, smtp_tlsrpt_result_name(SMTP_TLSRPT_STS_WEBPKI_INVALID),
	            "sts-webpki-invalid");
}

static void
test_json(void)
{
	static const char sts[] =
	        "version: STSv1\nmode: enforce\nmx: *.example.org\nmax_age: 86400";
	const struct smtp_tlsrpt_row rows[] = {
	        {"sts", sts, "*.example.org", "", "", "", "", "", 5},
	        {"sts", sts, "*.example.org", "certificate-expired", "198.51.100.1",
	         "mx1.example.org", "192.0.2.1", "certificate has expired", 2},
	        {"no-policy-found", "", "", "starttls-not-supported", "", "mx2.example.org",
	         "192.0.2.2", "", 1},
	        {"sts", sts, "*.example.org", "validation-failure", "", "mx\"3\".example.org",
	         "192.0.2.3", "caf\xc3\xa9\n", 3},
	};
	struct smtp_tlsrpt_report r = {
	        .organization = "Example Org",
	        .contact = "postmaster@example.net",
	        .report_id = "2026-12-01.ab@mx.example.net",
	        .domain = "example.org",
	        .start = 1796083200, /* 2026-12-01T00:00:00Z */
	        .end = 1796083200 + 86399,
	        .rows = rows,
	        .n_rows = ARRAY_LEN(rows),
	};
	struct buf b;
	buf_init(&b);
	smtp_tlsrpt_json(&r, &b);
	buf_putc(&b, '\0');
	test_str_eq(
	        -1, b.data,
	        "{\"organization-name\":\"Example Org\",\"date-range\":{\"start-datetime\":"
	        "\"2026-12-01T00:00:00Z\",\"end-datetime\":\"2026-12-01T23:59:59Z\"},"
	        "\"contact-info\":\"postmaster@example.net\",\"report-id\":"
	        "\"2026-12-01.ab@mx.example.net\",\"policies\":["
	        "{\"policy\":{\"policy-type\":\"sts\",\"policy-string\":[\"version: STSv1\","
	        "\"mode: enforce\",\"mx: *.example.org\",\"max_age: 86400\"],\"policy-domain\":"
	        "\"example.org\",\"mx-host\":[\"*.example.org\"]},\"summary\":{"
	        "\"total-successful-session-count\":5,\"total-failure-session-count\":5},"
	        "\"failure-details\":[{\"result-type\":\"certificate-expired\","
	        "\"sending-mta-ip\":\"198.51.100.1\","
	        "\"receiving-mx-hostname\":\"mx1.example.org\",\"receiving-ip\":\"192.0.2.1\","
	        "\"failed-session-count\":2,\"failure-reason-code\":\"certificate has expired\"},"
	        "{\"result-type\":\"validation-failure\",\"receiving-mx-hostname\":"
	        "\"mx\\\"3\\\".example.org\",\"receiving-ip\":\"192.0.2.3\","
	        "\"failed-session-count\":3,\"failure-reason-code\":\"caf\\u00c3\\u00a9\\u000a\"}]},"
	        "{\"policy\":{\"policy-type\":\"no-policy-found\",\"policy-domain\":"
	        "\"example.org\"},\"summary\":{\"total-successful-session-count\":0,"
	        "\"total-failure-session-count\":1},\"failure-details\":[{\"result-type\":"
	        "\"starttls-not-supported\",\"receiving-mx-hostname\":\"mx2.example.org\","
	        "\"receiving-ip\":\"192.0.2.2\",\"failed-session-count\":1}]}]}");
	buf_deinit(&b);
}

static void
test_db(void)
{
	char dir[] = "/tmp/test-tlsrpt-XXXXXX";
	struct smtp_tlsrpt_db *db = NULL;
	char *error = NULL;

	test_assert(-1, mkdtemp(dir) != NULL);
	test_int_eq(-1, smtp_tlsrpt_db_open(dir, &db, &error), 0);
	if (db == NULL)
		return;
	test_int_eq(-1, smtp_tlsrpt_day(1796083200 + 3600), 1796083200);
	test_int_eq(-1, smtp_tlsrpt_day(1796083200), 1796083200);
	struct smtp_tlsrpt_row ok = {"sts", "p", "m", "", "", "", "", "", 1};
	struct smtp_tlsrpt_row bad = {"sts", "p", "m", "certificate-expired", "me", "mx",
	                              "ip",  "x", 1};
	int64_t d1 = 1796083200, d2 = d1 + 86400;
	for (int i = 0; i < 3; i++)
		test_int_eq(i, smtp_tlsrpt_db_add(db, d1, "a.example", &ok), 0);
	test_int_eq(-1, smtp_tlsrpt_db_add(db, d1, "a.example", &bad), 0);
	test_int_eq(-1, smtp_tlsrpt_db_add(db, d1, "b.example", &bad), 0);
	test_int_eq(-1, smtp_tlsrpt_db_add(db, d2, "a.example", &ok), 0);

	struct smtp_tlsrpt_rows *v;
	size_t n;
	test_int_eq(-1, smtp_tlsrpt_db_read(db, INT64_MAX, false, &v, &n), 0);
	test_int_eq(-1, n, 3); /* (d1, a), (d1, b), (d2, a) */
	if (n == 3) {
		test_str_eq(-1, v[0].domain, "a.example");
		test_int_eq(-1, v[0].n, 2);
		test_str_eq(-1, v[0].v[0].result, ""); /* success sorts first */
		test_int_eq(-1, v[0].v[0].count, 3);
		test_str_eq(-1, v[0].v[1].receiving_mx, "mx");
		test_str_eq(-1, v[1].domain, "b.example");
		test_int_eq(-1, v[2].day, d2);
	}
	for (size_t i = 0; i < n; i++)
		smtp_tlsrpt_rows_free(&v[i]);
	free(v);
	/* Taking the days before d2 leaves only d2's. */
	test_int_eq(-1, smtp_tlsrpt_db_read(db, d2, true, &v, &n), 0);
	test_int_eq(-1, n, 2);
	for (size_t i = 0; i < n; i++)
		smtp_tlsrpt_rows_free(&v[i]);
	free(v);
	test_int_eq(-1, smtp_tlsrpt_db_read(db, INT64_MAX, false, &v, &n), 0);
	test_int_eq(-1, n, 1);
	for (size_t i = 0; i < n; i++)
		smtp_tlsrpt_rows_free(&v[i]);
	free(v);
	smtp_tlsrpt_db_close(&db);
	char *cmd = xasprintf("rm -rf %s", dir);
	test_int_eq(-1, system(cmd), 0);
	free(cmd);
}

int
main(void)
{
	TEST_RUN(test_txt_records);
	TEST_RUN(test_mailto);
	TEST_RUN(test_verify_results);
	TEST_RUN(test_json);
	TEST_RUN(test_db);
	return TEST_DONE("test_smtp_tlsrpt");
}
