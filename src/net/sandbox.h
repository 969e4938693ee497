/* SPDX-License-Identifier: MIT */
/*
 * sandbox.h: the server confining itself after start-up (issue 17), in two
 * steps, each where the kernel supports it:
 *
 *   1. Landlock (Linux 5.13+; ABI 1-7): file access is limited to the
 *      paths given, read-write (the data directory, the log file) or
 *      read-only (certificates and key files outside the data directory,
 *      and what the C library, OpenSSL and the resolver read late: /etc's
 *      resolver and TLS files, /usr/lib for modules loaded late, /proc for
 *      the server's own status). Landlock binds the calling thread and the
 *      threads it creates later: call it before any thread starts.
 *   2. seccomp (libseccomp): an allow-list of the system calls a libevent,
 *      OpenSSL and SQLite server makes; any other fails with EPERM (not a
 *      kill: a call we forgot degrades one operation, it does not take
 *      every user's session down). Applied to every thread at once (TSYNC),
 *      so it may come last, after the pools started. execve, ptrace, mount,
 *      module loading, bpf and the like are not on it (sanitizer builds
 *      keep ptrace: LeakSanitizer stops the world with it).
 *
 * Neither is a promise the server relies on for correctness: where the
 * kernel lacks one, the server runs without it and says so in the log.
 */
#ifndef TERN_NET_SANDBOX_H
#define TERN_NET_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>

struct net_sandbox_paths {
	const char *rw[8]; /* NULL-terminated; directories or files */
	const char *ro[40];
};

/*
 * Confines this thread and the threads it starts to paths with Landlock.
 * Returns the Landlock ABI in effect (1 or more), 0 when the kernel has no
 * Landlock, or -1 when it failed (errno; logged by the caller). A path that
 * does not exist is skipped.
 */
int net_sandbox_landlock(const struct net_sandbox_paths *paths);

/* Installs the seccomp allow-list on every thread of the process. Returns 1
   when in effect, 0 when this build or kernel cannot (a ThreadSanitizer
   build: its runtime's calls are not listed), -1 on failure. */
int net_sandbox_seccomp(void);

#endif
