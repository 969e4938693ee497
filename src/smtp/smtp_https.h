/* SPDX-License-Identifier: MIT */
/*
 * smtp_https.h: one libcurl handle made ready for an HTTPS request of the
 * outbound side: the MTA-STS policy fetch (RFC 8461 section 3.3) and the
 * TLS-RPT report POST (RFC 8460 section 5.3.1). Both want the same: the
 * host's name resolved through the delivery resolver (libunbound,
 * `dns.nameservers`; libcurl's own would not see the test zones or follow
 * the same policy), https only, the certificate valid for the name (the
 * system CAs plus `delivery.ca_file`), TLS 1.2 or later, no redirects and
 * a bound on the whole transfer. Blocking: for delivery threads and the
 * CLI.
 */
#ifndef TERN_SMTP_SMTP_HTTPS_H
#define TERN_SMTP_SMTP_HTTPS_H

#include <stdint.h>

#include <curl/curl.h>

struct smtp_resolver;

struct smtp_https {
	CURL *curl;
	struct curl_slist *resolve;
	char error[CURL_ERROR_SIZE]; /* libcurl's CURLOPT_ERRORBUFFER */
};

/* Sets up h for https://host:port/... (the caller sets the URL and what
   to send or keep). ca_file: "" for the system CAs only. 0, or -1 with
   *why_out (static text) when host has no address or libcurl failed;
   smtp_https_deinit in both cases. */
int smtp_https_init(struct smtp_https *h, struct smtp_resolver *r, const char *host, uint16_t port,
                    const char *ca_file, uint64_t timeout_ms, const char **why_out);
void smtp_https_deinit(struct smtp_https *h);

/* libcurl's global state: once per process before any thread uses it. */
void smtp_https_global_init(void);

#endif
