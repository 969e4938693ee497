/* SPDX-License-Identifier: MIT */
/*
 * store.c: the process-wide store object (backend-neutral): settings, the
 * data directory, the backend chosen by name, the registry of open
 * accounts (account.c), and check and repair dispatched to the backend.
 * Also the error phrases. See docs/STORE.md for the whole design.
 */
#include "store/backend.h"
#include "store/store_core.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "lib/hash.h"
#include "lib/log.h"
#include "lib/util.h"

const char *
store_error_str(enum store_error err)
{
	static const char *const names[] = {
	        [STORE_ERR_NONE] = "no error",
	        [STORE_ERR_TEMP] = "temporary failure",
	        [STORE_ERR_NOTFOUND] = "no such mailbox",
	        [STORE_ERR_EXISTS] = "mailbox already exists",
	        [STORE_ERR_PERM] = "not permitted",
	        [STORE_ERR_BADNAME] = "invalid mailbox name",
	        [STORE_ERR_HASCHILDREN] = "mailbox has children",
	        [STORE_ERR_QUOTA] = "over quota",
	        [STORE_ERR_TOOBIG] = "message too big",
	        [STORE_ERR_LIMIT] = "limit reached",
	        [STORE_ERR_INUSE] = "in use",
	        [STORE_ERR_EXPUNGED] = "message expunged",
	        [STORE_ERR_CORRUPT] = "message data missing or corrupt",
	        [STORE_ERR_NORIGHTS] = "no rights",
	};

	if ((size_t)err < ARRAY_LEN(names) && names[err] != NULL)
		return names[err];
	return "unknown error";
}

void
store_settings_defaults(struct store_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->max_message_size = 64ull << 20;
	s->view_cache_bytes = 64ull << 20;
	s->pool_idle = 4;
	s->max_idle_dbs = 256;
	s->pool_idle_ms = 30000;
	s->max_index_text = 1u << 20;
	s->inline_max = 64u << 10;
	s->watch_sweep_ms = 5000;
	s->linger_bytes = 64ull << 20;
	s->sqlite_memory = 64ull << 20;
	s->sqlite_mmap = 0;
	s->spool_memory = 64ull << 20;
}

/* Every backend this binary has, by name. */
static const struct store_backend *const backends[] = {&store_backend_sqlite};

int
store_open(const char *data_dir, const struct store_settings *settings, struct store **store_out,
           enum store_error *err_out)
{
	const char *name =
	        settings != NULL && settings->backend != NULL ? settings->backend : "sqlite";
	const struct store_backend *backend = NULL;
	struct store *s;
	char *tmp;

	for (size_t i = 0; i < ARRAY_LEN(backends); i++)
		if (strcmp(backends[i]->name, name) == 0)
			backend = backends[i];
	if (backend == NULL) {
		log_error("store", "event=open-failed backend=%s err=\"no such backend\"", name);
		*err_out = STORE_ERR_NOTFOUND;
		return -1;
	}
	if (mkdir(data_dir, 0700) < 0 && errno != EEXIST) {
		log_error("store", "event=open-failed dir=%s err=\"%s\"", data_dir,
		          strerror(errno));
		*err_out = STORE_ERR_TEMP;
		return -1;
	}
	/* tmp/ holds the spools of messages on their way in (spool.c). */
	tmp = xasprintf("%s/tmp", data_dir);
	if (mkdir(tmp, 0700) < 0 && errno != EEXIST) {
		log_error("store", "event=open-failed dir=%s err=\"%s\"", tmp, strerror(errno));
		free(tmp);
		*err_out = STORE_ERR_TEMP;
		return -1;
	}

	s = xcalloc(1, sizeof(*s));
	s->backend = backend;
	s->data_dir = xstrdup(data_dir);
	s->tmp_dir = tmp;
	store_settings_defaults(&s->set);
	if (settings != NULL) {
		/* A zero where 0 has no meaning of its own takes the default. */
		struct store_settings def = s->set;
		s->set = *settings;
		if (s->set.max_message_size == 0)
			s->set.max_message_size = def.max_message_size;
		if (s->set.view_cache_bytes == 0)
			s->set.view_cache_bytes = def.view_cache_bytes;
		if (s->set.pool_idle == 0)
			s->set.pool_idle = def.pool_idle;
		if (s->set.max_idle_dbs == 0)
			s->set.max_idle_dbs = def.max_idle_dbs;
		if (s->set.pool_idle_ms == 0)
			s->set.pool_idle_ms = def.pool_idle_ms;
		if (s->set.max_index_text == 0)
			s->set.max_index_text = def.max_index_text;
		if (s->set.watch_sweep_ms == 0)
			s->set.watch_sweep_ms = def.watch_sweep_ms;
		if (s->set.linger_bytes == 0)
			s->set.linger_bytes = def.linger_bytes;
	}
	s->set.backend = backend->name;
	s->accounts = hash_new(HASH_KEYS_U64, 0);
	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_init(&s->idle_lock, NULL);
	pthread_mutex_init(&s->shares_lock, NULL);
	pthread_cond_init(&s->idx_cond, NULL);
	watch_init(s);
	if (backend->store_open(s, err_out) < 0) {
		store_close(&s);
		return -1;
	}
	*store_out = s;
	return 0;
}

void
store_close(struct store **storep)
{
	struct store *s = *storep;

	if (s == NULL)
		return;
	watch_deinit(s);
	s->backend->store_close(s);
	account_linger_drop_all(s);
	acl_shares_close(s);
	pthread_mutex_destroy(&s->shares_lock);
	struct hash_entry e;
	for (size_t pos = 0; hash_next(s->accounts, &pos, &e);)
		log_error("store", "event=close-leak account=%llu", (unsigned long long)e.u64);
	hash_free(&s->accounts);
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->idle_lock);
	pthread_cond_destroy(&s->idx_cond);
	free(s->data_dir);
	free(s->tmp_dir);
	free(s);
	*storep = NULL;
}

int
store_check_account(struct store *store, uint64_t account_id, bool repair, FILE *report)
{
	int rc = store->backend->account_check(store, account_id, repair, report);

	/* What repair removed or recounted went around the views. */
	if (repair)
		watch_changed_behind(store, account_id);
	return rc;
}

/* Files in DATA_DIR/tmp: named spools (spool.c's fallback where the file
   system has no O_TMPFILE) that a crash left: "problem=temp-file
   file=tmp/...". 0 when none remain. */
static int
check_spools(struct store *store, bool repair, FILE *report)
{
	DIR *d = opendir(store->tmp_dir);
	struct dirent *e;
	int rc = 0;

	while (d != NULL && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char *file = xasprintf("%s/%s", store->tmp_dir, e->d_name);
		bool fixed = repair && unlink(file) == 0;
		if (report != NULL)
			fprintf(report, "problem=temp-file file=tmp/%s repaired=%s\n", e->d_name,
			        fixed ? "yes" : "no");
		rc |= !fixed;
		free(file);
	}
	if (d != NULL)
		closedir(d);
	return rc;
}

long
store_collect_orphans(struct store *store, const _Atomic bool *stop)
{
	uint64_t *ids;
	size_t n;
	long removed = 0;

	if (store->backend->account_collect == NULL)
		return 0;
	if (store->backend->account_list(store, &ids, &n) < 0)
		return -1;
	for (size_t i = 0; i < n && !*stop; i++) {
		unsigned k = 0;
		if (store->backend->account_collect(store, ids[i], &k) < 0)
			log_warn("store", "event=collect-failed account=%llu",
			         (unsigned long long)ids[i]);
		else if (k > 0)
			log_info("store", "event=orphans-collected account=%llu files=%u",
			         (unsigned long long)ids[i], k);
		removed += k;
	}
	free(ids);
	return removed;
}

int
store_check(struct store *store, bool repair, FILE *report)
{
	uint64_t *ids;
	size_t n;
	int worst = check_spools(store, repair, report);

	if (store->backend->account_list(store, &ids, &n) < 0) {
		if (report != NULL)
			fprintf(report, "problem=no-accounts dir=%s\n", store->data_dir);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		int rc = store_check_account(store, ids[i], repair, report);

		if (rc < 0 || (rc > worst && worst >= 0))
			worst = rc;
	}
	free(ids);
	return worst;
}
