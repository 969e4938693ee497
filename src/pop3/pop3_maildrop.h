/* SPDX-License-Identifier: MIT */
/*
 * pop3_maildrop.h: the maildrop of a POP3 session: INBOX as it was at
 * login (RFC 1939 section 4: messages that arrive later wait for the next
 * session), with each message's size, UIDL and deletion mark.
 *
 * UIDL is derived from UIDVALIDITY and UID ("%08Xu%08Xv", the form Dovecot
 * uses, so clients moving from it keep their state): unique in the
 * maildrop, stable across sessions and restarts, never reused (RFC 1939
 * section 7), unlike an email id, which COPY shares.
 */
#ifndef TERN_POP3_MAILDROP_H
#define TERN_POP3_MAILDROP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

struct pop3_maildrop {
	struct store_account *acct;
	struct store_mailbox *mbox;
	uint32_t uidvalidity;
	uint32_t count; /* messages at login; numbered 1..count */
	uint32_t *uids;
	uint64_t *sizes; /* octets RETR sends, byte-stuffing excluded (RFC 1939 section 11) */
	bool *deleted;
	bool *retrieved; /* RETR sent it whole (EXPIRE 0) */
	uint32_t n_deleted;
	uint64_t total_size, deleted_size;
};

#define POP3_UIDL_LEN 18 /* 16 hex digits, 'u', 'v'... and a NUL */

/* Blocking (store pool): opens INBOX of account_id and reads every size.
   0, or -1 with *err_out. */
int pop3_maildrop_open(struct store *store, uint64_t account_id, struct pop3_maildrop *md,
                       enum store_error *err_out);
void pop3_maildrop_close(struct pop3_maildrop *md);
/* The UIDL of message i (0-based). */
void pop3_maildrop_uidl(const struct pop3_maildrop *md, uint32_t i, char out[POP3_UIDL_LEN + 1]);
/* Blocking (store pool): the UPDATE state: removes every marked message in
   one transaction (all or none). Messages another session expunged are
   skipped. 0, or -1 with *err_out. */
int pop3_maildrop_commit(struct pop3_maildrop *md, enum store_error *err_out);

#endif
