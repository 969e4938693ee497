/* SPDX-License-Identifier: MIT */
/*
 * smtp_auth.h: what EHLO and AUTH share: the mechanisms offered on this
 * connection (none where auth.plaintext forbids passwords, RFC 8314
 * section 3) and the connection as auth/auth.h sees it.
 */
#ifndef TERN_SMTP_SMTP_AUTH_H
#define TERN_SMTP_SMTP_AUTH_H

#include "auth/auth.h"

struct buf;
struct smtp_session;

void smtp_auth_conn(struct smtp_session *s, struct auth_conn *conn);
/* The SASL mechanisms for EHLO's AUTH line, space-separated (maybe none). */
void smtp_auth_mechanisms(struct smtp_session *s, struct buf *out);

#endif
