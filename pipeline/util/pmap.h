#ifndef PMAP_H
#define PMAP_H
#include <stddef.h>

/*
 * An ordered parallel map: worker threads run work(arg, i) for every i in
 * [0, n), in any order and at most `window` items ahead of the caller,
 * while the caller runs done(arg, i) for i = 0, 1, ... n - 1, each as soon
 * as its work is finished. So the work of later items (parsing, say)
 * overlaps the done() of earlier ones (applying them in order), and no
 * more than `window` items are ever held between the two.
 *
 * work() runs on the worker threads, and on the calling thread too while
 * it waits for an item: it may touch only item i and what is read-only
 * during the map. done() runs on the calling thread. release(arg, i), if
 * not NULL, runs after done(arg, i), on the thread that ran work(arg, i):
 * memory work() allocated is best freed there (it goes back to that
 * thread's malloc arena without contending for it). With workers == 0,
 * or when no thread can be started, everything runs on the calling
 * thread, in order.
 */
typedef void pmap_fn(void *arg, size_t i);

void pmap_run(size_t n, unsigned workers, size_t window, pmap_fn *work, pmap_fn *done,
	      pmap_fn *release, void *arg);

/* Worker threads worth starting here: the online processors, 1 to max. */
unsigned pmap_workers(unsigned max);

#endif
