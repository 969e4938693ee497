/* SPDX-License-Identifier: MIT */
/*
 * jobs.c: FIFO queue + condition variable + N threads. Completion is posted
 * back with event_active() on an event created on the submitter's base, which
 * libevent makes thread-safe once evthread_use_pthreads() ran (net_server_new).
 * Finished jobs stay on a list until their done callback ran, so jobs whose
 * loop stopped first (a shutdown) are still completed by net_jobs_free().
 */
#include "net/jobs.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include <event2/event.h>

#include "lib/util.h"

struct job {
	struct net_jobs *pool;
	struct job *next;
	struct job *dprev, *dnext; /* on the finished list */
	net_job_fn *work, *done;
	void *arg;
	struct event *done_ev;
};

struct net_jobs {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct job *head, *tail;
	struct job *finished; /* work done, done() not yet run */
	bool stopping;
	size_t nthreads;
	pthread_t *threads;
};

static void
unlink_finished(struct job *j)
{
	struct net_jobs *p = j->pool;

	pthread_mutex_lock(&p->lock);
	if (j->dprev != NULL)
		j->dprev->dnext = j->dnext;
	else
		p->finished = j->dnext;
	if (j->dnext != NULL)
		j->dnext->dprev = j->dprev;
	pthread_mutex_unlock(&p->lock);
}

static void
job_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct job *j = arg;

	unlink_finished(j);
	j->done(j->arg);
	event_free(j->done_ev);
	free(j);
}

static void *
jobs_thread(void *arg)
{
	struct net_jobs *p = arg;

	thread_block_signals();

	for (;;) {
		pthread_mutex_lock(&p->lock);
		while (p->head == NULL && !p->stopping)
			pthread_cond_wait(&p->cond, &p->lock);
		struct job *j = p->head;
		if (j == NULL) {
			pthread_mutex_unlock(&p->lock);
			return NULL;
		}
		p->head = j->next;
		if (p->head == NULL)
			p->tail = NULL;
		pthread_mutex_unlock(&p->lock);
		j->work(j->arg);
		pthread_mutex_lock(&p->lock);
		j->dnext = p->finished;
		if (p->finished != NULL)
			p->finished->dprev = j;
		p->finished = j;
		pthread_mutex_unlock(&p->lock);
		event_active(j->done_ev, EV_READ, 0);
	}
}

struct net_jobs *
net_jobs_new(size_t threads)
{
	struct net_jobs *p = xcalloc(1, sizeof(*p));

	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	p->nthreads = threads ? threads : 1;
	p->threads = xcalloc(p->nthreads, sizeof(*p->threads));
	for (size_t i = 0; i < p->nthreads; i++)
		if (pthread_create(&p->threads[i], NULL, jobs_thread, p) != 0)
			abort();
	return p;
}

void
net_jobs_free(struct net_jobs **pp)
{
	struct net_jobs *p = *pp;

	if (p == NULL)
		return;
	*pp = NULL;
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	for (size_t i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	/* Their loops have stopped: complete the jobs here, so what they own
	   is freed by their own done callbacks. */
	while (p->finished != NULL) {
		struct job *j = p->finished;
		p->finished = j->dnext;
		event_free(j->done_ev);
		j->done(j->arg);
		free(j);
	}
	free(p->threads);
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

void
net_jobs_submit(struct net_jobs *p, struct event_base *base, net_job_fn *work, net_job_fn *done,
                void *arg)
{
	struct job *j = xcalloc(1, sizeof(*j));

	j->pool = p;
	j->work = work;
	j->done = done;
	j->arg = arg;
	j->done_ev = event_new(base, -1, 0, job_done_cb, j);
	pthread_mutex_lock(&p->lock);
	if (p->tail != NULL)
		p->tail->next = j;
	else
		p->head = j;
	p->tail = j;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
}
