/* SPDX-License-Identifier: MIT */
/*
 * blob.c: the message files of the SQLite backend. One immutable file per
 * distinct message content, blobs/<2 hex>/<64 hex>, named by the SHA-256 of
 * its bytes (so equal messages share a file, and check can verify it).
 * Writing is the first half of the durability order (docs/STORE.md): a temp
 * file in the same directory, write, fsync, rename over the final name,
 * fsync the directory; only then does the caller commit the row. A streamed
 * message (spool.c) is already a complete, fsync'd file: blob_link gives it
 * the final name with link(2) instead (no copy; the same inode may be linked
 * into several accounts), then fsyncs the directory. A crash leaves at worst
 * a temp file or an unreferenced blob, which check removes. Names come only
 * from our own hex digests, never from client input.
 *
 * Fault injection: store_fault_set() makes the nth next write, fsync,
 * rename (or link) or directory fsync fail (like SQLite's SQLITE_TEST I/O
 * hooks), so tests prove a failure leaves the store consistent. Costs one
 * atomic load.
 */
#include "store/store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/util.h"

static _Atomic int fault_kind;
static _Atomic unsigned fault_countdown;

void
store_fault_set(enum store_fault f, unsigned nth)
{
	atomic_store(&fault_countdown, nth);
	atomic_store(&fault_kind, (int)f);
}

bool
store_fault_hit(enum store_fault f)
{
	if (atomic_load_explicit(&fault_kind, memory_order_relaxed) != (int)f)
		return false;
	if (atomic_fetch_sub(&fault_countdown, 1) != 1)
		return false;
	atomic_store(&fault_kind, STORE_FAULT_NONE);
	return true;
}

void
blob_hex(const unsigned char md[32], char hex_out[65])
{
	static const char digits[] = "0123456789abcdef";

	for (unsigned i = 0; i < 32; i++) {
		hex_out[2 * i] = digits[md[i] >> 4];
		hex_out[2 * i + 1] = digits[md[i] & 15];
	}
	hex_out[64] = '\0';
}

void
blob_hash_hex(const unsigned char *data, size_t len, char hex_out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
		abort(); /* OpenSSL cannot compute SHA-256: nothing sane to do */
	blob_hex(md, hex_out);
}

char *
blob_path(const char *blob_dir, const char *hex)
{
	return xasprintf("%s/%.2s/%s", blob_dir, hex, hex);
}

bool
blob_exists(const char *blob_dir, const char *hex)
{
	char *path = blob_path(blob_dir, hex);
	bool ok = access(path, F_OK) == 0;

	free(path);
	return ok;
}

int
blob_unlink(const char *blob_dir, const char *hex)
{
	char *path = blob_path(blob_dir, hex);
	int rc = unlink(path);

	if (rc < 0 && errno != ENOENT)
		log_error("store", "event=blob-unlink-failed path=%s err=\"%s\"", path,
		          strerror(errno));
	free(path);
	return rc < 0 && errno != ENOENT ? -1 : 0;
}

static int
fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	if (store_fault_hit(STORE_FAULT_DIRSYNC)) {
		rc = -1;
		errno = EIO;
	}
	close(fd);
	return rc;
}

/* Makes the fan-out directory dir of blob_dir. A new one must itself be
   durable in blobs/ before a file in it can be. 0, or -1 with errno and
   *step_out. */
static int
fanout_make(const char *blob_dir, const char *dir, bool no_fsync, const char **step_out)
{
	if (mkdir(dir, 0700) < 0) {
		*step_out = "mkdir";
		return errno == EEXIST ? 0 : -1;
	}
	*step_out = "fsync-dir";
	return no_fsync ? 0 : fsync_dir(blob_dir);
}

int
blob_link(const char *blob_dir, const char *hex, const char *src, bool no_fsync, bool *created_out,
          enum store_error *err_out)
{
	char *dir = xasprintf("%s/%.2s", blob_dir, hex);
	char *final = blob_path(blob_dir, hex);
	const char *step = "mkdir";
	int rc = -1;

	*created_out = false;
	if (fanout_make(blob_dir, dir, no_fsync, &step) < 0)
		goto fail;
	step = "link";
	if (store_fault_hit(STORE_FAULT_RENAME)) {
		errno = EIO;
		goto fail;
	}
	/* AT_SYMLINK_FOLLOW: src may be /proc/self/fd/N (an O_TMPFILE). An
	   existing file of this name has the same bytes (it was complete
	   before it got its name); it may be another writer's that is not yet
	   durable in the directory, so the fsync below runs either way. */
	if (linkat(AT_FDCWD, src, AT_FDCWD, final, AT_SYMLINK_FOLLOW) == 0)
		*created_out = true;
	else if (errno != EEXIST)
		goto fail;
	step = "fsync-dir";
	if (!no_fsync && fsync_dir(dir) < 0)
		goto fail;
	if (no_fsync && store_fault_hit(STORE_FAULT_DIRSYNC)) {
		errno = EIO;
		goto fail;
	}
	rc = 0;
	goto out;
fail:
	log_error("store", "event=blob-link-failed step=%s hash=%s err=\"%s\"", step, hex,
	          strerror(errno));
	/* A linked file whose directory fsync failed stays, as in blob_write:
	   the caller removes it under the write lock if nobody uses it. */
	*err_out = STORE_ERR_TEMP;
out:
	free(dir);
	free(final);
	return rc;
}

int
blob_write(const char *blob_dir, const char *hex, const unsigned char *data, size_t len,
           bool no_fsync, bool force, bool *created_out, enum store_error *err_out)
{
	char *dir = xasprintf("%s/%.2s", blob_dir, hex);
	char *final = blob_path(blob_dir, hex);
	char *tmp = xasprintf("%s/tmp.%s.XXXXXX", dir, hex);
	const char *step = "open";
	int fd = -1, rc = -1;

	*created_out = false;
	if (!force && access(final, F_OK) == 0) {
		rc = 0;
		goto out;
	}
	if (fanout_make(blob_dir, dir, no_fsync, &step) < 0)
		goto fail;
	step = "open";
	fd = mkstemp(tmp);
	if (fd < 0)
		goto fail;
	step = "write";
	for (size_t off = 0; off < len;) {
		ssize_t w;

		if (store_fault_hit(STORE_FAULT_WRITE)) {
			errno = ENOSPC;
			goto fail;
		}
		w = write(fd, data + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto fail;
		off += (size_t)w;
	}
	step = "fsync";
	if (store_fault_hit(STORE_FAULT_FSYNC)) {
		errno = EIO;
		goto fail;
	}
	if (!no_fsync && fsync(fd) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	step = "rename";
	if (store_fault_hit(STORE_FAULT_RENAME)) {
		errno = EIO;
		goto fail;
	}
	if (rename(tmp, final) < 0)
		goto fail;
	/* From here the file is ours to remove if the rest fails. */
	*created_out = true;
	step = "fsync-dir";
	if (!no_fsync && fsync_dir(dir) < 0)
		goto fail;
	if (no_fsync && store_fault_hit(STORE_FAULT_DIRSYNC)) {
		errno = EIO;
		goto fail;
	}
	*created_out = true;
	rc = 0;
	goto out;
fail:
	log_error("store", "event=blob-write-failed step=%s hash=%s err=\"%s\"", step, hex,
	          strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	/* After a failed directory fsync the renamed file stays: another
	   writer of the same content may use it. If nobody does, the caller
	   removes it under the write lock, or check collects it. */
	*err_out = STORE_ERR_TEMP;
out:
	free(dir);
	free(final);
	free(tmp);
	return rc;
}
