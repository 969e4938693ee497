/* SPDX-License-Identifier: MIT */
/* commands.h: the handlers, one per cmd_<name>.c file. */
#ifndef TERN_IMAP_COMMANDS_H
#define TERN_IMAP_COMMANDS_H

#include "imap/session.h"

imap_cmd_fn imap_cmd_capability;
imap_cmd_fn imap_cmd_noop;
imap_cmd_fn imap_cmd_logout;
imap_cmd_fn imap_cmd_id;
imap_cmd_fn imap_cmd_starttls;
imap_cmd_fn imap_cmd_login;
imap_cmd_fn imap_cmd_authenticate;
imap_cmd_fn imap_cmd_enable;
imap_cmd_fn imap_cmd_select; /* and EXAMINE */
imap_cmd_fn imap_cmd_create;
imap_cmd_fn imap_cmd_delete;
imap_cmd_fn imap_cmd_rename;
imap_cmd_fn imap_cmd_subscribe; /* and UNSUBSCRIBE */
imap_cmd_fn imap_cmd_list;      /* and LSUB */
imap_cmd_fn imap_cmd_namespace;
imap_cmd_fn imap_cmd_getacl; /* RFC 4314 */
imap_cmd_fn imap_cmd_setacl;
imap_cmd_fn imap_cmd_deleteacl;
imap_cmd_fn imap_cmd_listrights;
imap_cmd_fn imap_cmd_myrights;
imap_cmd_fn imap_cmd_status;
imap_cmd_fn imap_cmd_append;
imap_cmd_fn imap_cmd_idle;
imap_cmd_fn imap_cmd_close; /* and UNSELECT */
imap_cmd_fn imap_cmd_expunge;
imap_cmd_fn imap_cmd_fetch;
imap_cmd_fn imap_cmd_store;
imap_cmd_fn imap_cmd_copy;
imap_cmd_fn imap_cmd_move;
imap_cmd_fn imap_cmd_search;
imap_cmd_fn imap_cmd_esearch;
imap_cmd_fn imap_cmd_sort;
imap_cmd_fn imap_cmd_thread;
imap_cmd_fn imap_cmd_cancelupdate;
imap_cmd_fn imap_cmd_genurlauth;
imap_cmd_fn imap_cmd_resetkey;
imap_cmd_fn imap_cmd_urlfetch;
imap_cmd_fn imap_cmd_notify;
imap_cmd_fn imap_cmd_compress;
imap_cmd_fn imap_cmd_unauthenticate;
imap_cmd_fn imap_cmd_comparator;
imap_cmd_fn imap_cmd_language;
imap_cmd_fn imap_cmd_replace;
imap_cmd_fn imap_cmd_getquota;
imap_cmd_fn imap_cmd_getquotaroot;
imap_cmd_fn imap_cmd_setquota;
imap_cmd_fn imap_cmd_getmetadata;
imap_cmd_fn imap_cmd_setmetadata;
imap_cmd_fn imap_cmd_convert; /* RFC 5259 */
imap_cmd_fn imap_cmd_conversions;

#endif
