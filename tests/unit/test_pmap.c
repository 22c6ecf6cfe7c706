/*
 * test_pmap - the ordered parallel map (util/pmap.c): every item worked
 * once, done in order, never more than the window ahead of the caller,
 * released once after it is done on the thread that worked it, on any
 * number of threads including none.
 */
#include <pthread.h>
#include <sched.h>
#include "unit.h"
#include "util/pmap.h"

#define N 20000

struct run {
	size_t window;
	long worked[N];
	long result[N];
	pthread_t worker_of[N];
	long released[N];
	int release_early, release_elsewhere;
	size_t next_done;   /* the item done() expects next */
	size_t done_count;  /* written by the caller only */
	int out_of_order, beyond_window, worked_twice;
	pthread_mutex_t lock;
};

static void work(void *arg, size_t i)
{
	struct run *r = arg;
	size_t done;

	pthread_mutex_lock(&r->lock);
	done = r->done_count;
	if (r->worked[i]++)
		r->worked_twice = 1;
	r->worker_of[i] = pthread_self();
	pthread_mutex_unlock(&r->lock);
	/* Taken while at most `window` items are between the caller and it. */
	if (i >= done + r->window)
		r->beyond_window = 1;
	if (i % 97 == 0)
		sched_yield();
	r->result[i] = (long)i * 3 + 1;
}

static void done(void *arg, size_t i)
{
	struct run *r = arg;

	if (i != r->next_done || r->result[i] != (long)i * 3 + 1)
		r->out_of_order = 1;
	r->next_done = i + 1;
	pthread_mutex_lock(&r->lock);
	r->done_count = i + 1;
	pthread_mutex_unlock(&r->lock);
}

static void release(void *arg, size_t i)
{
	struct run *r = arg;

	pthread_mutex_lock(&r->lock);
	r->released[i]++;
	if (r->done_count <= i)
		r->release_early = 1;
	if (!pthread_equal(r->worker_of[i], pthread_self()))
		r->release_elsewhere = 1;
	pthread_mutex_unlock(&r->lock);
}

static void check_run_release(size_t n, unsigned workers, size_t window, int with_release)
{
	static struct run r;
	size_t i;

	memset(&r, 0, sizeof(r));
	pthread_mutex_init(&r.lock, NULL);
	r.window = window;
	pmap_run(n, workers, window, work, done, with_release ? release : NULL, &r);
	CHECK_INT(r.next_done, n);
	CHECK(!r.out_of_order);
	CHECK(!r.beyond_window);
	CHECK(!r.worked_twice);
	for (i = 0; i < n; i++)
		if (r.worked[i] != 1) {
			fprintf(stderr, "  n=%zu workers=%u: item %zu worked %ld times\n", n, workers,
				i, r.worked[i]);
			CHECK(0);
			break;
		}
	/* Released once each, after done(), on the thread that worked it. */
	CHECK(!r.release_early);
	CHECK(!r.release_elsewhere);
	for (i = 0; i < n; i++)
		if (r.released[i] != with_release) {
			fprintf(stderr, "  n=%zu workers=%u: item %zu released %ld times\n", n,
				workers, i, r.released[i]);
			CHECK(0);
			break;
		}
	pthread_mutex_destroy(&r.lock);
}

static void check_run(size_t n, unsigned workers, size_t window)
{
	check_run_release(n, workers, window, 1);
	check_run_release(n, workers, window, 0);
}

TEST(threads_in_order)
{
	check_run(N, 2, 64);
	check_run(N, 4, 1);
	check_run(N, 16, 7);
}

TEST(no_threads_and_small)
{
	check_run(N, 0, 64);
	check_run(0, 2, 64);
	check_run(1, 2, 64);
	check_run(2, 3, 1);
}

TEST(workers_count)
{
	CHECK(pmap_workers(4) >= 1 && pmap_workers(4) <= 4);
	CHECK_INT(pmap_workers(1), 1);
}

UNIT_MAIN(T(threads_in_order), T(no_threads_and_small), T(workers_count))
