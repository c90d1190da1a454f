/*
 * The store's one worker queue: a ring of jobs and the threads that
 * take them in turn. What a job is, and what its result is, is the
 * caller's: taking a snapshot stores chunks with it, reading one
 * decodes them.
 */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "store-internal.h"

struct store_work {
	pthread_mutex_t mu;
	pthread_cond_t work, room;
	void **q;		/* a ring of depth */
	size_t depth, head, n;
	int closing;
	const struct store_work_ops *ops;
	void *data;
	pthread_t th[MAX_THREADS];
	size_t nth;
};

/* One a core, or MIG_THREADS (for tests and measuring); at most MAX_THREADS. */
size_t store_nthreads(void)
{
	const char *e = getenv("MIG_THREADS");
	char *end;
	long n = e && *e ? strtol(e, &end, 10) : 0;

	if (!e || !*e || *end || n < 1)
		n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : (size_t)n;
}

static void *worker(void *arg)
{
	struct store_work *w = arg;
	void *state = w->ops->init ? w->ops->init(w->data) : NULL;

	for (;;) {
		void *job;

		pthread_mutex_lock(&w->mu);
		while (!w->n && !w->closing)
			pthread_cond_wait(&w->work, &w->mu);
		if (!w->n) {
			pthread_mutex_unlock(&w->mu);
			break;
		}
		job = w->q[w->head];
		w->head = (w->head + 1) % w->depth;
		w->n--;
		pthread_cond_signal(&w->room);
		pthread_mutex_unlock(&w->mu);
		w->ops->run(w->data, state, job);
	}
	if (w->ops->fini)
		w->ops->fini(state);
	return NULL;
}

int store_work_start(struct store_work **out, const struct store_work_ops *ops, void *data, size_t depth,
		     struct mig_err *err)
{
	struct store_work *w = mig_xcalloc(1, sizeof(*w));
	size_t i, n = store_nthreads();

	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->work, NULL);
	pthread_cond_init(&w->room, NULL);
	w->depth = depth ? depth : 1;
	w->q = mig_xcalloc(w->depth, sizeof(*w->q));
	w->ops = ops;
	w->data = data;
	for (i = 0; i < n; i++)
		if (pthread_create(&w->th[i], NULL, worker, w) != 0)
			break;
	w->nth = i;
	if (!w->nth) {
		store_work_finish(w);
		*out = NULL;
		return mig_err_set(err, MIG_EENV, "cannot start a thread");
	}
	*out = w;
	return 0;
}

void store_work_push(struct store_work *w, void *job)
{
	pthread_mutex_lock(&w->mu);
	while (w->n == w->depth)
		pthread_cond_wait(&w->room, &w->mu);
	w->q[(w->head + w->n) % w->depth] = job;
	w->n++;
	pthread_cond_signal(&w->work);
	pthread_mutex_unlock(&w->mu);
}

void store_work_finish(struct store_work *w)
{
	size_t i;

	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->closing = 1;
	pthread_cond_broadcast(&w->work);
	pthread_mutex_unlock(&w->mu);
	for (i = 0; i < w->nth; i++)
		pthread_join(w->th[i], NULL);
	free(w->q);
	pthread_cond_destroy(&w->work);
	pthread_cond_destroy(&w->room);
	pthread_mutex_destroy(&w->mu);
	free(w);
}
