/* SPDX-License-Identifier: MIT */
/*
 * cmd_dns.c: `tern dns-records DOMAIN`: every DNS record a mail domain
 * served by this tern needs, as zone-file lines to paste: MX, SPF (RFC
 * 7208), DMARC (RFC 7489), MTA-STS (RFC 8461; the id is a hash of the
 * policy this server serves, so it changes exactly when the policy does),
 * TLS-RPT (RFC 8460), the RFC 6186/8314 SRV records of the listeners that
 * run (a protocol switched off gets the "not offered" target "."), and the
 * names autoconfig and Autodiscover clients look up. Reads tern.conf only;
 * publishes nothing.
 */
#include <openssl/sha.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/conf.h"
#include "http/http.h"
#include "lib/buf.h"
#include "lib/util.h"
#include "smtp/smtp_dkim.h"

/* One record: "label.domain." (the apex when label is NULL), then "IN "
   and the type and data. */
static void PRINTF_LIKE(3, 4) rr(const char *label, const char *domain, const char *fmt, ...)
{
	char name[300];
	va_list ap;

	snprintf(name, sizeof(name), "%s%s%s.", label != NULL ? label : "",
	         label != NULL ? "." : "", domain);
	printf("%-40s IN ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* RFC 6186 section 3.4: target "." says the service is not offered. */
static void
srv(const char *service, const char *domain, unsigned prio, uint16_t port, const char *host)
{
	if (port == 0)
		rr(service, domain, "SRV   0 0 0 .");
	else
		rr(service, domain, "SRV   %u 1 %u %s.", prio, port, host);
}

/* One key's record; a TXT string holds at most 255 bytes (RFC 1035
   section 3.3.14), so an RSA key's text is split into several strings,
   which DKIM verifiers join (RFC 6376 section 3.6.2.2). */
static void
dkim_rr(const char *selector, const char *txt, void *arg)
{
	char label[300];
	struct buf b;

	snprintf(label, sizeof(label), "%s._domainkey", selector);
	buf_init(&b);
	for (size_t at = 0, n = strlen(txt); at < n; at += 255)
		buf_printf(&b, "%s\"%.*s\"", at > 0 ? " " : "", (int)MIN(255, n - at), txt + at);
	rr(label, arg, "TXT   %s", b.data);
	buf_deinit(&b);
}

int
cli_dns_records(const char *data_dir, int argc, char **argv)
{
	struct tern_conf conf;
	char *err = NULL;

	if (argc != 1)
		return cli_fail("usage: tern dns-records DOMAIN (see tern dns-records --help)");
	const char *domain = argv[0];
	if (!http_domain_is_valid(domain))
		return cli_fail("'%s' is not a domain name", domain);
	if (conf_load(data_dir, &conf, &err) < 0) {
		cli_fail("%s", err);
		free(err);
		return 1;
	}
	struct http_settings http = conf_http_settings(&conf);
	const char *host = conf.hostname;

	printf("; DNS records for %s, served by %s (from %s/tern.conf).\n", domain, host, data_dir);
	if (strcmp(host, "localhost") == 0 || strchr(host, '.') == NULL)
		printf("; server.hostname is \"%s\": set it to the public name first.\n", host);
	printf(";\n; %s needs an A (and AAAA) record with the server's public address:\n", host);
	printf("; %-38s IN A     <address>\n\n", host);

	printf("; Mail for the domain goes to this server.\n");
	rr(NULL, domain, "MX    10 %s.", host);
	printf("; Only the MX may send as the domain (RFC 7208).\n");
	rr(NULL, domain, "TXT   \"v=spf1 mx -all\"");
	printf("; Receivers quarantine what fails SPF and DKIM alignment; reports to postmaster.\n");
	rr("_dmarc", domain, "TXT   \"v=DMARC1; p=quarantine; rua=mailto:postmaster@%s\"", domain);
	printf("; DKIM (RFC 6376): mail from the domain is signed with each of its keys.\n");
	if (smtp_dkim_records(data_dir, domain, dkim_rr, (void *)domain) == 0)
		printf("; No key yet: `%s -d %s dkim keygen %s` makes one (and prints its "
		       "record).\n",
		       cli_program, data_dir, domain);
	putchar('\n');

	struct buf policy;
	unsigned char md[SHA256_DIGEST_LENGTH];
	buf_init(&policy);
	http_mta_sts_policy(&http, &policy);
	SHA256((const unsigned char *)policy.data, policy.len, md);
	buf_deinit(&policy);
	printf("; MTA-STS (RFC 8461): the policy is served at\n"
	       ";   https://mta-sts.%s/.well-known/mta-sts.txt (http.mta_sts_mode);\n"
	       ";   the certificate must cover mta-sts.%s. The id changes with the policy.\n",
	       domain, domain);
	rr("_mta-sts", domain, "TXT   \"v=STSv1; id=%02x%02x%02x%02x%02x%02x%02x%02x\"", md[0],
	   md[1], md[2], md[3], md[4], md[5], md[6], md[7]);
	rr("mta-sts", domain, "CNAME %s.", host);
	printf("; TLS reporting (RFC 8460).\n");
	rr("_smtp._tls", domain, "TXT   \"v=TLSRPTv1; rua=mailto:postmaster@%s\"", domain);
	putchar('\n');

	printf("; Client service discovery (RFC 6186, RFC 8314: implicit TLS preferred).\n");
	srv("_imaps._tcp", domain, 0, http.imaps_port, host);
	srv("_imap._tcp", domain, 10, http.imap_port, host);
	srv("_pop3s._tcp", domain, 20, http.pop3s_port, host);
	srv("_pop3._tcp", domain, 30, http.pop3_port, host);
	srv("_submissions._tcp", domain, 0, http.submissions_port, host);
	srv("_submission._tcp", domain, 10, http.submission_port, host);

	printf("\n; Autoconfiguration: Thunderbird asks autoconfig.DOMAIN, Outlook\n"
	       "; autodiscover.DOMAIN or the SRV record (both over HTTPS, tls.cert must\n"
	       "; cover the names).\n");
	rr("autoconfig", domain, "CNAME %s.", host);
	rr("autodiscover", domain, "CNAME %s.", host);
	srv("_autodiscover._tcp", domain, 0, conf.http_enabled ? (uint16_t)conf.https_port : 0,
	    host);
	conf_free(&conf);
	return 0;
}
