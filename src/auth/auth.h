/* SPDX-License-Identifier: MIT */
/*
 * auth.h: authentication for every protocol (IMAP, POP3, SMTP submission).
 *
 * A protocol asks two kinds of question: a plain user/password check (IMAP
 * LOGIN, POP3 USER/PASS) and a SASL exchange (AUTHENTICATE, AUTH), driven by
 * GNU SASL. Both block (password hashing, the accounts database) and must run
 * on a job thread (net/jobs.h), never on an event loop. Results say why a
 * login failed so each protocol can answer with its own code.
 */
#ifndef TERN_AUTH_H
#define TERN_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include "auth/accounts.h"

struct auth_service;
struct auth_sasl;

/* Settings shared by every protocol. */
enum auth_plaintext {
	AUTH_PLAINTEXT_NEVER,	 /* passwords only over TLS */
	AUTH_PLAINTEXT_LOOPBACK, /* and over plaintext from 127.0.0.0/8, ::1 */
	AUTH_PLAINTEXT_ALWAYS,
};

struct auth_settings {
	int plaintext;		 /* enum auth_plaintext */
	uint64_t fail_delay_ms; /* answer to a failed login waits this long */
};

enum auth_status {
	AUTH_OK,
	AUTH_CONTINUE, /* SASL: send the challenge, wait for the next response */
	AUTH_FAILED,   /* wrong user or password: one answer for both */
	AUTH_DISABLED, /* right password, protocol switched off for the account */
	AUTH_MALFORMED, /* client sent something that is not valid for the mechanism */
	AUTH_TEMP,	/* our side failed; logged */
};

/* Who logged in. */
struct auth_identity {
	uint64_t account_id;
	char address[256];
};

/* Process-wide. data_dir holds accounts.db. NULL with heap *error_out. */
struct auth_service *auth_service_new(const char *data_dir, char **error_out);
void auth_service_free(struct auth_service **svcp);

/* Whether passwords may be sent on this connection. */
bool auth_plaintext_allowed(const struct auth_settings *s, bool is_tls, bool is_loopback);

/* The SASL mechanisms offered, space separated ("PLAIN LOGIN"). Static. */
const char *auth_mechanisms(bool plaintext_allowed);

/* Blocking password check (job thread). On AUTH_OK fills *id. */
enum auth_status auth_check_password(struct auth_service *svc, enum auth_protocol proto,
				     const char *user, const char *password,
				     struct auth_identity *id);

/* Starts a SASL exchange for mech (case-insensitive); NULL if the mechanism is
   not offered. May be called on the event loop (no I/O). */
struct auth_sasl *auth_sasl_new(struct auth_service *svc, enum auth_protocol proto,
				const char *mech);
/*
 * One step (job thread): in_b64 is the client's base64 response ("" for an
 * empty one, NULL when the client sent no initial response). On
 * AUTH_CONTINUE *out_b64 (heap) is the challenge to send; on AUTH_OK the
 * identity is in *id, and *out_b64 may hold final server data (or NULL).
 */
enum auth_status auth_sasl_step(struct auth_sasl *s, const char *in_b64, char **out_b64,
				struct auth_identity *id);
void auth_sasl_free(struct auth_sasl **sp);

#endif
