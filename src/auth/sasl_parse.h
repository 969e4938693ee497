/* SPDX-License-Identifier: MIT */
/*
 * sasl_parse.h: pure decoders for what SASL clients send: strict base64
 * (RFC 4648 sections 4 and 5), SCRAM messages (RFC 5802 section 7), the
 * OAUTHBEARER (RFC 7628 section 3.1) and XOAUTH2 initial responses, and the
 * flat JSON objects of a JWT (RFC 7519). Bytes in, structs out: no sockets,
 * no database, no crypto. Input is hostile; every function bounds its work
 * by the input length and allocates only from the arena it is given.
 */
#ifndef TERN_AUTH_SASL_PARSE_H
#define TERN_AUTH_SASL_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arena;

/* Largest decoded SASL message we accept; SASL responses are small. */
#define SASL_MAX_MESSAGE 16384

/* Decodes base64 (url: the URL alphabet, padding optional). Returns the
   NUL-terminated bytes (len in *len_out) from a, or NULL on any invalid
   character, bad padding or non-zero trailing bits. */
unsigned char *sasl_base64_decode(struct arena *a, const char *in, size_t inlen, bool url,
                                  size_t *len_out);
/* Encodes with the standard alphabet and padding; NUL-terminated, from a. */
char *sasl_base64_encode(struct arena *a, const unsigned char *in, size_t len);

/* RFC 5802 saslname: "=2C" -> ',' and "=3D" -> '='; NULL on any other '='
   escape or a bare ','. From a. */
char *sasl_saslname_decode(struct arena *a, const char *in, size_t len);

/* client-first-message = gs2-header client-first-message-bare */
struct sasl_scram_first {
	char cbflag;         /* 'n', 'y' or 'p' */
	const char *cbname;  /* for 'p': "tls-exporter", ... */
	const char *authzid; /* NULL when absent; decoded */
	const char *user;    /* decoded saslname, not yet SASLprep'd */
	const char *nonce;
	const char *gs2_header; /* "p=tls-exporter,," verbatim, for c= */
	const char *bare;       /* client-first-message-bare verbatim */
};
/* 0, or -1 with a static *error_out. */
int sasl_scram_parse_first(struct arena *a, const char *msg, size_t len,
                           struct sasl_scram_first *out, const char **error_out);

/* client-final-message = channel-binding "," nonce ["," extensions] "," proof */
struct sasl_scram_final {
	const unsigned char *cbind; /* decoded c= */
	size_t cbind_len;
	const char *nonce;
	const unsigned char *proof; /* decoded p= */
	size_t proof_len;
	const char *without_proof; /* client-final-message-without-proof verbatim */
};
int sasl_scram_parse_final(struct arena *a, const char *msg, size_t len,
                           struct sasl_scram_final *out, const char **error_out);

/* OAUTHBEARER: gs2-header kvsep *kvpair kvsep, kvsep = %x01.
   XOAUTH2: "user=" user %x01 "auth=Bearer " token %x01 %x01. */
struct sasl_oauth {
	const char *authzid; /* OAUTHBEARER a=, XOAUTH2 user=; NULL when absent */
	const char *token;   /* the bearer token */
	const char *host;    /* OAUTHBEARER host=, NULL when absent */
};
int sasl_oauthbearer_parse(struct arena *a, const char *msg, size_t len, struct sasl_oauth *out,
                           const char **error_out);
int sasl_xoauth2_parse(struct arena *a, const char *msg, size_t len, struct sasl_oauth *out,
                       const char **error_out);

/* A JSON object's top-level members that JWT validation needs: strings,
   integers and arrays of strings; anything else is skipped (but must be
   valid JSON). Nesting is limited to 16 levels. */
enum sasl_json_type {
	SASL_JSON_STRING,
	SASL_JSON_NUMBER,
	SASL_JSON_STRINGS, /* array of strings */
	SASL_JSON_OTHER,
};
struct sasl_json_member {
	const char *name;
	enum sasl_json_type type;
	const char *str;      /* STRING (UTF-8, unescaped) */
	int64_t num;          /* NUMBER (integers only; fractions truncated) */
	const char **strings; /* STRINGS */
	size_t nstrings;
};
struct sasl_json_object {
	struct sasl_json_member *members;
	size_t n;
};
int sasl_json_parse_object(struct arena *a, const char *in, size_t len,
                           struct sasl_json_object *out, const char **error_out);
/* The member called name, or NULL. Names are unique: the parser rejects an
   object that repeats one (RFC 7519 section 4). */
const struct sasl_json_member *sasl_json_get(const struct sasl_json_object *o, const char *name);

#endif
