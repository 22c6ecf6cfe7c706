/*
 * pmap - an ordered parallel map; see pmap.h.
 *
 * One mutex guards the counters; `ready` wakes the caller when an item is
 * finished, `room` wakes the workers when the caller has consumed items
 * (every ROOM_EVERY, and the last) or handed them items to release.
 * A caller waiting for an item takes the next one itself instead of
 * sleeping, so no processor idles while work is there to take.
 *
 * Each worker has a list of the items it worked that the caller is done
 * with (threaded through rel_next[]), which it releases before taking
 * more work and before it leaves; it leaves once every item is done.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include "pmap.h"
#include "xalloc.h"

#define PMAP_MAX_WORKERS 16
#define NONE SIZE_MAX
/* Items consumed between wake-ups of the workers. */
#define ROOM_EVERY 8

struct pmap {
	pthread_mutex_t lock;
	pthread_cond_t ready, room;
	size_t n, window;
	size_t next;          /* the first item no worker has taken */
	size_t consumed;      /* items the caller is done with */
	unsigned char *finished;
	unsigned char *who;   /* who worked each item: 0 the caller, t + 1 worker t */
	size_t *rel_next;     /* the workers' lists of items to release */
	size_t rel_head[PMAP_MAX_WORKERS];
	pmap_fn *work, *release;
	void *arg;
};

struct worker {
	struct pmap *pm;
	unsigned index;
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
static void work_one(struct pmap *pm, size_t i, unsigned who)
{
	pm->who[i] = (unsigned char)who;
	pthread_mutex_unlock(&pm->lock);
	pm->work(pm->arg, i);
	pthread_mutex_lock(&pm->lock);
	pm->finished[i] = 1;
	pthread_cond_signal(&pm->ready);
}

/* Release the items on worker t's list, outside the lock. */
static void release_list(struct pmap *pm, unsigned t)
{
	size_t j = pm->rel_head[t], next;

	pm->rel_head[t] = NONE;
	pthread_mutex_unlock(&pm->lock);
	for (; j != NONE; j = next) {
		next = pm->rel_next[j];
		pm->release(pm->arg, j);
	}
	pthread_mutex_lock(&pm->lock);
}

static void *worker(void *p)
{
	struct worker *w = p;
	struct pmap *pm = w->pm;
	size_t i;

	pthread_setname_np(pthread_self(), "mimamori-pmap");
	pthread_mutex_lock(&pm->lock);
	for (;;) {
		if (pm->rel_head[w->index] != NONE)
			release_list(pm, w->index);
		else if (take(pm, &i))
			work_one(pm, i, w->index + 1);
		else if (pm->consumed >= pm->n || (!pm->release && pm->next >= pm->n))
			break;
		else
			pthread_cond_wait(&pm->room, &pm->lock);
	}
	pthread_mutex_unlock(&pm->lock);
	return NULL;
}

void pmap_run(size_t n, unsigned workers, size_t window, pmap_fn *work, pmap_fn *done,
	      pmap_fn *release, void *arg)
{
	struct pmap pm;
	struct worker w[PMAP_MAX_WORKERS];
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
	pm.release = release;
	pm.arg = arg;
	pm.finished = workers ? xcalloc(n, 1) : NULL;
	pm.who = workers ? xcalloc(n, 1) : NULL;
	pm.rel_next = workers && release ? xcalloc(n, sizeof(*pm.rel_next)) : NULL;
	for (t = 0; t < PMAP_MAX_WORKERS; t++)
		pm.rel_head[t] = NONE;
	pthread_mutex_init(&pm.lock, NULL);
	pthread_cond_init(&pm.ready, NULL);
	pthread_cond_init(&pm.room, NULL);
	for (t = 0; t < workers; t++) {
		w[started].pm = &pm;
		w[started].index = started;
		if (pthread_create(&tid[started], NULL, worker, &w[started]) == 0)
			started++;
	}
	if (!started) {
		for (i = 0; i < n; i++) {
			work(arg, i);
			done(arg, i);
			if (release)
				release(arg, i);
		}
	} else {
		for (i = 0; i < n; i++) {
			size_t j;
			int mine;

			pthread_mutex_lock(&pm.lock);
			while (!pm.finished[i]) {
				if (take(&pm, &j))
					work_one(&pm, j, 0);
				else
					pthread_cond_wait(&pm.ready, &pm.lock);
			}
			pthread_mutex_unlock(&pm.lock);
			done(arg, i);
			pthread_mutex_lock(&pm.lock);
			pm.consumed = i + 1;
			mine = !pm.who[i];
			if (release && !mine) {
				t = pm.who[i] - 1;
				pm.rel_next[i] = pm.rel_head[t];
				pm.rel_head[t] = i;
			}
			if ((i + 1) % ROOM_EVERY == 0 || i + 1 == n)
				pthread_cond_broadcast(&pm.room);
			pthread_mutex_unlock(&pm.lock);
			if (release && mine)
				release(arg, i);
		}
		for (t = 0; t < started; t++)
			pthread_join(tid[t], NULL);
	}
	pthread_cond_destroy(&pm.room);
	pthread_cond_destroy(&pm.ready);
	pthread_mutex_destroy(&pm.lock);
	free(pm.finished);
	free(pm.who);
	free(pm.rel_next);
}

unsigned pmap_workers(unsigned max)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		n = 1;
	return n < (long)max ? (unsigned)n : max;
}
