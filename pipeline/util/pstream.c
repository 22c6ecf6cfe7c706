/*
 * pstream - an ordered parallel map over a stream; see pstream.h.
 *
 * The items live in a ring of max_items slots, between three counters:
 * [head, next) were taken by a thread (worked or being worked), [next,
 * tail) wait for one; head is the next item done() gets. One mutex
 * guards the ring and the counters; `queued` wakes the workers when items
 * are pushed (or at the end), `worked` wakes the caller when it waits for
 * an item to be worked. A caller waiting for room or for the head
 * takes the next item itself rather than sleep, so no processor idles
 * while there is work to take.
 *
 * A slot is reused only once its item is done, and an item is done only
 * once worked: a thread working an item may touch its slot outside the
 * lock.
 */
#include <pthread.h>
#include <stdlib.h>
#include "pstream.h"
#include "xalloc.h"

#define PSTREAM_MAX_WORKERS 16
/* Items waiting before an idle worker is woken. */
#define WAKE_EVERY 8

struct slot {
	void *item;
	size_t bytes;
	int worked;
};

struct pstream {
	pthread_mutex_t lock;
	pthread_cond_t queued, worked;
	struct slot *ring;
	size_t max_items, max_bytes;
	size_t head, next, tail;   /* counters; the slot of item i is ring[i % max_items] */
	size_t bytes;              /* held by the items pushed and not done */
	int ending;                /* pstream_finish(): the workers leave */
	int caller_waits;          /* for `worked` */
	unsigned idle;             /* workers waiting for `queued` */
	size_t wake_every;         /* WAKE_EVERY, or max_items when fewer */
	pstream_fn *work, *done;
	void *arg;
	unsigned nr_threads;
	pthread_t tid[PSTREAM_MAX_WORKERS];
};

static struct slot *slot(struct pstream *ps, size_t i)
{
	return &ps->ring[i % ps->max_items];
}

/* Work the next item outside the lock (called and returning with it held). */
static void work_next(struct pstream *ps)
{
	struct slot *s = slot(ps, ps->next++);

	pthread_mutex_unlock(&ps->lock);
	ps->work(ps->arg, s->item);
	pthread_mutex_lock(&ps->lock);
	s->worked = 1;
	if (ps->caller_waits)
		pthread_cond_signal(&ps->worked);
}

/* done() the head, which is worked, outside the lock (held on both sides). */
static void done_head(struct pstream *ps)
{
	struct slot *s = slot(ps, ps->head++);
	void *item = s->item;

	ps->bytes -= s->bytes;
	pthread_mutex_unlock(&ps->lock);
	ps->done(ps->arg, item);
	pthread_mutex_lock(&ps->lock);
}

/* The caller, waiting (under the lock): do the head, else work, else sleep. */
static void wait_step(struct pstream *ps)
{
	if (slot(ps, ps->head)->worked) {
		done_head(ps);
	} else if (ps->next < ps->tail) {
		work_next(ps);
	} else {
		ps->caller_waits = 1;
		pthread_cond_wait(&ps->worked, &ps->lock);
		ps->caller_waits = 0;
	}
}

static void *worker(void *p)
{
	struct pstream *ps = p;

	pthread_setname_np(pthread_self(), "mimamori-pstream");
	pthread_mutex_lock(&ps->lock);
	for (;;) {
		if (ps->next < ps->tail)
			work_next(ps);
		else if (ps->ending)
			break;
		else {
			ps->idle++;
			pthread_cond_wait(&ps->queued, &ps->lock);
			ps->idle--;
		}
	}
	pthread_mutex_unlock(&ps->lock);
	return NULL;
}

struct pstream *pstream_start(unsigned workers, size_t max_items, size_t max_bytes,
			      pstream_fn *work, pstream_fn *done, void *arg)
{
	struct pstream *ps = xcalloc(1, sizeof(*ps));
	unsigned t;

	ps->max_items = max_items ? max_items : 1;
	ps->wake_every = ps->max_items < WAKE_EVERY ? ps->max_items : WAKE_EVERY;
	ps->max_bytes = max_bytes;
	ps->work = work;
	ps->done = done;
	ps->arg = arg;
	if (workers > PSTREAM_MAX_WORKERS)
		workers = PSTREAM_MAX_WORKERS;
	if (!workers)
		return ps;
	ps->ring = xcalloc(ps->max_items, sizeof(*ps->ring));
	pthread_mutex_init(&ps->lock, NULL);
	pthread_cond_init(&ps->queued, NULL);
	pthread_cond_init(&ps->worked, NULL);
	for (t = 0; t < workers; t++)
		if (pthread_create(&ps->tid[ps->nr_threads], NULL, worker, ps) == 0)
			ps->nr_threads++;
	return ps;
}

void pstream_push(struct pstream *ps, void *item, size_t bytes)
{
	struct slot *s;

	if (!ps->nr_threads) {
		ps->work(ps->arg, item);
		ps->done(ps->arg, item);
		return;
	}
	pthread_mutex_lock(&ps->lock);
	while (ps->tail - ps->head == ps->max_items ||
	       (ps->tail > ps->head && ps->bytes + bytes > ps->max_bytes))
		wait_step(ps);
	s = slot(ps, ps->tail++);
	s->item = item;
	s->bytes = bytes;
	s->worked = 0;
	ps->bytes += bytes;
	/*
	 * An idle worker is woken once a few items wait, not at each push
	 * (a wake-up costs more than a small item's work); at once when they
	 * fill half the room. A caller waiting for room works items itself,
	 * and pstream_finish() wakes every worker.
	 */
	if (ps->idle && (ps->tail - ps->next >= ps->wake_every || 2 * ps->bytes >= ps->max_bytes))
		pthread_cond_signal(&ps->queued);
	/* What is worked already is done now, without waiting. */
	while (ps->head < ps->tail && slot(ps, ps->head)->worked)
		done_head(ps);
	pthread_mutex_unlock(&ps->lock);
}

void pstream_finish(struct pstream *ps)
{
	unsigned t;

	if (ps->nr_threads) {
		pthread_mutex_lock(&ps->lock);
		while (ps->head < ps->tail)
			wait_step(ps);
		ps->ending = 1;
		pthread_cond_broadcast(&ps->queued);
		pthread_mutex_unlock(&ps->lock);
		for (t = 0; t < ps->nr_threads; t++)
			pthread_join(ps->tid[t], NULL);
	}
	if (ps->ring) {
		pthread_cond_destroy(&ps->worked);
		pthread_cond_destroy(&ps->queued);
		pthread_mutex_destroy(&ps->lock);
		free(ps->ring);
	}
	free(ps);
}
