/* SPDX-License-Identifier: MIT */
/*
 * pop3_lock.c: the maildrop locks and last-login times (pop3_lock.h). A
 * small array under one mutex: entries are live locks plus the logins of
 * the last login_delay seconds, which the scan prunes as it goes, so the
 * table stays the size of concurrent POP3 users.
 */
#include "pop3/pop3_lock.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "lib/util.h"

struct entry {
	uint64_t account_id;
	uint64_t last_login_ms;
	uint64_t delay_ms; /* how long the entry must be kept after the login */
	bool held;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry *entries;
static size_t n_entries, cap_entries;

enum pop3_lock_result
pop3_lock_acquire(uint64_t account_id, uint64_t login_delay_s)
{
	uint64_t now = time_mono_ms();
	enum pop3_lock_result r = POP3_LOCK_OK;
	struct entry *mine = NULL;

	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < n_entries;) {
		struct entry *e = &entries[i];
		if (!e->held && now - e->last_login_ms >= e->delay_ms) {
			*e = entries[--n_entries]; /* expired: drop */
			continue;
		}
		if (e->account_id == account_id)
			mine = e;
		i++;
	}
	if (mine != NULL && mine->held)
		r = POP3_LOCK_IN_USE;
	else if (mine != NULL && now - mine->last_login_ms < login_delay_s * 1000)
		r = POP3_LOCK_TOO_SOON;
	if (r == POP3_LOCK_OK) {
		if (mine == NULL) {
			if (n_entries == cap_entries) {
				cap_entries = cap_entries ? cap_entries * 2 : 16;
				entries = xrealloc(entries, cap_entries * sizeof(*entries));
			}
			mine = &entries[n_entries++];
		}
		*mine = (struct entry){account_id, now, login_delay_s * 1000, true};
	}
	pthread_mutex_unlock(&lock);
	return r;
}

void
pop3_lock_release(uint64_t account_id)
{
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < n_entries; i++) {
		if (entries[i].account_id == account_id && entries[i].held) {
			entries[i].held = false;
			if (entries[i].delay_ms == 0)
				entries[i] = entries[--n_entries];
			break;
		}
	}
	pthread_mutex_unlock(&lock);
}

void
pop3_lock_cleanup(void)
{
	pthread_mutex_lock(&lock);
	free(entries);
	entries = NULL;
	n_entries = cap_entries = 0;
	pthread_mutex_unlock(&lock);
}
