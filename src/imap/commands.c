/* SPDX-License-Identifier: MIT */
/*
 * commands.c: every IMAP command, once: its name, handler, the states it may
 * run in and its flags. The dispatcher (session.c) enforces the states and
 * turns "UID <cmd>" into <cmd> with is_uid set for the commands marked so.
 */
#include <strings.h>

#include "imap/commands.h"
#include "imap/session.h"
#include "lib/util.h"

#define ANY      IMAP_STATE_ANY
#define AUTHED   IMAP_STATE_AUTHED
#define SELECTED IMAP_STATE_SELECTED
/* Cost grows with the mailbox or the folder count: on the query pool. */
#define OFF_LOOP IMAP_CMD_OFF_LOOP

static const struct imap_command_def commands[] = {
        /* RFC 9051 6.1: any state */
        {"CAPABILITY", imap_cmd_capability, ANY, 0},
        {"NOOP", imap_cmd_noop, ANY, 0},
        {"LOGOUT", imap_cmd_logout, ANY, 0},
        {"ID", imap_cmd_id, ANY, 0}, /* RFC 2971 */
        {"LANGUAGE", imap_cmd_language, ANY, 0}, /* RFC 5255 3.2 */
        /* 6.2: not authenticated */
        {"STARTTLS", imap_cmd_starttls, IMAP_STATE_NOT_AUTH, 0},
        {"LOGIN", imap_cmd_login, IMAP_STATE_NOT_AUTH, 0},
        {"AUTHENTICATE", imap_cmd_authenticate, IMAP_STATE_NOT_AUTH, 0},
        /* 6.3: authenticated */
        {"ENABLE", imap_cmd_enable, AUTHED, 0},
        {"SELECT", imap_cmd_select, AUTHED, 0},
        {"EXAMINE", imap_cmd_select, AUTHED, 0},
        {"CREATE", imap_cmd_create, AUTHED, 0},
        {"DELETE", imap_cmd_delete, AUTHED, 0},
        {"RENAME", imap_cmd_rename, AUTHED, 0},
        {"SUBSCRIBE", imap_cmd_subscribe, AUTHED, 0},
        {"UNSUBSCRIBE", imap_cmd_subscribe, AUTHED, 0},
        {"LIST", imap_cmd_list, AUTHED, OFF_LOOP},
        {"LSUB", imap_cmd_list, AUTHED, OFF_LOOP}, /* RFC 3501 6.3.9 */
        {"NAMESPACE", imap_cmd_namespace, AUTHED, 0},
        {"STATUS", imap_cmd_status, AUTHED, 0},
        {"APPEND", imap_cmd_append, AUTHED, 0},
        {"IDLE", imap_cmd_idle, AUTHED, 0},             /* RFC 2177 */
        {"GENURLAUTH", imap_cmd_genurlauth, AUTHED, 0}, /* RFC 4467 */
        {"RESETKEY", imap_cmd_resetkey, AUTHED, 0},
        {"URLFETCH", imap_cmd_urlfetch, AUTHED, 0},
        {"NOTIFY", imap_cmd_notify, AUTHED, 0},                 /* RFC 5465 */
        {"COMPRESS", imap_cmd_compress, AUTHED, 0},             /* RFC 4978 */
        {"UNAUTHENTICATE", imap_cmd_unauthenticate, AUTHED, 0}, /* RFC 8437 */
        {"GETQUOTA", imap_cmd_getquota, AUTHED, 0}, /* RFC 9208 */
        {"GETQUOTAROOT", imap_cmd_getquotaroot, AUTHED, 0},
        {"SETQUOTA", imap_cmd_setquota, AUTHED, 0},
        {"GETMETADATA", imap_cmd_getmetadata, AUTHED, 0}, /* RFC 5464 */
        {"SETMETADATA", imap_cmd_setmetadata, AUTHED, 0},
        {"GETACL", imap_cmd_getacl, AUTHED, 0}, /* RFC 4314 */
        {"SETACL", imap_cmd_setacl, AUTHED, 0},
        {"DELETEACL", imap_cmd_deleteacl, AUTHED, 0},
        {"LISTRIGHTS", imap_cmd_listrights, AUTHED, 0},
        {"MYRIGHTS", imap_cmd_myrights, AUTHED, 0},
        {"COMPARATOR", imap_cmd_comparator, AUTHED, 0}, /* RFC 5255 4.7 */
        {"CONVERSIONS", imap_cmd_conversions, AUTHED, 0}, /* RFC 5259 */
        /* 6.4: selected */
        {"CHECK", imap_cmd_noop, SELECTED, 0}, /* RFC 3501 6.4.1: NOOP for us */
        {"CLOSE", imap_cmd_close, SELECTED, 0},
        {"UNSELECT", imap_cmd_close, SELECTED, 0},
        {"EXPUNGE", imap_cmd_expunge, SELECTED, IMAP_CMD_UID_ALLOWED | OFF_LOOP},
        {"FETCH", imap_cmd_fetch, SELECTED, IMAP_CMD_NO_EXPUNGE | IMAP_CMD_UID_ALLOWED},
        /* STORE 1:* is one transaction over the whole set: 1.7 s at
           100,000 messages, so it leaves the loop too. FETCH stays: it
           yields whenever the client's output queue is full. */
        {"STORE", imap_cmd_store, SELECTED, IMAP_CMD_NO_EXPUNGE | IMAP_CMD_UID_ALLOWED | OFF_LOOP},
        {"COPY", imap_cmd_copy, SELECTED, IMAP_CMD_UID_ALLOWED | OFF_LOOP},
        {"MOVE", imap_cmd_move, SELECTED, IMAP_CMD_UID_ALLOWED | OFF_LOOP}, /* RFC 6851 */
        {"SEARCH", imap_cmd_search, SELECTED,
         IMAP_CMD_UID_ALLOWED | IMAP_CMD_NO_EXPUNGE | OFF_LOOP},
        /* RFC 5256 BASE.6.4.SORT/THREAD: no EXPUNGE during SORT or THREAD
           either, though UID SORT/THREAD may carry them. */
        {"SORT", imap_cmd_sort, SELECTED, IMAP_CMD_UID_ALLOWED | IMAP_CMD_NO_EXPUNGE | OFF_LOOP},
        {"THREAD", imap_cmd_thread, SELECTED,
         IMAP_CMD_UID_ALLOWED | IMAP_CMD_NO_EXPUNGE | OFF_LOOP},
        /* RFC 7377: authenticated or selected; runs on the query pool by
           itself, a few mailboxes per trip, so its responses stream. */
        {"ESEARCH", imap_cmd_esearch, AUTHED, IMAP_CMD_UID_ALLOWED},
        {"CANCELUPDATE", imap_cmd_cancelupdate, SELECTED, 0},          /* RFC 5267 */
        {"REPLACE", imap_cmd_replace, SELECTED, IMAP_CMD_UID_ALLOWED}, /* RFC 8508 */
        /* RFC 5259: a conversion holds a part in memory and takes time. */
        {"CONVERT", imap_cmd_convert, SELECTED,
         IMAP_CMD_NO_EXPUNGE | IMAP_CMD_UID_ALLOWED | OFF_LOOP},
        {"UID", NULL, SELECTED, 0},
};

const struct imap_command_def *
imap_command_lookup(const char *name)
{
	for (size_t i = 0; i < ARRAY_LEN(commands); i++)
		if (strcasecmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}
