/* SPDX-License-Identifier: MIT */
/* imap_urlauth.c: see imap_urlauth.h. */
#include "imap/imap_urlauth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "imap/imap_namespace.h"
#include "lib/arena.h"
#include "lib/log.h"

void
imap_urlauth_token(const unsigned char key[32], const char *rump, size_t rump_len, char out[65])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (HMAC(EVP_sha256(), key, 32, (const unsigned char *)rump, rump_len, md, &n) == NULL ||
	    n != 32)
		abort(); /* OpenSSL cannot compute HMAC-SHA256: nothing sane to do */
	for (unsigned i = 0; i < 32; i++) {
		out[2 * i] = digits[md[i] >> 4];
		out[2 * i + 1] = digits[md[i] & 15];
	}
	out[64] = '\0';
}

const char *
imap_urlauth_owner(struct arena *a, const struct imap_url *u)
{
	if (u->user == NULL || u->host == NULL)
		return NULL;
	if (strchr(u->user, '@') != NULL)
		return u->user;
	size_t hlen = strcspn(u->host, ":"); /* without the port */
	return arena_printf(a, "%s@%.*s", u->user, (int)hlen, u->host);
}

/* Whether access (RFC 4467 section 3) lets the session's user fetch. */
static bool
access_allows(const struct imap_session *s, const char *access)
{
	if (strcasecmp(access, "authuser") == 0 || strcasecmp(access, "anonymous") == 0)
		return true;
	/* "user+<user>" for that user; "submit+<user>" for the submission
	   server acting for that user, who is the only one we can tell. */
	const char *who = strchr(access, '+') + 1;
	return strcasecmp(who, s->user.address) == 0;
}

int
imap_urlauth_check(struct imap_session *s, struct arena *a, const char *url,
                   const struct imap_url *u, struct store_account **acct_out,
                   const char **mailbox_out, bool *opened_out)
{
	const char *owner = imap_urlauth_owner(a, u), *why = NULL;
	unsigned char key[32];
	char want[65];
	uint64_t id;
	enum store_error err;

	*opened_out = false;
	if (owner == NULL || u->access == NULL || u->mechanism == NULL ||
	    strcasecmp(u->mechanism, IMAP_URLAUTH_MECH) != 0)
		why = "not-an-authorized-url";
	else if (u->expire != 0 && u->expire <= (int64_t)time(NULL))
		why = "expired";
	else if (!access_allows(s, u->access))
		why = "access";
	*mailbox_out = u->mailbox;
	if (why == NULL) {
		struct imap_box box;
		if (strcasecmp(owner, s->user.address) == 0) {
			if (imap_box_resolve(s, u->mailbox, &box, &err) < 0) {
				why = "no-mailbox";
			} else {
				*acct_out = box.acct;
				*mailbox_out = box.name;
			}
		} else if (auth_account_id_lookup(s->srv->auth, owner, &id) < 0 ||
		           store_account_open(s->srv->store, id, acct_out, &err) < 0) {
			why = "no-owner";
		} else {
			*opened_out = true;
		}
	}
	if (why == NULL) {
		if (store_mailbox_access_key(*acct_out, *mailbox_out, false, key, &err) < 0) {
			why = "no-mailbox";
		} else {
			imap_urlauth_token(key, url, u->rump_len, want);
			explicit_bzero(key, sizeof(key));
			/* Same length first, then without an early exit. */
			if (strlen(u->token) != 64 || CRYPTO_memcmp(want, u->token, 64) != 0)
				why = "verifier";
		}
	}
	if (why != NULL) {
		if (*opened_out)
			store_account_close(acct_out);
		*opened_out = false;
		log_debug("imap", "event=urlauth-refused why=%s", why);
		return -1;
	}
	return 0;
}
