/*
 * pmap - an ordered parallel map; see pmap.h.
 *
 * One mutex guards the counters; `ready` wakes the caller when an item is
 * finished, `room` wakes the workers when the caller has consumed one.
 * A caller waiting for an item takes the next one itself instead of
 * sleeping, so no processor idles while work is there to take.
 */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>
#include "pmap.h"
#include "xalloc.h"

#define PMAP_MAX_WORKERS 16

struct pmap {
	pthread_mutex_t lock;
	pthread_cond_t ready, room;
	size_t n, window;
	size_t next;          /* the first item no worker has taken */
	size_t consumed;      /* items the caller is done with */
	unsigned char *finished;
	pmap_fn *work;
	void *arg;
};

/* Take the next item within the window, if any (under the lock). */
static int take(struct pmap *pm, size_t *i)
{
	if (pm->next >= pm->n || pm->next >= pm->consumed + pm->window)
		return 0;
	*i = pm->next++;
	return 1;
}

/* Work item i outside the lock, then mark it finished (under it again). */
static void work_one(struct pmap *pm, size_t i)
{
	pthread_mutex_unlock(&pm->lock);
	pm->work(pm->arg, i);
	pthread_mutex_lock(&pm->lock);
	pm->finished[i] = 1;
	pthread_cond_signal(&pm->ready);
}

static void *worker(void *p)
{
	struct pmap *pm = p;
	size_t i;

	pthread_setname_np(pthread_self(), "mimamori-pmap");
	pthread_mutex_lock(&pm->lock);
	while (pm->next < pm->n) {
		if (take(pm, &i))
			work_one(pm, i);
		else
			pthread_cond_wait(&pm->room, &pm->lock);
	}
	pthread_mutex_unlock(&pm->lock);
	return NULL;
}

void pmap_run(size_t n, unsigned workers, size_t window, pmap_fn *work, pmap_fn *done,
	      void *arg)
{
	struct pmap pm;
	pthread_t tid[PMAP_MAX_WORKERS];
	unsigned started = 0, t;
	size_t i;

	if (workers > PMAP_MAX_WORKERS)
		workers = PMAP_MAX_WORKERS;
	if (window < 1)
		window = 1;
	if (n < 2)
		workers = 0;
	pm.n = n;
	pm.window = window;
	pm.next = pm.consumed = 0;
	pm.work = work;
	pm.arg = arg;
	pm.finished = workers ? xcalloc(n, 1) : NULL;
	pthread_mutex_init(&pm.lock, NULL);
	pthread_cond_init(&pm.ready, NULL);
	pthread_cond_init(&pm.room, NULL);
	for (t = 0; t < workers; t++)
		if (pthread_create(&tid[started], NULL, worker, &pm) == 0)
			started++;
	if (!started) {
		for (i = 0; i < n; i++) {
			work(arg, i);
			done(arg, i);
		}
	} else {
		for (i = 0; i < n; i++) {
			size_t j;

			pthread_mutex_lock(&pm.lock);
			while (!pm.finished[i]) {
				if (take(&pm, &j))
					work_one(&pm, j);
				else
					pthread_cond_wait(&pm.ready, &pm.lock);
			}
			pthread_mutex_unlock(&pm.lock);
			done(arg, i);
			pthread_mutex_lock(&pm.lock);
			pm.consumed = i + 1;
			pthread_cond_broadcast(&pm.room);
			pthread_mutex_unlock(&pm.lock);
		}
		for (t = 0; t < started; t++)
			pthread_join(tid[t], NULL);
	}
	pthread_cond_destroy(&pm.room);
	pthread_cond_destroy(&pm.ready);
	pthread_mutex_destroy(&pm.lock);
	free(pm.finished);
}

unsigned pmap_workers(unsigned max)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		n = 1;
	return n < (long)max ? (unsigned)n : max;
}
