/* SPDX-License-Identifier: MIT */
/*
 * auth.h: authentication for every protocol (IMAP, POP3, SMTP submission).
 *
 * A protocol asks two kinds of question: a plain user/password check (IMAP
 * LOGIN, POP3 USER/PASS) and a SASL exchange (AUTHENTICATE, AUTH). Both
 * block (password hashing, the accounts database) and must run on a job
 * thread (net/jobs.h), never on an event loop; what may run on a loop says
 * so. The protocol describes its connection in a struct auth_conn (TLS,
 * channel bindings, client certificate: auth itself knows no sockets) and
 * gets a struct auth_result back that says why a login failed, how long the
 * failure answer must wait (brute-force defence: throttle.h) and who logged
 * in, so each protocol can answer with its own codes:
 *
 *   status          IMAP                      POP3           SMTP
 *   AUTH_FAILED     NO [AUTHENTICATIONFAILED]  -ERR [AUTH]    535 5.7.8
 *   AUTH_DISABLED   NO [CONTACTADMIN]          -ERR [AUTH]    535 5.7.8
 *   AUTH_AUTHZ      NO [AUTHORIZATIONFAILED]   -ERR [AUTH]    535 5.7.8
 *   AUTH_BLOCKED    NO [UNAVAILABLE]           -ERR [IN-USE]  454 4.7.0
 *   AUTH_MALFORMED  BAD                        -ERR           501 5.5.2
 *   AUTH_TEMP       NO [UNAVAILABLE]           -ERR [SYS/TEMP] 454 4.7.0
 *
 * Mechanisms (docs/AUTH.md): PLAIN, LOGIN, CRAM-MD5, DIGEST-MD5, EXTERNAL,
 * ANONYMOUS, GSSAPI and GS2-KRB5 (Kerberos) through GNU SASL;
 * SCRAM-SHA-1(-PLUS), SCRAM-SHA-256(-PLUS), OAUTHBEARER and XOAUTH2 here
 * (sasl.c), because GNU SASL 2.2 knows no tls-server-end-point binding and
 * cannot take a JWT.
 */
#ifndef TERN_AUTH_H
#define TERN_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/accounts.h"
#include "auth/groups.h"

struct auth_service;
struct auth_sasl;
struct buf;

/* Settings each session copies (plain data, no pointers). */
enum auth_plaintext {
	AUTH_PLAINTEXT_NEVER,    /* passwords only over TLS */
	AUTH_PLAINTEXT_LOOPBACK, /* and over plaintext from 127.0.0.0/8, ::1 */
	AUTH_PLAINTEXT_ALWAYS,
};

struct auth_settings {
	int plaintext;          /* enum auth_plaintext */
	uint64_t fail_delay_ms; /* answer to a failed login waits at least this */
	bool apop;              /* keep APOP secrets and offer POP3 APOP (auth.apop) */
};

/* Process-wide settings from tern.conf (strings borrowed for the call that
   takes them; auth_service copies what it keeps). */
struct auth_config {
	struct auth_settings s;
	uint64_t max_fail_delay_ms, block_after_ip, block_after_account, block_time_ms,
	        fail_window_ms;
	uint64_t cache_size, cache_ttl_ms; /* the login cache (login_cache.h); 0 = off */
	char *mechanisms;       /* space- or comma-separated */
	char *master_users;     /* addresses allowed to log in as anyone */
	char *master_separator; /* "user*master" */
	char *anonymous_account;
	char *digest_realm; /* "" = hostname */
	char *hostname;     /* CRAM-MD5 challenge, DIGEST-MD5 realm default */
	uint64_t scram_iterations;
	char *oauth_issuer, *oauth_audience, *oauth_claim;
	char *oauth_hs256_secret_file, *oauth_public_keys_file; /* absolute paths */
	char *oauth_configuration_url; /* "openid-configuration" in the error JSON */
	uint64_t oauth_leeway_ms;
	/* GSSAPI, GS2-KRB5: offered while the keytab (absolute; "" = off) is
	   readable. The process must export it as KRB5_KTNAME before the first
	   Kerberos call (auth_gssapi_environment). */
	char *gssapi_keytab;
	char *gssapi_hostname;                  /* "" = hostname */
	char *gssapi_service[AUTH_PROTO_COUNT]; /* "imap", "pop", "smtp" */
	char *gssapi_realms;                    /* "REALM=domain ..." */
	char *gssapi_map;                       /* absolute; "" = none */
};

enum auth_mech {
	AUTH_MECH_PLAIN,
	AUTH_MECH_LOGIN,
	AUTH_MECH_CRAM_MD5,
	AUTH_MECH_DIGEST_MD5,
	AUTH_MECH_SCRAM_SHA_1,
	AUTH_MECH_SCRAM_SHA_1_PLUS,
	AUTH_MECH_SCRAM_SHA_256,
	AUTH_MECH_SCRAM_SHA_256_PLUS,
	AUTH_MECH_EXTERNAL,
	AUTH_MECH_ANONYMOUS,
	AUTH_MECH_OAUTHBEARER,
	AUTH_MECH_XOAUTH2,
	AUTH_MECH_GSSAPI,
	AUTH_MECH_GS2_KRB5,
	AUTH_MECH_COUNT,
};

/* What auth needs to know about the client's connection. Plain data. */
struct auth_conn {
	enum auth_protocol proto;
	char ip[64];
	bool is_tls, is_loopback;
	/* RFC 9266 tls-exporter: only with TLS 1.3 (RFC 9266 section 3). */
	bool has_cb_exporter;
	unsigned char cb_exporter[32];
	/* RFC 5929 section 4 tls-server-end-point: hash of our certificate. */
	size_t cb_endpoint_len; /* 0: none */
	unsigned char cb_endpoint[64];
	/* A client certificate verified against tls.client_ca: its email
	   address (subjectAltName rfc822Name, else emailAddress). "" if none. */
	char cert_identity[256];
};

enum auth_status {
	AUTH_OK,
	AUTH_CONTINUE,  /* SASL: send the challenge, wait for the next response */
	AUTH_FAILED,    /* wrong user or password: one answer for both */
	AUTH_DISABLED,  /* right password, but the account may not use this protocol */
	AUTH_AUTHZ,     /* right password, but may not act as the requested user */
	AUTH_BLOCKED,   /* too many failures from this IP or on this account */
	AUTH_MALFORMED, /* client sent something that is not valid for the mechanism */
	AUTH_TEMP,      /* our side failed; logged */
};

/* Why AUTH_DISABLED: what the protocol tells the client (its own words and
   codes); reason says the same for the log. */
enum auth_denial {
	AUTH_DENIAL_NONE,
	AUTH_DENIAL_PROTOCOL,     /* the account's switch for this protocol is off */
	AUTH_DENIAL_ADMIN,        /* administrators have no mailbox (IMAP, POP3) */
	AUTH_DENIAL_APP_PASSWORD, /* the app password is not valid for this protocol */
};

/* Who logged in. */
struct auth_identity {
	uint64_t account_id;
	char address[256];
	char master[256];      /* the master user acting as address, or "" */
	bool master_is_admin;  /* that master user's account has role admin */
	char referral[256];    /* the account lives there (RFC 2221), or "" */
	char app_password[64]; /* name of the app password used, or "" */
	bool is_admin;
};

struct auth_result {
	enum auth_status status;
	const char *reason;      /* static, for the log: "bad-credentials", ... */
	enum auth_denial denial; /* AUTH_DISABLED: which kind */
	uint64_t delay_ms;       /* a failure's answer waits this long (0 on success) */
	unsigned failures;       /* the failure count behind delay_ms */
	char user[256];          /* the login name the client gave, "" if none yet */
	struct auth_identity id; /* AUTH_OK */
	char *out_b64;           /* heap: challenge (CONTINUE) or final data (OK), or NULL */
};

/* Process-wide. data_dir holds accounts.db. NULL with heap *error_out (an
   unreadable OAuth key file, an unknown mechanism name, a bad
   auth.gssapi_realms or map file). With a keytab, call it before any thread
   starts (it initialises the GSS-API libraries) and after
   auth_gssapi_environment(). */
struct auth_service *auth_service_new(const char *data_dir, const struct auth_config *cfg,
                                      char **error_out);
/* New settings for new logins; on error (-1, heap *error_out) the old stay. */
int auth_service_reload(struct auth_service *svc, const struct auth_config *cfg, char **error_out);
void auth_service_free(struct auth_service **svcp);

/* Whether passwords may be sent on this connection. */
bool auth_plaintext_allowed(const struct auth_settings *s, bool is_tls, bool is_loopback);
/* The same under the service's current settings: a SIGHUP that changes
   auth.plaintext applies at once, to connections already open too. */
bool auth_service_plaintext_allowed(struct auth_service *svc, bool is_tls, bool is_loopback);
/*
 * Points the Kerberos library at cfg's keytab (KRB5_KTNAME) and, unless
 * the environment already names one, a replay cache in data_dir
 * (KRB5RCACHENAME, where the sandbox lets it write). Changes the process
 * environment: call once at start, before any thread. No-op without a
 * keytab.
 */
void auth_gssapi_environment(const char *data_dir, const struct auth_config *cfg);
/* Whether POP3 APOP is offered now (auth.apop, as of the last reload). */
bool auth_service_apop_offered(struct auth_service *svc);

/* Appends the SASL mechanisms offered on conn, space separated, to out
   (nothing when passwords may not travel here). Event-loop safe. */
void auth_mechanisms_list(struct auth_service *svc, const struct auth_conn *conn, struct buf *out);
/* Parses a mechanism name (case-insensitive); -1 if unknown. */
int auth_mech_parse(const char *name);
const char *auth_mech_name(enum auth_mech m);

/* Event-loop safe: true when conn's IP is blocked now (refuse before any
   work). */
bool auth_ip_is_blocked(struct auth_service *svc, const struct auth_conn *conn);

/*
 * The account id of address (matched as stored: lowercased), for a
 * protocol that acts on another account's data by an authorization it was
 * given (IMAP URLFETCH, RFC 4467). One indexed read of accounts.db on the
 * calling thread's connection. Returns 0, or -1 when there is no such
 * account or IMAP is off for it (or the read failed).
 */
int auth_account_id_lookup(struct auth_service *svc, const char *address, uint64_t *id_out);

/* The address of account id into out (size bytes), for naming a shared
   mailbox's owner ("Other Users/<address>/", RFC 2342). One indexed read,
   on the calling thread's connection, like auth_account_id_lookup. 0, or
   -1 when there is none (or it does not fit). */
int auth_account_address_lookup(struct auth_service *svc, uint64_t id, char *out, size_t size);
/* The groups address belongs to (groups.h; heap, free with
   auth_groups_free()), read once at login for the ACL's "$group"
   identifiers. 0, or -1 when accounts.db cannot be read. */
int auth_account_groups(struct auth_service *svc, const char *address, char ***groups_out,
                        size_t *n_out);

/* Blocking password check (job thread): LOGIN, USER/PASS. Fills *r. */
void auth_login(struct auth_service *svc, const struct auth_conn *conn, const char *user,
                const char *password, struct auth_result *r);

/*
 * Blocking (job thread): POP3 APOP (RFC 1939 section 7): digest_hex is
 * MD5(timestamp || password) in hex, timestamp the msg-id the greeting
 * sent. Needs auth.apop and the account's APOP secret (kept at its last
 * password change or password login since auth.apop was on); without one
 * it fails like a wrong password. Fills *r as auth_login does.
 */
void auth_apop(struct auth_service *svc, const struct auth_conn *conn, const char *user,
               const char *timestamp, const char *digest_hex, struct auth_result *r);

/*
 * Blocking (job thread): the password check of the admin API and web page.
 * AUTH_OK with r->id.address and is_admin when user is an administrator
 * and password is its password or one of its app passwords (an API
 * token); otherwise AUTH_FAILED, a right password of a non-administrator
 * included (reason "not-admin"), counted and delayed like every failure.
 */
void auth_admin_login(struct auth_service *svc, const struct auth_conn *conn, const char *user,
                      const char *password, struct auth_result *r);
/*
 * Blocking (job thread): every credential for password under the running
 * policy (SCRAM iterations, CRAM-MD5 and DIGEST-MD5 keys only while those
 * mechanisms are on), as `tern user add/passwd` makes them. 0, or -1 with a
 * static *error_out. Free with auth_credentials_clear().
 */
int auth_service_credentials_make(struct auth_service *svc, const char *address,
                                  const char *password, struct auth_credentials *out,
                                  const char **error_out);
/* The calling job thread's accounts.db connection, opened on first use and
   kept for the thread's life; NULL when it cannot be opened (logged). For
   admin operations run on the auth pool. */
struct auth_db *auth_service_db(struct auth_service *svc);

/* Starts a SASL exchange for mech (case-insensitive); NULL if the mechanism
   is not offered on conn. Event-loop safe (no I/O). conn is copied. */
struct auth_sasl *auth_sasl_new(struct auth_service *svc, const struct auth_conn *conn,
                                const char *mech);
/* The canonical name of the exchange's mechanism (static). */
const char *auth_sasl_mech(const struct auth_sasl *s);
/*
 * One step (job thread): in_b64 is the client's base64 response ("" for an
 * empty one, NULL when the client sent no initial response). Fills *r (free
 * r->out_b64 with auth_result_clear): on AUTH_CONTINUE r->out_b64 is the
 * challenge; on AUTH_OK r->id is set and r->out_b64 may hold final server
 * data, which the protocol sends before success (RFC 4422 section 5).
 */
void auth_sasl_step(struct auth_sasl *s, const char *in_b64, struct auth_result *r);
void auth_sasl_free(struct auth_sasl **sp);

void auth_result_clear(struct auth_result *r);

/*
 * Access changes made by `tern user set` (or del) while the server runs.
 * auth_changes_poll (job thread) returns the accounts changed since the last
 * poll, or NULL when none; the first call only notes where the log is.
 * The result is shared by every worker: ref/unref it.
 */
struct auth_changes;
struct auth_changes *auth_changes_poll(struct auth_service *svc);
void auth_changes_ref(struct auth_changes *c);
void auth_changes_unref(struct auth_changes **cp);
size_t auth_changes_count(const struct auth_changes *c);
/* Whether the session of id on proto must end: the account was deleted, the
   protocol switched off, or the account became an administrator. */
bool auth_changes_revokes(const struct auth_changes *c, const struct auth_identity *id,
                          enum auth_protocol proto);

#endif
