/* SPDX-License-Identifier: MIT */
/*
 * smtp_client.h: the SMTP client the queue runner delivers with (RFC 5321
 * as a client), blocking, on a delivery thread: one connection to one host,
 * greeting, EHLO, STARTTLS (RFC 3207; opportunistic unless the message asks
 * for REQUIRETLS or the runner requires it for MTA-STS, and verified
 * against TLSA records for DANE, RFC 7672), AUTH PLAIN/LOGIN for a smarthost (RFC 4954), then
 * transactions with PIPELINING (RFC 2920), SIZE (RFC 1870), 8BITMIME and
 * BINARYMIME (RFC 6152, 3030), SMTPUTF8 (RFC 6531), DSN's RET, ENVID,
 * NOTIFY, ORCPT passed on (RFC 3461), REQUIRETLS (RFC 8689) and BDAT
 * (CHUNKING, RFC 3030) where the server offers them.
 *
 * Blocking, not a libevent state machine: a delivery is a short exchange
 * with a peer that sets the pace, a few at a time, and every step waits
 * for the step before; a thread per running delivery costs a stack, and
 * the code reads in protocol order. Every read and write has the
 * settings' timeout (SO_RCVTIMEO/SO_SNDTIMEO).
 *
 * Replies from the server are hostile input: lines are bounded, the text
 * kept is truncated, only the code is interpreted.
 */
#ifndef TERN_SMTP_SMTP_CLIENT_H
#define TERN_SMTP_SMTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smtp/smtp_parse.h"

/* A server's reply, or why there was none: code 0 is a local or network
   failure (connect refused, timeout, TLS), text says what. */
struct smtp_dane;

struct smtp_reply {
	int code;
	char text[400]; /* "4.4.1 connection refused", enhanced code kept */
};

/* True when the reply (code != 0) is permanent (5xx). */
static inline bool
smtp_reply_is_permanent(const struct smtp_reply *r)
{
	return r->code >= 500 && r->code < 600;
}

/* How TLS went while smtp_client_open ran, for TLS-RPT (RFC 8460
   section 4.4): filled when the settings point at one. */
struct smtp_client_tls {
	bool reached;      /* the server answered EHLO: a session to report */
	char local_ip[48]; /* our end of the connection: sending-mta-ip */
	bool offered;      /* it listed STARTTLS */
	bool established;  /* the handshake completed */
	bool checked;      /* the certificate was checked (CAs or TLSA) */
	bool verified;     /* and passed */
	bool dane;         /* checked against TLSA records */
	long verify_error; /* X509_V_ERR_* of a failed check, 0 when none */
	char error[160];   /* what failed, for failure-reason-code; "" none */
};

struct smtp_client_settings {
	const char *helo_name; /* our hostname for EHLO */
	uint64_t timeout_ms;   /* each connect, read and write */
	bool tls_required;     /* refuse the host unless STARTTLS with a verified
	                          certificate for server_name works (550 5.7.10) */
	bool tls_temporary;    /* with tls_required: a host without it fails with
	                          451 4.7.5 (MTA-STS), not 550 5.7.10 (REQUIRETLS) */
	bool tls_mandatory;    /* TLS or not this host (451 4.7.5), any certificate:
	                          DANE with only unusable TLSA records (RFC 7672
	                          section 2.2) */
	bool tls_check;        /* verify the certificate even when not required
	                          (caps.tls_verified says how it went) */
	const char *ca_file;   /* CAs trusted beside the system's, or NULL */
	/* DANE (RFC 7672): when set with usable records, the certificate must
	   match them (SSL_dane_*), instead of CAs; TLS is then required. */
	const struct smtp_dane *dane;
	bool no_starttls;      /* plaintext even where STARTTLS is offered: the
	                          retry after a failed handshake */
	const char *auth_user; /* smarthost AUTH; NULL: none */
	const char *auth_password;
	/* Or NULL: holds the socket while it is open, so that another thread
	   may shutdown(2) it to end a blocked read at once (server stop). */
	_Atomic int *fd_slot;
	struct smtp_client_tls *tls_out; /* or NULL */
};

/* What the server said it supports (EHLO). */
struct smtp_client_caps {
	bool esmtp, pipelining, eightbit, binarymime, smtputf8, dsn, chunking, starttls, requiretls,
	        auth_plain, auth_login;
	uint64_t size; /* 0: no limit given */
	bool is_tls;   /* the connection is TLS now */
	bool tls_verified;
};

struct smtp_client;

/* Connects to ip:port (a numeric address) and gets the session ready:
   greeting, EHLO (HELO when refused), STARTTLS when offered, EHLO again,
   AUTH when the settings name a user. server_name is the host's name
   (SNI, certificate check, log). 0 and *c_out, or -1 with *reply_out
   saying why (the server's reply, or code 0). */
int smtp_client_open(const char *ip, uint16_t port, const char *server_name,
                     const struct smtp_client_settings *s, struct smtp_client **c_out,
                     struct smtp_reply *reply_out);
const struct smtp_client_caps *smtp_client_caps(const struct smtp_client *c);
/* True when another transaction may follow on c (no I/O error, no
   protocol breakage): the runner keeps such a connection for the next
   message to the same host. */
bool smtp_client_is_usable(const struct smtp_client *c);
/* Sends QUIT (best effort) and frees. */
void smtp_client_close(struct smtp_client **cp);

struct smtp_client_message {
	const char *sender; /* "" for <> */
	enum smtp_body body;
	bool smtputf8, requiretls;
	enum smtp_ret ret;
	const char *envid;  /* or NULL */
	const char *prefix; /* header fields sent before the file (DKIM), or NULL */
	size_t prefix_len;
	int fd;        /* the message (CRLF lines), read from offset 0 */
	uint64_t size; /* prefix and file */
};

struct smtp_client_rcpt {
	const char *address;
	unsigned notify; /* enum smtp_notify bits */
	const char *orcpt_type, *orcpt;
	struct smtp_reply reply; /* out: RCPT's refusal, or the reply to the data */
};

/* One transaction: MAIL, every RCPT, the data (BDAT when offered, else
   DATA with dot-stuffing), each recipient's outcome in its reply. 0 when
   the transaction ran (some recipients may be refused), -1 when it failed
   as a whole before any recipient's outcome was known: *reply_out says why
   (code 0: the connection is gone). */
int smtp_client_send(struct smtp_client *c, const struct smtp_client_message *m,
                     struct smtp_client_rcpt *rcpts, size_t n_rcpts, struct smtp_reply *reply_out);

#endif
