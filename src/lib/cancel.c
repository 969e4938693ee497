/* SPDX-License-Identifier: MIT */
/*
 * cancel.c: the thread's cancellation flag (cancel.h).
 */
#include "lib/cancel.h"

#include <stddef.h>

static _Thread_local const atomic_bool *scope_flag;

void
cancel_scope_set(const atomic_bool *flag)
{
	scope_flag = flag;
}

bool
cancel_is_requested(void)
{
	return scope_flag != NULL && atomic_load_explicit(scope_flag, memory_order_relaxed);
}
