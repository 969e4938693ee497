/* SPDX-License-Identifier: MIT */
/*
 * test_auth_gssapi.c: the pure parts of SASL GSSAPI and GS2-KRB5: which
 * account a principal maps to (src/auth/gssapi_map.c), the GS2 header
 * (RFC 5801 section 4) and the shape of Kerberos context tokens
 * (src/auth/sasl_parse.c). The exchanges themselves, against a real KDC,
 * are tests/integration/test_gssapi.py.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "auth/gssapi_map.h"
#include "auth/sasl_parse.h"
#include "lib/arena.h"
#include "lib/util.h"
#include "test.h"

static void
test_realm_rule_and_map_file(void)
{
	char *err = NULL;
	struct auth_gssapi_map *m = auth_gssapi_map_parse(
	        "EXAMPLE.ORG=example.org, CORP.EXAMPLE=example.com",
	        "# principal address\n"
	        "alice/admin@EXAMPLE.ORG   boss@example.org   # the admin instance\n"
	        "\n"
	        "  svc\\/x@EXAMPLE.ORG\tsvc@example.org\r\n"
	        "alice@EXAMPLE.ORG other@example.org\n",
	        "gssapi.map", &err);
	static const struct {
		const char *principal, *address;
	} cases[] = {
	        {"bob@EXAMPLE.ORG", "bob@example.org"},
	        {"bob@CORP.EXAMPLE", "bob@example.com"},
	        {"alice@EXAMPLE.ORG", "other@example.org"}, /* the file comes first */
	        {"alice/admin@EXAMPLE.ORG", "boss@example.org"},
	        {"svc\\/x@EXAMPLE.ORG", "svc@example.org"},
	        {"bob@example.org", NULL},       /* realms are case-sensitive */
	        {"bob@OTHER.ORG", NULL},         /* realm not listed */
	        {"bob/admin@EXAMPLE.ORG", NULL}, /* an instance needs a line */
	        {"b\\@x@EXAMPLE.ORG", NULL},     /* an escape too */
	        {"bob", NULL},                   /* no realm */
	        {"@EXAMPLE.ORG", NULL},          /* no name */
	        {"bob@EXAMPLE.ORG@EXAMPLE.ORG", NULL},
	        {"b ob@EXAMPLE.ORG", NULL},
	};

	test_assert(-1, m != NULL);
	if (m == NULL) {
		printf("  %s\n", err);
		free(err);
		return;
	}
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		char *got = auth_gssapi_map_principal(m, cases[i].principal);
		test_str_eq(i, got, cases[i].address);
		free(got);
	}
	auth_gssapi_map_free(&m);
	test_assert(-1, m == NULL);
}

static void
test_bad_rules_name_the_place(void)
{
	static const struct {
		const char *realms, *text, *error;
	} cases[] = {
	        {"EXAMPLE.ORG", NULL,
	         "auth.gssapi_realms: expected REALM=domain, got 'EXAMPLE.ORG'"},
	        {"=example.org", NULL,
	         "auth.gssapi_realms: expected REALM=domain, got '=example.org'"},
	        {"A=", NULL, "auth.gssapi_realms: expected REALM=domain, got 'A='"},
	        {"A=b@c", NULL, "auth.gssapi_realms: expected REALM=domain, got 'A=b@c'"},
	        {"", "a@R b@c\nlonely@R\n", "m:2: expected 'principal address'"},
	        {"", "a@R b@c d\n", "m:1: expected 'principal address'"},
	        {"", "a@R nodomain\n", "m:1: expected 'principal address'"},
	        {"", "a@R b@\n", "m:1: expected 'principal address'"},
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		char *err = NULL;
		struct auth_gssapi_map *m =
		        auth_gssapi_map_parse(cases[i].realms, cases[i].text, "m", &err);
		test_assert(i, m == NULL);
		test_str_eq(i, err, cases[i].error);
		auth_gssapi_map_free(&m);
		free(err);
	}
}

static void
test_map_file_is_read(void)
{
	char path[] = "/tmp/test-gssapi-map-XXXXXX";
	int fd = mkstemp(path);
	const char text[] = "ops/robot@R alice@example.org\n";
	char *err = NULL;

	test_assert(-1, fd >= 0 && write(fd, text, sizeof(text) - 1) == sizeof(text) - 1);
	close(fd);
	struct auth_gssapi_map *m = auth_gssapi_map_new("", path, &err);
	test_assert(-1, m != NULL);
	char *got = m != NULL ? auth_gssapi_map_principal(m, "ops/robot@R") : NULL;
	test_str_eq(-1, got, "alice@example.org");
	free(got);
	auth_gssapi_map_free(&m);
	unlink(path);
	m = auth_gssapi_map_new("", path, &err);
	test_assert(-1, m == NULL && err != NULL && strstr(err, "No such file") != NULL);
	free(err);
}

static void
test_gs2_header(void)
{
	static const struct {
		const char *in;
		int ok;
		bool nonstd;
		char cbflag;
		const char *authzid;
		size_t header_len;
	} cases[] = {
	        {"n,,\x01\x00\x6e", 1, false, 'n', NULL, 3},
	        {"y,,TOKEN", 1, false, 'y', NULL, 3},
	        {"n,a=alice@example.org,TOKEN", 1, false, 'n', "alice@example.org", 22},
	        {"n,a=x=2Cy=3Dz,T", 1, false, 'n', "x,y=z", 14},
	        {"F,n,,T", 1, true, 'n', NULL, 5},
	        {"p=tls-exporter,,T", 1, false, 'p', NULL, 16},
	        {"n,,", 1, false, 'n', NULL, 3}, /* an empty token: the mechanism says no */
	        {"n,", 0, false, 0, NULL, 0},
	        {"n", 0, false, 0, NULL, 0},
	        {"", 0, false, 0, NULL, 0},
	        {"x,,T", 0, false, 0, NULL, 0},
	        {"nn,,T", 0, false, 0, NULL, 0},
	        {"p=,,T", 0, false, 0, NULL, 0},
	        {"p=a b,,T", 0, false, 0, NULL, 0},
	        {"n,b=alice,T", 0, false, 0, NULL, 0},
	        {"n,a=,T", 0, false, 0, NULL, 0},
	        {"n,a=x=41,T", 0, false, 0, NULL, 0}, /* only =2C and =3D escapes */
	        {"F,F,n,,T", 0, false, 0, NULL, 0},
	};
	struct arena *a = arena_new(1024);

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct sasl_gs2_first g;
		const char *err;
		size_t len = strlen(cases[i].in);
		int rc = sasl_gs2_parse_first(a, (const unsigned char *)cases[i].in, len, &g, &err);
		test_int_eq(i, rc == 0, cases[i].ok);
		if (rc != 0)
			continue;
		test_int_eq(i, g.nonstd, cases[i].nonstd);
		test_int_eq(i, g.cbflag, cases[i].cbflag);
		test_str_eq(i, g.authzid, cases[i].authzid);
		test_int_eq(i, g.header_len, cases[i].header_len);
		test_int_eq(i, g.token_len, len - cases[i].header_len);
		test_assert(i, g.token == (const unsigned char *)cases[i].in + cases[i].header_len);
	}
	/* A NUL in the token is data, in the header it is not. */
	const unsigned char nul_token[] = {'n', ',', ',', 0x00, 0x01};
	struct sasl_gs2_first g;
	const char *err;
	test_int_eq(-1, sasl_gs2_parse_first(a, nul_token, sizeof(nul_token), &g, &err), 0);
	test_int_eq(-1, g.token_len, 2);
	const unsigned char nul_authzid[] = {'n', ',', 'a', '=', 'x', 0x00, ',', 'T'};
	test_int_eq(-1, sasl_gs2_parse_first(a, nul_authzid, sizeof(nul_authzid), &g, &err), -1);
	arena_free(&a);
}

/* RFC 2743 section 3.1 framing around inner, with the Kerberos OID. */
static size_t
frame(unsigned char *out, const unsigned char *inner, size_t len, bool ms_oid)
{
	static const unsigned char oid[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
	                                    0xf7, 0x12, 0x01, 0x02, 0x02};
	size_t body = sizeof(oid) + len, n = 0;

	out[n++] = 0x60;
	if (body < 0x80) {
		out[n++] = (unsigned char)body;
	} else {
		out[n++] = 0x82;
		out[n++] = (unsigned char)(body >> 8);
		out[n++] = (unsigned char)body;
	}
	memcpy(out + n, oid, sizeof(oid));
	if (ms_oid)
		out[n + 5] = 0x82;
	memcpy(out + n + sizeof(oid), inner, len);
	return n + body;
}

static void
test_krb5_token_shapes(void)
{
	unsigned char ap_req[300] = {0x01, 0x00, 0x6e, 0x82, 0x01, 0x00};
	unsigned char ap_rep[] = {0x02, 0x00, 0x6f, 0x10};
	unsigned char dce_ap_rep[] = {0x6f, 0x10, 0x30};
	unsigned char wrap[] = {0x05, 0x04, 0x01, 0xff};
	unsigned char buf[400];
	size_t n;

	test_assert(-1, sasl_krb5_is_ap_req(ap_req, sizeof(ap_req), false));
	n = frame(buf, ap_req, sizeof(ap_req), false);
	test_assert(-1, sasl_krb5_is_ap_req(buf, n, true));
	test_assert(-1, !sasl_krb5_is_ap_req(buf, n - 1, true)); /* length must cover it exactly */
	test_assert(-1, !sasl_krb5_is_ap_req(buf, n, false));
	n = frame(buf, ap_req, 40, true); /* Windows' OID, short length */
	test_assert(-1, sasl_krb5_is_ap_req(buf, n, true));
	buf[n - 40] = 0x02; /* TOK_ID 02 00 is the acceptor's */
	test_assert(-1, !sasl_krb5_is_ap_req(buf, n, true));
	n = frame(buf, ap_req, 40, false);
	buf[4 + 8] ^= 1; /* another mechanism's OID (IAKERB, SPNEGO...) */
	test_assert(-1, !sasl_krb5_is_ap_req(buf, n, true));
	const unsigned char short_ones[][3] = {{0x60, 0x00}, {0x60, 0x81}, {0x60, 0x84}};
	for (size_t i = 0; i < ARRAY_LEN(short_ones); i++)
		test_assert(i, !sasl_krb5_is_ap_req(short_ones[i], 2, true));
	test_assert(-1, !sasl_krb5_is_ap_req(ap_req, 2, false));

	n = frame(buf, ap_rep, sizeof(ap_rep), false);
	test_assert(-1, sasl_krb5_completes(buf, n));
	test_assert(-1, sasl_krb5_completes(wrap, sizeof(wrap)));
	test_assert(-1, !sasl_krb5_completes(dce_ap_rep, sizeof(dce_ap_rep)));
	test_assert(-1, !sasl_krb5_completes(NULL, 0));
	n = frame(buf, ap_req, sizeof(ap_req), false);
	test_assert(-1, !sasl_krb5_completes(buf, n));
}

int
main(void)
{
	TEST_RUN(test_realm_rule_and_map_file);
	TEST_RUN(test_bad_rules_name_the_place);
	TEST_RUN(test_map_file_is_read);
	TEST_RUN(test_gs2_header);
	TEST_RUN(test_krb5_token_shapes);
	return TEST_DONE("test_auth_gssapi");
}
