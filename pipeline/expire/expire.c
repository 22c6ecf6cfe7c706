/*
 * expire - apply the validity and retention rules (mimamori-expire(1); expire.h).
 *
 * Reads and writes the registry (destructions, reminder marks, export
 * state), the id lists export keeps in work/bundles/, the bundles in
 * outgoing/ (removed when they hold a destroyed record), the mail queue
 * (reminders added; queued alert mails of destroyed alerts removed) and,
 * through expire_alerts.c, the alert store.
 *
 * Crash safety. The registry commit is the commit point of every
 * destruction and every reminder mark; all the rest is derived from the
 * registry's state at each run and is idempotent, so a run killed at any
 * instant is finished by the next one:
 *  1. reminders: added to a queue batch (temporary files), marked in the
 *     registry together with a pending state naming their queue entry
 *     (the commit), the queue entries put in place, the pending states
 *     dropped (a second commit). A run finding a pending state looks for
 *     the entry's envelope (or deliver's "done" audit line for it) and
 *     queues the reminder again only when neither is there: exactly once
 *     (see expire_records());
 *  2. the registry commit destroys expired records (files removed,
 *     tombstones kept);
 *  3. bundles not yet collected that hold a destroyed record (by their id
 *     list): export-seq of their agency is lowered to where that bundle
 *     started and committed first, then the bundle and its list are
 *     removed. So its other records and deletions go out again in the
 *     agency's next bundle, and a kill in between leaves a bundle the next
 *     run finds and removes again;
 *  4. alerts (expire_alerts.c) of destroyed records, closed ones past
 *     alert-data, open ones past 30 days: the alert store's commit, then
 *     their queued mails and their CAP documents in feed/;
 *  5. rejected inputs past retention/@rejected (expire_rejected.c),
 *     removed with their reasons;
 *  6. the widening of open alerts past <escalation after=…/> and the
 *     closing of held alerts nobody approved in time
 *     (dispatch/dispatch_widen.c, under the dispatch lock);
 *  7. a warning for each destruction older than 30 days an agency that
 *     was sent the record has not acknowledged (read only, with the
 *     registry's other steps).
 *
 * Needs no record decryption: it works from the registry's index.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>
#include "expire.h"
#include "expire_int.h"
#include "../core/audit.h"
#include "../util/clock.h"
#include "../lib/mail.h"
#include "../core/queue.h"
#include "../core/registry.h"
#include "../dispatch/dispatch.h"
#include "../exchange/exchange.h"
#include "../util/fileio.h"
#include "../util/msg.h"
#include "../util/strbuf.h"
#include "../util/timeutil.h"
#include "../util/xalloc.h"

struct expire {
	struct context *ctx;
	struct registry *reg;
	long today;
	size_t destroyed, reminded, withdrawn;
	int io_error, config_error;
};

static void unlink_rel(const struct spool *sp, const char *rel)
{
	char *p = spool_path(sp, rel);

	if (unlink(p) < 0 && errno != ENOENT)
		error_errno("cannot remove '%s'", p);
	free(p);
}

static void fsync_rel(const struct spool *sp, const char *rel)
{
	char *p = spool_path(sp, rel);

	fsync_dir(p);
	free(p);
}

/* A template of templates/ with {id} and {expires} replaced. -1 (reported). */
static int render_template(struct expire *ex, const char *name, const struct reg_entry *e,
			   struct strbuf *out)
{
	struct strbuf text = STRBUF_INIT;
	char *dir = path_join(ex->ctx->home, "templates"), *path = path_join(dir, name);
	char expires[11];
	const char *p;
	int ret = 0;

	date_format(e->expires, expires);
	if (strbuf_read_file(&text, path, 1 << 16) < 0) {
		ret = error_errno("cannot read template '%s'", path);
		goto out;
	}
	for (p = text.buf; *p; p++) {
		if (!strncmp(p, "{id}", 4)) {
			strbuf_addstr(out, e->id);
			p += 3;
		} else if (!strncmp(p, "{expires}", 9)) {
			strbuf_addstr(out, expires);
			p += 8;
		} else {
			strbuf_addch(out, *p);
		}
	}
out:
	strbuf_release(&text);
	free(path);
	free(dir);
	return ret;
}

/*
 * The Message-ID of the reminder for e's current expiry: the same in
 * every run, so that a run can see that a killed one queued it already.
 */
static void reminder_msgid(struct expire *ex, const struct reg_entry *e, struct strbuf *out)
{
	const char *at = strchr(ex->ctx->cfg.sender_address, '@');
	char expires[11];

	date_format(e->expires, expires);
	strbuf_addf(out, "reminder.%s.%s.%s%s", e->id, expires, ex->ctx->cfg.self->id,
		    at ? at : "@localhost");
}

/* Queue one reminder for e into batch b. -1 (reported). */
static int queue_reminder(struct expire *ex, struct spool_batch *b, const struct reg_entry *e,
			  char *qid)
{
	const struct config *cfg = &ex->ctx->cfg;
	const struct agency *center = config_agency(cfg, e->center);
	struct strbuf body = STRBUF_INIT, subject = STRBUF_INIT, msg = STRBUF_INIT,
		      why = STRBUF_INIT, msgid = STRBUF_INIT;
	struct mail_out h;
	struct queue_msg q;
	const char *rcpts[1];
	int ret = -1;

	if (!center || !center->address) {
		error("reminder for %s: intake center '%s' has no address in the config",
		      e->id, e->center);
		ex->config_error = 1;
		return -1;
	}
	if (render_template(ex, "reminder.ja.txt", e, &body) < 0)
		goto out;
	strbuf_addstr(&body, "\n----\n\n");
	if (render_template(ex, "reminder.en.txt", e, &body) < 0)
		goto out;
	strbuf_addf(&subject, "登録更新のお知らせ / Renewal reminder: %s", e->id);
	memset(&h, 0, sizeof(h));
	h.from_address = cfg->sender_address;
	h.from_name = cfg->sender_name;
	h.to = center->address;
	h.subject = subject.buf;
	reminder_msgid(ex, e, &msgid);
	h.message_id = msgid.buf;
	h.auto_submitted = 1;
	if (mail_compose_text(&h, body.buf, &msg, NULL, &why) < 0) {
		error("reminder for %s: %s", e->id, why.buf);
		goto out;
	}
	rcpts[0] = center->address;
	memset(&q, 0, sizeof(q));
	q.sender = cfg->sender_address;
	q.rcpts = rcpts;
	q.nr_rcpts = 1;
	q.data = msg.buf;
	q.len = msg.len;
	if (queue_add(b, &q, qid) < 0)
		goto out;
	{
		char expires[11];

		date_format(e->expires, expires);
		audit_add("remind", "id=%s expires=%s to=%s qid=%s", e->id, expires, center->id,
			  qid);
	}
	ret = 0;
out:
	strbuf_release(&body);
	strbuf_release(&subject);
	strbuf_release(&msg);
	strbuf_release(&why);
	strbuf_release(&msgid);
	return ret;
}

/* Whether e is this node's own record (not a copy another agency sent). */
static int own_record(const struct reg_entry *e)
{
	return !registry_was_sent(e, EXCHANGE_IMPORTED);
}

static void pending_key(const struct reg_entry *e, struct strbuf *key)
{
	strbuf_reset(key);
	strbuf_addf(key, "remind-queue:%s", e->id);
}

/* Whether the audit log says deliver finished queue entry qid. */
static int delivered(struct expire *ex, const char *qid)
{
	struct strbuf log = STRBUF_INIT, needle = STRBUF_INIT;
	char *path = spool_path(&ex->ctx->spool, SPOOL_AUDIT "/audit.log");
	int found = 0;

	if (strbuf_read_file(&log, path, (size_t)1 << 30) >= 0) {
		/* deliver's "done queue=QID sent=N failed=N", under any command. */
		strbuf_addf(&needle, "\tdone\tqueue=%s ", qid);
		found = strstr(log.buf, needle.buf) != NULL;
	}
	strbuf_release(&log);
	strbuf_release(&needle);
	free(path);
	return found;
}

/*
 * A reminder a killed run marked and may not have queued (its pending
 * state names its queue entry): 1 when it was queued (its envelope is
 * there, or deliver finished it), 0 when it must be queued again (a
 * message left without its envelope is removed).
 */
static int reminder_was_queued(struct expire *ex, const char *qid)
{
	const struct spool *sp = &ex->ctx->spool;
	struct strbuf rel = STRBUF_INIT;
	char *p;
	int env, ret;

	strbuf_addf(&rel, SPOOL_QUEUE_ENV "/%s", qid);
	p = spool_path(sp, rel.buf);
	env = access(p, F_OK) == 0;
	free(p);
	if (env) {
		ret = 1;
	} else {
		strbuf_reset(&rel);
		strbuf_addf(&rel, SPOOL_QUEUE_MSG "/%s", qid);
		unlink_rel(sp, rel.buf);
		ret = delivered(ex, qid);
	}
	strbuf_release(&rel);
	return ret;
}

/*
 * Steps 1 and 2: reminders and destructions. Reminders are exactly once:
 * each is added to the queue's batch (temporary files, its QID known),
 * then the registry commit marks it together with a pending state
 * "remind-queue:ID" = QID, then the queue entry is put in place, then a
 * second commit drops the pending state. A run that finds a pending state
 * checks the queue entry (and deliver's audit lines) to know whether the
 * killed run got as far as queueing it.
 */
static void expire_records(struct expire *ex)
{
	const struct config *cfg = &ex->ctx->cfg;
	struct spool_batch b;
	struct strlist reminded = STRLIST_INIT, destroyed = STRLIST_INIT, pending = STRLIST_INIT;
	struct strbuf key = STRBUF_INIT;
	size_t i, n = registry_count(ex->reg);
	int recovered = 0;

	spool_batch_init(&b, &ex->ctx->spool);
	for (i = 0; i < n; i++) {
		struct reg_entry *e = registry_entry(ex->reg, i);
		char qid[QUEUE_QID_MAX];
		const char *was;
		long remind_from;

		if (e->state != REG_ACTIVE || e->expires < 0)
			continue;
		pending_key(e, &key);
		was = e->reminded >= 0 ? registry_state_get(ex->reg, key.buf) : NULL;
		if (was && reminder_was_queued(ex, was)) {
			registry_state_unset(ex->reg, key.buf);
			recovered = 1;
			was = NULL;
		}
		if (ex->today >= e->expires) {
			registry_destroy(ex->reg, e, ex->today, "expired");
			registry_state_unset(ex->reg, key.buf);
			audit_add("destroy", "id=%s reason=expired", e->id);
			strlist_add(&destroyed, e->id);
			continue;
		}
		if (!was && (!own_record(e) || e->reminded == e->expires ||
			     date_add_duration(e->expires, cfg->reminder, -1, &remind_from) < 0 ||
			     ex->today < remind_from))
			continue;
		/* Due, or marked by a killed run that never queued it. */
		if (queue_reminder(ex, &b, e, qid) < 0)
			continue;
		e->reminded = e->expires;
		registry_state_set(ex->reg, key.buf, qid);
		strlist_add(&pending, key.buf);
		strlist_add(&reminded, e->id);
	}
	/* The commit point: destructions, and reminders marked as pending. */
	if ((destroyed.nr || reminded.nr || recovered) && registry_commit(ex->reg) < 0) {
		ex->io_error = 1;
		goto out;
	}
	/* The queue entries in place, then the pending marks dropped. */
	if (reminded.nr) {
		if (spool_batch_commit(&b) < 0) {
			ex->io_error = 1;
			goto out;
		}
		for (i = 0; i < pending.nr; i++)
			registry_state_unset(ex->reg, pending.items[i]);
		if (registry_commit(ex->reg) < 0) {
			ex->io_error = 1;
			goto out;
		}
	}
	for (i = 0; i < destroyed.nr; i++)
		printf("destroyed %s expired\n", destroyed.items[i]);
	for (i = 0; i < reminded.nr; i++)
		printf("reminded %s\n", reminded.items[i]);
	ex->destroyed = destroyed.nr;
	ex->reminded = reminded.nr;
out:
	spool_batch_release(&b);
	strlist_clear(&reminded);
	strlist_clear(&destroyed);
	strlist_clear(&pending);
	strbuf_release(&key);
	audit_flush();
}

/* One id list of work/bundles/ (exchange.h). */
struct bundle_ids {
	char *name;       /* its file name */
	char to[64];
	long n, since;
	int holds_destroyed;
};

/* Read an id list; whether it holds a destroyed record. -1 when unreadable. */
static int read_bundle_ids(struct expire *ex, const char *dir, struct bundle_ids *bi)
{
	struct strbuf text = STRBUF_INIT;
	char *path = path_join(dir, bi->name), *line, *save = NULL;
	int ret = 0;

	bi->n = bi->since = -1;
	if (strbuf_read_file(&text, path, 1 << 24) < 0) {
		ret = error_errno("cannot read '%s'", path);
		goto out;
	}
	for (line = strtok_r(text.buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct reg_entry *e;

		if (!strncmp(line, "to=", 3))
			snprintf(bi->to, sizeof(bi->to), "%s", line + 3);
		else if (!strncmp(line, "n=", 2))
			bi->n = atol(line + 2);
		else if (!strncmp(line, "since=", 6))
			bi->since = atol(line + 6);
		else if (!(e = registry_find(ex->reg, line)) || e->state != REG_ACTIVE)
			bi->holds_destroyed = 1;
	}
	if (!bi->to[0] || bi->n < 0 || bi->since < 0)
		ret = error("'%s': not an id list of a bundle", path);
out:
	strbuf_release(&text);
	free(path);
	return ret;
}

static void bundle_rel(struct expire *ex, const struct bundle_ids *bi, struct strbuf *rel)
{
	strbuf_reset(rel);
	strbuf_addf(rel, SPOOL_OUTGOING "/%s/%s-%s-%ld" BUNDLE_SUFFIX, bi->to,
		    ex->ctx->cfg.self->id, bi->to, bi->n);
}

/*
 * Step 3: withdraw the bundles not yet collected that hold a destroyed
 * record; forget the id lists of bundles that were collected.
 */
static void withdraw_bundles(struct expire *ex)
{
	const struct spool *sp = &ex->ctx->spool;
	struct strlist names = STRLIST_INIT, gone = STRLIST_INIT, withdraw = STRLIST_INIT;
	struct strbuf rel = STRBUF_INIT, key = STRBUF_INIT;
	char *dir = spool_path(sp, SPOOL_WORK_BUNDLES);
	int lowered = 0;
	size_t i;

	dir_list(dir, &names, 0);
	for (i = 0; i < names.nr; i++) {
		struct bundle_ids bi;
		const char *cur;
		char val[32];

		memset(&bi, 0, sizeof(bi));
		bi.name = names.items[i];
		if (read_bundle_ids(ex, dir, &bi) < 0)
			continue;
		bundle_rel(ex, &bi, &rel);
		if (!spool_exists(sp, rel.buf)) {
			/* Collected (or never written): nothing left to withdraw. */
			strlist_add(&gone, bi.name);
			continue;
		}
		if (!bi.holds_destroyed)
			continue;
		strbuf_reset(&key);
		strbuf_addf(&key, "export-seq:%s", bi.to);
		cur = registry_state_get(ex->reg, key.buf);
		if (!cur || atol(cur) > bi.since) {
			snprintf(val, sizeof(val), "%ld", bi.since);
			registry_state_set(ex->reg, key.buf, val);
			lowered = 1;
		}
		strlist_add(&withdraw, rel.buf);
		strlist_add(&gone, bi.name);
		audit_add("withdraw", "to=%s seq=%ld file=%s", bi.to, bi.n, rel.buf);
	}
	if (lowered && registry_commit(ex->reg) < 0) {
		ex->io_error = 1;
		goto out;
	}
	for (i = 0; i < withdraw.nr; i++) {
		char *slash;

		unlink_rel(sp, withdraw.items[i]);
		slash = strrchr(withdraw.items[i], '/');
		*slash = '\0';
		fsync_rel(sp, withdraw.items[i]);
		ex->withdrawn++;
	}
	for (i = 0; i < gone.nr; i++) {
		strbuf_reset(&rel);
		strbuf_addf(&rel, SPOOL_WORK_BUNDLES "/%s", gone.items[i]);
		unlink_rel(sp, rel.buf);
	}
	if (gone.nr)
		fsync_dir(dir);
out:
	strlist_clear(&names);
	strlist_clear(&gone);
	strlist_clear(&withdraw);
	strbuf_release(&rel);
	strbuf_release(&key);
	free(dir);
	audit_flush();
}

/*
 * Step 6: a destruction older than 30 days that an agency sent the record
 * has not acknowledged is warned about (stdout and audit), each run.
 */
#define UNACKED_WARN_DAYS 30

static void warn_unacknowledged(struct expire *ex)
{
	const struct config *cfg = &ex->ctx->cfg;
	size_t i, j, n = registry_count(ex->reg);

	for (i = 0; i < n; i++) {
		const struct reg_entry *e = registry_entry(ex->reg, i);
		char d[11];

		if (e->state == REG_ACTIVE || e->destroyed < 0 ||
		    ex->today - e->destroyed <= UNACKED_WARN_DAYS ||
		    registry_was_sent(e, EXCHANGE_IMPORTED))
			continue;
		date_format(e->destroyed, d);
		for (j = 0; j < cfg->nr_agencies; j++) {
			const struct agency *a = &cfg->agencies[j];

			if (a == cfg->self || !registry_was_sent(e, a->id) ||
			    exchange_acked_on(e, a->id) >= 0)
				continue;
			printf("warning: %s destruction not acknowledged by %s since %s\n", e->id,
			       a->id, d);
			audit_add("warning", "id=%s destruction not acknowledged by %s since %s",
				  e->id, a->id, d);
		}
	}
}

int expire_run(struct context *ctx)
{
	struct expire ex;
	struct strlist active = STRLIST_INIT;
	size_t i, alerts = 0, rejected = 0;
	int widen = 0;
	char *dir;
	int ret;

	memset(&ex, 0, sizeof(ex));
	ex.ctx = ctx;
	ex.today = clock_today();
	if (queue_init(&ctx->spool) < 0)
		return EX_IOERR;
	dir = spool_path(&ctx->spool, SPOOL_WORK_BUNDLES);
	ret = mkdir_p(dir, 0700);
	free(dir);
	if (ret < 0)
		return EX_IOERR;
	if (registry_open(&ex.reg, &ctx->cfg, &ctx->spool, 1) < 0)
		return EX_SOFTWARE;
	expire_records(&ex);
	if (!ex.io_error)
		withdraw_bundles(&ex);
	if (!ex.io_error)
		warn_unacknowledged(&ex);
	/* The alert store is opened after the registry is closed: one lock at a time. */
	for (i = 0; i < registry_count(ex.reg); i++) {
		const struct reg_entry *e = registry_entry(ex.reg, i);

		if (e->state == REG_ACTIVE)
			strlist_add(&active, e->id);
	}
	strlist_sort(&active);
	registry_close(ex.reg);
	if (!ex.io_error && expire_alerts(ctx, &active, &alerts) < 0)
		ex.io_error = 1;
	strlist_clear(&active);
	if (!ex.io_error && expire_rejected(ctx, &rejected) < 0)
		ex.io_error = 1;
	fflush(stdout);
	/* 6. Widening (dispatch_widen.c), as dispatch does after its inbox. */
	if (!ex.io_error) {
		widen = dispatch_widen_cmd(ctx);
		if (widen == EX_IOERR)
			ex.io_error = 1;
	}
	fflush(stdout);
	audit_add("done", "destroyed=%zu reminded=%zu withdrawn=%zu alerts-destroyed=%zu "
		  "rejected-removed=%zu", ex.destroyed, ex.reminded, ex.withdrawn, alerts,
		  rejected);
	if (ex.io_error)
		return EX_IOERR;
	return ex.config_error ? EX_CONFIG : widen;
}

int cmd_expire(int argc, char **argv, struct context *ctx)
{
	if (argc != 1) {
		fprintf(stderr, "usage: mimamori expire\n");
		return EX_USAGE;
	}
	return expire_run(ctx);
}
