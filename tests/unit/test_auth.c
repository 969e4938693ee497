/* SPDX-License-Identifier: MIT */
/* test_auth.c: tests for src/auth: password.c, accounts.c, throttle.c,
   sasl_parse.c and jwt.c. */
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth/accounts.h"
#include "auth/jwt.h"
#include "auth/login_cache.h"
#include "auth/password.h"
#include "auth/sasl_parse.h"
#include "auth/throttle.h"
#include "lib/arena.h"
#include "lib/util.h"
#include "test.h"

static void
test_hash_and_verify_each_scheme(void)
{
	static const struct {
		enum auth_scheme scheme;
		const char *prefix;
	} cases[] = {
	        {AUTH_SCHEME_YESCRYPT, "$y$"},
	        {AUTH_SCHEME_SHA512_CRYPT, "$6$"},
	        {AUTH_SCHEME_BCRYPT, "$2b$"},
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		char *h = auth_password_hash("correct horse", cases[i].scheme);
		test_assert(i,
		            h != NULL && strncmp(h, cases[i].prefix, strlen(cases[i].prefix)) == 0);
		test_assert(i, auth_password_verify(h, "correct horse"));
		test_assert(i, !auth_password_verify(h, "correct horsE"));
		test_assert(i, !auth_password_verify(h, ""));
		free(h);
	}
}

static void
test_imported_hashes_verify(void)
{
	/* Made with Python's crypt.crypt('secret', '$6$saltsalt$') (Dovecot passwd-file
	   style, without the {SHA512-CRYPT} prefix). */
	static const char sha512[] = "$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDeh"
	                             "y0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1";

	test_assert(-1, auth_password_verify(sha512, "secret"));
	test_assert(-1, !auth_password_verify(sha512, "Secret"));
}

static void
test_malformed_hashes_never_verify(void)
{
	static const char *const bad[] = {"", "plain", "$", "$y$", "*", "$6$onlysalt", "$9$x$y"};

	for (size_t i = 0; i < ARRAY_LEN(bad); i++)
		test_assert(i, !auth_password_verify(bad[i], "plain"));
}

static void
test_address_validation(void)
{
	static const struct {
		const char *addr;
		bool ok;
	} cases[] = {
	        {"alice@example.org", true},   {"a.b+c@sub.example.org", true},
	        {"test@localhost", true},      {"noat", false},
	        {"@example.org", false},       {"alice@", false},
	        {"al ice@example.org", false}, {"../x@example.org", false},
	        {"a*b@example.org", false},    {"alice@nodot", false},
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		test_int_eq(i, auth_address_is_valid(cases[i].addr), cases[i].ok);
}

static int
count_row(const struct auth_account *a, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

static void
test_account_lifecycle(void)
{
	char dir[] = "/tmp/tern-test-auth-XXXXXX";
	struct auth_db *db = NULL;
	struct auth_account a;
	enum auth_error err;
	char *error = NULL;
	uint64_t id1 = 0, id2 = 0;

	test_assert(-1, mkdtemp(dir) != NULL);
	test_int_eq(-1, auth_db_open(dir, &db, &error), 0);
	test_int_eq(-1, auth_account_add(db, "Alice@Example.org", "$y$hash1", &id1, &err), 0);
	test_int_eq(-1, auth_account_add(db, "alice@example.org", "$y$hash2", NULL, &err), -1);
	test_int_eq(-1, err, AUTH_ERR_EXISTS);
	test_int_eq(-1, auth_account_add(db, "bad address", "$y$", NULL, &err), -1);
	test_int_eq(-1, err, AUTH_ERR_INVALID);
	test_int_eq(-1, auth_account_lookup(db, "ALICE@example.ORG", &a, &err), 0);
	test_str_eq(-1, a.address, "alice@example.org");
	test_str_eq(-1, a.password, "$y$hash1");
	test_str_eq(-1, a.role, "user");
	test_assert(-1, a.enabled[AUTH_PROTO_IMAP] && a.enabled[AUTH_PROTO_POP3]);
	test_int_eq(-1, a.id, id1);
	auth_account_clear(&a);
	test_int_eq(-1, auth_account_set_password(db, "alice@example.org", "$y$new", &err), 0);
	test_int_eq(-1, auth_account_set_password(db, "ghost@example.org", "$y$new", &err), -1);
	test_int_eq(-1, err, AUTH_ERR_NOTFOUND);
	int rows = 0;
	test_int_eq(-1, auth_account_foreach(db, count_row, &rows, &err), 0);
	test_int_eq(-1, rows, 1);
	test_int_eq(-1, auth_account_delete(db, "alice@example.org", &err), 0);
	test_int_eq(-1, auth_account_lookup(db, "alice@example.org", &a, &err), -1);
	test_int_eq(-1, err, AUTH_ERR_NOTFOUND);
	/* Ids are never reused: the store's directory of a deleted account
	   must not be given to a new one. */
	test_int_eq(-1, auth_account_add(db, "bob@example.org", "$y$h", &id2, &err), 0);
	test_assert(-1, id2 > id1);
	auth_db_close(&db);
	char *cmd = xasprintf("rm -rf %s", dir);
	test_int_eq(-1, system(cmd), 0);
	free(cmd);
	free(error);
}

static void
test_base64_is_strict(void)
{
	static const struct {
		const char *in;
		bool url;
		const char *want; /* NULL: rejected */
	} cases[] = {
	        {"", false, ""},           {"Zg==", false, "f"},
	        {"Zm8=", false, "fo"},     {"Zm9v", false, "foo"},
	        {"Zg", false, NULL},       /* standard base64 needs padding */
	        {"Zh==", false, NULL},     /* non-zero trailing bits */
	        {"Zm9v\r\n", false, NULL}, /* no whitespace */
	        {"Z===", false, NULL},     {"Zg=a", false, NULL},
	        {"Zg", true, "f"}, /* base64url: padding optional */
	        {"-_8", true, "\xfb\xff"}, {"+/8=", false, "\xfb\xff"},
	        {"-_8", false, NULL},
	};
	struct arena *a = arena_new(256);

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		size_t len;
		const char *got = (const char *)sasl_base64_decode(
		        a, cases[i].in, strlen(cases[i].in), cases[i].url, &len);
		test_str_eq(i, got, cases[i].want);
	}
	test_str_eq(-1, sasl_base64_encode(a, (const unsigned char *)"fo", 2), "Zm8=");
	arena_free(&a);
}

static void
test_scram_messages_parse(void)
{
	static const struct {
		const char *in;
		bool ok;
		const char *user, *authzid, *cbname;
	} cases[] = {
	        {"n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL", true, "user", NULL, NULL},
	        {"y,,n=u=2Cv=3Dw,r=abc", true, "u,v=w", NULL, NULL},
	        {"p=tls-exporter,a=admin,n=user,r=abc", true, "user", "admin", "tls-exporter"},
	        {"n,,n=user,r=abc,x=ext", true, "user", NULL, NULL},
	        {"n,,m=ext,n=user,r=abc", false, NULL, NULL, NULL}, /* reserved m= */
	        {"n,,n=u=2X,r=abc", false, NULL, NULL, NULL},       /* bad escape */
	        {"n,,n=,r=abc", false, NULL, NULL, NULL},
	        {"n,,n=user", false, NULL, NULL, NULL},
	        {"x,,n=user,r=abc", false, NULL, NULL, NULL},
	        {"p=,,n=user,r=abc", false, NULL, NULL, NULL},
	        {"n,b=x,n=user,r=abc", false, NULL, NULL, NULL},
	        {"n,,n=user,r=a\x01", false, NULL, NULL, NULL},
	};
	struct arena *a = arena_new(256);

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct sasl_scram_first f;
		const char *err;
		int rc = sasl_scram_parse_first(a, cases[i].in, strlen(cases[i].in), &f, &err);
		test_int_eq(i, rc == 0, cases[i].ok);
		if (rc == 0) {
			test_str_eq(i, f.user, cases[i].user);
			test_str_eq(i, f.authzid, cases[i].authzid);
			test_str_eq(i, f.cbname, cases[i].cbname);
		}
	}
	struct sasl_scram_final fin;
	const char *err;
	const char *msg = "c=biws,r=abcdef,p=dHpiYWR0ZXN0";
	test_int_eq(-1, sasl_scram_parse_final(a, msg, strlen(msg), &fin, &err), 0);
	test_str_eq(-1, fin.without_proof, "c=biws,r=abcdef");
	test_int_eq(-1, fin.cbind_len, 3);
	msg = "c=biws,r=abcdef";
	test_int_eq(-1, sasl_scram_parse_final(a, msg, strlen(msg), &fin, &err), -1);
	msg = "c=biws,r=abc,p=dHpi,x=1"; /* the proof must come last */
	test_int_eq(-1, sasl_scram_parse_final(a, msg, strlen(msg), &fin, &err), -1);
	arena_free(&a);
}

static void
test_oauth_messages_parse(void)
{
	struct arena *a = arena_new(256);
	struct sasl_oauth o;
	const char *err;
	const char ok[] = "n,a=user@example.com,\x01host=server.example.com\x01port=143\x01"
	                  "auth=Bearer vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==\x01\x01";

	test_int_eq(-1, sasl_oauthbearer_parse(a, ok, strlen(ok), &o, &err), 0);
	test_str_eq(-1, o.authzid, "user@example.com");
	test_str_eq(-1, o.token, "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==");
	test_str_eq(-1, o.host, "server.example.com");
	static const char *const bad[] = {
	        "n,,\x01"
	        "auth=Bearer x\x01", /* no final kvsep */
	        "n,,\x01"
	        "auth=Basic x\x01\x01", /* not a bearer token */
	        "p=tls-unique,,\x01"
	        "auth=Bearer x\x01\x01",
	        "n,,\x01"
	        "host=x\x01\x01", /* no token */
	        "n,,\x01"
	        "auth=Bearer a b\x01\x01", /* space in the token */
	};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++)
		test_int_eq(i, sasl_oauthbearer_parse(a, bad[i], strlen(bad[i]), &o, &err), -1);
	const char x[] = "user=someuser@example.com\x01"
	                 "auth=Bearer ya29.vF9dft4qmTc2\x01\x01";
	test_int_eq(-1, sasl_xoauth2_parse(a, x, strlen(x), &o, &err), 0);
	test_str_eq(-1, o.authzid, "someuser@example.com");
	test_str_eq(-1, o.token, "ya29.vF9dft4qmTc2");
	arena_free(&a);
}

static void
test_json_objects(void)
{
	struct arena *a = arena_new(256);
	struct sasl_json_object o;
	const char *err;
	const char *in = "{\"a\":\"x\\u00e9\\ud83d\\ude00\",\"n\":-12,\"l\":[\"p\",\"q\"],"
	                 "\"z\":{\"deep\":[1,2,{}]},\"t\":true,\"f\":1.5e3}";

	test_int_eq(-1, sasl_json_parse_object(a, in, strlen(in), &o, &err), 0);
	test_str_eq(-1, sasl_json_get(&o, "a")->str, "x\xc3\xa9\xf0\x9f\x98\x80");
	test_int_eq(-1, sasl_json_get(&o, "n")->num, -12);
	test_int_eq(-1, sasl_json_get(&o, "l")->nstrings, 2);
	test_int_eq(-1, sasl_json_get(&o, "z")->type, SASL_JSON_OTHER);
	static const char *const bad[] = {"{\"a\":1,\"a\":2}",
	                                  "{\"a\":\"\\u0000\"}",
	                                  "{\"a\":01}",
	                                  "{\"a\":\"\\ud800\"}",
	                                  "[1]",
	                                  "{\"a\":1}x",
	                                  "{\"a\"}",
	                                  "{\"a\":[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]}"};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++)
		test_int_eq(i, sasl_json_parse_object(a, bad[i], strlen(bad[i]), &o, &err), -1);
	arena_free(&a);
}

static char *
b64url(struct arena *a, const void *data, size_t len)
{
	char *s = sasl_base64_encode(a, data, len);

	for (char *p = s; *p != '\0'; p++) {
		if (*p == '+')
			*p = '-';
		else if (*p == '/')
			*p = '_';
		else if (*p == '=')
			*p = '\0';
	}
	return s;
}

static const char *
hs256_token(struct arena *a, const char *header, const char *claims, const char *secret)
{
	char *si = arena_printf(a, "%s.%s", b64url(a, header, strlen(header)),
	                        b64url(a, claims, strlen(claims)));
	unsigned char mac[32];
	unsigned int n;

	HMAC(EVP_sha256(), secret, (int)strlen(secret), (unsigned char *)si, strlen(si), mac, &n);
	return arena_printf(a, "%s.%s", si, b64url(a, mac, 32));
}

static void
test_jwt_hs256_verification(void)
{
	char dir[] = "/tmp/tern-test-jwt-XXXXXX";
	struct arena *a = arena_new(1024);
	const char *secret = "0123456789abcdef0123456789abcdef";
	char *err = NULL;
	const char *account, *why;
	struct auth_jwt_policy pol = {"iss1", "aud1", "email", 60};
	int64_t now = 1700000000;

	test_assert(-1, mkdtemp(dir) != NULL);
	char *path = xasprintf("%s/secret", dir);
	FILE *f = fopen(path, "w");
	fprintf(f, "%s\n", secret);
	fclose(f);
	struct auth_jwt_keys *k = auth_jwt_keys_load(path, "", &err);
	test_assert(-1, k != NULL);
	static const struct {
		const char *header, *claims;
		bool ok;
	} cases[] = {
	        {"{\"alg\":\"HS256\"}",
	         "{\"iss\":\"iss1\",\"aud\":\"aud1\",\"exp\":1700000100,\"email\":\"a@b.c\"}",
	         true},
	        {"{\"alg\":\"HS256\"}",
	         "{\"iss\":\"iss1\",\"aud\":[\"x\",\"aud1\"],\"exp\":1699999990,\"email\":\"a@b.c\"}",
	         true}, /* within the leeway */
	        {"{\"alg\":\"HS256\"}",
	         "{\"iss\":\"iss1\",\"aud\":\"aud1\",\"exp\":1699999000,\"email\":\"a@b.c\"}",
	         false},
	        {"{\"alg\":\"HS256\"}", "{\"iss\":\"iss1\",\"aud\":\"aud1\",\"email\":\"a@b.c\"}",
	         false},
	        {"{\"alg\":\"HS256\"}",
	         "{\"iss\":\"other\",\"aud\":\"aud1\",\"exp\":1700000100,\"email\":\"a@b.c\"}",
	         false},
	        {"{\"alg\":\"HS256\"}",
	         "{\"iss\":\"iss1\",\"aud\":\"aud2\",\"exp\":1700000100,\"email\":\"a@b.c\"}",
	         false},
	        {"{\"alg\":\"HS256\"}",
	         "{\"iss\":\"iss1\",\"aud\":\"aud1\",\"exp\":1700000100,\"nbf\":1700001000,"
	         "\"email\":\"a@b.c\"}",
	         false},
	        {"{\"alg\":\"none\"}",
	         "{\"iss\":\"iss1\",\"aud\":\"aud1\",\"exp\":1700000100,\"email\":\"a@b.c\"}",
	         false},
	        {"{\"alg\":\"HS256\",\"crit\":[\"x\"]}",
	         "{\"iss\":\"iss1\",\"aud\":\"aud1\",\"exp\":1700000100,\"email\":\"a@b.c\"}",
	         false},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		const char *t = hs256_token(a, cases[i].header, cases[i].claims, secret);
		int rc = auth_jwt_verify(a, t, k, &pol, now, &account, &why);
		test_int_eq(i, rc == 0, cases[i].ok);
		if (rc == 0)
			test_str_eq(i, account, "a@b.c");
	}
	const char *t = hs256_token(a, cases[0].header, cases[0].claims,
	                            "wrong-secret-wrong-secret-wrong!");
	test_int_eq(-1, auth_jwt_verify(a, t, k, &pol, now, &account, &why), -1);
	auth_jwt_keys_free(&k);
	unlink(path);
	rmdir(dir);
	free(path);
	arena_free(&a);
}

static void
test_cram_md5_rfc2195_example(void)
{
	/* RFC 2195 section 2: tim / tanstaaftanstaaf. */
	struct auth_cred_options o = {.scram_iterations = 4096, .cram_md5 = true};
	struct auth_credentials c;
	const char *ch = "<1896.697170952@postoffice.reston.mci.net>";

	test_int_eq(-1, auth_credentials_make("tanstaaftanstaaf", &o, &c), 0);
	test_assert(-1, auth_cram_md5_verify(c.cram_md5, ch, strlen(ch),
	                                     "b913a602c7eda7a495b4e6e7334d3890"));
	test_assert(-1, !auth_cram_md5_verify(c.cram_md5, ch, strlen(ch),
	                                      "b913a602c7eda7a495b4e6e7334d3891"));
	test_assert(-1, auth_password_verify(c.password, "tanstaaftanstaaf"));
	struct auth_scram_keys k;
	test_int_eq(-1, auth_scram_keys_parse(c.scram_sha256, true, &k), 0);
	test_int_eq(-1, k.iterations, 4096);
	test_int_eq(-1, auth_scram_keys_parse(c.scram_sha1, true, &k), -1); /* wrong length */
	auth_credentials_clear(&c);
}

static void
test_scram_keys_rfc7677_example(void)
{
	/* RFC 7677 section 3: "pencil", salt W22ZaJ0SNY7soEsUEjb6gQ==, 4096. The
	   server signature of the example exchange is verified in the
	   integration tests; here the derived keys must round-trip. */
	struct arena *a = arena_new(256);
	size_t sl;
	unsigned char *salt = sasl_base64_decode(a, "W22ZaJ0SNY7soEsUEjb6gQ==", 24, false, &sl);
	struct auth_scram_keys k, k2;

	auth_scram_keys_derive("pencil", true, 4096, salt, sl, &k);
	char *s = arena_printf(a, "4096,W22ZaJ0SNY7soEsUEjb6gQ==,%s,%s",
	                       sasl_base64_encode(a, k.stored_key, 32),
	                       sasl_base64_encode(a, k.server_key, 32));
	test_int_eq(-1, auth_scram_keys_parse(s, true, &k2), 0);
	test_assert(-1, memcmp(k.stored_key, k2.stored_key, 32) == 0);
	/* ServerKey = HMAC(SaltedPassword, "Server Key"): known prefix. */
	test_str_eq(-1, sasl_base64_encode(a, k.stored_key, 32),
	            "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=");
	arena_free(&a);
}

static void
test_app_passwords(void)
{
	char *plain, *hash;

	auth_app_password_generate(&plain, &hash);
	test_int_eq(-1, strlen(plain), 27); /* 4 groups of 6, 3 dashes */
	test_assert(-1, auth_app_password_verify(hash, plain));
	char *upper = xstrdup(plain);
	size_t n = 0;
	for (char *p = plain; *p != '\0'; p++)
		if (*p != '-')
			upper[n++] = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
	upper[n] = '\0';
	test_assert(-1, auth_app_password_verify(hash, upper));
	upper[0] ^= 1;
	test_assert(-1, !auth_app_password_verify(hash, upper));
	test_assert(-1, !auth_app_password_verify("$y$j9T$x$y", plain));
	free(upper);
	free(plain);
	free(hash);
}

/* What `tern user app-password` and the admin API both call. */
static void
test_app_password_create_and_protocol_lists(void)
{
	char dir[] = "/tmp/tern-test-auth-app-XXXXXX";
	struct auth_db *db = NULL;
	struct auth_account a;
	struct auth_app_password *v = NULL;
	size_t n = 0;
	enum auth_error err;
	char *error = NULL, *plain = NULL, names[64];
	unsigned mask = 0;

	test_int_eq(-1, auth_protocols_parse("imap,smtp", &mask), 0);
	test_int_eq(-1, mask, (1u << AUTH_PROTO_IMAP) | (1u << AUTH_PROTO_SMTP));
	auth_protocols_str(mask, names, sizeof(names));
	test_str_eq(-1, names, "imap,smtp");
	test_int_eq(-1, auth_protocols_parse("submission", &mask), 0);
	test_int_eq(-1, mask, 1u << AUTH_PROTO_SMTP);
	test_int_eq(-1, auth_protocols_parse("imap,ftp", &mask), -1);
	test_int_eq(-1, auth_protocols_parse("", &mask), -1);
	auth_protocols_str(AUTH_PROTO_ALL, names, 8); /* cut, still terminated */
	test_int_eq(-1, strlen(names), 7);

	test_assert(-1, mkdtemp(dir) != NULL);
	test_int_eq(-1, auth_db_open(dir, &db, &error), 0);
	test_int_eq(-1, auth_account_add(db, "al@example.org", "$y$h", NULL, &err), 0);
	test_int_eq(-1,
	            auth_app_password_create(db, "AL@example.org", "phone", 1u << AUTH_PROTO_IMAP,
	                                     &plain, &err),
	            0);
	test_assert(-1, plain != NULL && strlen(plain) >= 20);
	test_int_eq(-1, auth_account_lookup(db, "al@example.org", &a, &err), 0);
	test_int_eq(-1, auth_app_password_list(db, a.id, &v, &n, &err), 0);
	test_int_eq(-1, n, 1);
	test_str_eq(-1, v[0].name, "phone");
	test_int_eq(-1, v[0].protocols, 1u << AUTH_PROTO_IMAP);
	test_assert(-1, auth_app_password_verify(v[0].hash, plain));
	auth_app_passwords_free(&v, n);
	auth_account_clear(&a);
	free(plain);
	/* 0 means every protocol; a name in use, a bad name, no account. */
	test_int_eq(-1, auth_app_password_create(db, "al@example.org", "all", 0, &plain, &err), 0);
	free(plain);
	test_int_eq(-1, auth_app_password_create(db, "al@example.org", "phone", 0, &plain, &err),
	            -1);
	test_int_eq(-1, err, AUTH_ERR_EXISTS);
	test_assert(-1, plain == NULL);
	test_int_eq(-1, auth_app_password_create(db, "al@example.org", "a b", 0, &plain, &err), -1);
	test_int_eq(-1, err, AUTH_ERR_INVALID);
	test_int_eq(-1, auth_app_password_create(db, "al@example.org", "x", 1u << 9, &plain, &err),
	            -1);
	test_int_eq(-1, err, AUTH_ERR_INVALID);
	test_int_eq(-1, auth_app_password_create(db, "no@example.org", "x", 0, &plain, &err), -1);
	test_int_eq(-1, err, AUTH_ERR_NOTFOUND);
	auth_db_close(&db);
	char *cmd = xasprintf("rm -rf %s", dir);
	test_int_eq(-1, system(cmd), 0);
	free(cmd);
	free(error);
}

static void
test_throttle_delays_and_blocks(void)
{
	struct auth_throttle_settings s = {100, 1000, 5, 0, 60000, 300000};
	struct auth_throttle *t = auth_throttle_new(&s);
	static const uint64_t want[] = {100, 100, 100, 200, 400};
	unsigned n;
	bool blocked;

	for (size_t i = 0; i < ARRAY_LEN(want); i++) {
		test_int_eq(
		        i,
		        auth_throttle_failure(t, "198.51.100.7", "a@b.c", 1000 + i, &n, &blocked),
		        want[i]);
		test_int_eq(i, blocked, i == 4);
	}
	test_assert(-1, auth_throttle_is_blocked(t, "198.51.100.7", NULL, 2000));
	test_assert(-1, !auth_throttle_is_blocked(t, "198.51.100.8", "x@y.z", 2000));
	test_assert(-1, !auth_throttle_is_blocked(t, "198.51.100.7", NULL, 62000)); /* expired */
	/* After a quiet window the count starts over. */
	test_int_eq(-1, auth_throttle_failure(t, "198.51.100.7", NULL, 1000000, &n, &blocked), 100);
	test_int_eq(-1, n, 1);
	auth_throttle_free(&t);
}

/* The tables are bounded: a full one sweeps entries whose window passed,
   and a user name is cut at 256 bytes (the same prefix, the same count). */
static void
test_throttle_tables_stay_bounded(void)
{
	struct auth_throttle_settings s = {100, 1000, 0, 0, 60000, 300000};
	struct auth_throttle *t = auth_throttle_new(&s);
	char ip[32], long_a[400], long_b[400];
	unsigned n;
	bool blocked;

	/* 100000 IPs fill the table; an old one is swept for a new IP later. */
	for (unsigned i = 0; i < 100000; i++) {
		snprintf(ip, sizeof(ip), "10.%u.%u.%u", i >> 16, (i >> 8) & 255, i & 255);
		auth_throttle_failure(t, ip, NULL, 1000, &n, &blocked);
	}
	auth_throttle_failure(t, "192.0.2.1", NULL, 2000, &n, &blocked);
	test_int_eq(-1, n, 0); /* full, nothing stale: not tracked */
	auth_throttle_failure(t, "192.0.2.1", NULL, 400000, &n, &blocked);
	test_int_eq(-1, n, 1); /* the window (300 s) passed: swept, tracked */
	auth_throttle_failure(t, "192.0.2.1", NULL, 400001, &n, &blocked);
	test_int_eq(-1, n, 2);

	memset(long_a, 'a', sizeof(long_a) - 1);
	long_a[sizeof(long_a) - 1] = '\0';
	memcpy(long_b, long_a, sizeof(long_b));
	long_b[300] = 'b'; /* differs after the first 256 bytes */
	auth_throttle_failure(t, "192.0.2.2", long_a, 400002, &n, &blocked);
	test_int_eq(-1, n, 1);
	auth_throttle_failure(t, "192.0.2.3", long_b, 400002, &n, &blocked);
	test_int_eq(-1, n, 2);
	auth_throttle_failure(t, "192.0.2.4", "short@x.org", 400002, &n, &blocked);
	test_int_eq(-1, n, 1);
	auth_throttle_free(&t);
}

/* A remembered login hits only with the same address, stored hash and
   password, within the TTL; a new hash (a password change) misses. */
static void
test_login_cache_hits_only_what_was_proven(void)
{
	struct auth_login_cache *c = auth_login_cache_new(2, 1000);
	const char *h = "$y$j9T$salt$hash", *h2 = "$y$j9T$salt2$hash2";

	test_assert(-1, c != NULL);
	test_assert(-1, !auth_login_cache_check(c, "a@x.org", h, "pw", 0));
	auth_login_cache_put(c, "a@x.org", h, "pw", 0);
	test_assert(-1, auth_login_cache_check(c, "a@x.org", h, "pw", 999));
	test_assert(-1, !auth_login_cache_check(c, "a@x.org", h, "pW", 999));
	test_assert(-1, !auth_login_cache_check(c, "a@x.org", h2, "pw", 999)); /* passwd */
	test_assert(-1, !auth_login_cache_check(c, "b@x.org", h, "pw", 999));
	/* The separators: ("a@x.org", h + "p", "w") is not ("a@x.org", h, "pw"). */
	char *hp = xasprintf("%sp", h);
	test_assert(-1, !auth_login_cache_check(c, "a@x.org", hp, "w", 999));
	free(hp);
	test_assert(-1, !auth_login_cache_check(c, "a@x.org", h, "pw", 1000)); /* expired */
	test_int_eq(-1, auth_login_cache_count(c), 0);

	/* Bounded: a full table sweeps expired entries, else remembers nothing. */
	auth_login_cache_put(c, "a@x.org", h, "pw", 2000);
	auth_login_cache_put(c, "b@x.org", h, "pw", 2500);
	auth_login_cache_put(c, "c@x.org", h, "pw", 2600);
	test_int_eq(-1, auth_login_cache_count(c), 2);
	test_assert(-1, !auth_login_cache_check(c, "c@x.org", h, "pw", 2600));
	auth_login_cache_put(c, "c@x.org", h, "pw", 3000); /* a@ expired: swept */
	test_assert(-1, auth_login_cache_check(c, "c@x.org", h, "pw", 3000));
	test_assert(-1, auth_login_cache_check(c, "b@x.org", h, "pw", 3000));

	/* A shorter TTL drops what is held; 0 turns the cache off. */
	auth_login_cache_configure(c, 2, 500);
	test_int_eq(-1, auth_login_cache_count(c), 0);
	auth_login_cache_put(c, "a@x.org", h, "pw", 4000);
	test_assert(-1, auth_login_cache_check(c, "a@x.org", h, "pw", 4499));
	auth_login_cache_configure(c, 2, 0);
	auth_login_cache_put(c, "a@x.org", h, "pw", 5000);
	test_assert(-1, !auth_login_cache_check(c, "a@x.org", h, "pw", 5000));
	auth_login_cache_free(&c);
	test_assert(-1, c == NULL);
}

static void
test_foundation_schema_migrates(void)
{
	char dir[] = "/tmp/tern-test-mig-XXXXXX";
	struct auth_db *db = NULL;
	char *error = NULL;
	enum auth_error err;
	struct auth_account a;

	test_assert(-1, mkdtemp(dir) != NULL);
	char *cmd =
	        xasprintf("sqlite3 %s/accounts.db \"CREATE TABLE accounts(id INTEGER PRIMARY KEY "
	                  "AUTOINCREMENT, address TEXT NOT NULL UNIQUE, password TEXT NOT NULL, "
	                  "role TEXT NOT NULL DEFAULT 'user', imap INTEGER NOT NULL DEFAULT 1, "
	                  "pop3 INTEGER NOT NULL DEFAULT 1, smtp INTEGER NOT NULL DEFAULT 1, "
	                  "created INTEGER NOT NULL); INSERT INTO accounts(address, password, "
	                  "created) VALUES ('old@x.org', '\\$y\\$h', 1)\" 2>/dev/null",
	                  dir);
	bool have_cli = system(cmd) == 0;
	free(cmd);
	test_int_eq(-1, auth_db_open(dir, &db, &error), 0);
	if (have_cli) {
		test_int_eq(-1, auth_account_lookup(db, "old@x.org", &a, &err), 0);
		test_str_eq(-1, a.cred.scram_sha256, "");
		auth_account_clear(&a);
	}
	uint64_t seq = 0;
	struct auth_change *v = NULL;
	size_t n = 0;
	test_int_eq(-1, auth_account_add(db, "new@x.org", "$y$h", NULL, &err), 0);
	test_int_eq(-1, auth_changes_head(db, &seq, &err), 0);
	struct auth_access_change c = {.enabled = {0, -1, -1}};
	const char *addrs[] = {"new@x.org"};
	size_t changed;
	test_int_eq(-1, auth_access_set_addresses(db, addrs, 1, &c, &changed, NULL, NULL, &err), 0);
	test_int_eq(-1, changed, 1);
	test_int_eq(-1, auth_changes_read(db, &seq, &v, &n, &err), 0);
	test_int_eq(-1, n, 1);
	test_assert(-1, n == 1 && v[0].exists && !v[0].enabled[AUTH_PROTO_IMAP] &&
	                        v[0].enabled[AUTH_PROTO_POP3]);
	free(v);
	auth_db_close(&db);
	cmd = xasprintf("rm -rf %s", dir);
	test_int_eq(-1, system(cmd), 0);
	free(cmd);
	free(error);
}

int
main(void)
{
	TEST_RUN(test_hash_and_verify_each_scheme);
	TEST_RUN(test_imported_hashes_verify);
	TEST_RUN(test_malformed_hashes_never_verify);
	TEST_RUN(test_address_validation);
	TEST_RUN(test_account_lifecycle);
	TEST_RUN(test_base64_is_strict);
	TEST_RUN(test_scram_messages_parse);
	TEST_RUN(test_oauth_messages_parse);
	TEST_RUN(test_json_objects);
	TEST_RUN(test_jwt_hs256_verification);
	TEST_RUN(test_cram_md5_rfc2195_example);
	TEST_RUN(test_scram_keys_rfc7677_example);
	TEST_RUN(test_app_passwords);
	TEST_RUN(test_app_password_create_and_protocol_lists);
	TEST_RUN(test_throttle_delays_and_blocks);
	TEST_RUN(test_throttle_tables_stay_bounded);
	TEST_RUN(test_login_cache_hits_only_what_was_proven);
	TEST_RUN(test_foundation_schema_migrates);
	return TEST_DONE("test_auth");
}
