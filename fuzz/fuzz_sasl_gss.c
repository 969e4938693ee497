/* SPDX-License-Identifier: MIT */
/*
 * fuzz_sasl_gss.c: libFuzzer harness for what SASL GSSAPI and GS2-KRB5
 * parse before the GSS-API library: the GS2 header and the Kerberos token
 * shapes (src/auth/sasl_parse.c), and the principal-to-account rules
 * (src/auth/gssapi_map.c). The first byte picks: 0 a GS2 first message,
 * 1 a framed or bare token, 2 a map file (its first line is the realm
 * list, then each following line also tried as a principal).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/gssapi_map.h"
#include "auth/sasl_parse.h"
#include "lib/arena.h"

static volatile size_t sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_map(const char *in, size_t len)
{
	char *text = malloc(len + 1);
	memcpy(text, in, len);
	text[len] = '\0';
	if (strlen(text) != len) { /* the map file is text */
		free(text);
		return;
	}
	char *nl = strchr(text, '\n');
	char *realms = text, *rest = nl != NULL ? nl + 1 : NULL;
	if (nl != NULL)
		*nl = '\0';
	char *err = NULL;
	struct auth_gssapi_map *m = auth_gssapi_map_parse(realms, rest, "fuzz", &err);
	if (m == NULL) {
		sink += strlen(err);
		free(err);
		free(text);
		return;
	}
	for (char *line = rest; line != NULL;) {
		char *next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		char *addr = auth_gssapi_map_principal(m, line);
		if (addr != NULL) {
			sink += strlen(addr);
			free(addr);
		}
		line = next;
	}
	char *addr = auth_gssapi_map_principal(m, realms);
	free(addr);
	auth_gssapi_map_free(&m);
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const unsigned char *in = data + 1;
	size_t len = size - 1;

	switch (data[0] % 3) {
	case 0: {
		struct arena *a = arena_new(1024);
		struct sasl_gs2_first g;
		const char *err;
		if (sasl_gs2_parse_first(a, in, len, &g, &err) == 0) {
			if (g.header_len + g.token_len != len || g.token != in + g.header_len)
				abort();
			if (g.authzid != NULL)
				sink += strlen(g.authzid);
			if (g.cbname != NULL)
				sink += strlen(g.cbname);
			sink += sasl_krb5_is_ap_req(g.token, g.token_len, false);
		}
		arena_free(&a);
		break;
	}
	case 1:
		sink += sasl_krb5_is_ap_req(in, len, true) + sasl_krb5_is_ap_req(in, len, false) +
		        sasl_krb5_completes(in, len);
		break;
	default:
		fuzz_map((const char *)in, len);
		break;
	}
	return 0;
}
