/* SPDX-License-Identifier: MIT */
/*
 * fault_shim.c: an LD_PRELOAD library that makes a running `tern serve`
 * see a full or failing disk, for the fault-injection tests
 * (tests/integration/test_faults.py; not a unit test itself). Without root
 * there is no tiny tmpfs to fill, so the shim fails the calls instead.
 *
 * TERN_FAULT_FILE names a control file whose first word says what fails,
 * re-read at most every 20 ms:
 *   ok      nothing (also when the file is missing)
 *   enospc  write, pwrite, writev, fallocate, fsync and fdatasync of
 *           regular files fail with ENOSPC (a full file system)
 *   eio     the same calls fail with EIO (a dying disk)
 *   fsync   only fsync and fdatasync fail, with EIO
 * Descriptors 0-2 (the log) and everything that is not a regular file
 * (sockets, pipes, eventfds) are never touched, so the server can still
 * talk and log. Build: cc -shared -fPIC (no sanitizer: ASan's runtime must
 * come first, run with ASAN_OPTIONS=verify_asan_link_order=0).
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

enum mode { MODE_OK, MODE_ENOSPC, MODE_EIO, MODE_FSYNC };

static _Atomic int mode;
static _Atomic long long next_read_ms;

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The control file, read with raw syscalls' libc wrappers that are not
   intercepted here (open, read). */
static enum mode
current_mode(void)
{
	long long now = now_ms();

	if (now < atomic_load(&next_read_ms))
		return (enum mode)atomic_load(&mode);
	atomic_store(&next_read_ms, now + 20);
	const char *path = getenv("TERN_FAULT_FILE");
	char word[16] = "";
	int fd = path != NULL ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	if (fd >= 0) {
		ssize_t n = read(fd, word, sizeof(word) - 1);
		word[n > 0 ? n : 0] = '\0';
		close(fd);
	}
	enum mode m = strncmp(word, "enospc", 6) == 0  ? MODE_ENOSPC
	              : strncmp(word, "eio", 3) == 0   ? MODE_EIO
	              : strncmp(word, "fsync", 5) == 0 ? MODE_FSYNC
	                                               : MODE_OK;
	atomic_store(&mode, (int)m);
	return m;
}

static bool
is_target(int fd)
{
	struct stat st;

	return fd > 2 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

/* Whether a write-like call on fd fails now; sets errno. */
static bool
fails(int fd, bool is_sync)
{
	enum mode m = current_mode();

	if (m == MODE_OK || (m == MODE_FSYNC && !is_sync) || !is_target(fd))
		return false;
	errno = m == MODE_ENOSPC ? ENOSPC : EIO;
	return true;
}

/* The real function, found once (GNU __typeof__: the pointer's type). */
#define NEXT(name)                                                                                 \
	static __typeof__(&name) next_##name;                                                      \
	if (next_##name == NULL)                                                                   \
	next_##name = (__typeof__(&name))dlsym(RTLD_NEXT, #name)

ssize_t
write(int fd, const void *buf, size_t n)
{
	NEXT(write);
	return fails(fd, false) ? -1 : next_write(fd, buf, n);
}

ssize_t
pwrite(int fd, const void *buf, size_t n, off_t off)
{
	NEXT(pwrite);
	return fails(fd, false) ? -1 : next_pwrite(fd, buf, n, off);
}

ssize_t
pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	NEXT(pwrite64);
	return fails(fd, false) ? -1 : next_pwrite64(fd, buf, n, off);
}

ssize_t
writev(int fd, const struct iovec *iov, int n)
{
	NEXT(writev);
	return fails(fd, false) ? -1 : next_writev(fd, iov, n);
}

int
fallocate(int fd, int m, off_t off, off_t len)
{
	NEXT(fallocate);
	return fails(fd, false) ? -1 : next_fallocate(fd, m, off, len);
}

int
posix_fallocate(int fd, off_t off, off_t len)
{
	NEXT(posix_fallocate);
	if (fails(fd, false))
		return errno;
	return next_posix_fallocate(fd, off, len);
}

int
fsync(int fd)
{
	NEXT(fsync);
	return fails(fd, true) ? -1 : next_fsync(fd);
}

int
fdatasync(int fd)
{
	NEXT(fdatasync);
	return fails(fd, true) ? -1 : next_fdatasync(fd);
}
