/* SPDX-License-Identifier: MIT */
/*
 * watch.c: changes made by other processes reach this one's views
 * (backend-neutral). SQLite has no LISTEN/NOTIFY, so:
 *
 * - Every process that writes through the store sends, after each commit
 *   (watch_committed(), from db_commit()), one datagram "account=N" to the
 *   unix socket DATA_DIR/store-notify.sock: non-blocking, best effort, one
 *   sendto(2) (~2 us) that fails at once when nobody listens or the queue
 *   is full. The write never waits for it.
 * - One process per data directory listens (store_watch_start(), called by
 *   tern serve): a thread blocks in poll(2) on the socket, drains every
 *   queued datagram before and between catch-ups (so the kernel queue,
 *   net.unix.max_dgram_qlen datagrams, rarely fills), and for each named
 *   account that is open here brings its loaded views up to date
 *   (changes_catch_up(): one state row per view; the changes only for
 *   views that are behind). The views then wake their watchers, so an
 *   IDLE session sends EXISTS within milliseconds of the other commit.
 *   The listener sends nothing: its own writers feed its views directly.
 * - The safety net, for datagrams lost to a full queue or writers that
 *   did not say (an old binary, the sqlite3 shell): every
 *   store_settings.watch_sweep_ms (5 s) the thread asks the backend whether each
 *   open account with loaded views changed (SQLite: PRAGMA data_version,
 *   ~5 us an account, or two stat(2)s for an account with no connection
 *   open, so 10,000 open accounts cost ~50 ms of one thread per sweep) and
 *   catches those up. The same sweep lets the backend free what an account
 *   keeps only for speed and has not used for a while (pooled
 *   connections: store_settings.pool_idle_ms).
 *
 * The socket lives in the data directory (mode 0700): only the service
 * user can send, and a datagram only makes the listener read what is
 * already there, so a forged one costs a few row reads, nothing more. A
 * socket file left by a dead listener is found (connect(2) refused) and
 * replaced; a live one means another process listens, and this one runs
 * the sweep alone.
 */
#include "store/backend.h"
#include "store/store_core.h"

#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/hash.h"
#include "lib/log.h"
#include "lib/util.h"

#define NOTIFY_NAME "store-notify.sock"
/* Accounts swept between two looks at the socket: datagrams wait at most
   that many polls (~0.3 ms). */
#define SWEEP_SLICE 64

void
watch_init(struct store *s)
{
	int n;

	s->notify_addr.sun_family = AF_UNIX;
	n = snprintf(s->notify_addr.sun_path, sizeof(s->notify_addr.sun_path), "%s/%s", s->data_dir,
	             NOTIFY_NAME);
	s->has_notify_addr = n > 0 && (size_t)n < sizeof(s->notify_addr.sun_path);
	atomic_init(&s->send_fd, -1);
	atomic_init(&s->is_listener, false);
	s->listen_fd = s->stop_fd = -1;
}

static void
notify_send(struct store *s, uint64_t account_id)
{
	char msg[32];
	int fd = atomic_load(&s->send_fd), n;

	if (!s->has_notify_addr || atomic_load(&s->is_listener))
		return;
	if (fd < 0) {
		int mine = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

		if (mine < 0)
			return;
		fd = -1;
		if (atomic_compare_exchange_strong(&s->send_fd, &fd, mine))
			fd = mine;
		else
			close(mine); /* another thread made one first: fd is it */
	}
	n = snprintf(msg, sizeof(msg), "account=%llu", (unsigned long long)account_id);
	/* ENOENT/ECONNREFUSED: nobody listens; EAGAIN: the queue is full and
	   the sweep will find it. Never wait. */
	(void)sendto(fd, msg, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL,
	             (const struct sockaddr *)&s->notify_addr, sizeof(s->notify_addr));
}

void
watch_committed(struct account *a)
{
	notify_send(a->store, a->id);
}

/* Another process changed a: its views catch up, the backend picks up
   what else it left, and the handles watching the mailbox list
   (store_account_watch, IMAP NOTIFY) look again: the datagram does not say
   what changed, and a list that did not change costs them one read. */
static void
changed_elsewhere(struct account *a)
{
	changes_catch_up(a);
	account_list_changed(a, NULL);
	if (a->store->backend->account_changed != NULL)
		a->store->backend->account_changed(a);
}

/* The same for an account id, if it is open here. */
static void
catch_up_id(struct store *s, uint64_t account_id)
{
	struct account *a = account_lookup(s, account_id);

	if (a == NULL)
		return;
	changed_elsewhere(a);
	account_unref(a);
}

void
watch_changed_behind(struct store *s, uint64_t account_id)
{
	catch_up_id(s, account_id);
	notify_send(s, account_id);
}

/* ---- The listener's thread ------------------------------------------ */

struct ids {
	uint64_t *v;
	size_t n, cap;
};

static void
ids_push(struct ids *ids, uint64_t id)
{
	if (ids->n == ids->cap) {
		ids->cap = ids->cap ? ids->cap * 2 : 64;
		ids->v = xrealloc(ids->v, ids->cap * sizeof(*ids->v));
	}
	ids->v[ids->n++] = id;
}

/* Moves every queued datagram's account id to pending, without waiting.
   Anything but "account=<digits>" is ignored. */
static void
drain(struct store *s, struct ids *pending)
{
	char msg[64];

	for (;;) {
		ssize_t r = recv(s->listen_fd, msg, sizeof(msg) - 1, MSG_DONTWAIT);
		uint64_t id;

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return;
		msg[r] = '\0';
		if (strncmp(msg, "account=", 8) == 0 && str_to_u64(msg + 8, UINT64_MAX, &id))
			ids_push(pending, id);
	}
}

static int
cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

/* Catches up every account named by a datagram, each once, draining the
   socket again after each (a catch-up may wait for a writer's lock). */
static void
serve_datagrams(struct store *s, struct ids *pending, struct ids *work)
{
	if (s->listen_fd < 0)
		return;
	drain(s, pending);
	while (pending->n > 0) {
		struct ids t = *work;
		size_t k = 0;

		*work = *pending;
		*pending = t;
		pending->n = 0;
		qsort(work->v, work->n, sizeof(*work->v), cmp_u64);
		for (size_t i = 0; i < work->n; i++)
			if (k == 0 || work->v[k - 1] != work->v[i])
				work->v[k++] = work->v[i];
		for (size_t i = 0; i < k; i++) {
			catch_up_id(s, work->v[i]);
			drain(s, pending);
		}
		work->n = 0;
	}
}

/* The accounts open here, each with a reference. */
static size_t
open_accounts(struct store *s, struct account ***list_out)
{
	struct account **list = NULL;
	size_t n = 0, cap = 0;

	pthread_mutex_lock(&s->lock);
	struct hash_entry e;
	for (size_t pos = 0; hash_next(s->accounts, &pos, &e);) {
		struct account *a = e.value;

		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			list = xrealloc(list, cap * sizeof(*list));
		}
		a->refs++;
		list[n++] = a;
	}
	pthread_mutex_unlock(&s->lock);
	*list_out = list;
	return n;
}

/* The safety net: every open account with loaded views that the backend
   says may have changed is caught up. And what accounts hold only for
   speed goes once unused for pool_idle_ms (an account whose sessions all
   IDLE keeps its views and nothing else), its freed pages back to the
   kernel. */
static void
sweep(struct store *s, struct ids *pending, struct ids *work)
{
	struct account **list;
	size_t n = open_accounts(s, &list);
	bool trimmed = false;

	for (size_t i = 0; i < n; i++) {
		struct account *a = list[i];
		struct timespec ref;
		bool changed = true, has_views;

		clock_gettime(CLOCK_REALTIME, &ref);
		pthread_mutex_lock(&a->views_lock);
		has_views = a->views != NULL;
		pthread_mutex_unlock(&a->views_lock);
		if (has_views && (atomic_load(&a->needs_catch_up) ||
		                  s->backend->account_poll(a, &changed) < 0 || changed))
			changed_elsewhere(a);
		if (s->backend->account_trim != NULL &&
		    s->backend->account_trim(a, s->set.pool_idle_ms,
		                             (int64_t)ref.tv_sec * 1000000000 + ref.tv_nsec))
			trimmed = true;
		account_unref(a);
		if (i % SWEEP_SLICE == SWEEP_SLICE - 1)
			serve_datagrams(s, pending, work);
	}
	free(list);
#ifdef __GLIBC__
	if (trimmed)
		malloc_trim(0);
#endif
}

_Thread_local bool store_thread_is_watch;

static void *
watch_main(void *arg)
{
	struct store *s = arg;
	struct ids pending = {0}, work = {0};
	uint64_t next_sweep = time_mono_ms() + s->set.watch_sweep_ms;

	thread_block_signals();
	store_thread_is_watch = true;

	for (;;) {
		struct pollfd p[2] = {{.fd = s->stop_fd, .events = POLLIN},
		                      {.fd = s->listen_fd, .events = POLLIN}};
		uint64_t now = time_mono_ms();
		int timeout = now >= next_sweep ? 0 : (int)(next_sweep - now);

		if (poll(p, s->listen_fd >= 0 ? 2 : 1, timeout) < 0 && errno != EINTR) {
			log_error("store", "event=watch-poll-failed err=\"%s\"", strerror(errno));
			sleep(1);
		}
		if (p[0].revents & POLLIN)
			break;
		if (p[1].revents & POLLIN)
			serve_datagrams(s, &pending, &work);
		if (time_mono_ms() >= next_sweep) {
			sweep(s, &pending, &work);
			next_sweep = time_mono_ms() + s->set.watch_sweep_ms;
		}
	}
	free(pending.v);
	free(work.v);
	return NULL;
}

/* Binds the notify socket, replacing one a dead listener left. -1 when
   another process listens or the socket cannot be made (logged). */
static int
listen_bind(struct store *s)
{
	const struct sockaddr *addr = (const struct sockaddr *)&s->notify_addr;
	int fd;

	if (!s->has_notify_addr) {
		log_warn("store",
		         "event=watch-no-socket dir=%s reason=\"path too long for a"
		         " unix socket; sweeping only\"",
		         s->data_dir);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		goto fail;
	if (bind(fd, addr, sizeof(s->notify_addr)) == 0)
		return fd;
	if (errno == EADDRINUSE) {
		int probe = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		bool is_alive = probe >= 0 && connect(probe, addr, sizeof(s->notify_addr)) == 0;

		if (probe >= 0)
			close(probe);
		if (is_alive) {
			log_warn("store",
			         "event=watch-shared path=%s reason=\"another process"
			         " listens; sweeping only\"",
			         s->notify_addr.sun_path);
			close(fd);
			return -1;
		}
		if (unlink(s->notify_addr.sun_path) == 0 &&
		    bind(fd, addr, sizeof(s->notify_addr)) == 0)
			return fd;
	}
fail:
	log_error("store", "event=watch-listen-failed path=%s err=\"%s\"", s->notify_addr.sun_path,
	          strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

int
store_watch_start(struct store *store, enum store_error *err_out)
{
	if (store->watch_running)
		return 0;
	store->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (store->stop_fd < 0) {
		log_error("store", "event=watch-start-failed err=\"%s\"", strerror(errno));
		*err_out = STORE_ERR_TEMP;
		return -1;
	}
	store->listen_fd = listen_bind(store);
	atomic_store(&store->is_listener, store->listen_fd >= 0);
	if (pthread_create(&store->watch_thread, NULL, watch_main, store) != 0) {
		log_error("store", "event=watch-start-failed err=\"thread\"");
		watch_deinit(store);
		*err_out = STORE_ERR_TEMP;
		return -1;
	}
	store->watch_running = true;
	log_info("store", "event=watch-started listen=%s sweep_ms=%u",
	         store->listen_fd >= 0 ? store->notify_addr.sun_path : "no",
	         store->set.watch_sweep_ms);
	return 0;
}

void
watch_deinit(struct store *s)
{
	int fd = atomic_exchange(&s->send_fd, -1);

	if (s->watch_running) {
		uint64_t one = 1;
		ssize_t w = write(s->stop_fd, &one, sizeof(one));

		(void)w; /* an eventfd write of 1 cannot fail short of a bug */
		pthread_join(s->watch_thread, NULL);
		s->watch_running = false;
	}
	if (s->listen_fd >= 0) {
		unlink(s->notify_addr.sun_path);
		close(s->listen_fd);
		s->listen_fd = -1;
		atomic_store(&s->is_listener, false);
	}
	if (s->stop_fd >= 0)
		close(s->stop_fd);
	s->stop_fd = -1;
	if (fd >= 0)
		close(fd);
}
