/* SPDX-License-Identifier: MIT */
/*
 * iplimit.c: address -> live connection count, a lib/hash table under one
 * mutex (SipHash-keyed: a client cannot pick addresses that collide).
 * Entries are removed when their count drops to zero, so the table holds
 * only hosts that are connected now.
 */
#include "net/iplimit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hash.h"
#include "lib/util.h"

struct ip_entry {
	uint64_t count;
	char ip[INET6_ADDRSTRLEN]; /* the entry's key */
};

struct net_iplimit {
	pthread_mutex_t lock;
	struct hash *ips; /* ip -> struct ip_entry */
};

struct net_iplimit *
net_iplimit_new(void)
{
	struct net_iplimit *l = xcalloc(1, sizeof(*l));

	pthread_mutex_init(&l->lock, NULL);
	l->ips = hash_new(HASH_KEYS_STR, 0);
	return l;
}

static bool
drop_all(const struct hash_entry *e, void *ctx)
{
	free(e->value);
	return true;
}

void
net_iplimit_free(struct net_iplimit **lp)
{
	struct net_iplimit *l = *lp;

	if (l == NULL)
		return;
	hash_remove_if(l->ips, drop_all, NULL);
	hash_free(&l->ips);
	pthread_mutex_destroy(&l->lock);
	free(l);
	*lp = NULL;
}

bool
net_iplimit_acquire(struct net_iplimit *l, const char *ip, uint64_t max)
{
	bool ok = true;

	pthread_mutex_lock(&l->lock);
	struct ip_entry *e = hash_str_find(l->ips, ip);
	if (max != 0 && e != NULL && e->count >= max) {
		ok = false;
	} else {
		if (e == NULL) {
			e = xcalloc(1, sizeof(*e));
			snprintf(e->ip, sizeof(e->ip), "%s", ip);
			hash_str_set(l->ips, e->ip, e);
		}
		e->count++;
	}
	pthread_mutex_unlock(&l->lock);
	return ok;
}

void
net_iplimit_release(struct net_iplimit *l, const char *ip)
{
	pthread_mutex_lock(&l->lock);
	struct ip_entry *e = hash_str_find(l->ips, ip);
	if (e != NULL && --e->count == 0) {
		hash_str_remove(l->ips, e->ip);
		free(e);
	}
	pthread_mutex_unlock(&l->lock);
}

uint64_t
net_iplimit_count(struct net_iplimit *l, const char *ip)
{
	uint64_t n;

	pthread_mutex_lock(&l->lock);
	struct ip_entry *e = hash_str_find(l->ips, ip);
	n = e != NULL ? e->count : 0;
	pthread_mutex_unlock(&l->lock);
	return n;
}

void
net_addr_format(const struct sockaddr_storage *ss, char *out, size_t outlen)
{
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)ss;
		if (IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr)) {
			inet_ntop(AF_INET, &a6->sin6_addr.s6_addr[12], out, (socklen_t)outlen);
			return;
		}
		inet_ntop(AF_INET6, &a6->sin6_addr, out, (socklen_t)outlen);
	} else if (ss->ss_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, out,
		          (socklen_t)outlen);
	} else if (ss->ss_family == AF_UNIX) {
		snprintf(out, outlen, "unix");
	} else {
		snprintf(out, outlen, "unknown");
	}
}
