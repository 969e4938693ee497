/* SPDX-License-Identifier: MIT */
/*
 * iplimit.h: counts live connections per source address, so one host cannot
 * take every slot. Thread-safe: the acceptor acquires, workers release.
 */
#ifndef TERN_NET_IPLIMIT_H
#define TERN_NET_IPLIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct net_iplimit;

struct net_iplimit *net_iplimit_new(void);
void net_iplimit_free(struct net_iplimit **lp);
/* Counts one more connection from ip; false (and no count) if at max. */
bool net_iplimit_acquire(struct net_iplimit *l, const char *ip, uint64_t max);
void net_iplimit_release(struct net_iplimit *l, const char *ip);
/* Current count for ip (tests). */
uint64_t net_iplimit_count(struct net_iplimit *l, const char *ip);

/* Formats the address part of ss ("127.0.0.1", "::1"); IPv4-mapped IPv6
   addresses are shown as IPv4 so both forms count as one host. */
void net_addr_format(const struct sockaddr_storage *ss, char *out, size_t outlen);

#endif
