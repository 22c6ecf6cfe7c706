/*
 * watch - stays running and runs the right stage as soon as a file lands:
 * incoming/ -> intake, import/ -> import, inbox/new -> dispatch and at
 * once deliver, listbox/new -> listmail and at once deliver, queue/env ->
 * deliver. A timer (--interval SECONDS, default 60) runs every stage in
 * `run`'s order, from the one table both use (admin/stages.c): fetch
 * (when <imap> is configured), intake, import, dispatch, listmail,
 * deliver (its retries), expire, export; so does the start. With <imap>, a second IMAP session waits in
 * IDLE and runs fetch as soon as the server says something changed.
 *
 * Reads inotify events on those folders; every stage it runs re-scans its
 * whole folder, so coalesced events lose nothing, and an event queue
 * overflow (IN_Q_OVERFLOW) marks every folder. Where inotify cannot be
 * had, the folders' times are looked at every SCAN_MS instead. Writes nothing itself
 * except the audit log (start, stop) and lock/watch: one watch per spool.
 *
 * Stops with 0 on SIGTERM or SIGINT, after the stage in progress ends:
 * the handler only sets a flag and wakes the poll through a pipe, and
 * stages run with SA_RESTART so no system call of theirs is cut short.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>
#include "../commands.h"
#include "../core/audit.h"
#include "../core/queue.h"
#include "../fetch/fetch.h"
#include "../util/fileio.h"
#include "../util/msg.h"
#include "../util/xalloc.h"

#define DEFAULT_INTERVAL 60
#define SCAN_MS          25    /* without inotify: how often folders are looked at */
#define IDLE_RENEW_MS    (25 * 60 * 1000)  /* RFC 2177: renew IDLE within 29 min */

enum folder { F_INCOMING, F_INBOX, F_IMPORT, F_QUEUE, F_LISTBOX, F_MAX };

static const char *const folder_rel[F_MAX] = {
	[F_INCOMING] = SPOOL_INCOMING,
	[F_INBOX] = SPOOL_INBOX_NEW,
	[F_IMPORT] = SPOOL_IMPORT,
	[F_QUEUE] = SPOOL_QUEUE_ENV,
	[F_LISTBOX] = SPOOL_LISTBOX_NEW,
};

/*
 * The inotify events that mean "a file landed". A Maildir's new/ gets
 * finished files only, by rename or, from Postfix's local and virtual,
 * by link(), which raises IN_CREATE and nothing else; in the other
 * folders a file may be created and then written, so only its rename in
 * or the close after writing counts there.
 */
static uint32_t watch_mask(enum folder f)
{
	uint32_t mask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_ONLYDIR;

	if (f == F_INBOX || f == F_LISTBOX)
		mask |= IN_CREATE;
	return mask;
}

static volatile sig_atomic_t stop_requested;
static int wake_pipe[2] = { -1, -1 };

static void on_signal(int sig)
{
	int saved = errno;
	char c = (char)sig;

	stop_requested = 1;
	if (wake_pipe[1] >= 0 && write(wake_pipe[1], &c, 1) < 0) {
		/* the pipe is full: a wake-up is pending anyway */
	}
	errno = saved;
}

static int setup_signals(void)
{
	struct sigaction sa;

	if (pipe2(wake_pipe, O_NONBLOCK | O_CLOEXEC) < 0)
		return error_errno("cannot create a pipe");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0)
		return error_errno("cannot set signal handlers");
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

struct watch {
	struct context *ctx;
	int ifd;                  /* -1: no inotify, folders are scanned */
	int wd[F_MAX];
	struct timespec mtime[F_MAX], ctime_[F_MAX];
	int dirty[F_MAX];
	int interval;
	struct imap *idle;        /* IMAP session in IDLE, or NULL */
	long idle_started;        /* when the current IDLE began (ms) */
	int idle_off;             /* the server has no IDLE: fetch on the timer only */
};

/* Run one stage as its own command would (admin/stages.c), then speak as watch again. */
static int stage(struct watch *w, const char *name)
{
	int r;

	if (stop_requested)
		return 0;   /* stopping: the next stage is left for next time */
	r = pipeline_stage_run(w->ctx, pipeline_stage_find(name));
	msg_set_stage("watch");
	audit_begin(&w->ctx->spool, "watch");
	if (r)
		msg_warn("%s exited %d; retried on the next event or timer", name, r);
	return r;
}

static long mono_ms(void);

static void idle_close(struct watch *w)
{
	struct strbuf why = STRBUF_INIT;

	if (!w->idle)
		return;
	imap_idle_done(w->idle, &why);
	imap_close(w->idle);
	w->idle = NULL;
	strbuf_release(&why);
}

/* Open the IDLE session when <imap> is configured and it is not open. */
static void idle_open(struct watch *w)
{
	int r;

	if (!w->ctx->cfg.imap_host || w->idle || w->idle_off || stop_requested)
		return;
	msg_set_stage("fetch");
	r = fetch_idle_open(w->ctx, &w->idle);
	msg_set_stage("watch");
	if (r == -1) {
		w->idle_off = 1;
		msg_warn("new mail is fetched every %d s only", w->interval);
	}
	w->idle_started = mono_ms();
}

/* Restart IDLE after a fetch or when it is due; drop the session on error. */
static void idle_restart(struct watch *w)
{
	struct strbuf why = STRBUF_INIT;

	if (!w->idle)
		return;
	if (imap_idle_done(w->idle, &why) != IMAP_OK ||
	    (strbuf_reset(&why), imap_idle_start(w->idle, &why)) != IMAP_OK) {
		msg_warn("imap idle: %s; fetching on the timer until it reconnects", why.buf);
		imap_close(w->idle);
		w->idle = NULL;
	}
	w->idle_started = mono_ms();
	strbuf_release(&why);
}

/* The IDLE session says something happened: fetch (which feeds inbox/new). */
static void idle_event(struct watch *w)
{
	struct strbuf why = STRBUF_INIT;

	if (imap_idle_done(w->idle, &why) != IMAP_OK) {
		msg_warn("imap idle: %s; fetching on the timer until it reconnects", why.buf);
		imap_close(w->idle);
		w->idle = NULL;
	}
	strbuf_release(&why);
	stage(w, "fetch");
	if (w->idle) {
		strbuf_init(&why, 0);
		if (imap_idle_start(w->idle, &why) != IMAP_OK) {
			msg_warn("imap idle: %s; fetching on the timer until it reconnects",
				 why.buf);
			imap_close(w->idle);
			w->idle = NULL;
		}
		strbuf_release(&why);
		w->idle_started = mono_ms();
	}
}

/* Every stage, in run's order (the start and every timer tick). */
static void run_all(struct watch *w)
{
	const struct pipeline_stage *s;
	int i;

	for (i = 0; i < F_MAX; i++)
		w->dirty[i] = 0;
	for (s = pipeline_stages; s->name; s++)
		stage(w, s->name);
}

/* The stages whose folders had files land, in pipeline order. */
static void run_dirty(struct watch *w)
{
	int deliver = 0;

	if (w->dirty[F_INCOMING]) {
		w->dirty[F_INCOMING] = 0;
		stage(w, "intake");
	}
	if (w->dirty[F_IMPORT]) {
		w->dirty[F_IMPORT] = 0;
		stage(w, "import");
	}
	if (w->dirty[F_INBOX]) {
		w->dirty[F_INBOX] = 0;
		stage(w, "dispatch");
		deliver = 1;   /* what dispatch queued goes out at once */
	}
	if (w->dirty[F_LISTBOX]) {
		w->dirty[F_LISTBOX] = 0;
		stage(w, "listmail");
		deliver = 1;
	}
	if (w->dirty[F_QUEUE] || deliver) {
		w->dirty[F_QUEUE] = 0;
		stage(w, "deliver");
	}
}

/*
 * Without inotify (e.g. the user's instances are used up), a folder is
 * marked when its modification or change time moved: any file renamed in
 * or out, or created, changes them.
 */
static void scan_folders(struct watch *w)
{
	int i;

	for (i = 0; i < F_MAX; i++) {
		char *p = spool_path(&w->ctx->spool, folder_rel[i]);
		struct stat st;

		if (stat(p, &st) == 0 &&
		    (st.st_mtim.tv_sec != w->mtime[i].tv_sec ||
		     st.st_mtim.tv_nsec != w->mtime[i].tv_nsec ||
		     st.st_ctim.tv_sec != w->ctime_[i].tv_sec ||
		     st.st_ctim.tv_nsec != w->ctime_[i].tv_nsec)) {
			w->mtime[i] = st.st_mtim;
			w->ctime_[i] = st.st_ctim;
			w->dirty[i] = 1;
		}
		free(p);
	}
}

static int add_watches(struct watch *w)
{
	int i;

	for (i = 0; i < F_MAX; i++) {
		char *p = spool_path(&w->ctx->spool, folder_rel[i]);

		if (mkdir_p(p, 0700) < 0) {
			error_errno("cannot create '%s'", p);
			free(p);
			return -1;
		}
		free(p);
	}
	/* MIMAMORI_WATCH_SCAN=1 asks for the fallback (for its tests). */
	if (getenv("MIMAMORI_WATCH_SCAN") && !strcmp(getenv("MIMAMORI_WATCH_SCAN"), "1")) {
		w->ifd = -1;
		errno = ENOSYS;
	} else {
		w->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	}
	if (w->ifd < 0) {
		msg_warn("cannot start inotify (%s): looking at the folders every %d ms "
			 "instead", strerror(errno), SCAN_MS);
		scan_folders(w);
		return 0;
	}
	for (i = 0; i < F_MAX; i++) {
		char *p = spool_path(&w->ctx->spool, folder_rel[i]);

		w->wd[i] = inotify_add_watch(w->ifd, p, watch_mask(i));
		if (w->wd[i] < 0) {
			msg_warn("cannot watch '%s' (%s): looking at the folders every %d ms "
				 "instead", p, strerror(errno), SCAN_MS);
			close(w->ifd);
			w->ifd = -1;
			free(p);
			scan_folders(w);
			return 0;
		}
		free(p);
	}
	return 0;
}

/* Read every pending event and mark the folders that got a file. */
static void read_events(struct watch *w)
{
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	for (;;) {
		char *p;

		n = read(w->ifd, buf, sizeof(buf));
		if (n <= 0)
			break;
		for (p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			int i;

			if (ev->mask & IN_Q_OVERFLOW) {
				for (i = 0; i < F_MAX; i++)
					w->dirty[i] = 1;
			} else if (!ev->len || ev->name[0] != '.') {
				/* dot files are temporary files still being written */
				for (i = 0; i < F_MAX; i++)
					if (ev->wd == w->wd[i])
						w->dirty[i] = 1;
			}
			p += sizeof(*ev) + ev->len;
		}
	}
}

static long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One watch per spool: lock/watch, taken without waiting. */
static int take_lock(struct context *ctx)
{
	char *path = spool_path(&ctx->spool, SPOOL_LOCK "/watch");
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0) {
		error_errno("cannot open lock '%s'", path);
		free(path);
		return -2;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			error("another watch is running on spool '%s'", ctx->spool.root);
		else
			error_errno("cannot lock '%s'", path);
		close(fd);
		free(path);
		return -1;
	}
	free(path);
	return fd;
}

static int parse_args(int argc, char **argv, int *interval)
{
	int i;

	*interval = DEFAULT_INTERVAL;
	for (i = 1; i < argc; i++) {
		char *end;
		long v;

		if (!strcmp(argv[i], "--interval") && i + 1 < argc) {
			v = strtol(argv[++i], &end, 10);
			if (*end || v < 1 || v > 86400)
				return -1;
			*interval = (int)v;
		} else {
			return -1;
		}
	}
	return 0;
}

int cmd_watch(int argc, char **argv, struct context *ctx)
{
	struct watch w;
	long next_tick;
	int lock, i;

	memset(&w, 0, sizeof(w));
	w.ctx = ctx;
	w.ifd = -1;
	if (parse_args(argc, argv, &w.interval) < 0) {
		fprintf(stderr, "usage: mimamori watch [--interval SECONDS]\n");
		return EX_USAGE;
	}
	lock = take_lock(ctx);
	if (lock < 0)
		return lock == -1 ? EX_TEMPFAIL : EX_IOERR;
	if (queue_init(&ctx->spool) < 0 || add_watches(&w) < 0 || setup_signals() < 0) {
		if (w.ifd >= 0)
			close(w.ifd);
		spool_unlock(lock);
		return EX_IOERR;
	}
	audit_add("start", "interval=%d", w.interval);
	audit_flush();

	/* Watches are in place before this first pass: nothing slips by. */
	idle_open(&w);
	run_all(&w);
	next_tick = mono_ms() + (long)w.interval * 1000;
	while (!stop_requested) {
		struct pollfd pfd[3];
		long now = mono_ms(), wait = next_tick - now;

		if (wait <= 0) {
			idle_open(&w);
			run_all(&w);
			next_tick = mono_ms() + (long)w.interval * 1000;
			continue;
		}
		if (w.idle && now - w.idle_started >= IDLE_RENEW_MS)
			idle_restart(&w);
		if (w.idle && wait > w.idle_started + IDLE_RENEW_MS - now)
			wait = w.idle_started + IDLE_RENEW_MS - now;
		pfd[0].fd = w.ifd;   /* ignored by poll() when -1 */
		pfd[0].events = POLLIN;
		pfd[0].revents = 0;
		pfd[1].fd = wake_pipe[0];
		pfd[1].events = POLLIN;
		if (w.ifd < 0 && wait > SCAN_MS)
			wait = SCAN_MS;
		pfd[2].fd = w.idle ? imap_idle_fd(w.idle) : -1;
		pfd[2].events = POLLIN;
		pfd[2].revents = 0;
		if (wait < 0)
			wait = 0;
		if (poll(pfd, 3, wait > INT_MAX ? INT_MAX : (int)wait) < 0) {
			if (errno == EINTR)
				continue;
			error_errno("poll");
			break;
		}
		if (stop_requested)
			break;
		if (w.idle && (pfd[2].revents & (POLLIN | POLLHUP | POLLERR)))
			idle_event(&w);
		if (w.ifd < 0) {
			scan_folders(&w);
			run_dirty(&w);
		} else if (pfd[0].revents & POLLIN) {
			read_events(&w);
			run_dirty(&w);
			/* what the stages wrote into watched folders is read next round */
		}
	}
	idle_close(&w);
	audit_add("stop", "signal=%s", stop_requested ? "yes" : "no");
	audit_flush();
	for (i = 0; i < 2; i++)
		if (wake_pipe[i] >= 0)
			close(wake_pipe[i]);
	if (w.ifd >= 0)
		close(w.ifd);
	spool_unlock(lock);
	return stop_requested ? 0 : EX_SOFTWARE;
}
