/* SPDX-License-Identifier: MIT */
/*
 * imap_urlauth.h: URLAUTH (RFC 4467): URLs that carry their own
 * authorization, for another user (or a submission server, BURL: RFC 4468)
 * to fetch a message without the owner's password. A URL is authorized
 * by GENURLAUTH as
 *
 *   <rump> ":INTERNAL:" hex(HMAC-SHA256(mailbox access key, <rump>))
 *
 * where the rump is the URL up to and including ";URLAUTH=<access>"; the
 * key is the mailbox's (store_mailbox_access_key), so RESETKEY revokes
 * every URL of the mailbox at once. Checking one is a constant-time
 * compare of the verifier recomputed under the owner's current key.
 */
#ifndef TERN_IMAP_URLAUTH_H
#define TERN_IMAP_URLAUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "imap/imap_url.h"
#include "imap/session.h"

/* The only mechanism (RFC 4467 section 7: servers MUST support it). */
#define IMAP_URLAUTH_MECH "INTERNAL"

/* The verifier of rump (rump_len bytes) under key: 64 hex digits. */
void imap_urlauth_token(const unsigned char key[32], const char *rump, size_t rump_len,
                        char out[65]);

/*
 * The address of the account u belongs to: its user, or "user@host" when
 * the user holds no '@' (an address split over the URL's authority, as
 * clients and ImapTest write it). In a; NULL for a relative URL.
 */
const char *imap_urlauth_owner(struct arena *a, const struct imap_url *u);

/*
 * For URLFETCH: whether this session may use u (url parsed; a full URL: verifier
 * right under the owner's key, not expired, access naming the session's
 * user or anyone authenticated). Returns the account holding the mailbox in
 * *acct_out and its name there in *mailbox_out: for a URL of the session's
 * own user, the mailbox as its namespaces resolve it ("Other Users/...",
 * "Shared/...": the owner's account through the session's identity, so
 * the fetch needs 'r' there, RFC 4314), else the URL owner's account (a
 * handle to close, with *opened_out). Returns 0, or -1 when it may not
 * (URLFETCH answers NIL; the reason is logged at debug).
 */
int imap_urlauth_check(struct imap_session *s, struct arena *a, const char *url,
                       const struct imap_url *u, struct store_account **acct_out,
                       const char **mailbox_out, bool *opened_out);

#endif
