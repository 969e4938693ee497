/* SPDX-License-Identifier: MIT */
/*
 * throttle.h: brute-force defence. Failed logins are counted per source IP and
 * per account in memory (process-wide, thread-safe). Each failure's answer
 * waits longer than the last; past a threshold the IP or the account is
 * blocked for a while. Successful logins are never delayed. Counts are
 * forgotten after a quiet window. Pure bookkeeping: no sockets, no clock of
 * its own (callers pass now_ms), so it is unit-tested with a fake clock.
 */
#ifndef TERN_AUTH_THROTTLE_H
#define TERN_AUTH_THROTTLE_H

#include <stdbool.h>
#include <stdint.h>

struct auth_throttle;

struct auth_throttle_settings {
	uint64_t fail_delay_ms;       /* the first failures wait this long */
	uint64_t max_fail_delay_ms;   /* the delay doubles up to this */
	uint64_t block_after_ip;      /* failures from one IP, then blocked; 0 = never */
	uint64_t block_after_account; /* failures on one account; 0 = never */
	uint64_t block_ms;            /* how long a block lasts */
	uint64_t window_ms;           /* failures older than this are forgotten */
};

struct auth_throttle *auth_throttle_new(const struct auth_throttle_settings *s);
void auth_throttle_configure(struct auth_throttle *t, const struct auth_throttle_settings *s);
void auth_throttle_free(struct auth_throttle **tp);

/* True when ip (or account, which may be NULL) is blocked at now_ms. */
bool auth_throttle_is_blocked(struct auth_throttle *t, const char *ip, const char *account,
                              uint64_t now_ms);
/* Records a failure (account may be NULL: unknown or not yet named). Returns
   the delay to apply to this answer; *failures_out is the larger of the two
   counts; *blocked_out tells whether this failure started a block. */
uint64_t auth_throttle_failure(struct auth_throttle *t, const char *ip, const char *account,
                               uint64_t now_ms, unsigned *failures_out, bool *blocked_out);
/* A right password: the account's count starts over (the IP's does not,
   so one valid account cannot launder guesses at others). */
void auth_throttle_success(struct auth_throttle *t, const char *account);

#endif
