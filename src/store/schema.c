/* SPDX-License-Identifier: MIT */
/*
 * schema.c: the index.db schema of the SQLite backend and a new account's
 * first contents. Counters (per mailbox: messages, unseen, deleted, recent,
 * size; per account: storage and message usage) and blob reference counts
 * are kept by triggers, so they change in the same transaction as the rows
 * and no writer can forget one; store_check() recounts them. The expunge
 * trigger records each removed uid with the mailbox's current (already
 * bumped) highestmodseq, for QRESYNC VANISHED. docs/STORE.md explains it all.
 *
 * Versions: 1 indexed every text at append; 2 adds fts_pending, the texts
 * the background indexer has not moved into fts yet. schema_check() upgrades
 * a version 1 database in place (every text of it is already indexed).
 * 3 adds blobs.data: the bytes of a message up to store.inline_max, kept in
 * the row so the message and its row commit in one transaction (NULL: the
 * bytes are in blobs/<2 hex>/<hash>). A version 2 database is upgraded in
 * place (its blobs are all files). 4 moves inline bytes to blob_data.
 * 5 (quota, RFC 9208) adds the MAILBOX resource (account.mailboxes_used,
 * kept by triggers on mailboxes, and account.mailboxes_limit) and
 * mailboxes.deleted_size (STATUS DELETED-STORAGE), kept by the message
 * triggers, which the upgrade replaces. 6 adds the metadata table (IMAP
 * METADATA, RFC 5464: metadata.c).
 * 7 adds acl, the access control lists of RFC 4314 (acl.c); an older
 * database gets the empty table. 8 adds blobs.preview, the RFC 8970 PREVIEW
 * made at delivery; the rows of an older database keep NULL there (index
 * blobs_no_preview) until the indexer thread or a FETCH PREVIEW makes
 * theirs (message_preview.c).
 * 9 adds annotations, the per-message annotations of RFC 5257
 * (annotation.c), and seen, the \Seen state of users other than the owner
 * (seen.c), each with the trigger that removes a message's rows with its row.
 * 10 adds fuzzy search's tables (RFC 6203, fuzzy.c): fuzzy_words, each
 * distinct word of the indexed texts, fuzzy_vocab, a trigram index of
 * them, fuzzy_index, the texts by word, and fuzzy_backlog; the upgrade
 * queues the texts already indexed there, for the indexer.
 */
#include "store/store_int.h"

#include <time.h>

#include "lib/log.h"
#include "lib/util.h"

#define SCHEMA_VERSION 10

/* Blobs without a preview: stored before schema 8, until the indexer
   thread has made theirs (new rows have one, so they are not in it). */
#define PREVIEW_INDEX_SQL                                                                          \
	"CREATE INDEX IF NOT EXISTS blobs_no_preview ON blobs(id) WHERE preview IS NULL;"

/* Inline message bytes, one row per inline blob (blobs.data = X''). */
#define BLOB_DATA_SQL                                                                              \
	"CREATE TABLE IF NOT EXISTS blob_data(id INTEGER PRIMARY KEY, data BLOB NOT NULL);"        \
	"CREATE TRIGGER IF NOT EXISTS blob_data_gc AFTER DELETE ON blobs BEGIN"                    \
	" DELETE FROM blob_data WHERE id = old.id; END;"

/* Counters and reference counts, in the writer's transaction. Bit 1 of
   flags is \Seen, bit 8 \Deleted. */
#define COUNTER_TRIGGERS_SQL                                                                       \
	"CREATE TRIGGER messages_insert AFTER INSERT ON messages BEGIN"                            \
	" UPDATE mailboxes SET messages = messages + 1, size = size + NEW.size,"                   \
	"  unseen = unseen + ((NEW.flags & 1) = 0), deleted = deleted + ((NEW.flags & 8) != 0),"   \
	"  deleted_size = deleted_size + ((NEW.flags & 8) != 0) * NEW.size,"                       \
	"  recent = recent + (NEW.uid >= recent_uid) WHERE id = NEW.mailbox_id;"                   \
	" UPDATE account SET storage_used = storage_used + NEW.size,"                              \
	"  messages_used = messages_used + 1;"                                                     \
	" UPDATE blobs SET refs = refs + 1 WHERE id = NEW.blob_id;"                                \
	"END;"                                                                                     \
	"CREATE TRIGGER messages_delete AFTER DELETE ON messages BEGIN"                            \
	" UPDATE mailboxes SET messages = messages - 1, size = size - OLD.size,"                   \
	"  unseen = unseen - ((OLD.flags & 1) = 0), deleted = deleted - ((OLD.flags & 8) != 0),"   \
	"  deleted_size = deleted_size - ((OLD.flags & 8) != 0) * OLD.size,"                       \
	"  recent = recent - (OLD.uid >= recent_uid) WHERE id = OLD.mailbox_id;"                   \
	" UPDATE account SET storage_used = storage_used - OLD.size,"                              \
	"  messages_used = messages_used - 1;"                                                     \
	" UPDATE blobs SET refs = refs - 1 WHERE id = OLD.blob_id;"                                \
	" INSERT OR REPLACE INTO expunged(mailbox_id, uid, modseq) VALUES (OLD.mailbox_id,"        \
	"  OLD.uid, (SELECT highestmodseq FROM mailboxes WHERE id = OLD.mailbox_id));"             \
	"END;"                                                                                     \
	"CREATE TRIGGER messages_flags AFTER UPDATE OF flags ON messages"                          \
	" WHEN (OLD.flags & 9) != (NEW.flags & 9) BEGIN"                                           \
	" UPDATE mailboxes SET"                                                                    \
	"  unseen = unseen - ((OLD.flags & 1) = 0) + ((NEW.flags & 1) = 0),"                       \
	"  deleted = deleted - ((OLD.flags & 8) != 0) + ((NEW.flags & 8) != 0),"                   \
	"  deleted_size = deleted_size + (((NEW.flags & 8) != 0) - ((OLD.flags & 8) != 0))"        \
	"   * NEW.size WHERE id = NEW.mailbox_id;"                                                 \
	"END;"                                                                                     \
	"CREATE TRIGGER mailboxes_insert AFTER INSERT ON mailboxes BEGIN"                          \
	" UPDATE account SET mailboxes_used = mailboxes_used + 1;"                                 \
	"END;"                                                                                     \
	"CREATE TRIGGER mailboxes_delete AFTER DELETE ON mailboxes BEGIN"                          \
	" UPDATE account SET mailboxes_used = mailboxes_used - 1;"                                 \
	"END;"

/* Annotations (metadata.c): mailbox_id 0 holds the server entries. */
#define METADATA_SQL                                                                               \
	"CREATE TABLE metadata(mailbox_id INTEGER NOT NULL, name TEXT NOT NULL,"                   \
	" value BLOB NOT NULL, PRIMARY KEY (mailbox_id, name)) WITHOUT ROWID;"

/* RFC 4314 ACLs: rights bits per mailbox (0: the account's root) and
   identifier. */
#define ACL_SQL                                                                                    \
	"CREATE TABLE IF NOT EXISTS acl(mailbox_id INTEGER NOT NULL, identifier TEXT NOT NULL,"    \
	" rights INTEGER NOT NULL, PRIMARY KEY (mailbox_id, identifier)) WITHOUT ROWID;"

/* RFC 5257 message annotations: owner '' holds value.shared, an address
   that user's value.priv. A message's go with its row (expunge, MOVE's
   source, DELETE of the mailbox). */
#define ANNOTATIONS_SQL                                                                             \
	"CREATE TABLE IF NOT EXISTS annotations(mailbox_id INTEGER NOT NULL, uid INTEGER NOT NULL," \
	" entry TEXT NOT NULL, owner TEXT NOT NULL, value BLOB NOT NULL,"                           \
	" PRIMARY KEY (mailbox_id, uid, entry, owner)) WITHOUT ROWID;"                              \
	"CREATE TRIGGER IF NOT EXISTS messages_annotations AFTER DELETE ON messages BEGIN"          \
	" DELETE FROM annotations WHERE mailbox_id = OLD.mailbox_id AND uid = OLD.uid; END;"

/* Per-user \Seen (RFC 4314 section 4; seen.c): a row per message a user
   other than the owner has seen. */
#define SEEN_SQL                                                                                   \
	"CREATE TABLE IF NOT EXISTS seen(mailbox_id INTEGER NOT NULL, user TEXT NOT NULL,"         \
	" uid INTEGER NOT NULL, PRIMARY KEY (mailbox_id, user, uid)) WITHOUT ROWID;"               \
	"CREATE INDEX IF NOT EXISTS seen_uid ON seen(mailbox_id, uid);"                            \
	"CREATE TRIGGER IF NOT EXISTS messages_seen AFTER DELETE ON messages BEGIN"                \
	" DELETE FROM seen WHERE mailbox_id = OLD.mailbox_id AND uid = OLD.uid; END;"

/* Fuzzy search (fuzzy.c): its vocabulary, each word once, with a trigram
   index of the words (each between blanks, so " he" marks a word that
   starts "he"; no positions: every query is one trigram), and an index of
   the texts by whole word (no positions either: a word, not a phrase, is
   what it looks up; columns kept for BODY and TEXT); fuzzy_backlog, the
   texts an upgraded database had indexed before these tables, which the
   indexer adds to them in the background. */
#define FUZZY_VOCAB_SQL                                                                            \
	"CREATE TABLE fuzzy_words(id INTEGER PRIMARY KEY, word TEXT NOT NULL UNIQUE);"             \
	"CREATE VIRTUAL TABLE fuzzy_vocab USING fts5(word, content='', detail=none,"               \
	" tokenize='trigram case_sensitive 1');"                                                   \
	"CREATE VIRTUAL TABLE fuzzy_index USING fts5(header, body, content='texts',"               \
	" content_rowid='id', detail=column, tokenize='unicode61 remove_diacritics 0');"           \
	"CREATE TABLE fuzzy_backlog(id INTEGER PRIMARY KEY);"

/* Texts committed but not yet in fts (indexer.c moves them in batches). */
#define FTS_PENDING_SQL "CREATE TABLE fts_pending(id INTEGER PRIMARY KEY);"

static const char schema_sql[] =
        "CREATE TABLE account("
        " id INTEGER PRIMARY KEY CHECK (id = 1),"
        " schema_version INTEGER NOT NULL,"
        " last_uidvalidity INTEGER NOT NULL,"
        " next_email_id INTEGER NOT NULL,"
        " storage_used INTEGER NOT NULL DEFAULT 0,"
        " messages_used INTEGER NOT NULL DEFAULT 0,"
        " storage_limit INTEGER NOT NULL DEFAULT 0,"
        " messages_limit INTEGER NOT NULL DEFAULT 0,"
        " mailboxes_used INTEGER NOT NULL DEFAULT 0,"
        " mailboxes_limit INTEGER NOT NULL DEFAULT 0);"
        "CREATE TABLE keywords(idx INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE COLLATE NOCASE);"
        "CREATE TABLE mailboxes("
        " id INTEGER PRIMARY KEY AUTOINCREMENT,"
        " name TEXT NOT NULL UNIQUE,"
        " objectid TEXT NOT NULL UNIQUE,"
        " special_use INTEGER NOT NULL DEFAULT 0,"
        " uidvalidity INTEGER NOT NULL,"
        " uidnext INTEGER NOT NULL DEFAULT 1,"
        " highestmodseq INTEGER NOT NULL DEFAULT 1,"
        " recent_uid INTEGER NOT NULL DEFAULT 1,"
        " messages INTEGER NOT NULL DEFAULT 0,"
        " unseen INTEGER NOT NULL DEFAULT 0,"
        " deleted INTEGER NOT NULL DEFAULT 0,"
        " recent INTEGER NOT NULL DEFAULT 0,"
        " size INTEGER NOT NULL DEFAULT 0,"
        " deleted_size INTEGER NOT NULL DEFAULT 0);"
        "CREATE TABLE subscriptions(name TEXT PRIMARY KEY) WITHOUT ROWID;"
        "CREATE TABLE blobs("
        " id INTEGER PRIMARY KEY,"
        " hash TEXT NOT NULL UNIQUE,"
        " size INTEGER NOT NULL,"
        " refs INTEGER NOT NULL DEFAULT 0,"
        " header_size INTEGER NOT NULL DEFAULT 0,"
        " envelope TEXT, bodystructure TEXT, body TEXT, parts BLOB,"
        " sent_date INTEGER NOT NULL DEFAULT 0,"
        " subject TEXT, base_subject TEXT, from_addr TEXT, from_display TEXT,"
        " to_addr TEXT, to_display TEXT, cc_addr TEXT,"
        " message_id TEXT, in_reply_to TEXT, refs_hdr TEXT, data BLOB, preview TEXT);"
        "CREATE INDEX blobs_unreferenced ON blobs(refs) WHERE refs = 0;" BLOB_DATA_SQL ACL_SQL
                PREVIEW_INDEX_SQL
        "CREATE TABLE texts(id INTEGER PRIMARY KEY, header TEXT NOT NULL, body TEXT NOT NULL);"
        "CREATE VIRTUAL TABLE fts USING fts5(header, body, content='texts', content_rowid='id',"
        " tokenize='trigram case_sensitive 0');" FTS_PENDING_SQL
        "CREATE TABLE threads(message_id TEXT PRIMARY KEY, thread_id INTEGER NOT NULL)"
        " WITHOUT ROWID;"
        "CREATE TABLE messages("
        " mailbox_id INTEGER NOT NULL,"
        " uid INTEGER NOT NULL,"
        " blob_id INTEGER NOT NULL,"
        " size INTEGER NOT NULL,"
        " flags INTEGER NOT NULL,"
        " keywords INTEGER NOT NULL,"
        " modseq INTEGER NOT NULL,"
        " internal_date INTEGER NOT NULL,"
        " save_date INTEGER NOT NULL,"
        " email_id INTEGER NOT NULL,"
        " thread_id INTEGER NOT NULL,"
        " PRIMARY KEY (mailbox_id, uid)) WITHOUT ROWID;"
        "CREATE INDEX messages_modseq ON messages(mailbox_id, modseq);"
        "CREATE INDEX messages_blob ON messages(blob_id);"
        "CREATE TABLE expunged(mailbox_id INTEGER NOT NULL, uid INTEGER NOT NULL,"
        " modseq INTEGER NOT NULL, PRIMARY KEY (mailbox_id, uid)) WITHOUT ROWID;"
        "CREATE INDEX expunged_modseq ON expunged(mailbox_id, modseq);"

        COUNTER_TRIGGERS_SQL METADATA_SQL ANNOTATIONS_SQL SEEN_SQL FUZZY_VOCAB_SQL;

static const char *const default_mailboxes[] = {"INBOX", "Drafts", "Sent",
                                                "Trash", "Junk",   "Archive"};
static const unsigned default_special[] = {0,
                                           STORE_SPECIAL_DRAFTS,
                                           STORE_SPECIAL_SENT,
                                           STORE_SPECIAL_TRASH,
                                           STORE_SPECIAL_JUNK,
                                           STORE_SPECIAL_ARCHIVE};

/* Version 3 -> 4: the bytes of inline blobs move to blob_data, so the
   frequent refcount updates of blobs rows (COPY, expunge) do not rewrite
   them; blobs.data keeps X'' as the "inline" mark. */
static int
schema_upgrade_3(struct db *db)
{
	if (db_begin(db, true) < 0)
		return -1;
	if (db_exec(db, BLOB_DATA_SQL "INSERT OR IGNORE INTO blob_data(id, data)"
	                              " SELECT id, data FROM blobs WHERE typeof(data) = 'blob';"
	                              "UPDATE blobs SET data = X'' WHERE typeof(data) = 'blob';"
	                              "UPDATE account SET schema_version = 4") < 0 ||
	    db_commit(db) < 0) {
		log_error("store", "event=schema-upgrade-failed from=3");
		db_rollback(db);
		return -1;
	}
	return 0;
}

/* Version 4 -> 5: the quota columns (RFC 9208 MAILBOX resource, STATUS
   DELETED-STORAGE), counted once from the rows, and the triggers that keep
   them from now on. */
static int
schema_upgrade_4_quota(struct db *db)
{
	if (db_begin(db, true) < 0)
		return -1;
	if (db_exec(db, "ALTER TABLE account ADD COLUMN mailboxes_used INTEGER NOT NULL DEFAULT 0;"
	                "ALTER TABLE account ADD COLUMN mailboxes_limit INTEGER NOT NULL DEFAULT 0;"
	                "ALTER TABLE mailboxes ADD COLUMN deleted_size INTEGER NOT NULL DEFAULT 0;"
	                "DROP TRIGGER IF EXISTS messages_insert;"
	                "DROP TRIGGER IF EXISTS messages_delete;"
	                "DROP TRIGGER IF EXISTS messages_flags;" COUNTER_TRIGGERS_SQL
	                "UPDATE account SET mailboxes_used = (SELECT count(*) FROM mailboxes);"
	                "UPDATE mailboxes SET deleted_size = (SELECT coalesce(sum(size), 0)"
	                " FROM messages WHERE mailbox_id = mailboxes.id AND (flags & 8) != 0);"
	                "UPDATE account SET schema_version = 5") < 0 ||
	    db_commit(db) < 0) {
		log_error("store", "event=schema-upgrade-failed from=4");
		db_rollback(db);
		return -1;
	}
	return 0;
}

/* Version 5 -> 6: the (empty) metadata table. */
static int
schema_upgrade_5_metadata(struct db *db)
{
	if (db_begin(db, true) < 0)
		return -1;
	if (db_exec(db, METADATA_SQL "UPDATE account SET schema_version = 6") < 0 ||
	    db_commit(db) < 0) {
		log_error("store", "event=schema-upgrade-failed from=5");
		db_rollback(db);
		return -1;
	}
	return 0;
}

/* Version 6 -> 7: the (empty) acl table. */
static int
schema_upgrade_6_acl(struct db *db)
{
	if (db_begin(db, true) < 0)
		return -1;
	if (db_exec(db, ACL_SQL "UPDATE account SET schema_version = 7") < 0 || db_commit(db) < 0) {
		log_error("store", "event=schema-upgrade-failed from=6");
		db_rollback(db);
		return -1;
	}
	return 0;
}

/* Version 7 -> 8 (PREVIEW_INDEX_SQL is with the schema). */
#define PREVIEW_COLUMN_SQL "ALTER TABLE blobs ADD COLUMN preview TEXT;" PREVIEW_INDEX_SQL

static int
schema_upgrade_7_preview(struct db *db)
{
	if (db_begin(db, true) < 0)
		return -1;
	if (db_exec(db, PREVIEW_COLUMN_SQL "UPDATE account SET schema_version = 8") < 0 ||
	    db_commit(db) < 0) {
		log_error("store", "event=schema-upgrade-failed from=7");
		db_rollback(db);
		return -1;
	}
	return 0;
}

/* Version 8 -> 9: the (empty) annotations and seen tables, their triggers. */
static int
schema_upgrade_8_annotations_seen(struct db *db)
{
	if (db_begin(db, true) < 0)
		return -1;
	if (db_exec(db, ANNOTATIONS_SQL SEEN_SQL "UPDATE account SET schema_version = 9") < 0 ||
	    db_commit(db) < 0) {
		log_error("store", "event=schema-upgrade-failed from=8");
		db_rollback(db);
		return -1;
	}
	return 0;
}

/* Version 9 -> 10: fuzzy search's empty tables, and every text already
   indexed in fuzzy_backlog: the indexer fills the vocabulary and the word
   index from them in batches, after the open (filling them here took 13 s
   of the first open at 100,000 messages). Pending texts get theirs when
   the indexer moves them. */
static int
schema_upgrade_9_fuzzy(struct db *db)
{
	if (db_begin(db, true) < 0)
		return -1;
	if (db_exec(db, FUZZY_VOCAB_SQL "INSERT INTO fuzzy_backlog(id) SELECT id FROM texts"
	                                " WHERE id NOT IN (SELECT id FROM fts_pending);"
	                                "UPDATE account SET schema_version = 10") < 0 ||
	    db_commit(db) < 0) {
		log_error("store", "event=schema-upgrade-failed from=9");
		db_rollback(db);
		return -1;
	}
	return 0;
}

/* Version 1 -> 2: the empty queue of texts to index. */
static int
schema_upgrade_1(struct db *db)
{
	if (db_begin(db, true) < 0)
		return -1;
	if (db_exec(db, FTS_PENDING_SQL "UPDATE account SET schema_version = 2") < 0 ||
	    db_commit(db) < 0) {
		log_error("store", "event=schema-upgrade-failed from=1");
		db_rollback(db);
		return -1;
	}
	return 0;
}

/* Version 2 -> 3: inline message bytes; every existing blob is a file. */
static int
schema_upgrade_2(struct db *db)
{
	if (db_begin(db, true) < 0)
		return -1;
	if (db_exec(db, "ALTER TABLE blobs ADD COLUMN data BLOB;"
	                "UPDATE account SET schema_version = 3") < 0 ||
	    db_commit(db) < 0) {
		log_error("store", "event=schema-upgrade-failed from=2");
		db_rollback(db);
		return -1;
	}
	return 0;
}

int
schema_check(struct db *db)
{
	static const char sql[] = "SELECT schema_version FROM account WHERE id = 1";
	sqlite3_stmt *st = db_stmt(db, sql);
	int version = -1;

	if (st != NULL && sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	if (st != NULL)
		sqlite3_reset(st);
	if (version == 1 && schema_upgrade_1(db) == 0)
		version = 2;
	if (version == 2 && schema_upgrade_2(db) == 0)
		version = 3;
	if (version == 3 && schema_upgrade_3(db) == 0)
		version = 4;
	if (version == 4 && schema_upgrade_4_quota(db) == 0)
		version = 5;
	if (version == 5 && schema_upgrade_5_metadata(db) == 0)
		version = 6;
	if (version == 6 && schema_upgrade_6_acl(db) == 0)
		version = 7;
	if (version == 7 && schema_upgrade_7_preview(db) == 0)
		version = 8;
	if (version == 8 && schema_upgrade_8_annotations_seen(db) == 0)
		version = 9;
	if (version == 9 && schema_upgrade_9_fuzzy(db) == 0)
		version = 10;
	if (version != SCHEMA_VERSION)
		return -1;
	return 0;
}

int
schema_create(struct db *db, const struct store_settings *set, bool with_mailboxes)
{
	static const char ins_sql[] =
	        "INSERT INTO account(id, schema_version, last_uidvalidity, next_email_id,"
	        " storage_limit, messages_limit, mailboxes_limit) VALUES (1, ?, ?, 1, ?, ?, ?)";
	sqlite3_stmt *st;
	uint64_t id;

	if (db_begin(db, true) < 0)
		return -1;
	if (db_exec(db, schema_sql) < 0)
		goto fail;
	st = db_stmt(db, ins_sql);
	if (st == NULL)
		goto fail;
	sqlite3_bind_int(st, 1, SCHEMA_VERSION);
	/* UIDVALIDITY starts near the clock so a recreated account does not
	   reuse old values (RFC 9051 section 2.3.1.1). */
	sqlite3_bind_int64(st, 2, (int64_t)(time(NULL) & 0x7fffffff) - 100);
	sqlite3_bind_int64(st, 3, (int64_t)set->quota_storage);
	sqlite3_bind_int64(st, 4, (int64_t)set->quota_messages);
	sqlite3_bind_int64(st, 5, (int64_t)set->quota_mailboxes);
	if (db_step_done(db, st) < 0)
		goto fail;
	/* The shared account starts empty: its mailboxes are what the
	   administrators make (docs/ADMIN.md "Sharing"). */
	for (size_t i = 0; with_mailboxes && i < ARRAY_LEN(default_mailboxes); i++) {
		if (mailbox_insert(db, default_mailboxes[i], default_special[i], &id) < 0)
			goto fail;
	}
	if (db_exec(db, "DELETE FROM subscriptions; INSERT INTO subscriptions"
	                " SELECT name FROM mailboxes") < 0)
		goto fail;
	if (db_commit(db) < 0)
		goto fail;
	return 0;
fail:
	log_error("store", "event=schema-create-failed");
	db_rollback(db);
	return -1;
}
