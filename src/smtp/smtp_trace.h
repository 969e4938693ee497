/* SPDX-License-Identifier: MIT */
/*
 * smtp_trace.h: the trace header the server adds (RFC 5321 section 4.4):
 * Received, with the "with" protocol of RFC 3848 / RFC 6531 section 3.7.3
 * and the TLS cipher clause of RFC 8314 section 4.3. Pure: a struct in,
 * header text (CRLF-terminated, folded) out.
 */
#ifndef TERN_SMTP_SMTP_TRACE_H
#define TERN_SMTP_SMTP_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;

struct smtp_trace {
	const char *helo;        /* the client's name, sanitised; "" if none */
	const char *ip;          /* the client's address */
	const char *hostname;    /* ours */
	const char *protocol;    /* smtp_trace_protocol() */
	const char *id;          /* our id for the message */
	const char *tls_cipher;  /* IANA name ("TLS_AES_256_GCM_SHA384"), or NULL */
	const char *tls_version; /* "TLSv1.3", or NULL */
	const char *for_rcpt;    /* the one recipient, or NULL (not told for several) */
	int64_t time;            /* seconds since the epoch */
};

/* "ESMTPSA", "LMTPS", "UTF8SMTPS", ... (static). */
const char *smtp_trace_protocol(bool is_lmtp, bool is_esmtp, bool is_tls, bool is_auth,
                                bool is_utf8);
/* Appends "Received: ..." CRLF to out. */
void smtp_trace_received(struct buf *out, const struct smtp_trace *t);
/* RFC 5322 date-time in UTC: "Tue, 01 Dec 2026 21:24:56 +0000" (static buffer
   of the caller: at least 32 bytes). */
void smtp_trace_date(int64_t t, char *out, size_t len);

#endif
