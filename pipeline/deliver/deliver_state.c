/*
 * deliver_state - one queue entry in memory: its envelope (queue/env/QID),
 * its message (queue/msg/QID) and the per-recipient log of outcomes
 * (queue/state/QID), read back and appended to durably.
 *
 * The state log is append-only, one line per outcome,
 *   UNIX-TIME<TAB>ADDRESS<TAB>sent|deferred|failed<TAB>REPLY
 * the last line for an address wins, and a partial last line (a write cut
 * by a crash) is ignored and cut off before the next append. It is read
 * line by line (a relay down for a day with 100,000 recipients makes a
 * long log) and compacted to one line per recipient when it holds more
 * than two per recipient.
 *
 * SECURITY: reads files written by the program's own stages; the state
 * log's reply texts came from the relay and were made printable by
 * lib/smtp.c.
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

static int read_rel(const struct spool *sp, const char *dir, const char *qid,
		    struct strbuf *out, size_t max)
{
	struct strbuf rel = STRBUF_INIT;
	char *path;
	int ret;

	strbuf_addf(&rel, "%s/%s", dir, qid);
	path = spool_path(sp, rel.buf);
	ret = strbuf_read_file(out, path, max);
	if (ret < 0 && errno != ENOENT && errno != EFBIG)
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
		} else if (!strcmp(p, "list")) {
			e->list = val;
		} else if (!strcmp(p, "verp")) {
			e->verp = !strcmp(val, "yes");
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
	if (!strcmp(f[2], "sent"))
		r->status = RCPT_SENT;
	else if (!strcmp(f[2], "deferred"))
		r->status = RCPT_DEFERRED;
	else if (!strcmp(f[2], "failed"))
		r->status = RCPT_FAILED;
	else
		return;
	r->last = (time_t)strtoll(f[0], NULL, 10);
	free(r->reply);
	r->reply = r->status == RCPT_FAILED ? xstrdup(f[3]) : NULL;
}

/* Read state/QID line by line; *lines gets the number of complete lines. */
static int load_state(const struct spool *sp, struct qentry *e, struct hashmap *map,
		      size_t *lines)
{
	struct strbuf rel = STRBUF_INIT;
	char *path, *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f;
	int ret = 0;

	strbuf_addf(&rel, SPOOL_QUEUE_STATE "/%s", e->qid);
	path = spool_path(sp, rel.buf);
	f = fopen(path, "re");
	if (!f) {
		if (errno != ENOENT)
			ret = error_errno("cannot read '%s'", rel.buf);
		goto out;
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] != '\n')
			break;   /* a partial last line */
		line[n - 1] = '\0';
		apply_state_line(e, map, line);
		e->state_len += n;
		(*lines)++;
	}
	if (ferror(f))
		ret = error_errno("cannot read '%s'", rel.buf);
	fclose(f);
out:
	free(line);
	free(path);
	strbuf_release(&rel);
	return ret;
}

/* Replace state/QID by the last line of each recipient tried. */
static int compact_state(const struct spool *sp, struct qentry *e)
{
	static const char *const words[] = { "", "sent", "deferred", "failed" };
	struct strbuf rel = STRBUF_INIT, out = STRBUF_INIT;
	size_t i;
	int ret;

	for (i = 0; i < e->nr; i++) {
		const struct rcpt *r = &e->rcpts[i];

		if (r->status == RCPT_NEW)
			continue;
		strbuf_addf(&out, "%lld\t%s\t%s\t%s\n", (long long)r->last, r->addr,
			    words[r->status], r->reply ? r->reply : "(compacted)");
	}
	strbuf_addf(&rel, SPOOL_QUEUE_STATE "/%s", e->qid);
	ret = spool_commit(sp, rel.buf, out.buf, out.len);
	if (!ret)
		e->state_len = out.len;
	strbuf_release(&rel);
	strbuf_release(&out);
	return ret;
}

static int load_entry(const struct spool *sp, const char *qid, struct qentry *e,
		      int peek, struct strbuf *why)
{
	struct hashmap map = HASHMAP_INIT;
	size_t lines = 0;
	int ret;

	memset(e, 0, sizeof(*e));
	e->qid = xstrdup(qid);
	strbuf_init(&e->env, 0);
	strbuf_init(&e->msg, 0);
	e->state_fd = -1;
	if (read_rel(sp, SPOOL_QUEUE_ENV, qid, &e->env, ENV_MAX) < 0) {
		if (errno == EFBIG)
			return strbuf_addstr(why, "envelope over 64 MiB"), 1;
		return errno == ENOENT ? (strbuf_addstr(why, "envelope gone"), 1) : -1;
	}
	if (!peek && read_rel(sp, SPOOL_QUEUE_MSG, qid, &e->msg, MSG_MAX) < 0) {
		if (errno == EFBIG)
			return strbuf_addstr(why, "message over 64 MiB"), 1;
		if (errno != ENOENT)
			return -1;
		strbuf_addstr(why, "envelope without its message");
		return 1;
	}
	ret = parse_env(e, &map, why);
	if (!ret && load_state(sp, e, &map, &lines) < 0)
		ret = -1;
	if (!ret && !peek && lines > 2 * e->nr + 16 && compact_state(sp, e) < 0)
		ret = -1;
	hashmap_clear(&map);
	return ret;
}

int qentry_load(const struct spool *sp, const char *qid, struct qentry *e,
		struct strbuf *why)
{
	return load_entry(sp, qid, e, 0, why);
}

int qentry_peek(const struct spool *sp, const char *qid, struct qentry *e,
		struct strbuf *why)
{
	return load_entry(sp, qid, e, 1, why);
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

time_t rcpt_next_try(const struct qentry *e, const struct rcpt *r)
{
	time_t delay = r->last - e->queued;

	if (delay < DELIVER_RETRY_MIN)
		delay = DELIVER_RETRY_MIN;
	if (delay > DELIVER_RETRY_MAX)
		delay = DELIVER_RETRY_MAX;
	return r->last + delay;
}

int rcpt_due(const struct qentry *e, const struct rcpt *r, time_t now)
{
	if (r->status == RCPT_NEW)
		return 1;
	return r->status == RCPT_DEFERRED && now >= rcpt_next_try(e, r);
}

void rcpt_record(struct qentry *e, struct rcpt *r, int code, const char *reply, time_t now,
		 struct strbuf *lines)
{
	const char *word;

	r->last = now;
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
