/* SPDX-License-Identifier: MIT */
/*
 * cancel.h: a thread's cancellation flag. Work that may run long on a pool
 * thread for someone who can go away (an IMAP command off the event loop,
 * session_command_offload) names the flag that says "stop" for the length
 * of the work; code far below that loops or waits on SQLite polls it
 * without being handed the flag through every call (store/db.c's progress
 * handler interrupts any statement, so a SORT, THREAD or COPY of a million
 * messages ends at once when its connection goes or the server stops).
 */
#ifndef TERN_LIB_CANCEL_H
#define TERN_LIB_CANCEL_H

#include <stdatomic.h>
#include <stdbool.h>

/* Sets this thread's flag (NULL: none, nothing is cancelled). */
void cancel_scope_set(const atomic_bool *flag);

/* True when this thread's flag is set. */
bool cancel_is_requested(void);

#endif
