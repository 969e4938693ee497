/* SPDX-License-Identifier: MIT */
/*
 * fuzz_sasl_decode.c: libFuzzer harness for the SASL input decoding path:
 * src/auth/sasl_parse.c (base64, SCRAM client messages, OAUTHBEARER and
 * XOAUTH2 responses, JSON) and auth_jwt_parse() in src/auth/jwt.c. The first
 * byte picks the decoder; the rest is the client's bytes, as auth_sasl_step()
 * would see them after base64. Every string produced is read to the end so
 * ASan sees any overrun.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/jwt.h"
#include "auth/sasl_parse.h"
#include "lib/arena.h"

static volatile size_t sink;

static void
touch(const char *s)
{
	if (s != NULL)
		sink += strlen(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct arena *a = arena_new(4096);
	const char *in = (const char *)data + 1;
	size_t len = size - 1, out_len;
	const char *err;

	switch (data[0] % 7) {
	case 0:
	case 1: {
		unsigned char *d = sasl_base64_decode(a, in, len, data[0] % 7 == 1, &out_len);
		if (d != NULL) {
			char *e = sasl_base64_encode(a, d, out_len);
			/* Strict decoding is canonical: re-encoding gives the input
			   back (standard alphabet). */
			if (data[0] % 7 == 0 && (strlen(e) != len || memcmp(e, in, len) != 0))
				abort();
		}
		break;
	}
	case 2: {
		struct sasl_scram_first f;
		if (sasl_scram_parse_first(a, in, len, &f, &err) == 0) {
			touch(f.user);
			touch(f.authzid);
			touch(f.cbname);
			touch(f.nonce);
			touch(f.gs2_header);
			touch(f.bare);
		}
		break;
	}
	case 3: {
		struct sasl_scram_final f;
		if (sasl_scram_parse_final(a, in, len, &f, &err) == 0) {
			touch(f.nonce);
			touch(f.without_proof);
			sink += f.cbind_len + f.proof_len;
		}
		break;
	}
	case 4: {
		struct sasl_oauth o;
		if (sasl_oauthbearer_parse(a, in, len, &o, &err) == 0 ||
		    sasl_xoauth2_parse(a, in, len, &o, &err) == 0) {
			touch(o.authzid);
			touch(o.token);
			touch(o.host);
		}
		break;
	}
	case 5: {
		struct sasl_json_object o;
		if (sasl_json_parse_object(a, in, len, &o, &err) == 0) {
			for (size_t i = 0; i < o.n; i++) {
				touch(o.members[i].name);
				touch(o.members[i].str);
				for (size_t j = 0; j < o.members[i].nstrings; j++)
					touch(o.members[i].strings[j]);
			}
		}
		break;
	}
	default: {
		char *tok = arena_strndup(a, in, len);
		struct auth_jwt t;
		if (auth_jwt_parse(a, tok, &t, &err) == 0) {
			touch(t.alg);
			touch(t.kid);
			sink += t.sig_len + t.signing_input_len + t.claims.n;
		}
		break;
	}
	}
	arena_free(&a);
	return 0;
}
