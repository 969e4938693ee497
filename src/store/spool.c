/* SPDX-License-Identifier: MIT */
/*
 * spool.c: one message as it arrives (IMAP APPEND literal, SMTP DATA, LMTP,
 * `tern deliver` stdin), streamed to a file so a large one is never held
 * whole in memory. Each write is normalised (bare LF becomes CRLF,
 * mail_crlf_*), hashed (SHA-256, the blob's name) and written through a
 * buffer of SPOOL_BUF bytes with write(2), no fsync: a message that is
 * never committed costs no disk flush.
 *
 * The file is an O_TMPFILE in DATA_DIR/tmp, on the accounts' file system, so
 * a committed file blob is the spool file itself, hard-linked into blobs/
 * (spool_link; no byte is copied, and one message delivered to N accounts
 * is one inode with N links). An unnamed file vanishes with the process, so
 * a crash while the message arrives leaves nothing behind. At its fsync
 * (spool_sync) it gets a name in tmp/ until store_spool_free: the first
 * link of an O_TMPFILE makes it an ordinary inode, which /proc can no
 * longer link once its names are gone, and a failed delivery target removes
 * its link. Where the file system has no O_TMPFILE a named file
 * tmp/spool.XXXXXX is used from the start. Names left by a crash are
 * removed by the server at start and by `tern check --repair`.
 *
 * The file is created only when the message outgrows memory (or must
 * become a blob file): most mail is stored inline (up to store.inline_max,
 * 64 KiB), and a file per message costs more than the rest of its spooling
 * (ext4 inode allocation: ~90 us per file once many are created and
 * deleted, against ~8 us for the normalising, hashing and writing; under an
 * IMAP fill of 8-64 KiB messages the O_TMPFILE opens were 70% of the event
 * loop's time). So the buffer keeps growing while the message can still be
 * stored inline and store.spool_memory, shared by all spools, has room;
 * past either, the bytes so far go to the file and the buffer is SPOOL_BUF
 * again. Such a message is never written before its commit puts it into
 * the index.
 *
 * States: writing (store_spool_write) -> sealed (spool_seal: hash final,
 * buffer flushed if there is a file, read-only from then on; the commit
 * paths seal) -> synced (spool_sync: the file exists and is fsync'd, once;
 * only for file blobs) -> linked into any number of accounts. A write error
 * or passing store.max_message_size is sticky: every later call fails the
 * same way.
 *
 * A spool belongs to one thread at a time (created on an event loop, handed
 * to a pool thread for the commit); after sealing, only reads happen (and
 * the once-only spool_sync, under its lock), so store_deliver links it
 * from several threads at once.
 */
#include "store/store_int.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/log.h"
#include "lib/util.h"
#include "mail/message.h"

/* Normalised bytes buffered before a write(2). Input is fed in slices of a
   quarter of it and flushed past half, and CRLF at most doubles a slice, so
   a buffer that is flushed never holds more than SPOOL_BUF bytes (one kept
   in memory grows to the message, at most store.inline_max and a slice). */
#define SPOOL_BUF (8u << 10)

struct store_spool {
	struct store *store;
	int fd;     /* -1 until the message outgrows the buffer */
	char *path; /* the named fallback file, or NULL for an O_TMPFILE */
	EVP_MD_CTX *sha;
	struct mail_crlf crlf;
	struct buf out;        /* normalised, not yet written (all of it while fd < 0) */
	uint64_t size;         /* normalised bytes so far (written + buffered) */
	uint64_t held;         /* what the buffer takes of store.spool_memory */
	enum store_error fail; /* sticky: TOOBIG or TEMP */
	bool has_nul, is_sealed, is_synced;
	pthread_mutex_t sync_lock;
	char hash[65];
	/* The sealed bytes of a file for parsing and inline rows: read into
	   memory up to store.inline_max, else mapped read-only (spool_bytes). */
	unsigned char *mem;
	void *map;
};

int
store_spool_new(struct store *store, struct store_spool **spool_out, enum store_error *err_out)
{
	struct store_spool *sp = xcalloc(1, sizeof(*sp));

	(void)err_out; /* the file, and its failures, come with the first flush */
	sp->store = store;
	sp->fd = -1;
	pthread_mutex_init(&sp->sync_lock, NULL);
	sp->sha = EVP_MD_CTX_new();
	if (sp->sha == NULL || EVP_DigestInit_ex(sp->sha, EVP_sha256(), NULL) != 1)
		abort(); /* OpenSSL cannot compute SHA-256: nothing sane to do */
	mail_crlf_init(&sp->crlf);
	buf_init(&sp->out);
	buf_reserve(&sp->out, SPOOL_BUF);
	*spool_out = sp;
	return 0;
}

/* Creates the file: an O_TMPFILE, or a named one where there is none. */
static int
spool_file_open(struct store_spool *sp)
{
	const char *dir = sp->store->tmp_dir;

	sp->fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (sp->fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
		sp->path = xasprintf("%s/spool.XXXXXX", dir);
		sp->fd = mkostemp(sp->path, O_CLOEXEC);
		if (sp->fd < 0) {
			free(sp->path);
			sp->path = NULL;
		}
	}
	if (sp->fd < 0) {
		log_error("store", "event=spool-create-failed dir=%s err=\"%s\"", dir,
		          strerror(errno));
		return -1;
	}
	return 0;
}

/* Appends p to the file, creating it first if need be. */
static int
spool_file_write(struct store_spool *sp, const char *p, size_t left)
{
	if (sp->fd < 0 && spool_file_open(sp) < 0)
		return -1;
	while (left > 0) {
		ssize_t w;

		if (store_fault_hit(STORE_FAULT_WRITE)) {
			errno = ENOSPC;
			w = -1;
		} else {
			w = write(sp->fd, p, left);
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			log_error("store", "event=spool-write-failed err=\"%s\"",
			          w < 0 ? strerror(errno) : "short write");
			return -1;
		}
		p += w;
		left -= (size_t)w;
	}
	return 0;
}

/* Gives back what the buffer held of store.spool_memory. */
static void
spool_memory_release(struct store_spool *sp)
{
	if (sp->held > 0)
		__atomic_sub_fetch(&sp->store->spool_memory_used, sp->held, __ATOMIC_RELAXED);
	sp->held = 0;
}

/* Whether the buffer, past half of SPOOL_BUF, may keep growing instead of
   being flushed: while there is no file and the message can still be
   stored inline, if store.spool_memory has room for it plus the next
   slice (which CRLF at most doubles), taken in SPOOL_BUF steps. */
static bool
spool_keep_in_memory(struct store_spool *sp)
{
	struct store *store = sp->store;
	uint64_t need = sp->out.len + SPOOL_BUF / 2, step;

	if (sp->fd >= 0 || sp->size > store->set.inline_max)
		return false;
	if (need <= SPOOL_BUF + sp->held)
		return true;
	step = need - SPOOL_BUF - sp->held;
	step = (step + SPOOL_BUF - 1) / SPOOL_BUF * SPOOL_BUF;
	if (__atomic_add_fetch(&store->spool_memory_used, step, __ATOMIC_RELAXED) >
	    store->set.spool_memory) {
		__atomic_sub_fetch(&store->spool_memory_used, step, __ATOMIC_RELAXED);
		return false;
	}
	sp->held += step;
	return true;
}

/* Hashes the buffered bytes, writes them and empties the buffer (back to
   SPOOL_BUF if it had grown in memory). */
static int
spool_flush(struct store_spool *sp)
{
	if (sp->out.len == 0)
		return 0;
	if (EVP_DigestUpdate(sp->sha, sp->out.data, sp->out.len) != 1)
		abort();
	if (spool_file_write(sp, sp->out.data, sp->out.len) < 0)
		return -1;
	buf_reset(&sp->out);
	if (sp->held > 0) {
		buf_deinit(&sp->out);
		buf_init(&sp->out);
		buf_reserve(&sp->out, SPOOL_BUF);
		spool_memory_release(sp);
	}
	return 0;
}

int
store_spool_write(struct store_spool *sp, const void *data, size_t len, enum store_error *err_out)
{
	const unsigned char *in = data;
	uint64_t max = sp->store->set.max_message_size;

	if (sp->fail != STORE_ERR_NONE || sp->is_sealed) {
		*err_out = sp->is_sealed ? STORE_ERR_PERM : sp->fail;
		return -1;
	}
	if (len > 0 && !sp->has_nul && memchr(in, '\0', len) != NULL)
		sp->has_nul = true;
	for (size_t off = 0; off < len;) {
		size_t k = MIN(len - off, SPOOL_BUF / 4), before = sp->out.len;

		mail_crlf_feed(&sp->crlf, in + off, k, &sp->out);
		sp->size += sp->out.len - before;
		off += k;
		if (sp->size > max) {
			sp->fail = STORE_ERR_TOOBIG;
			break;
		}
		if (sp->out.len >= SPOOL_BUF / 2 && !spool_keep_in_memory(sp) &&
		    spool_flush(sp) < 0) {
			sp->fail = STORE_ERR_TEMP;
			break;
		}
	}
	if (sp->fail != STORE_ERR_NONE) {
		*err_out = sp->fail;
		return -1;
	}
	return 0;
}

uint64_t
store_spool_size(const struct store_spool *sp)
{
	return sp->size;
}

bool
store_spool_has_nul(const struct store_spool *sp)
{
	return sp->has_nul;
}

void
store_spool_free(struct store_spool **spp)
{
	struct store_spool *sp = *spp;

	if (sp == NULL)
		return;
	if (sp->map != NULL)
		munmap(sp->map, sp->size);
	free(sp->mem);
	if (sp->fd >= 0)
		close(sp->fd);
	if (sp->path != NULL)
		unlink(sp->path);
	free(sp->path);
	EVP_MD_CTX_free(sp->sha);
	pthread_mutex_destroy(&sp->sync_lock);
	buf_deinit(&sp->out);
	spool_memory_release(sp);
	free(sp);
	*spp = NULL;
}

int
spool_seal(struct store_spool *sp, enum store_error *err_out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (sp->fail != STORE_ERR_NONE) {
		*err_out = sp->fail;
		return -1;
	}
	if (sp->is_sealed)
		return 0;
	/* Without a file the message stays in the buffer, hashed. */
	if (sp->fd < 0) {
		if (EVP_DigestUpdate(sp->sha, sp->out.data, sp->out.len) != 1)
			abort();
	} else if (spool_flush(sp) < 0) {
		sp->fail = STORE_ERR_TEMP;
		*err_out = sp->fail;
		return -1;
	}
	if (EVP_DigestFinal_ex(sp->sha, md, &mdlen) != 1 || mdlen != 32)
		abort();
	blob_hex(md, sp->hash);
	sp->is_sealed = true;
	if (sp->fd >= 0)
		buf_deinit(&sp->out);
	return 0;
}

const char *
spool_hash(const struct store_spool *sp)
{
	assert(sp->is_sealed);
	return sp->hash;
}

int
spool_bytes(struct store_spool *sp, const unsigned char **data_out, enum store_error *err_out)
{
	assert(sp->is_sealed);
	if (sp->fd < 0 || sp->size == 0) {
		*data_out =
		        sp->size == 0 ? (const unsigned char *)"" : (unsigned char *)sp->out.data;
		return 0;
	}
	if (sp->mem == NULL && sp->map == NULL) {
		if (sp->size <= sp->store->set.inline_max) {
			/* Small: it goes into the row as bytes anyway. */
			sp->mem = xmalloc(sp->size);
			for (uint64_t off = 0; off < sp->size;) {
				ssize_t r =
				        pread(sp->fd, sp->mem + off, sp->size - off, (off_t)off);

				if (r < 0 && errno == EINTR)
					continue;
				if (r <= 0) {
					log_error("store", "event=spool-read-failed err=\"%s\"",
					          r < 0 ? strerror(errno) : "short file");
					free(sp->mem);
					sp->mem = NULL;
					*err_out = STORE_ERR_TEMP;
					return -1;
				}
				off += (uint64_t)r;
			}
		} else {
			void *m = mmap(NULL, sp->size, PROT_READ, MAP_SHARED, sp->fd, 0);

			if (m == MAP_FAILED) {
				log_error("store", "event=spool-map-failed err=\"%s\"",
				          strerror(errno));
				*err_out = STORE_ERR_TEMP;
				return -1;
			}
			sp->map = m;
		}
	}
	*data_out = sp->mem != NULL ? sp->mem : sp->map;
	return 0;
}

/* Links the O_TMPFILE to tmp/spool.<random> and keeps that as its path. */
static int
spool_name(struct store_spool *sp)
{
	char proc_path[64];

	snprintf(proc_path, sizeof(proc_path), "/proc/self/fd/%d", sp->fd);
	for (int tries = 0; tries < 8; tries++) {
		uint64_t r;
		if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
			r = (uint64_t)(uintptr_t)sp ^ (uint64_t)tries;
		char *path =
		        xasprintf("%s/spool.%016llx", sp->store->tmp_dir, (unsigned long long)r);
		if (linkat(AT_FDCWD, proc_path, AT_FDCWD, path, AT_SYMLINK_FOLLOW) == 0) {
			sp->path = path;
			return 0;
		}
		free(path);
		if (errno != EEXIST)
			return -1;
	}
	return -1;
}

int
spool_sync(struct store_spool *sp, enum store_error *err_out)
{
	int rc = 0;

	assert(sp->is_sealed);
	/* Once per spool, but a blob rewrite (message_append.c) may come
	   from the threads of several accounts at once. */
	pthread_mutex_lock(&sp->sync_lock);
	if (sp->is_synced)
		goto out;
	rc = -1;
	/* A message that never outgrew the buffer gets its file now; its
	   bytes stay in the buffer (spool_bytes may have handed them out). */
	if (sp->fd < 0 && spool_file_write(sp, sp->out.data, sp->out.len) < 0) {
		if (sp->fd >= 0) {
			/* A partial file must not become a blob. */
			close(sp->fd);
			sp->fd = -1;
			if (sp->path != NULL)
				unlink(sp->path);
			free(sp->path);
			sp->path = NULL;
		}
		*err_out = STORE_ERR_TEMP;
		goto out;
	}
	if (store_fault_hit(STORE_FAULT_FSYNC)) {
		errno = EIO;
		goto fail;
	}
	if (!sp->store->set.no_fsync && fsync(sp->fd) < 0)
		goto fail;
	/* An O_TMPFILE's first link(2) makes it an ordinary inode: should
	   that name go again (a delivery target that failed and removed its
	   blob) before the other targets linked theirs, linking from
	   /proc/self/fd would fail with ENOENT. A name of its own in tmp/,
	   kept until store_spool_free, keeps the inode linkable. */
	if (sp->path == NULL && spool_name(sp) < 0) {
		log_error("store", "event=spool-name-failed err=\"%s\"", strerror(errno));
		*err_out = STORE_ERR_TEMP;
		goto out;
	}
	sp->is_synced = true;
	rc = 0;
	goto out;
fail:
	log_error("store", "event=spool-fsync-failed err=\"%s\"", strerror(errno));
	*err_out = STORE_ERR_TEMP;
out:
	pthread_mutex_unlock(&sp->sync_lock);
	return rc;
}

int
spool_link(struct store_spool *sp, const char *blob_dir, bool *created_out,
           enum store_error *err_out)
{
	char proc_path[64];
	const char *src = sp->path;

	assert(sp->is_synced);
	if (src == NULL) {
		/* An O_TMPFILE gets its first name through /proc (open(2)):
		   linkat(AT_EMPTY_PATH) would need CAP_DAC_READ_SEARCH. */
		snprintf(proc_path, sizeof(proc_path), "/proc/self/fd/%d", sp->fd);
		src = proc_path;
	}
	return blob_link(blob_dir, sp->hash, src, sp->store->set.no_fsync, created_out, err_out);
}
