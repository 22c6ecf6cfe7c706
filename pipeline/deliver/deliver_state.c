/*
 * deliver_state - one queue entry in memory: its envelope (queue/env/QID),
 * its message (queue/msg/QID) and the per-recipient log of outcomes
 * (queue/state/QID), read back and appended to durably.
 *
 * The state log is append-only, one line per outcome,
 *   UNIX-TIME<TAB>ADDRESS<TAB>sent|deferred|failed<TAB>REPLY
 * the last line for an address wins, the number of "deferred" lines sets
 * the retry delay, and a partial last line (a write cut by a crash) is
 * ignored and cut off before the next append.
 *
 * SECURITY: reads files written by the program's own stages; the state
 * log's reply texts came from the relay and were made printable by
 * core/smtp.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "deliver.h"
#include "../core/queue.h"
#include "../util/fileio.h"
#include "../util/hashmap.h"
#include "../util/msg.h"
#include "../util/xalloc.h"

/* Largest envelope and message read (100,000 recipients fit many times). */
#define ENV_MAX   ((size_t)64 << 20)
#define MSG_MAX   ((size_t)64 << 20)
#define STATE_MAX ((size_t)256 << 20)

static int read_rel(const struct spool *sp, const char *dir, const char *qid,
		    struct strbuf *out, size_t max)
{
	struct strbuf rel = STRBUF_INIT;
	char *path;
	int ret;

	strbuf_addf(&rel, "%s/%s", dir, qid);
	path = spool_path(sp, rel.buf);
	ret = strbuf_read_file(out, path, max);
	if (ret < 0 && errno != ENOENT)
		error_errno("cannot read '%s'", rel.buf);
	free(path);
	strbuf_release(&rel);
	return ret;
}

/* Parse the envelope in place (its newlines become NULs). */
static int parse_env(struct qentry *e, struct hashmap *map, struct strbuf *why)
{
	char *p = e->env.buf, *end = e->env.buf + e->env.len;
	size_t alloc = 0;

	while (p < end) {
		char *nl = memchr(p, '\n', end - p), *val;

		if (!nl)
			break;   /* a partial line cannot happen: env is renamed in whole */
		*nl = '\0';
		val = strchr(p, ' ');
		if (val)
			*val++ = '\0';
		if (!val || !*val) {
			/* a line without a value: ignored */
		} else if (!strcmp(p, "sender")) {
			e->sender = val;
		} else if (!strcmp(p, "queued")) {
			e->queued = (time_t)strtoll(val, NULL, 10);
		} else if (!strcmp(p, "alert")) {
			e->alert = val;
		} else if (!strcmp(p, "report")) {
			e->report = val;
		} else if (!strcmp(p, "rcpt") && !hashmap_get(map, val)) {
			struct rcpt *r;

			ALLOC_GROW(e->rcpts, e->nr + 1, alloc);
			r = &e->rcpts[e->nr++];
			memset(r, 0, sizeof(*r));
			r->addr = val;
			/* index + 1, so that 0 means absent */
			hashmap_put(map, val, (void *)(e->nr));
		}
		p = nl + 1;
	}
	if (!e->sender) {
		strbuf_addstr(why, "envelope without a sender");
		return 1;
	}
	if (!e->nr) {
		strbuf_addstr(why, "envelope without a recipient");
		return 1;
	}
	return 0;
}

static void apply_state_line(struct qentry *e, struct hashmap *map, char *line)
{
	char *f[4], *p = line;
	struct rcpt *r;
	size_t idx;
	int i;

	for (i = 0; i < 3; i++) {
		f[i] = p;
		p = strchr(p, '\t');
		if (!p)
			return;
		*p++ = '\0';
	}
	f[3] = p;
	idx = (size_t)hashmap_get(map, f[1]);
	if (!idx)
		return;   /* not (or no longer) a recipient */
	r = &e->rcpts[idx - 1];
	if (!strcmp(f[2], "sent")) {
		r->status = RCPT_SENT;
	} else if (!strcmp(f[2], "deferred")) {
		r->status = RCPT_DEFERRED;
		r->tries++;
		r->last = (time_t)strtoll(f[0], NULL, 10);
	} else if (!strcmp(f[2], "failed")) {
		r->status = RCPT_FAILED;
		free(r->reply);
		r->reply = xstrdup(f[3]);
	}
}

static int load_state(const struct spool *sp, struct qentry *e, struct hashmap *map)
{
	struct strbuf st = STRBUF_INIT;
	char *p, *end;

	if (read_rel(sp, SPOOL_QUEUE_STATE, e->qid, &st, STATE_MAX) < 0)
		return errno == ENOENT ? 0 : -1;
	p = st.buf;
	end = st.buf + st.len;
	while (p < end) {
		char *nl = memchr(p, '\n', end - p);

		if (!nl)
			break;
		*nl = '\0';
		apply_state_line(e, map, p);
		p = nl + 1;
	}
	e->state_len = p - st.buf;
	strbuf_release(&st);
	return 0;
}

int qentry_load(const struct spool *sp, const char *qid, struct qentry *e,
		struct strbuf *why)
{
	struct hashmap map = HASHMAP_INIT;
	int ret;

	memset(e, 0, sizeof(*e));
	e->qid = xstrdup(qid);
	strbuf_init(&e->env, 0);
	strbuf_init(&e->msg, 0);
	e->state_fd = -1;
	if (read_rel(sp, SPOOL_QUEUE_ENV, qid, &e->env, ENV_MAX) < 0)
		return errno == ENOENT ? (strbuf_addstr(why, "envelope gone"), 1) : -1;
	if (read_rel(sp, SPOOL_QUEUE_MSG, qid, &e->msg, MSG_MAX) < 0) {
		if (errno != ENOENT)
			return -1;
		strbuf_addstr(why, "envelope without its message");
		return 1;
	}
	ret = parse_env(e, &map, why);
	if (!ret && load_state(sp, e, &map) < 0)
		ret = -1;
	hashmap_clear(&map);
	return ret;
}

void qentry_release(struct qentry *e)
{
	size_t i;

	for (i = 0; i < e->nr; i++)
		free(e->rcpts[i].reply);
	free(e->rcpts);
	free(e->qid);
	strbuf_release(&e->env);
	strbuf_release(&e->msg);
	if (e->state_fd >= 0)
		close(e->state_fd);
	memset(e, 0, sizeof(*e));
	e->state_fd = -1;
}

time_t rcpt_next_try(const struct rcpt *r)
{
	time_t delay = DELIVER_RETRY_MAX;

	if (r->tries && r->tries <= 6)
		delay = (time_t)DELIVER_RETRY_MIN << (r->tries - 1);
	if (delay > DELIVER_RETRY_MAX)
		delay = DELIVER_RETRY_MAX;
	return r->last + delay;
}

int rcpt_due(const struct rcpt *r, time_t now)
{
	if (r->status == RCPT_NEW)
		return 1;
	return r->status == RCPT_DEFERRED && now >= rcpt_next_try(r);
}

void rcpt_record(struct qentry *e, struct rcpt *r, int code, const char *reply, time_t now,
		 struct strbuf *lines)
{
	const char *word;

	if (code / 100 == 2) {
		r->status = RCPT_SENT;
		word = "sent";
	} else if (code / 100 == 5 || now >= e->queued + DELIVER_LIFETIME) {
		r->status = RCPT_FAILED;
		word = "failed";
		free(r->reply);
		if (code / 100 == 5) {
			r->reply = xstrdup(reply);
		} else {
			struct strbuf sb = STRBUF_INIT;

			strbuf_addf(&sb, "gave up 24 hours after queueing: %s", reply);
			r->reply = strbuf_detach(&sb, NULL);
		}
		reply = r->reply;
	} else {
		r->status = RCPT_DEFERRED;
		r->tries++;
		r->last = now;
		word = "deferred";
	}
	strbuf_addf(lines, "%lld\t%s\t%s\t%s\n", (long long)now, r->addr, word, reply);
}

int state_append(const struct spool *sp, struct qentry *e, const struct strbuf *lines)
{
	struct strbuf rel = STRBUF_INIT;
	char *path = NULL;
	int ret = -1;

	if (!lines->len)
		return 0;
	strbuf_addf(&rel, SPOOL_QUEUE_STATE "/%s", e->qid);
	if (e->state_fd < 0) {
		struct stat st;
		int created;

		path = spool_path(sp, rel.buf);
		created = lstat(path, &st) < 0;
		e->state_fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (e->state_fd < 0) {
			error_errno("cannot open '%s'", rel.buf);
			goto out;
		}
		/* Cut a partial last line, then append after the complete ones. */
		if (ftruncate(e->state_fd, (off_t)e->state_len) < 0 ||
		    lseek(e->state_fd, 0, SEEK_END) < 0) {
			error_errno("cannot truncate '%s'", rel.buf);
			goto out;
		}
		if (created) {
			char *dir = spool_path(sp, SPOOL_QUEUE_STATE);
			int bad = fsync_dir(dir) < 0;

			free(dir);
			if (bad) {
				error_errno("cannot sync '%s'", SPOOL_QUEUE_STATE);
				goto out;
			}
		}
	}
	if (write_full(e->state_fd, lines->buf, lines->len) < 0 ||
	    fdatasync(e->state_fd) < 0) {
		error_errno("cannot write '%s'", rel.buf);
		/* the next append starts again after the last complete line */
		close(e->state_fd);
		e->state_fd = -1;
		goto out;
	}
	e->state_len += lines->len;
	ret = 0;
out:
	free(path);
	strbuf_release(&rel);
	return ret;
}
