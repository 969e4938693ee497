/* SPDX-License-Identifier: MIT */
/*
 * fuzz_smtp_dns.c: libFuzzer harness for what tern reads out of DNS
 * answers and the mailauth policy text: smtp_dns_txt_join() (TXT rdata for
 * SPF, DKIM keys, DMARC records), smtp_dns_wire_name() (MX and PTR
 * targets, src/smtp/smtp_mx.c) and smtp_mailauth_policy_parse()
 * (mailauth.domains, src/smtp/smtp_mailauth.c). The first byte picks the
 * decoder and, for the first two, the output room; every output is checked
 * against its contract (NUL-terminated within the room, hostname bytes).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtp/smtp_mailauth.h"
#include "smtp/smtp_mx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const unsigned char *in = data + 1;
	size_t len = size - 1;
	size_t cap = (size_t)(data[0] >> 2) * 8 + 1; /* 1 .. 505 */
	char *out = malloc(cap);

	switch (data[0] % 3) {
	case 0:
		if (smtp_dns_txt_join(in, len, out, cap) == 0) {
			size_t n = strlen(out);
			if (n >= cap || n > len)
				abort();
		}
		break;
	case 1:
		if (smtp_dns_wire_name(in, len, out, cap) == 0) {
			size_t n = strlen(out);
			if (n >= cap)
				abort();
			for (size_t i = 0; i < n; i++)
				if (!(out[i] == '.' || out[i] == '-' || out[i] == '_' ||
				      (out[i] >= '0' && out[i] <= '9') ||
				      ((out[i] | 0x20) >= 'a' && (out[i] | 0x20) <= 'z')))
					abort();
		}
		break;
	default: {
		char *text = malloc(len + 1);
		memcpy(text, in, len);
		text[len] = '\0';
		struct smtp_mailauth_policy p = {.fallback = SMTP_MAILAUTH_DELIVER};
		char *err = NULL;
		if (smtp_mailauth_policy_parse(text, &p, &err) == 0) {
			for (size_t i = 0; i < p.n_domains; i++)
				if (smtp_mailauth_policy_get(&p, p.domains[i].domain) >
				    SMTP_MAILAUTH_REJECT)
					abort();
			smtp_mailauth_policy_deinit(&p);
		} else if (err == NULL || p.n_domains != 0) {
			abort();
		}
		free(err);
		free(text);
		break;
	}
	}
	free(out);
	return 0;
}
