/* SPDX-License-Identifier: MIT */
/*
 * fuzz_smtp_dns.c: libFuzzer harness for what tern reads out of DNS
 * answers and policy texts: smtp_dns_txt_join() (TXT rdata for SPF, DKIM
 * keys, DMARC and MTA-STS records), smtp_dns_wire_name() (MX and PTR
 * targets, src/smtp/smtp_mx.c), smtp_mailauth_policy_parse()
 * (mailauth.domains, src/smtp/smtp_mailauth.c), and the MTA-STS TXT
 * record and policy parsers with MX matching (src/smtp/smtp_mta_sts.c),
 * TLSA rdata for DANE (src/smtp/smtp_dane.c), and the authserv-id of an
 * arriving Authentication-Results field (smtp_mailauth.c).
 * The first byte picks the decoder and, for the first two, the output
 * room; every output is checked against its contract (NUL-terminated
 * within the room, hostname bytes, bounded fields).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtp/smtp_dane.h"
#include "smtp/smtp_mailauth.h"
#include "smtp/smtp_mta_sts.h"
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

	switch (data[0] % 7) {
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
	case 3: {
		char *text = malloc(len + 1);
		char id[33];
		memcpy(text, in, len);
		text[len] = '\0';
		if (smtp_sts_txt_parse(text, id) == 0 && (id[0] == '\0' || strlen(id) > 32))
			abort();
		free(text);
		break;
	}
	case 6:
		(void)smtp_mailauth_is_our_results((const char *)in, len, "mx.example");
		break;
	case 5: {
		struct smtp_tlsa *t = malloc(sizeof(*t));
		int rc = smtp_tlsa_parse(in, len, t);
		if (rc == 0 && (t->usage < 2 || t->usage > 3 || t->len + 3 != len))
			abort();
		free(t);
		break;
	}
	case 4: {
		struct smtp_sts_policy p = {0};
		if (smtp_sts_policy_parse((const char *)in, len, &p) == 0) {
			if (p.max_age > SMTP_STS_MAX_AGE || p.n_mx > SMTP_STS_MAX_MX ||
			    (p.n_mx == 0 && p.mode != SMTP_STS_NONE))
				abort();
			for (size_t i = 0; i < p.n_mx; i++)
				if (!smtp_sts_mx_matches(&p, p.mx[i][0] == '*' ? "x" : p.mx[i]) &&
				    p.mx[i][0] != '*')
					abort(); /* a name matches itself */
		}
		break;
	}
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
