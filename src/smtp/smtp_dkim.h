/* SPDX-License-Identifier: MIT */
/*
 * smtp_dkim.h: DKIM signing of outgoing mail (RFC 6376) with rsa-sha256
 * and ed25519-sha256 (RFC 8463), relaxed/relaxed canonicalization, on
 * OpenSSL. Keys live in DIR/dkim/DOMAIN/SELECTOR.pem (`tern dkim keygen`);
 * a domain with keys gets one signature per key on every message whose
 * envelope sender is in it. The message is read from its queue file in
 * chunks: the body hash streams, only the header is held.
 */
#ifndef TERN_SMTP_SMTP_DKIM_H
#define TERN_SMTP_SMTP_DKIM_H

#include <stddef.h>
#include <stdint.h>

struct buf;

/* The header fields signed when present (h=), lowercase. */
extern const char *const smtp_dkim_signed_fields[];

/* Creates DIR/dkim/DOMAIN/SELECTOR.pem (type "rsa" 2048 bits, or
   "ed25519") and appends the TXT record to publish, as
   "SELECTOR._domainkey.DOMAIN. TXT \"v=DKIM1; k=...; p=...\"\n", to out.
   0, or -1 with a heap *error_out (the key exists already, I/O). */
int smtp_dkim_keygen(const char *data_dir, const char *domain, const char *selector,
                     const char *type, struct buf *out, char **error_out);

/* Calls fn with the selector and TXT record text ("v=DKIM1; k=rsa; p=...")
   of each key of domain under DIR/dkim/DOMAIN/, the records `tern
   dns-records` prints; returns how many. */
size_t smtp_dkim_records(const char *data_dir, const char *domain,
                         void (*fn)(const char *selector, const char *txt, void *arg), void *arg);

/* Appends to out the DKIM-Signature fields (CRLF-terminated) for the
   message in fd (CRLF lines, from offset 0), one per key of domain; out
   unchanged when the domain has none. now is the t= tag. 0, or -1 when a
   key or the file could not be read (logged; send unsigned). */
int smtp_dkim_sign(const char *data_dir, const char *domain, int fd, int64_t now, struct buf *out);

/* Relaxed canonicalization (RFC 6376 section 3.4.2 and 3.4.4), for the
   unit test: one header field "Name:value" (unfolded, CRLF removed)
   into out, and a whole body. */
void smtp_dkim_relax_header(const char *field, size_t len, struct buf *out);
void smtp_dkim_relax_body(const char *body, size_t len, struct buf *out);

#endif
