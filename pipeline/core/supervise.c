/*
 * supervise - a stage's run in a worker process with limits; the input a
 * dead worker held goes to rejected/ and the stage goes on (supervise.h).
 *
 * Reads and writes work/inflight/STAGE (the input a worker is on) and,
 * for a dead worker's input, rejected/ and the audit log.
 *
 * SECURITY: the worker parses hostile input (mail, bundles, documents);
 * this file trusts nothing the worker leaves but the in-flight note, and
 * checks that the path it names is a claim in the stage's own folder.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>
#include "supervise.h"
#include "audit.h"
#include "../util/fileio.h"
#include "../util/msg.h"
#include "../util/strbuf.h"
#include "../util/xalloc.h"

#define DEATHS_MAX    3
/* A worker that exits with this code ran out of memory (util/xalloc.c). */
#define EXIT_NOMEM    EX_OSERR

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

/* The worker's side. */
static struct {
	int active;
	const struct spool *sp;
	const char *stage;
	unsigned seconds;
	char *suspect;       /* claim a killed run held, and how often */
	int suspect_deaths;
	int named;
	int serial;
} w;

int supervised(void)
{
	return w.active;
}

int supervise_serial(void)
{
	return w.serial;
}

static char *inflight_path(const struct spool *sp, const char *stage)
{
	struct strbuf rel = STRBUF_INIT;
	char *path;

	strbuf_addf(&rel, SPOOL_WORK_INFLIGHT "/%s", stage);
	path = spool_path(sp, rel.buf);
	strbuf_release(&rel);
	return path;
}

/* Replace the note (tmp + rename: never half written); NULL removes it. */
static void note_write(const struct spool *sp, const char *stage, const char *text)
{
	char *path = inflight_path(sp, stage);
	struct strbuf tmp = STRBUF_INIT;
	int fd;

	if (!text) {
		unlink(path);
		free(path);
		return;
	}
	strbuf_addf(&tmp, "%s.%ld", path, (long)getpid());
	fd = open(tmp.buf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd >= 0) {
		if (write_full(fd, text, strlen(text)) < 0 || close(fd) < 0 ||
		    rename(tmp.buf, path) < 0)
			unlink(tmp.buf);
	}
	strbuf_release(&tmp);
	free(path);
}

/*
 * For the tests, as git's GIT_TEST_* variables: MIMAMORI_TEST_FAULT=
 * KIND:NAME[:SECONDS] makes the worker fail on the input whose path ends
 * in NAME the way a hostile input would make a library fail: segv (a
 * crash), hang (SECONDS becomes the time limit), nomem (allocating until
 * the memory limit stops it). Nothing else reads it.
 */
static void test_fault(const char *from, unsigned *seconds)
{
	if (!w.active)
		return;
	const char *env = getenv("MIMAMORI_TEST_FAULT"), *name, *end;
	size_t len, flen = strlen(from);
	volatile char *p;

	if (!env || !(name = strchr(env, ':')))
		return;
	name++;
	end = strchr(name, ':');
	len = end ? (size_t)(end - name) : strlen(name);
	if (!len || flen < len || memcmp(from + flen - len, name, len))
		return;
	if (!strncmp(env, "segv:", 5)) {
		/* The kernel's action, not a sanitizer's handler. */
		signal(SIGSEGV, SIG_DFL);
		raise(SIGSEGV);
	} else if (!strncmp(env, "hang:", 5)) {
		if (end)
			*seconds = (unsigned)atoi(end + 1);
		alarm(*seconds);
		for (;;)
			pause();
	} else if (!strncmp(env, "nomem:", 6)) {
		for (;;) {
			p = xmalloc(1 << 20);
			memset((char *)p, 1, 1 << 20);
		}
	}
}

void supervise_test_fault(const char *from)
{
	unsigned seconds = w.seconds;

	test_fault(from, &seconds);
}

void inflight_begin(const char *claimed, const char *from, unsigned seconds)
{
	struct strbuf text = STRBUF_INIT;
	int deaths = 0;

	if (!w.active)
		return;
	if (w.suspect && !strcmp(w.suspect, claimed))
		deaths = w.suspect_deaths;
	strbuf_addf(&text, "%s\t%s\t%d\t%lld\n", claimed, from, deaths, (long long)time(NULL));
	note_write(w.sp, w.stage, text.buf);
	strbuf_release(&text);
	w.named = 1;
	if (!seconds)
		seconds = w.seconds;
	test_fault(from, &seconds);
	alarm(seconds);
}

void inflight_end(void)
{
	if (!w.active || !w.named)
		return;
	alarm(0);
	note_write(w.sp, w.stage, NULL);
	w.named = 0;
}

/* The supervisor's side. */
struct note {
	char *claimed, *from;
	int deaths;
	int held;   /* held a heartbeat or more when its run died */
};

static void note_release(struct note *n)
{
	free(n->claimed);
	free(n->from);
	memset(n, 0, sizeof(*n));
}

/*
 * Read the note; 1 when there is one naming a claim of this stage that
 * still exists, 0 when there is none (a note naming anything else is
 * dropped: only claims in work/STAGE/ are ever moved).
 */
static int note_read(const struct spool *sp, const char *stage, struct note *n)
{
	char *path = inflight_path(sp, stage), *tab1, *tab2, *tab3, *nl;
	struct strbuf text = STRBUF_INIT, prefix = STRBUF_INIT;
	struct stat st;
	int fd, ret = 0;

	memset(n, 0, sizeof(*n));
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		goto out;
	if (fstat(fd, &st) < 0 || strbuf_read_fd(&text, fd, 8192) < 0) {
		close(fd);
		goto out;
	}
	close(fd);
	tab1 = strchr(text.buf, '\t');
	tab2 = tab1 ? strchr(tab1 + 1, '\t') : NULL;
	tab3 = tab2 ? strchr(tab2 + 1, '\t') : NULL;
	nl = tab3 ? strchr(tab3 + 1, '\n') : NULL;
	if (!nl)
		goto out;
	*tab1 = *tab2 = *tab3 = *nl = '\0';
	/* The supervisor's heartbeat moved the note's time past its start. */
	n->held = st.st_mtime > (time_t)atoll(tab3 + 1);
	strbuf_addf(&prefix, SPOOL_WORK "/%s/", stage);
	if (strncmp(text.buf, prefix.buf, prefix.len) || strstr(text.buf, "..") ||
	    strchr(text.buf + prefix.len, '/') || !spool_exists(sp, text.buf))
		goto out;
	n->claimed = xstrdup(text.buf);
	n->from = xstrdup(tab1 + 1);
	n->deaths = atoi(tab2 + 1);
	ret = 1;
out:
	if (!ret)
		unlink(path);
	strbuf_release(&text);
	strbuf_release(&prefix);
	free(path);
	return ret;
}

/*
 * While a worker runs, its supervisor touches the note once a second: a
 * note whose time is past its start was held through a heartbeat. Only
 * such a note counts a death when the whole stage is killed, so that the
 * kills of an operator or a crash test in the first moments of an input
 * never reject it; an input that keeps a stage busy until it is killed
 * does.
 */
static void heartbeat(const struct spool *sp, const char *stage)
{
	char *path = inflight_path(sp, stage);

	utimensat(AT_FDCWD, path, NULL, AT_SYMLINK_NOFOLLOW);
	free(path);
}

/* Wait for the worker, beating the heart meanwhile; its status. */
static int wait_worker(const struct spool *sp, const char *stage, pid_t pid,
		       const sigset_t *chld, int *status)
{
	struct timespec second = { 1, 0 };
	pid_t r;

	for (;;) {
		r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR)
			return error_errno("cannot wait for the %s worker", stage);
		if (sigtimedwait(chld, NULL, &second) < 0 && errno == EAGAIN)
			heartbeat(sp, stage);
	}
}

/* Move the noted input to rejected/ with why; print and audit it. */
static int reject_noted(const struct spool *sp, const char *stage, const struct note *n,
			const char *why)
{
	const char *name = strrchr(n->from, '/');
	struct strbuf as = STRBUF_INIT;

	name = name ? name + 1 : n->from;
	if (spool_reject(sp, n->claimed, name, why, &as) < 0) {
		strbuf_release(&as);
		return -1;
	}
	note_write(sp, stage, NULL);
	printf("rejected %s: %s\n", n->from, why);
	fflush(stdout);
	audit_begin(sp, stage);
	audit_add("reject", "input=%s rejected=" SPOOL_REJECTED "/%s reason=worker-died",
		  n->from, as.buf);
	strbuf_release(&as);
	return audit_flush();
}

/* Why a worker that ended with status died, in words; NULL when it did not. */
static const char *death_reason(int status, struct strbuf *buf)
{
	if (WIFEXITED(status)) {
		if (WEXITSTATUS(status) == EXIT_NOMEM)
			return "over the memory limit";
		return NULL;
	}
	if (!WIFSIGNALED(status))
		return NULL;
	switch (WTERMSIG(status)) {
	case SIGALRM:
		return NULL;    /* said by the caller, who knows the limit */
	case SIGXCPU:
		return "over the processor time limit";
	default:
		strbuf_addf(buf, "the parser crashed (signal %d)", WTERMSIG(status));
		return buf->buf;
	}
}

static void worker_limits(const struct supervise_limits *lim)
{
	struct rlimit rl;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() == 1)
		_exit(EX_TEMPFAIL);
	/* A line printed for a finished input must not die in a buffer. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGALRM, SIG_DFL);
	if (!SANITIZED && lim->mem_mib) {
		rl.rlim_cur = rl.rlim_max = (rlim_t)lim->mem_mib << 20;
		setrlimit(RLIMIT_DATA, &rl);
	}
	xalloc_set_nomem_exit(EXIT_NOMEM);
}

int supervise(const struct spool *sp, const char *stage, const struct supervise_limits *lim,
	      int (*fn)(void *arg), void *arg)
{
	struct note n;
	struct strbuf buf = STRBUF_INIT;
	unsigned seconds = lim->seconds * (SANITIZED ? 10 : 1);
	char *dir;
	int lock, status, serial = 0, ret = EX_SOFTWARE;
	sigset_t chld, oldmask;
	pid_t pid;

	dir = spool_path(sp, SPOOL_WORK_INFLIGHT);
	if (mkdir_p(dir, 0700) < 0) {
		error_errno("cannot create '%s'", SPOOL_WORK_INFLIGHT);
		free(dir);
		return EX_IOERR;
	}
	free(dir);
	lock = spool_lock(sp, stage);
	if (lock < 0)
		return EX_IOERR;
	spool_lock_share(stage, lock);

	/* A note left by a run that was killed whole. */
	memset(&n, 0, sizeof(n));
	if (note_read(sp, stage, &n)) {
		/* Named only in serial mode: go on in it to name it again. */
		serial = lim->serial_retry;
		if (n.held && ++n.deaths >= DEATHS_MAX) {
			if (reject_noted(sp, stage, &n, "three runs died while processing it; "
					 "submit it again") < 0) {
				ret = EX_IOERR;
				goto out;
			}
			note_release(&n);
		}
	}

	for (;;) {
		const char *why;

		fflush(NULL);
		sigemptyset(&chld);
		sigaddset(&chld, SIGCHLD);
		sigprocmask(SIG_BLOCK, &chld, &oldmask);
		pid = fork();
		if (pid < 0) {
			error_errno("cannot start a worker for %s", stage);
			sigprocmask(SIG_SETMASK, &oldmask, NULL);
			goto out;
		}
		if (pid == 0) {
			sigprocmask(SIG_SETMASK, &oldmask, NULL);
			worker_limits(lim);
			w.active = 1;
			w.sp = sp;
			w.stage = stage;
			w.seconds = seconds;
			w.suspect = n.claimed;
			w.suspect_deaths = n.deaths;
			w.serial = serial;
			exit(fn(arg));
		}
		if (wait_worker(sp, stage, pid, &chld, &status) < 0) {
			sigprocmask(SIG_SETMASK, &oldmask, NULL);
			goto out;
		}
		sigprocmask(SIG_SETMASK, &oldmask, NULL);
		strbuf_reset(&buf);
		why = death_reason(status, &buf);
		if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM) {
			strbuf_addf(&buf, "took over %u s", seconds);
			why = buf.buf;
		}
		if (!why) {
			/* Finished (or failed as a whole): the note is stale. */
			note_release(&n);
			if (note_read(sp, stage, &n))
				note_write(sp, stage, NULL);
			ret = WIFEXITED(status) ? WEXITSTATUS(status) : EX_SOFTWARE;
			if (ret == EXIT_NOMEM)
				ret = EX_SOFTWARE;
			goto out;
		}
		note_release(&n);
		if (!note_read(sp, stage, &n)) {
			if (lim->serial_retry && !serial) {
				/* Again, one input at a time, to find the one. */
				serial = 1;
				continue;
			}
			error("the %s worker died with no input in hand: %s", stage, why);
			goto out;
		}
		if (reject_noted(sp, stage, &n, why) < 0) {
			ret = EX_IOERR;
			goto out;
		}
		note_release(&n);
	}
out:
	note_release(&n);
	strbuf_release(&buf);
	spool_lock_share(NULL, -1);
	spool_unlock(lock);
	return ret;
}
