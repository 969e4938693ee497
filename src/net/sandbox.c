/* SPDX-License-Identifier: MIT */
/*
 * sandbox.c: Landlock and seccomp for the server (sandbox.h). Landlock has
 * no libc wrapper in Debian 12's glibc: the three system calls are made
 * directly, and the access rights of ABI 2, 3 and 5 are spelled out here
 * when the kernel headers predate them. The ruleset handles every right
 * the running kernel knows (landlock_create_ruleset's version), so a newer
 * kernel restricts more, never less.
 */
#include "net/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <seccomp.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/util.h"

#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13) /* ABI 2 */
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14) /* ABI 3 */
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15) /* ABI 5 */
#endif

/* ABI 1's thirteen rights, from EXECUTE (bit 0) to MAKE_SYM (bit 12). */
#define FS_ABI1 ((1ULL << 13) - 1)
/* The rights a rule on a file (not a directory) may carry. */
#define FS_FILE                                                                                    \
	(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |                              \
	 LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE |                              \
	 LANDLOCK_ACCESS_FS_IOCTL_DEV)
#define FS_READ (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)

static uint64_t
fs_rights(int abi)
{
	uint64_t r = FS_ABI1;

	if (abi >= 2)
		r |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		r |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		r |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	return r;
}

/* Allows access (masked to what the ruleset handles) beneath path. */
static int
add_path(int ruleset, const char *path, uint64_t access, uint64_t handled)
{
	struct landlock_path_beneath_attr attr = {0};
	struct stat st;
	int fd = open(path, O_PATH | O_CLOEXEC);

	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return -1;
	}
	attr.parent_fd = fd;
	attr.allowed_access = access & handled & (S_ISDIR(st.st_mode) ? ~0ULL : FS_FILE);
	int rc = (int)syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &attr, 0);
	close(fd);
	return rc;
}

int
net_sandbox_landlock(const struct net_sandbox_paths *paths)
{
	int abi =
	        (int)syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);

	if (abi < 0)
		return errno == ENOSYS || errno == EOPNOTSUPP ? 0 : -1;
	uint64_t handled = fs_rights(abi);
	struct landlock_ruleset_attr attr = {.handled_access_fs = handled};
	int ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (ruleset < 0)
		return -1;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < ARRAY_LEN(paths->rw) && paths->rw[i] != NULL; i++)
		rc = add_path(ruleset, paths->rw[i], handled, handled);
	/* Read-only also lets shared objects loaded late be mapped to run. */
	for (size_t i = 0; rc == 0 && i < ARRAY_LEN(paths->ro) && paths->ro[i] != NULL; i++)
		rc = add_path(ruleset, paths->ro[i], FS_READ | LANDLOCK_ACCESS_FS_EXECUTE, handled);
	/* Landlock needs no_new_privs (no setuid binary may gain what we lost). */
	if (rc == 0)
		rc = prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	if (rc == 0)
		rc = (int)syscall(SYS_landlock_restrict_self, ruleset, 0);
	int saved = errno;
	close(ruleset);
	errno = saved;
	return rc < 0 ? -1 : abi;
}

#if !defined(__SANITIZE_THREAD__)
/* What the server calls after start-up: event loops and sockets (libevent,
   OpenSSL), files and locks (SQLite, the blob store, the spool), threads
   and their synchronisation, time, memory. */
static const char *const allowed[] = {
        "read",
        "write",
        "readv",
        "writev",
        "pread64",
        "pwrite64",
        "preadv",
        "pwritev",
        "preadv2",
        "pwritev2",
        "open",
        "openat",
        "openat2",
        "close",
        "close_range",
        "stat",
        "fstat",
        "lstat",
        "newfstatat",
        "statx",
        "statfs",
        "fstatfs",
        "lseek",
        "access",
        "faccessat",
        "faccessat2",
        "readlink",
        "readlinkat",
        "getdents64",
        "getcwd",
        "fcntl",
        "flock",
        "fsync",
        "fdatasync",
        "sync_file_range",
        "ftruncate",
        "fallocate",
        "fadvise64",
        "rename",
        "renameat",
        "renameat2",
        "link",
        "linkat",
        "unlink",
        "unlinkat",
        "mkdir",
        "mkdirat",
        "rmdir",
        "chmod",
        "fchmod",
        "fchmodat",
        "umask",
        "utimensat",
        "dup",
        "dup2",
        "dup3",
        "pipe",
        "pipe2",
        "copy_file_range",
        "sendfile",
        "memfd_create",
        "mmap",
        "munmap",
        "mprotect",
        "mremap",
        "madvise",
        "brk",
        "mincore",
        "membarrier",
        "socket",
        "socketpair",
        "bind",
        "listen",
        "accept",
        "accept4",
        "connect",
        "shutdown",
        "getsockname",
        "getpeername",
        "setsockopt",
        "getsockopt",
        "sendto",
        "recvfrom",
        "sendmsg",
        "recvmsg",
        "sendmmsg",
        "recvmmsg",
        "poll",
        "ppoll",
        "select",
        "pselect6",
        "epoll_create",
        "epoll_create1",
        "epoll_ctl",
        "epoll_wait",
        "epoll_pwait",
        "epoll_pwait2",
        "eventfd",
        "eventfd2",
        "timerfd_create",
        "timerfd_settime",
        "timerfd_gettime",
        "ioctl",
        "clone",
        "clone3",
        "exit",
        "exit_group",
        "futex",
        "futex_waitv",
        "set_robust_list",
        "get_robust_list",
        "set_tid_address",
        "rseq",
        "sched_yield",
        "sched_getaffinity",
        "getpid",
        "gettid",
        "getppid",
        "getuid",
        "geteuid",
        "getgid",
        "getegid",
        "getresuid",
        "getresgid",
        "getgroups",
        "tgkill",
        "tkill",
        "rt_sigaction",
        "rt_sigprocmask",
        "rt_sigreturn",
        "rt_sigtimedwait",
        "sigaltstack",
        "restart_syscall",
        "nanosleep",
        "clock_nanosleep",
        "clock_gettime",
        "clock_getres",
        "gettimeofday",
        "time",
        "getrandom",
        "getrlimit",
        "prlimit64",
        "getrusage",
        "times",
        "sysinfo",
        "uname",
        "getcpu",
        "prctl",
        "arch_prctl",
        "getpriority",
        "sched_getparam",
        "sched_getscheduler",
#if defined(__SANITIZE_ADDRESS__)
        /* LeakSanitizer stops the world through ptrace at exit; the
           symbolizer of a report is a child process. */
        "ptrace",
        "wait4",
        "waitid",
        "process_vm_readv",
        "execve",
        "fork",
        "vfork",
        "setrlimit",
        "kill",
        "getdents",
#endif
};

int
net_sandbox_seccomp(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	int rc = ctx != NULL ? 0 : -ENOMEM;

	for (size_t i = 0; rc == 0 && i < ARRAY_LEN(allowed); i++) {
		int nr = seccomp_syscall_resolve_name(allowed[i]);
		if (nr != __NR_SCMP_ERROR)
			rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
	}
	if (rc == 0)
		rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (rc == 0)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	return 1;
}
#else
int
net_sandbox_seccomp(void)
{
	return 0; /* ThreadSanitizer's runtime makes calls no list of ours knows */
}
#endif
