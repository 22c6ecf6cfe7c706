#ifndef PSTREAM_H
#define PSTREAM_H
#include <stddef.h>

/*
 * An ordered parallel map over a stream, for items whose number is not
 * known beforehand (util/pmap.h needs it): the caller hands the items in
 * one at a time with pstream_push(); worker threads run work(arg, item)
 * on them, in any order; the caller runs done(arg, item) on each, in the
 * order they were pushed, as soon as its work is finished. So the work of
 * later items (parsing, say) overlaps both the producing of the next ones
 * (reading them) and the done() of earlier ones (applying them in order).
 *
 * The items between pstream_push() and their done() are bounded: at most
 * max_items of them, holding at most max_bytes together (each push says
 * how many bytes its item holds; one larger than max_bytes goes alone). A
 * push waits while there is no room, so memory stays bounded whatever the
 * stream.
 *
 * work() runs on the worker threads, and on the caller's thread too while
 * it waits for room or for an item: it may touch only its item and what is
 * read-only while the stream runs, and must not end the thread. done()
 * runs on the caller's thread only, inside pstream_push() and
 * pstream_finish(). With workers == 0, or when no thread can be started,
 * each push works its item and does it at once.
 */
typedef void pstream_fn(void *arg, void *item);

struct pstream;
struct pstream *pstream_start(unsigned workers, size_t max_items, size_t max_bytes,
			      pstream_fn *work, pstream_fn *done, void *arg);
void pstream_push(struct pstream *ps, void *item, size_t bytes);
/* done() every item left, in order; then the threads end and ps is freed. */
void pstream_finish(struct pstream *ps);

#endif
