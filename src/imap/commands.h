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

#endif
