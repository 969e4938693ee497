/* SPDX-License-Identifier: MIT */
/* test_net_iplimit.c: tests for src/net/iplimit.c. */
#include <stdio.h>

#include "net/iplimit.h"
#include "test.h"

static void
test_limit_per_address(void)
{
	struct net_iplimit *l = net_iplimit_new();

	test_assert(-1, net_iplimit_acquire(l, "198.51.100.7", 2));
	test_assert(-1, net_iplimit_acquire(l, "198.51.100.7", 2));
	test_assert(-1, !net_iplimit_acquire(l, "198.51.100.7", 2)); /* third refused */
	test_assert(-1, net_iplimit_acquire(l, "2001:db8::1", 2));   /* others unaffected */
	test_int_eq(-1, (int)net_iplimit_count(l, "198.51.100.7"), 2);
	net_iplimit_release(l, "198.51.100.7");
	test_assert(-1, net_iplimit_acquire(l, "198.51.100.7", 2)); /* room again */
	net_iplimit_release(l, "198.51.100.7");
	net_iplimit_release(l, "198.51.100.7");
	test_int_eq(-1, (int)net_iplimit_count(l, "198.51.100.7"), 0);
	net_iplimit_release(l, "198.51.100.7"); /* not there: no effect */
	test_int_eq(-1, (int)net_iplimit_count(l, "198.51.100.7"), 0);
	test_assert(-1, net_iplimit_acquire(l, "192.0.2.1", 0)); /* 0 = no limit */
	net_iplimit_free(&l); /* entries still held: freed with the table */
	test_assert(-1, l == NULL);
}

static void
test_many_addresses_come_and_go(void)
{
	struct net_iplimit *l = net_iplimit_new();
	char ip[32];

	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 5000; i++) {
			snprintf(ip, sizeof(ip), "10.%d.%d.%d", round, i / 256, i % 256);
			test_assert(i, net_iplimit_acquire(l, ip, 1));
			test_assert(i, !net_iplimit_acquire(l, ip, 1));
		}
		for (int i = 0; i < 5000; i++) {
			snprintf(ip, sizeof(ip), "10.%d.%d.%d", round, i / 256, i % 256);
			net_iplimit_release(l, ip);
			test_int_eq(i, (int)net_iplimit_count(l, ip), 0);
		}
	}
	net_iplimit_free(&l);
}

int
main(void)
{
	TEST_RUN(test_limit_per_address);
	TEST_RUN(test_many_addresses_come_and_go);
	return TEST_DONE("test_net_iplimit");
}
