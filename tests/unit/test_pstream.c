/*
 * test_pstream - the ordered parallel map over a stream (util/pstream.c):
 * every item worked once, done in push order and only once worked, never
 * more than max_items or max_bytes between a push and its done() (an item
 * larger than max_bytes alone), on any number of threads including none.
 */
#include <pthread.h>
#include <sched.h>
#include "unit.h"
#include "util/pstream.h"

#define N 20000

struct item {
	size_t i;
	size_t bytes;
	long worked;
	long result;
};

struct run {
	size_t max_items, max_bytes;
	size_t pushed;       /* by the caller */
	size_t next_done;    /* the item done() expects next */
	size_t held, held_bytes; /* pushed and not done (the caller's count) */
	int out_of_order, too_many, too_much, worked_twice, not_worked;
	pthread_mutex_t lock;
	struct item items[N];
};

static size_t bytes_of(size_t i)
{
	/* Mostly small, now and then larger than the whole bound. */
	return i % 1000 == 999 ? 1 << 20 : (i * 7919) % 5000;
}

static void work(void *arg, void *p)
{
	struct run *r = arg;
	struct item *it = p;

	pthread_mutex_lock(&r->lock);
	if (it->worked++)
		r->worked_twice = 1;
	pthread_mutex_unlock(&r->lock);
	if (it->i % 97 == 0)
		sched_yield();
	it->result = (long)it->i * 3 + 1;
}

static void done(void *arg, void *p)
{
	struct run *r = arg;
	struct item *it = p;

	if (it->i != r->next_done)
		r->out_of_order = 1;
	if (it->result != (long)it->i * 3 + 1)
		r->not_worked = 1;
	r->next_done = it->i + 1;
	r->held--;
	r->held_bytes -= it->bytes;
}

static void check_run(size_t n, unsigned workers, size_t max_items, size_t max_bytes)
{
	static struct run r;
	struct pstream *ps;
	size_t i;

	memset(&r, 0, sizeof(r));
	pthread_mutex_init(&r.lock, NULL);
	r.max_items = max_items;
	r.max_bytes = max_bytes;
	ps = pstream_start(workers, max_items, max_bytes, work, done, &r);
	for (i = 0; i < n; i++) {
		struct item *it = &r.items[i];

		it->i = i;
		it->bytes = bytes_of(i);
		r.held++;
		r.held_bytes += it->bytes;
		pstream_push(ps, it, it->bytes);
		/* Right after a push, what is held includes the item pushed. */
		if (r.held > max_items)
			r.too_many = 1;
		if (r.held > 1 && r.held_bytes > max_bytes)
			r.too_much = 1;
	}
	pstream_finish(ps);
	CHECK_INT(r.next_done, n);
	CHECK_INT(r.held, 0);
	CHECK(!r.out_of_order);
	CHECK(!r.not_worked);
	CHECK(!r.worked_twice);
	CHECK(!r.too_many);
	CHECK(!r.too_much);
	for (i = 0; i < n; i++)
		if (r.items[i].worked != 1) {
			fprintf(stderr, "  n=%zu workers=%u: item %zu worked %ld times\n", n, workers,
				i, r.items[i].worked);
			CHECK(0);
			break;
		}
	pthread_mutex_destroy(&r.lock);
}

TEST(threads_in_order)
{
	check_run(N, 1, 64, 100000);
	check_run(N, 2, 256, 1 << 20);
	check_run(N, 4, 1, 1 << 30);
	check_run(N, 16, 7, 8000);
}

TEST(no_threads_and_small)
{
	check_run(N, 0, 64, 100000);
	check_run(0, 2, 64, 100000);
	check_run(1, 2, 64, 100000);
	check_run(2, 3, 1, 0);
}

UNIT_MAIN(T(threads_in_order), T(no_threads_and_small))
