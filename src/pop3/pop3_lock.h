/* SPDX-License-Identifier: MIT */
/*
 * pop3_lock.h: one POP3 session per account at a time (RFC 1939 section 4:
 * the maildrop is locked; a second session gets -ERR [IN-USE], RFC 2449
 * section 8.1.1) and LOGIN-DELAY (RFC 2449 section 6.9: at most one login
 * per that many seconds). Process-wide, thread-safe; the state lives in
 * memory (a restart forgets the delay, and no session survives one).
 */
#ifndef TERN_POP3_LOCK_H
#define TERN_POP3_LOCK_H

#include <stdint.h>

enum pop3_lock_result { POP3_LOCK_OK, POP3_LOCK_IN_USE, POP3_LOCK_TOO_SOON };

/* Takes account_id's lock unless it is held, or its last login was less
   than login_delay_s ago. */
enum pop3_lock_result pop3_lock_acquire(uint64_t account_id, uint64_t login_delay_s);
void pop3_lock_release(uint64_t account_id);
/* Frees what the table holds (at exit, for leak checkers). */
void pop3_lock_cleanup(void);

#endif
