/* SPDX-License-Identifier: MIT */
/*
 * jobs.h: a small pool of threads for work that must not block an event loop
 * (password hashing, SASL steps). work() runs on a pool thread and may touch
 * only what the job owns; done() then runs on the submitting worker's loop,
 * where the job may look its session up again (the session may be gone:
 * STYLE.md "names its session by id, not by pointer").
 */
#ifndef TERN_NET_JOBS_H
#define TERN_NET_JOBS_H

#include <stddef.h>

struct event_base;
struct net_jobs;

typedef void net_job_fn(void *arg);

struct net_jobs *net_jobs_new(size_t threads);
/* Waits for queued work to finish and joins the threads, then runs the done
   callbacks their loops never ran (call it after those loops stopped, before
   their event bases are freed). */
void net_jobs_free(struct net_jobs **pp);
/* Queues work(arg) then done(arg) on base. Never fails. */
void net_jobs_submit(struct net_jobs *p, struct event_base *base, net_job_fn *work,
                     net_job_fn *done, void *arg);

#endif
