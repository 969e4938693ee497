/* SPDX-License-Identifier: MIT */
/*
 * decoy.c: the key behind SCRAM's decoy salts, kept in the data directory
 * as decoy.key (32 random bytes, mode 0600, made at the first start).
 *
 * An unknown user gets a salt derived from the name with this key, so it is
 * the same at every attempt. Were the key per process, an unknown name's
 * salt would change at each restart while a real account's stays, and
 * comparing "s=" before and after a restart would tell which accounts exist
 * without a single failed login. Only the server reads the file.
 */
#include "auth/auth_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "lib/log.h"
#include "lib/util.h"

static int
read_key(const char *path, unsigned char key_out[AUTH_DECOY_KEY_LEN], char **error_out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*error_out = xasprintf("%s: %s", path, strerror(errno));
		return -1;
	}
	ssize_t n = read(fd, key_out, AUTH_DECOY_KEY_LEN);
	close(fd);
	if (n != AUTH_DECOY_KEY_LEN) {
		*error_out = xasprintf("%s: expected %d bytes", path, AUTH_DECOY_KEY_LEN);
		return -1;
	}
	return 0;
}

int
auth_decoy_key_load(const char *data_dir, unsigned char key_out[AUTH_DECOY_KEY_LEN],
                    char **error_out)
{
	char *path = xasprintf("%s/decoy.key", data_dir);
	int rc = 0;

	/* O_EXCL: when two processes start at once, one writes, both read. */
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0) {
		struct stat sb;
		/* Made by root before the privilege drop: it belongs to whoever
		   owns the data directory, so the service user can start alone. */
		if (geteuid() == 0 && stat(data_dir, &sb) == 0 &&
		    fchown(fd, sb.st_uid, sb.st_gid) < 0)
			log_warn("auth", "event=decoy-key-chown-failed err=\"%s\"",
			         strerror(errno));
		if (RAND_bytes(key_out, AUTH_DECOY_KEY_LEN) != 1)
			abort();
		if (write(fd, key_out, AUTH_DECOY_KEY_LEN) != AUTH_DECOY_KEY_LEN ||
		    fsync(fd) != 0) {
			*error_out = xasprintf("%s: %s", path, strerror(errno));
			rc = -1;
			unlink(path);
		}
		close(fd);
	} else if (errno == EEXIST) {
		rc = read_key(path, key_out, error_out);
	} else {
		*error_out = xasprintf("%s: %s", path, strerror(errno));
		rc = -1;
	}
	free(path);
	return rc;
}
