/* SPDX-License-Identifier: MIT */
/*
 * sasl_parse.c: the pure decoding half of SASL (see sasl_parse.h). Every
 * message is first bounded by SASL_MAX_MESSAGE; parsers walk their input once
 * and never read past len, whether or not it is NUL-terminated. Fuzzed by
 * fuzz/fuzz_sasl_decode.c.
 */
#include "auth/sasl_parse.h"

#include <string.h>

#include "lib/arena.h"
#include "lib/util.h"

/* ---- base64 ---- */

static int
b64_value(unsigned char c, bool url)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == (url ? '-' : '+'))
		return 62;
	if (c == (url ? '_' : '/'))
		return 63;
	return -1;
}

unsigned char *
sasl_base64_decode(struct arena *a, const char *in, size_t inlen, bool url, size_t *len_out)
{
	size_t pad = 0;

	if (inlen > SASL_MAX_MESSAGE * 2)
		return NULL;
	while (pad < 2 && inlen > pad && in[inlen - 1 - pad] == '=')
		pad++;
	size_t n = inlen - pad;
	/* Standard base64 must be padded to a multiple of 4; URL base64 (JWT)
	   comes without padding. A lone leftover character is never valid. */
	if ((!url || pad > 0) && inlen % 4 != 0)
		return NULL;
	if (n % 4 == 1)
		return NULL;
	unsigned char *out = arena_alloc(a, n / 4 * 3 + 3);
	size_t o = 0;
	uint32_t acc = 0;
	for (size_t i = 0; i < n; i++) {
		int v = b64_value((unsigned char)in[i], url);
		if (v < 0)
			return NULL;
		acc = acc << 6 | (uint32_t)v;
		if (i % 4 == 3) {
			out[o++] = (unsigned char)(acc >> 16);
			out[o++] = (unsigned char)(acc >> 8);
			out[o++] = (unsigned char)acc;
			acc = 0;
		}
	}
	/* Canonical form: the unused low bits of the last group are zero. */
	switch (n % 4) {
	case 2:
		if (acc & 0xf)
			return NULL;
		out[o++] = (unsigned char)(acc >> 4);
		break;
	case 3:
		if (acc & 0x3)
			return NULL;
		out[o++] = (unsigned char)(acc >> 10);
		out[o++] = (unsigned char)(acc >> 2);
		break;
	}
	if (!url && pad != (4 - n % 4) % 4)
		return NULL;
	out[o] = '\0';
	*len_out = o;
	return out;
}

char *
sasl_base64_encode(struct arena *a, const unsigned char *in, size_t len)
{
	static const char alphabet[] =
	        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = arena_alloc(a, (len + 2) / 3 * 4 + 1);
	size_t o = 0;

	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		out[o++] = alphabet[v >> 18 & 63];
		out[o++] = alphabet[v >> 12 & 63];
		out[o++] = i + 1 < len ? alphabet[v >> 6 & 63] : '=';
		out[o++] = i + 2 < len ? alphabet[v & 63] : '=';
	}
	out[o] = '\0';
	return out;
}

/* ---- SCRAM (RFC 5802 section 7) ---- */

char *
sasl_saslname_decode(struct arena *a, const char *in, size_t len)
{
	char *out = arena_alloc(a, len + 1);
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		if (in[i] == ',' || in[i] == '\0')
			return NULL;
		if (in[i] != '=') {
			out[o++] = in[i];
			continue;
		}
		if (i + 2 >= len)
			return NULL;
		if (in[i + 1] == '2' && in[i + 2] == 'C')
			out[o++] = ',';
		else if (in[i + 1] == '3' && in[i + 2] == 'D')
			out[o++] = '=';
		else
			return NULL;
		i += 2;
	}
	out[o] = '\0';
	return out;
}

/* The next comma-separated field of [*p, end): sets *f, *flen; advances past
   the comma. False at the end. */
static bool
next_field(const char **p, const char *end, const char **f, size_t *flen)
{
	if (*p > end)
		return false;
	const char *c = memchr(*p, ',', (size_t)(end - *p));
	*f = *p;
	*flen = (size_t)((c != NULL ? c : end) - *p);
	*p = c != NULL ? c + 1 : end + 1;
	return true;
}

/* printable = %x21-2B / %x2D-7E: a nonce has no comma and no controls. */
static bool
is_printable(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e || s[i] == ',')
			return false;
	return true;
}

static bool
has_nul(const char *s, size_t len)
{
	return memchr(s, '\0', len) != NULL;
}

int
sasl_scram_parse_first(struct arena *a, const char *msg, size_t len, struct sasl_scram_first *out,
                       const char **error_out)
{
	const char *p = msg, *end = msg + len, *f;
	size_t flen;

	memset(out, 0, sizeof(*out));
	*error_out = "Malformed SCRAM client-first-message";
	if (len == 0 || len > SASL_MAX_MESSAGE || has_nul(msg, len))
		return -1;
	/* gs2-cbind-flag = ("p=" cb-name) / "n" / "y" */
	if (!next_field(&p, end, &f, &flen) || flen == 0)
		return -1;
	if (flen == 1 && (f[0] == 'n' || f[0] == 'y')) {
		out->cbflag = f[0];
	} else if (flen > 2 && f[0] == 'p' && f[1] == '=') {
		/* cb-name = 1*(ALPHA / DIGIT / "." / "-") */
		for (size_t i = 2; i < flen; i++) {
			char c = f[i];
			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			      (c >= '0' && c <= '9') || c == '.' || c == '-'))
				return -1;
		}
		out->cbflag = 'p';
		out->cbname = arena_strndup(a, f + 2, flen - 2);
	} else {
		return -1;
	}
	/* [ authzid ] "," with authzid = "a=" saslname */
	if (!next_field(&p, end, &f, &flen))
		return -1;
	if (flen > 0) {
		if (flen < 3 || f[0] != 'a' || f[1] != '=' ||
		    (out->authzid = sasl_saslname_decode(a, f + 2, flen - 2)) == NULL)
			return -1;
	}
	if (p > end)
		return -1;
	out->gs2_header = arena_strndup(a, msg, (size_t)(p - msg));
	out->bare = arena_strndup(a, p, (size_t)(end - p));
	/* client-first-message-bare = [reserved-mext ","] username "," nonce ["," extensions] */
	if (!next_field(&p, end, &f, &flen))
		return -1;
	if (flen >= 2 && f[0] == 'm' && f[1] == '=') {
		*error_out = "SCRAM extensions are not supported";
		return -1; /* RFC 5802: m= is reserved, must fail if present */
	}
	if (flen < 3 || f[0] != 'n' || f[1] != '=' ||
	    (out->user = sasl_saslname_decode(a, f + 2, flen - 2)) == NULL || out->user[0] == '\0')
		return -1;
	if (!next_field(&p, end, &f, &flen) || flen < 3 || f[0] != 'r' || f[1] != '=' ||
	    !is_printable(f + 2, flen - 2))
		return -1;
	out->nonce = arena_strndup(a, f + 2, flen - 2);
	/* Optional extensions follow; they are attr=value and ignored. */
	while (next_field(&p, end, &f, &flen))
		if (flen < 2 || f[1] != '=')
			return -1;
	return 0;
}

int
sasl_gs2_parse_first(struct arena *a, const unsigned char *msg, size_t len,
                     struct sasl_gs2_first *out, const char **error_out)
{
	/* The header ends at its third comma at the latest ("F,n,a=x,"). */
	size_t hlen = len < 512 ? len : 512;
	const char *p = (const char *)msg, *end = p + hlen, *f;
	size_t flen;

	memset(out, 0, sizeof(*out));
	*error_out = "Malformed GS2 header";
	if (len == 0 || len > SASL_MAX_MESSAGE)
		return -1;
	if (!next_field(&p, end, &f, &flen) || p > end)
		return -1;
	if (flen == 1 && f[0] == 'F') {
		out->nonstd = true;
		if (!next_field(&p, end, &f, &flen) || p > end)
			return -1;
	}
	/* gs2-cb-flag = ("p=" cb-name) / "n" / "y" */
	if (flen == 1 && (f[0] == 'n' || f[0] == 'y')) {
		out->cbflag = f[0];
	} else if (flen > 2 && f[0] == 'p' && f[1] == '=') {
		for (size_t i = 2; i < flen; i++) {
			char c = f[i];
			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			      (c >= '0' && c <= '9') || c == '.' || c == '-'))
				return -1;
		}
		out->cbflag = 'p';
		out->cbname = arena_strndup(a, f + 2, flen - 2);
	} else {
		return -1;
	}
	/* [gs2-authzid] "," with gs2-authzid = "a=" saslname */
	if (!next_field(&p, end, &f, &flen) || p > end)
		return -1;
	if (flen > 0 && (flen < 3 || f[0] != 'a' || f[1] != '=' || has_nul(f, flen) ||
	                 (out->authzid = sasl_saslname_decode(a, f + 2, flen - 2)) == NULL))
		return -1;
	out->header_len = (size_t)(p - (const char *)msg);
	out->token = msg + out->header_len;
	out->token_len = len - out->header_len;
	return 0;
}

/* 1.2.840.113554.1.2.2 (RFC 1964 section 1), and the one Windows sends. */
static const unsigned char krb5_oid[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02};
static const unsigned char krb5_ms_oid[] = {0x2a, 0x86, 0x48, 0x82, 0xf7, 0x12, 0x01, 0x02, 0x02};

/* RFC 2743 section 3.1: 0x60, a DER length covering the rest exactly, the
   mechanism OID (Kerberos'); the inner token in *inner. */
static bool
krb5_unframe(const unsigned char *tok, size_t len, const unsigned char **inner, size_t *inner_len)
{
	size_t i = 2, n;

	if (len < 2 || tok[0] != 0x60)
		return false;
	if (tok[1] < 0x80) {
		n = tok[1];
	} else {
		size_t octets = tok[1] & 0x7f;
		if (octets == 0 || octets > 3 || len < 2 + octets)
			return false;
		n = 0;
		for (size_t k = 0; k < octets; k++)
			n = n << 8 | tok[2 + k];
		i = 2 + octets;
	}
	if (n != len - i || len - i < 2 + sizeof(krb5_oid) || tok[i] != 0x06 ||
	    tok[i + 1] != sizeof(krb5_oid) ||
	    (memcmp(tok + i + 2, krb5_oid, sizeof(krb5_oid)) != 0 &&
	     memcmp(tok + i + 2, krb5_ms_oid, sizeof(krb5_ms_oid)) != 0))
		return false;
	i += 2 + sizeof(krb5_oid);
	*inner = tok + i;
	*inner_len = len - i;
	return true;
}

bool
sasl_krb5_is_ap_req(const unsigned char *tok, size_t len, bool framed)
{
	if (framed && !krb5_unframe(tok, len, &tok, &len))
		return false;
	return len > 3 && tok[0] == 0x01 && tok[1] == 0x00 && tok[2] == 0x6e;
}

bool
sasl_krb5_completes(const unsigned char *tok, size_t len)
{
	const unsigned char *in;
	size_t n;

	if (len >= 2 && tok[0] == 0x05 && tok[1] == 0x04)
		return true;
	if (!krb5_unframe(tok, len, &in, &n) || n < 3)
		return false;
	return (in[0] == 0x02 && in[1] == 0x00 && in[2] == 0x6f) ||
	       (in[0] == 0x02 && in[1] == 0x01);
}

int
sasl_scram_parse_final(struct arena *a, const char *msg, size_t len, struct sasl_scram_final *out,
                       const char **error_out)
{
	const char *p = msg, *end = msg + len, *f;
	size_t flen;

	memset(out, 0, sizeof(*out));
	*error_out = "Malformed SCRAM client-final-message";
	if (len == 0 || len > SASL_MAX_MESSAGE || has_nul(msg, len))
		return -1;
	/* channel-binding = "c=" base64 */
	if (!next_field(&p, end, &f, &flen) || flen < 2 || f[0] != 'c' || f[1] != '=' ||
	    (out->cbind = sasl_base64_decode(a, f + 2, flen - 2, false, &out->cbind_len)) == NULL)
		return -1;
	if (!next_field(&p, end, &f, &flen) || flen < 3 || f[0] != 'r' || f[1] != '=' ||
	    !is_printable(f + 2, flen - 2))
		return -1;
	out->nonce = arena_strndup(a, f + 2, flen - 2);
	/* The proof is the last field; anything between is an extension. */
	for (;;) {
		const char *start = f;
		if (!next_field(&p, end, &f, &flen))
			return -1;
		if (flen >= 2 && f[0] == 'p' && f[1] == '=' && p > end) {
			out->proof = sasl_base64_decode(a, f + 2, flen - 2, false, &out->proof_len);
			if (out->proof == NULL || out->proof_len == 0)
				return -1;
			out->without_proof = arena_strndup(a, msg, (size_t)(f - 1 - msg));
			return 0;
		}
		if (flen < 2 || f[1] != '=' || f[0] == 'p')
			return -1;
		(void)start;
	}
}

/* ---- OAUTHBEARER and XOAUTH2 ---- */

static bool
is_vchar_or_space(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return false;
	return true;
}

/* b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" */
static bool
is_b64token(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
	                   (s[i] >= '0' && s[i] <= '9') || strchr("-._~+/", s[i]) != NULL))
		i++;
	if (i == 0)
		return false;
	while (i < len && s[i] == '=')
		i++;
	return i == len;
}

/* "auth=" value: "Bearer" 1*SP b64token, scheme case-insensitive. */
static const char *
bearer_token(struct arena *a, const char *v, size_t len)
{
	if (len < 7 || !str_ieq_n(v, 6, "bearer") || v[6] != ' ')
		return NULL;
	size_t i = 6;
	while (i < len && v[i] == ' ')
		i++;
	if (!is_b64token(v + i, len - i))
		return NULL;
	return arena_strndup(a, v + i, len - i);
}

int
sasl_oauthbearer_parse(struct arena *a, const char *msg, size_t len, struct sasl_oauth *out,
                       const char **error_out)
{
	const char *end = msg + len;

	memset(out, 0, sizeof(*out));
	*error_out = "Malformed OAUTHBEARER message";
	if (len == 0 || len > SASL_MAX_MESSAGE || has_nul(msg, len))
		return -1;
	/* gs2-header = gs2-cbind-flag "," [ authzid ] ","; channel binding
	   is not defined for OAUTHBEARER, so the flag is "n" or "y". */
	const char *p = msg, *f;
	size_t flen;
	if (!next_field(&p, end, &f, &flen) || flen != 1 || (f[0] != 'n' && f[0] != 'y'))
		return -1;
	if (!next_field(&p, end, &f, &flen))
		return -1;
	if (flen > 0) {
		if (flen < 3 || f[0] != 'a' || f[1] != '=' ||
		    (out->authzid = sasl_saslname_decode(a, f + 2, flen - 2)) == NULL)
			return -1;
	}
	if (p >= end || *p != '\x01')
		return -1;
	p++;
	/* kvpair = key "=" value kvsep, ending with an empty pair (kvsep). */
	for (;;) {
		const char *sep = memchr(p, '\x01', (size_t)(end - p));
		if (sep == NULL)
			return -1;
		if (sep == p) {
			if (sep + 1 != end)
				return -1;
			break;
		}
		const char *eq = memchr(p, '=', (size_t)(sep - p));
		if (eq == NULL || eq == p || !is_vchar_or_space(eq + 1, (size_t)(sep - eq - 1)))
			return -1;
		size_t klen = (size_t)(eq - p);
		for (size_t i = 0; i < klen; i++)
			if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z')))
				return -1;
		if (klen == 4 && memcmp(p, "auth", 4) == 0) {
			if (out->token != NULL)
				return -1;
			if ((out->token = bearer_token(a, eq + 1, (size_t)(sep - eq - 1))) == NULL)
				return -1;
		} else if (klen == 4 && memcmp(p, "host", 4) == 0) {
			out->host = arena_strndup(a, eq + 1, (size_t)(sep - eq - 1));
		}
		p = sep + 1;
	}
	if (out->token == NULL) {
		*error_out = "OAUTHBEARER message without a bearer token";
		return -1;
	}
	return 0;
}

int
sasl_xoauth2_parse(struct arena *a, const char *msg, size_t len, struct sasl_oauth *out,
                   const char **error_out)
{
	const char *end = msg + len;

	memset(out, 0, sizeof(*out));
	*error_out = "Malformed XOAUTH2 message";
	if (len < 5 || len > SASL_MAX_MESSAGE || has_nul(msg, len) || memcmp(msg, "user=", 5) != 0)
		return -1;
	const char *sep = memchr(msg, '\x01', len);
	if (sep == NULL || sep == msg + 5 || !is_vchar_or_space(msg + 5, (size_t)(sep - msg - 5)))
		return -1;
	out->authzid = arena_strndup(a, msg + 5, (size_t)(sep - msg - 5));
	const char *p = sep + 1;
	if ((size_t)(end - p) < 5 || memcmp(p, "auth=", 5) != 0)
		return -1;
	sep = memchr(p, '\x01', (size_t)(end - p));
	if (sep == NULL || sep + 2 != end || sep[1] != '\x01')
		return -1;
	if ((out->token = bearer_token(a, p + 5, (size_t)(sep - p - 5))) == NULL)
		return -1;
	return 0;
}

/* ---- JSON (RFC 8259), just enough for JWT headers and claims ---- */

#define JSON_MAX_DEPTH 16

struct json {
	struct arena *a;
	const char *p, *end;
};

static void
json_ws(struct json *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static int
hex4(const char *p, uint32_t *out)
{
	*out = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		int v = c >= '0' && c <= '9'   ? c - '0'
		        : c >= 'a' && c <= 'f' ? c - 'a' + 10
		        : c >= 'A' && c <= 'F' ? c - 'A' + 10
		                               : -1;
		if (v < 0)
			return -1;
		*out = *out << 4 | (uint32_t)v;
	}
	return 0;
}

static size_t
utf8_put(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* A string at j->p (which is '"'); out (may be NULL to skip) from the arena.
   A string holding NUL (\u0000) is refused: claims are C strings. */
static int
json_string(struct json *j, const char **out)
{
	const char *start = ++j->p;
	size_t cap = 0;

	/* The unescaped form is never longer than the escaped one. */
	while (j->p < j->end && *j->p != '"') {
		if (*j->p == '\\')
			j->p++;
		j->p++;
	}
	if (j->p >= j->end)
		return -1;
	cap = (size_t)(j->p - start);
	char *o = arena_alloc(j->a, cap + 1);
	size_t n = 0;
	for (const char *q = start; q < j->p; q++) {
		unsigned char c = (unsigned char)*q;
		if (c < 0x20)
			return -1;
		if (c != '\\') {
			o[n++] = (char)c;
			continue;
		}
		q++;
		switch (*q) {
		case '"':
		case '\\':
		case '/':
			o[n++] = *q;
			break;
		case 'b':
			o[n++] = '\b';
			break;
		case 'f':
			o[n++] = '\f';
			break;
		case 'n':
			o[n++] = '\n';
			break;
		case 'r':
			o[n++] = '\r';
			break;
		case 't':
			o[n++] = '\t';
			break;
		case 'u': {
			uint32_t cp, lo;
			if (j->p - q < 5 || hex4(q + 1, &cp) < 0)
				return -1;
			q += 4;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return -1;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (j->p - q < 7 || q[1] != '\\' || q[2] != 'u' ||
				    hex4(q + 3, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
					return -1;
				q += 6;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			}
			if (cp == 0)
				return -1;
			/* "\uXXXX" is 6 bytes, its UTF-8 at most 3 (4 for a
			   12-byte surrogate pair): the output still fits. */
			n += utf8_put(o + n, cp);
			break;
		}
		default:
			return -1;
		}
	}
	o[n] = '\0';
	j->p++;
	if (out != NULL)
		*out = o;
	return 0;
}

static int
json_number(struct json *j, int64_t *out)
{
	const char *s = j->p;
	bool neg = false;
	uint64_t v = 0;
	bool overflow = false;

	if (j->p < j->end && *j->p == '-') {
		neg = true;
		j->p++;
	}
	if (j->p >= j->end || *j->p < '0' || *j->p > '9')
		return -1;
	if (*j->p == '0' && j->p + 1 < j->end && j->p[1] >= '0' && j->p[1] <= '9')
		return -1;
	while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
		if (v > (uint64_t)INT64_MAX / 10)
			overflow = true;
		v = v * 10 + (uint64_t)(*j->p - '0');
		j->p++;
	}
	if (j->p < j->end && *j->p == '.') {
		j->p++;
		if (j->p >= j->end || *j->p < '0' || *j->p > '9')
			return -1;
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (j->p >= j->end || *j->p < '0' || *j->p > '9')
			return -1;
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
		overflow = true; /* not an integer we use */
	}
	(void)s;
	if (overflow || v > (uint64_t)INT64_MAX)
		*out = neg ? INT64_MIN : INT64_MAX;
	else
		*out = neg ? -(int64_t)v : (int64_t)v;
	return 0;
}

static int json_skip(struct json *j, int depth);

static int
json_literal(struct json *j, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0)
		return -1;
	j->p += n;
	return 0;
}

/* Skips any value. */
static int
json_skip(struct json *j, int depth)
{
	int64_t num;

	if (depth > JSON_MAX_DEPTH)
		return -1;
	json_ws(j);
	if (j->p >= j->end)
		return -1;
	switch (*j->p) {
	case '"':
		return json_string(j, NULL);
	case 't':
		return json_literal(j, "true");
	case 'f':
		return json_literal(j, "false");
	case 'n':
		return json_literal(j, "null");
	case '[':
	case '{': {
		char close = *j->p == '[' ? ']' : '}';
		bool is_obj = close == '}';
		j->p++;
		json_ws(j);
		if (j->p < j->end && *j->p == close) {
			j->p++;
			return 0;
		}
		for (;;) {
			if (is_obj) {
				json_ws(j);
				if (j->p >= j->end || *j->p != '"' || json_string(j, NULL) < 0)
					return -1;
				json_ws(j);
				if (j->p >= j->end || *j->p != ':')
					return -1;
				j->p++;
			}
			if (json_skip(j, depth + 1) < 0)
				return -1;
			json_ws(j);
			if (j->p >= j->end)
				return -1;
			if (*j->p == close) {
				j->p++;
				return 0;
			}
			if (*j->p != ',')
				return -1;
			j->p++;
		}
	}
	default:
		return json_number(j, &num);
	}
}

int
sasl_json_parse_object(struct arena *a, const char *in, size_t len, struct sasl_json_object *out,
                       const char **error_out)
{
	struct json j = {a, in, in + len};
	size_t cap = 8;

	*error_out = "Malformed JSON";
	out->n = 0;
	out->members = arena_alloc(a, cap * sizeof(*out->members));
	if (len > SASL_MAX_MESSAGE)
		return -1;
	json_ws(&j);
	if (j.p >= j.end || *j.p != '{')
		return -1;
	j.p++;
	json_ws(&j);
	if (j.p < j.end && *j.p == '}') {
		j.p++;
		goto done;
	}
	for (;;) {
		struct sasl_json_member m = {0};
		json_ws(&j);
		if (j.p >= j.end || *j.p != '"' || json_string(&j, &m.name) < 0)
			return -1;
		if (sasl_json_get(out, m.name) != NULL) {
			*error_out = "Duplicate JSON member";
			return -1;
		}
		json_ws(&j);
		if (j.p >= j.end || *j.p != ':')
			return -1;
		j.p++;
		json_ws(&j);
		if (j.p >= j.end)
			return -1;
		if (*j.p == '"') {
			m.type = SASL_JSON_STRING;
			if (json_string(&j, &m.str) < 0)
				return -1;
		} else if (*j.p == '-' || (*j.p >= '0' && *j.p <= '9')) {
			m.type = SASL_JSON_NUMBER;
			if (json_number(&j, &m.num) < 0)
				return -1;
		} else if (*j.p == '[') {
			/* An array of strings (e.g. "aud"); anything else in
			   it makes the member OTHER. */
			const char *save = j.p;
			size_t scap = 4;
			m.type = SASL_JSON_STRINGS;
			m.strings = arena_alloc(a, scap * sizeof(*m.strings));
			j.p++;
			json_ws(&j);
			if (j.p < j.end && *j.p == ']') {
				j.p++;
			} else {
				for (;;) {
					json_ws(&j);
					const char *s;
					if (j.p >= j.end || *j.p != '"' ||
					    json_string(&j, &s) < 0) {
						m.type = SASL_JSON_OTHER;
						break;
					}
					if (m.nstrings == scap) {
						const char **n =
						        arena_alloc(a, 2 * scap * sizeof(*n));
						memcpy(n, m.strings, scap * sizeof(*n));
						m.strings = n;
						scap *= 2;
					}
					m.strings[m.nstrings++] = s;
					json_ws(&j);
					if (j.p < j.end && *j.p == ']') {
						j.p++;
						break;
					}
					if (j.p >= j.end || *j.p != ',') {
						m.type = SASL_JSON_OTHER;
						break;
					}
					j.p++;
				}
			}
			if (m.type == SASL_JSON_OTHER) {
				j.p = save;
				m.strings = NULL;
				m.nstrings = 0;
				if (json_skip(&j, 1) < 0)
					return -1;
			}
		} else {
			m.type = SASL_JSON_OTHER;
			if (json_skip(&j, 1) < 0)
				return -1;
		}
		if (out->n == cap) {
			struct sasl_json_member *n = arena_alloc(a, 2 * cap * sizeof(*n));
			memcpy(n, out->members, cap * sizeof(*n));
			out->members = n;
			cap *= 2;
		}
		out->members[out->n++] = m;
		json_ws(&j);
		if (j.p >= j.end)
			return -1;
		if (*j.p == '}') {
			j.p++;
			break;
		}
		if (*j.p != ',')
			return -1;
		j.p++;
	}
done:
	json_ws(&j);
	return j.p == j.end ? 0 : -1;
}

const struct sasl_json_member *
sasl_json_get(const struct sasl_json_object *o, const char *name)
{
	for (size_t i = 0; i < o->n; i++)
		if (strcmp(o->members[i].name, name) == 0)
			return &o->members[i];
	return NULL;
}
