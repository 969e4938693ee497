/* SPDX-License-Identifier: MIT */
/*
 * sasl_parse.h: pure decoders for what SASL clients send: strict base64
 * (RFC 4648 sections 4 and 5), SCRAM messages (RFC 5802 section 7), the
 * OAUTHBEARER (RFC 7628 section 3.1) and XOAUTH2 initial responses, the
 * GS2 header (RFC 5801 section 4), the shape of Kerberos context tokens
 * (RFC 4121 section 4.1), and the flat JSON objects of a JWT (RFC 7519).
 * Bytes in, structs out: no sockets, no database, no crypto. Input is
 * hostile; every function bounds its work by the input length and
 * allocates only from the arena it is given.
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

/*
 * GS2's first client message (RFC 5801 section 4):
 *   gs2-header = [gs2-nonstd-flag ","] gs2-cb-flag "," [gs2-authzid] ","
 * then the mechanism's initial context token without its RFC 2743 section
 * 3.1 header. The token is binary and may hold NULs; the header may not.
 */
struct sasl_gs2_first {
	bool nonstd;                /* "F," */
	char cbflag;                /* 'n', 'y' or 'p' */
	const char *cbname;         /* for 'p' */
	const char *authzid;        /* decoded saslname, NULL when absent */
	size_t header_len;          /* the gs2-header's bytes */
	const unsigned char *token; /* into msg */
	size_t token_len;
};
int sasl_gs2_parse_first(struct arena *a, const unsigned char *msg, size_t len,
                         struct sasl_gs2_first *out, const char **error_out);

/*
 * The Kerberos V5 mechanism's tokens (RFC 4121 section 4.1). An
 * initiator's first token is an AP-REQ: TOK_ID 01 00, then a DER
 * [APPLICATION 14]; in SASL GSSAPI inside the RFC 2743 section 3.1 framing
 * (0x60, DER length, the mechanism's OID), in GS2 bare. Anything else (an
 * IAKERB or garbage token) is refused before the GSS-API library sees it.
 */
bool sasl_krb5_is_ap_req(const unsigned char *tok, size_t len, bool framed);
/* Whether the acceptor's first answer means its context is complete: a
   framed AP-REP (TOK_ID 02 00, [APPLICATION 15]) for mutual
   authentication, or (RFC 4752 section 3.1, no mutual authentication)
   already the wrapped security-layer offer: an RFC 4121 Wrap token (05 04)
   or RFC 1964's framed one (02 01). A DCE-style AP-REP, which asks for
   another round, is not. */
bool sasl_krb5_completes(const unsigned char *tok, size_t len);

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
