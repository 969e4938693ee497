/* SPDX-License-Identifier: MIT */
/*
 * store.c: the process-wide store object: settings, the data directory and
 * the registry of open accounts (a hash by account id, so every session of
 * an account, whatever its thread, shares one struct account). Also the
 * error phrases. See docs/STORE.md for the whole design.
 */
#include "store/store_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
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
	s->max_index_text = 1u << 20;
	s->inline_max = 64u << 10;
}

int
store_open(const char *data_dir, const struct store_settings *settings, struct store **store_out,
           enum store_error *err_out)
{
	struct store *s;
	char *path, *tmp;

	if (sqlite3_threadsafe() == 0) {
		log_error("store", "event=open-failed err=\"sqlite built without threads\"");
		*err_out = STORE_ERR_TEMP;
		return -1;
	}
	/* tmp/ holds the spools of messages on their way in (spool.c). */
	path = xasprintf("%s/accounts", data_dir);
	tmp = xasprintf("%s/tmp", data_dir);
	if ((mkdir(data_dir, 0700) < 0 && errno != EEXIST) ||
	    (mkdir(path, 0700) < 0 && errno != EEXIST) ||
	    (mkdir(tmp, 0700) < 0 && errno != EEXIST)) {
		log_error("store", "event=open-failed dir=%s err=\"%s\"", data_dir,
		          strerror(errno));
		free(path);
		free(tmp);
		*err_out = STORE_ERR_TEMP;
		return -1;
	}
	free(path);

	s = xcalloc(1, sizeof(*s));
	s->data_dir = xstrdup(data_dir);
	s->tmp_dir = tmp;
	store_settings_defaults(&s->set);
	if (settings != NULL) {
		s->set = *settings;
		if (s->set.max_message_size == 0)
			s->set.max_message_size = 64ull << 20;
		if (s->set.view_cache_bytes == 0)
			s->set.view_cache_bytes = 64ull << 20;
		if (s->set.pool_idle == 0)
			s->set.pool_idle = 4;
		if (s->set.max_index_text == 0)
			s->set.max_index_text = 1u << 20;
	}
	s->accounts = hash_new(HASH_KEYS_U64, 0);
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->idx_cond, NULL);
	*store_out = s;
	return 0;
}

void
store_close(struct store **storep)
{
	struct store *s = *storep;

	if (s == NULL)
		return;
	indexer_stop(s);
	struct hash_entry e;
	for (size_t pos = 0; hash_next(s->accounts, &pos, &e);)
		log_error("store", "event=close-leak account=%llu", (unsigned long long)e.u64);
	hash_free(&s->accounts);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->idx_cond);
	free(s->data_dir);
	free(s->tmp_dir);
	free(s);
	*storep = NULL;
}
