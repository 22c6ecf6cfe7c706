#ifndef SUPERVISE_H
#define SUPERVISE_H
#include "spool.h"

/*
 * A stage's run in a child process, so that one input that crashes the
 * parser, hangs, or exhausts memory or stack ends in rejected/ with its
 * reason while the stage goes on with the next input, as Postfix keeps
 * its parsers in processes of their own.
 *
 * The supervisor (the stage's own process) takes the stage's lock, forks
 * a worker with a memory limit and runs the stage in it. The worker names
 * the input it is working on with inflight_begin() before any library
 * sees the input's bytes, and inflight_end() before the commit that
 * finishes it; a per-input timer runs in between. When the worker dies (a
 * signal, the timer, out of memory) while an input is named, the
 * supervisor moves that input to rejected/ ("the parser crashed (signal
 * 11)", "over the memory limit", "took over 60 s"), prints and audits the
 * rejection, and starts a new worker, which takes up the other inputs as
 * after a crash. A worker that dies with no input named stops the stage
 * (70).
 *
 * The name is kept in work/inflight/STAGE (claimed path, original path,
 * deaths, start), written without fsync: it only has to outlive the
 * worker; the supervisor touches it once a second while the worker runs.
 * When the supervisor itself was killed (kill -9, power loss) the next
 * run finds it: a death counts when the input was held through such a
 * heartbeat, and an input that three runs in a row died holding goes to
 * rejected/ ("three runs died while processing it; submit it again").
 * Stages take such claims up again after the inputs that arrived since.
 */

struct supervise_limits {
	unsigned long mem_mib;  /* address space for data (RLIMIT_DATA), MiB */
	unsigned seconds;       /* per input */
	/*
	 * The stage works on several inputs at once and names none of them
	 * (intake's parsing threads): a worker that dies with no input named
	 * is followed by one in serial mode (supervise_serial()), which works
	 * on one input at a time and names it.
	 */
	int serial_retry;
};

/*
 * Run fn(arg) in workers under lim, as described above, for the stage
 * named stage (its lock, lock/STAGE, is held meanwhile: the worker's own
 * spool_lock() of that name shares it). Returns the last worker's exit
 * code, or 70 when a worker died with no input named.
 */
int supervise(const struct spool *sp, const char *stage, const struct supervise_limits *lim,
	      int (*fn)(void *arg), void *arg);

/*
 * In the worker: the input now being worked on, at `claimed` (spool
 * relative; where the supervisor finds it) and known to users as `from`
 * (the path printed in "rejected FROM: …"). seconds 0: the stage's limit.
 * Outside a supervised run these do nothing.
 */
void inflight_begin(const char *claimed, const char *from, unsigned seconds);
void inflight_end(void);

/*
 * For the tests: where a worker parses an input it does not name (in
 * intake's parsing threads), the fault MIMAMORI_TEST_FAULT asks for
 * (supervise.c); inflight_begin() does the same for the inputs it names.
 */
void supervise_test_fault(const char *from);

/* Whether this process is a supervised worker. */
int supervised(void);
/* Whether this worker must take one input at a time and name it. */
int supervise_serial(void);

#endif
