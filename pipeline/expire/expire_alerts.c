/*
 * expire_alerts - the retention of alert data (mimamori-expire(1), expire_int.h):
 * alerts of destroyed registrations, alerts closed longer than
 * retention/@alert-data ago, and alerts open for more than
 * EXPIRE_ALERT_MAX_OPEN_DAYS are destroyed in the alert store (only the
 * tombstone stays: ids, ward, status, times), then their queued mails
 * (queue entries whose envelope says `alert ID`) are removed.
 *
 * Reads and writes spool/alerts/ (core/alert.h) and spool/queue/.
 * Crash safety: the alert store's commit comes first; the queue entries
 * are removed after it, envelope first (a message without its envelope is
 * never sent). A kill in between leaves queue entries of an alert whose
 * tombstone says destroyed: every run removes those too, so the next one
 * finishes the work.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "expire.h"
#include "expire_int.h"
#include "../core/alert.h"
#include "../core/audit.h"
#include "../core/cap.h"
#include "../util/clock.h"
#include "../core/queue.h"
#include "../util/msg.h"
#include "../util/strbuf.h"
#include "../util/timeutil.h"

/* The instant `dur` (whole days, weeks, months, years) after t. */
static time_t after(time_t t, const char *dur)
{
	long d = date_of(t), later;

	if (date_add_duration(d, dur, 1, &later) < 0)
		later = d + 30;
	return t + (time_t)(later - d) * 86400;
}

/* The alert id named by the envelope of queue entry qid, into id. */
static int envelope_alert(const char *envdir, const char *qid, struct strbuf *id)
{
	struct strbuf text = STRBUF_INIT;
	char *path = path_join(envdir, qid), *line, *save = NULL;
	int found = 0;

	if (strbuf_read_file(&text, path, 1 << 24) >= 0) {
		for (line = strtok_r(text.buf, "\n", &save); line && !found;
		     line = strtok_r(NULL, "\n", &save)) {
			if (!strncmp(line, "alert ", 6)) {
				strbuf_addstr(id, line + 6);
				found = 1;
			}
		}
	}
	strbuf_release(&text);
	free(path);
	return found;
}

static void unlink_in(const struct spool *sp, const char *dir, const char *name)
{
	struct strbuf rel = STRBUF_INIT;
	char *p;

	strbuf_addf(&rel, "%s/%s", dir, name);
	p = spool_path(sp, rel.buf);
	if (unlink(p) < 0 && errno != ENOENT)
		error_errno("cannot remove '%s'", p);
	free(p);
	strbuf_release(&rel);
}

/* Remove the queued mails of destroyed alerts (by the store's tombstones). */
static void purge_queue(const struct spool *sp, struct alert_store *st)
{
	struct strlist names = STRLIST_INIT;
	char *envdir = spool_path(sp, SPOOL_QUEUE_ENV);
	size_t i, removed = 0;

	dir_list(envdir, &names, 0);
	for (i = 0; i < names.nr; i++) {
		struct strbuf id = STRBUF_INIT;
		const struct alert_entry *e;

		if (envelope_alert(envdir, names.items[i], &id) &&
		    (e = alert_find(st, id.buf)) && e->state == ALERT_DESTROYED) {
			unlink_in(sp, SPOOL_QUEUE_ENV, names.items[i]);
			unlink_in(sp, SPOOL_QUEUE_MSG, names.items[i]);
			unlink_in(sp, SPOOL_QUEUE_STATE, names.items[i]);
			audit_add("unqueue", "alert=%s qid=%s", id.buf, names.items[i]);
			removed++;
		}
		strbuf_release(&id);
	}
	if (removed) {
		static const char *const dirs[] = { SPOOL_QUEUE_ENV, SPOOL_QUEUE_MSG,
						    SPOOL_QUEUE_STATE };
		size_t d;

		for (d = 0; d < 3; d++) {
			char *p = spool_path(sp, dirs[d]);

			fsync_dir(p);
			free(p);
		}
	}
	strlist_clear(&names);
	free(envdir);
}

int expire_alerts(struct context *ctx, const struct strlist *active, size_t *destroyed)
{
	const struct config *cfg = &ctx->cfg;
	struct alert_store *st;
	struct strlist closed = STRLIST_INIT, gone = STRLIST_INIT;
	time_t now = clock_now();
	size_t i, n, feeds;
	int ret = 0;

	if (queue_init(&ctx->spool) < 0)
		return -1;
	if (alert_store_open(&st, cfg, &ctx->spool, 1) < 0)
		return -1;
	n = alert_count(st);
	for (i = 0; i < n; i++) {
		struct alert_entry *e = alert_entry(st, i);
		const char *why;

		if (e->state == ALERT_DESTROYED)
			continue;
		if (!strlist_has(active, e->registration))
			why = "registration";
		else if ((e->state == ALERT_OPEN || e->state == ALERT_HELD) &&
			 now >= e->opened + (time_t)EXPIRE_ALERT_MAX_OPEN_DAYS * 86400)
			why = "open-too-long";
		else if (e->state == ALERT_CLOSED && e->closed &&
			 now >= after(e->closed, cfg->alert_data))
			why = "alert-data";
		else
			continue;
		if (e->state == ALERT_OPEN || e->state == ALERT_HELD) {
			alert_close(st, e, ALERT_EXPIRED, now);
			audit_add("closed", "alert=%s type=expired", e->id);
			strlist_add(&closed, e->id);
		}
		alert_destroy(st, e, now);
		audit_add("destroy", "alert=%s registration=%s reason=%s", e->id, e->registration,
			  why);
		strlist_add(&gone, e->id);
	}
	/* The feed goes with the alert data (and leftovers of a killed run). */
	feeds = feed_forget(st, &ctx->spool);
	if ((gone.nr || feeds) && feed_index(st, cfg, &ctx->spool, now) < 0) {
		ret = -1;
		goto out;
	}
	if ((gone.nr || feeds) && alert_commit(st) < 0) {
		ret = -1;
		goto out;
	}
	for (i = 0; i < closed.nr; i++)
		printf("closed %s\n", closed.items[i]);
	for (i = 0; i < gone.nr; i++)
		printf("destroyed %s alert-data\n", gone.items[i]);
	*destroyed = gone.nr;
	purge_queue(&ctx->spool, st);
out:
	alert_store_close(st);
	strlist_clear(&closed);
	strlist_clear(&gone);
	audit_flush();
	return ret;
}
