/* SPDX-License-Identifier: MIT */
/*
 * smtp_https.c: the outbound side's libcurl set-up (smtp_https.h).
 */
#include "smtp/smtp_https.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <openssl/ssl.h>
#include <unbound.h>

#include "lib/log.h"
#include "lib/util.h"
#include "smtp/smtp_mx.h"

#define RR_A    1
#define RR_AAAA 28

void
smtp_https_global_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* The first address of name, numeric, for CURLOPT_RESOLVE. */
static int
address_lookup(struct smtp_resolver *r, const char *name, char *out, size_t cap)
{
	static const int types[] = {RR_A, RR_AAAA};

	for (size_t t = 0; t < ARRAY_LEN(types); t++) {
		struct ub_result *res;
		if (smtp_resolver_query(r, name, types[t], &res) < 0)
			continue;
		int want = types[t] == RR_A ? 4 : 16;
		bool ok = false;
		for (int i = 0; !ok && res->havedata && res->data[i] != NULL; i++) {
			if (res->len[i] != want)
				continue;
			char ip[48];
			inet_ntop(want == 4 ? AF_INET : AF_INET6, res->data[i], ip, sizeof(ip));
			snprintf(out, cap, want == 4 ? "%s" : "[%s]", ip);
			ok = true;
		}
		ub_resolve_free(res);
		if (ok)
			return 0;
	}
	return -1;
}

/* The extra CA file next to the system's (CURLOPT_CAINFO would replace
   them): loaded into the handshake's store. */
static CURLcode
add_ca_file(CURL *curl, void *ssl_ctx, void *arg)
{
	const char *ca_file = arg;

	if (SSL_CTX_load_verify_locations(ssl_ctx, ca_file, NULL) != 1)
		log_warn("outbound", "event=ca-file-failed file=%s", ca_file);
	return CURLE_OK;
}

int
smtp_https_init(struct smtp_https *h, struct smtp_resolver *r, const char *host, uint16_t port,
                const char *ca_file, uint64_t timeout_ms, const char **why_out)
{
	char ip[64], resolve[400];

	*h = (struct smtp_https){0};
	if (address_lookup(r, host, ip, sizeof(ip)) < 0) {
		*why_out = "no address";
		return -1;
	}
	snprintf(resolve, sizeof(resolve), "%s:%u:%s", host, (unsigned)port, ip);
	h->resolve = curl_slist_append(NULL, resolve);
	h->curl = curl_easy_init();
	if (h->curl == NULL || h->resolve == NULL) {
		*why_out = "libcurl failed";
		return -1;
	}
	CURL *curl = h->curl;
	curl_easy_setopt(curl, CURLOPT_RESOLVE, h->resolve); /* our resolver's answer */
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L); /* no redirects */
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(curl, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "tern");
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, h->error);
	if (ca_file[0] != '\0') {
		curl_easy_setopt(curl, CURLOPT_SSL_CTX_FUNCTION, add_ca_file);
		curl_easy_setopt(curl, CURLOPT_SSL_CTX_DATA, (void *)ca_file);
	}
	return 0;
}

void
smtp_https_deinit(struct smtp_https *h)
{
	if (h->curl != NULL)
		curl_easy_cleanup(h->curl);
	curl_slist_free_all(h->resolve);
	h->curl = NULL;
	h->resolve = NULL;
}
