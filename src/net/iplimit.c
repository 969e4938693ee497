/* SPDX-License-Identifier: MIT */
/*
 * iplimit.c: a chained hash of address -> live connection count under one
 * mutex. Entries are removed when their count drops to zero, so the table
 * holds only hosts that are connected now.
 */
#include "net/iplimit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "lib/util.h"

#define IPLIMIT_BUCKETS 4096

struct ip_entry {
	struct ip_entry *next;
	uint64_t count;
	char ip[INET6_ADDRSTRLEN];
};

struct net_iplimit {
	pthread_mutex_t lock;
	struct ip_entry *buckets[IPLIMIT_BUCKETS];
};

static size_t
hash_ip(const char *ip)
{
	size_t h = 5381;

	for (; *ip != '\0'; ip++)
		h = h * 33 + (unsigned char)*ip;
	return h % IPLIMIT_BUCKETS;
}

struct net_iplimit *
net_iplimit_new(void)
{
	struct net_iplimit *l = xcalloc(1, sizeof(*l));

	pthread_mutex_init(&l->lock, NULL);
	return l;
}

void
net_iplimit_free(struct net_iplimit **lp)
{
	struct net_iplimit *l = *lp;

	if (l == NULL)
		return;
	for (size_t i = 0; i < IPLIMIT_BUCKETS; i++) {
		for (struct ip_entry *e = l->buckets[i], *next; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
	}
	pthread_mutex_destroy(&l->lock);
	free(l);
	*lp = NULL;
}

static struct ip_entry **
find(struct net_iplimit *l, const char *ip)
{
	struct ip_entry **ep = &l->buckets[hash_ip(ip)];

	while (*ep != NULL && strcmp((*ep)->ip, ip) != 0)
		ep = &(*ep)->next;
	return ep;
}

bool
net_iplimit_acquire(struct net_iplimit *l, const char *ip, uint64_t max)
{
	bool ok = true;

	pthread_mutex_lock(&l->lock);
	struct ip_entry **ep = find(l, ip);
	if (*ep == NULL) {
		struct ip_entry *e = xcalloc(1, sizeof(*e));
		snprintf(e->ip, sizeof(e->ip), "%s", ip);
		*ep = e;
	}
	if (max != 0 && (*ep)->count >= max)
		ok = false;
	else
		(*ep)->count++;
	if ((*ep)->count == 0) {
		struct ip_entry *e = *ep;
		*ep = e->next;
		free(e);
	}
	pthread_mutex_unlock(&l->lock);
	return ok;
}

void
net_iplimit_release(struct net_iplimit *l, const char *ip)
{
	pthread_mutex_lock(&l->lock);
	struct ip_entry **ep = find(l, ip);
	if (*ep != NULL && --(*ep)->count == 0) {
		struct ip_entry *e = *ep;
		*ep = e->next;
		free(e);
	}
	pthread_mutex_unlock(&l->lock);
}

uint64_t
net_iplimit_count(struct net_iplimit *l, const char *ip)
{
	uint64_t n;

	pthread_mutex_lock(&l->lock);
	struct ip_entry **ep = find(l, ip);
	n = *ep != NULL ? (*ep)->count : 0;
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
