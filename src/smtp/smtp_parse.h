/* SPDX-License-Identifier: MIT */
/*
 * smtp_parse.h: the pure SMTP/LMTP parsers: bytes in, structs out. No socket,
 * store or session, so each has a unit test and a fuzzer
 * (fuzz/fuzz_smtp_parser.c).
 *
 *   - a command line into its verb and argument (RFC 5321 section 4.1.1);
 *   - MAIL FROM and RCPT TO: the path (section 4.1.2, with RFC 6531's UTF-8)
 *     and the ESMTP parameters of SIZE (RFC 1870), BODY (RFC 6152, RFC
 *     3030), SMTPUTF8 (RFC 6531), DSN's RET, ENVID, NOTIFY, ORCPT (RFC
 *     3461), REQUIRETLS (RFC 8689) and AUTH (RFC 4954 section 5);
 *   - BDAT's arguments (RFC 3030 section 2);
 *   - DATA's dot-unstuffing, incrementally, any split of the input.
 *
 * Input is hostile: every length is bounded, nothing is recursive, all
 * memory comes from the caller's arena. What a path means (local domain,
 * relay spellings, sub-addresses) is smtp_address.c's business, not the
 * parser's: it only says what was written.
 */
#ifndef TERN_SMTP_SMTP_PARSE_H
#define TERN_SMTP_SMTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arena;

/* RFC 5321 section 4.5.3.1.3: a path is at most 256 octets. */
#define SMTP_MAX_PATH 256

enum smtp_verb {
	SMTP_VERB_UNKNOWN,
	SMTP_VERB_HELO,
	SMTP_VERB_EHLO,
	SMTP_VERB_LHLO,
	SMTP_VERB_MAIL,
	SMTP_VERB_RCPT,
	SMTP_VERB_DATA,
	SMTP_VERB_BDAT,
	SMTP_VERB_RSET,
	SMTP_VERB_NOOP,
	SMTP_VERB_QUIT,
	SMTP_VERB_VRFY,
	SMTP_VERB_EXPN,
	SMTP_VERB_HELP,
	SMTP_VERB_STARTTLS,
	SMTP_VERB_AUTH,
};

struct smtp_command {
	enum smtp_verb verb;
	const char *name; /* the verb as known ("MAIL"), or NULL when unknown */
	const char *arg;  /* after the verb and its space; "" when none */
};

/* Splits line (no CRLF, NUL-terminated) into verb and argument; the verb is
   matched case-insensitively. Cannot fail: an unknown verb is UNKNOWN. arg
   points into line. */
void smtp_command_parse(const char *line, struct smtp_command *out);

/* What a path says, as written. */
struct smtp_path {
	bool is_null;        /* "<>" (reverse-path only) */
	bool is_postmaster;  /* "<Postmaster>" without a domain (RCPT only) */
	bool has_route;      /* "<@a,@b:user@c>": a source route (RFC 5321 4.1.1.3) */
	bool is_quoted;      /* the local part is a quoted string */
	bool is_literal;     /* the domain is an address literal "[...]" */
	bool is_utf8;        /* non-ASCII in the local part or domain (RFC 6531) */
	const char *local;   /* as written (quotes kept), in the arena */
	const char *domain;  /* as written, in the arena; "" for is_postmaster */
	const char *address; /* local@domain (no route), in the arena; "" when null */
};

enum smtp_body {
	SMTP_BODY_NONE, /* not given: 7BIT */
	SMTP_BODY_7BIT,
	SMTP_BODY_8BITMIME,
	SMTP_BODY_BINARYMIME,
};

enum smtp_ret {
	SMTP_RET_NONE,
	SMTP_RET_FULL,
	SMTP_RET_HDRS,
};

struct smtp_mail_params {
	bool has_size;
	uint64_t size;
	enum smtp_body body;
	bool smtputf8;
	bool requiretls;
	enum smtp_ret ret;
	const char *envid; /* xtext-decoded, or NULL */
	const char *auth;  /* xtext-decoded AUTH= (RFC 4954 section 5), or NULL */
};

enum smtp_notify {
	SMTP_NOTIFY_NEVER = 1 << 0,
	SMTP_NOTIFY_SUCCESS = 1 << 1,
	SMTP_NOTIFY_FAILURE = 1 << 2,
	SMTP_NOTIFY_DELAY = 1 << 3,
};

struct smtp_rcpt_params {
	unsigned notify;        /* enum smtp_notify bits; 0 = not given */
	const char *orcpt_type; /* "rfc822" as given, or NULL */
	const char *orcpt;      /* xtext-decoded address, or NULL */
};

/* Why a MAIL or RCPT argument was refused; each maps to one reply. */
enum smtp_parse_error {
	SMTP_PARSE_OK,
	SMTP_PARSE_SYNTAX,        /* not "FROM:<...>" / "TO:<...>": 501 5.5.2 */
	SMTP_PARSE_ADDRESS,       /* the path is not a valid address: 501 5.1.7 / 5.1.3 */
	SMTP_PARSE_PARAM_VALUE,   /* a known parameter with a bad value or twice: 501 5.5.4 */
	SMTP_PARSE_PARAM_UNKNOWN, /* a parameter we do not know: 555 5.5.4 */
};

/*
 * Parses the argument of MAIL ("FROM:<path> [params]") or RCPT
 * ("TO:<path> [params]"). Spaces after the colon are tolerated (many
 * clients send them). *detail_out is a static phrase for the reply. Strings
 * in a.
 */
enum smtp_parse_error smtp_mail_parse(struct arena *a, const char *arg, struct smtp_path *path,
                                      struct smtp_mail_params *params, const char **detail_out);
enum smtp_parse_error smtp_rcpt_parse(struct arena *a, const char *arg, struct smtp_path *path,
                                      struct smtp_rcpt_params *params, const char **detail_out);

/* Parses a bare address (local@domain, no brackets) as a Mailbox of RFC
   5321 section 4.1.2 with RFC 6531's UTF-8: for aliases and tests. */
bool smtp_mailbox_parse(struct arena *a, const char *s, size_t len, struct smtp_path *out);

/* BDAT chunk-size [SP "LAST"]: false on anything else. */
bool smtp_bdat_parse(const char *arg, uint64_t *size_out, bool *is_last_out);

/* Decodes RFC 3461 section 4 xtext ("+2B" for '+'); NULL when malformed. */
char *smtp_xtext_decode(struct arena *a, const char *s, size_t len);
/* Encodes s as xtext into the arena (for the queue's envelope files). */
char *smtp_xtext_encode(struct arena *a, const char *s);

/*
 * DATA's dot-unstuffing (RFC 5321 section 4.5.2) as a stream: feed the
 * bytes after "354" in any split; each call writes the message bytes it can
 * to out (room for len bytes: unstuffing only removes) and says how many
 * input bytes it consumed. It stops right after the end of data, CRLF "."
 * CRLF, which only a real CRLF starts and ends: a bare LF never ends the
 * data, so a message cannot smuggle a second one past a server that reads
 * line ends differently. The CRLF before the dot belongs to the message.
 */
struct smtp_dot_decoder {
	int state; /* start of a line initially */
	bool is_done;
};
void smtp_dot_decoder_init(struct smtp_dot_decoder *d);
size_t smtp_dot_decode(struct smtp_dot_decoder *d, const char *in, size_t len, char *out,
                       size_t *out_len);

#endif
