/*
 * deliver - send the mail queue (core/queue.h): to the SMTP relay of the
 * config over one connection per run, or, with no relay, into local
 * Maildirs (deliver_local.c).
 *
 * For each queue/env/QID, oldest first, the recipients that are due (never
 * tried, or deferred and past their retry time) are sent in transactions
 * of at most SMTP_MAX_RCPTS recipients. The outcome of every recipient of
 * a transaction is appended to queue/state/QID and fdatasync'ed before
 * the next transaction starts, so a crash can repeat at most the one
 * transaction whose outcomes were not recorded. 2xx: sent; 5xx: failed;
 * 4xx, a lost connection, a timeout, a relay that is down: deferred, retried
 * after as long as the message has been queued (at least 1 minute, at
 * most 30), failed once 24 hours have passed since it was queued.
 *
 * When every recipient of a message is sent or failed, the failure report
 * asked for by the envelope (`report FPR`) is queued first, then env/,
 * msg/ and state/ are removed, in that order, in one batch; a list copy
 * of an alert (`alert` and `list` in its envelope) leaves its reach
 * record, reach/ALERT-ID/QID, in the same batch before them (counts and
 * delays, no address: what `show ALERT-ID` reads).
 *
 * Reads and writes queue/{env,msg,state}/, spool/mail/ (local delivery),
 * rejected/ (broken envelopes). Audit: counts per message, never
 * addresses (helpers' addresses are personal data).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>
#include "deliver.h"
#include "deliver_report.h"
#include "../core/audit.h"
#include "../util/clock.h"
#include "../core/queue.h"
#include "../lib/smtp.h"
#include "../util/fileio.h"
#include "../util/msg.h"
#include "../util/xalloc.h"

/* A msg/ file without its env/ this old is a leftover of a killed stage. */
#define ORPHAN_AGE 3600
#define SMTP_TIMEOUT_DEFAULT 120

struct deliver {
	struct context *ctx;
	time_t now;
	struct smtp *smtp;
	int relay_down;          /* a connection failed: the rest of the run is deferred */
	struct strbuf down_why;
	int timeout;
	int io_error;
	int deferred_left;
	/* one transaction */
	const char **addrs;
	struct rcpt **batch;
	struct smtp_reply *replies;
	size_t nr;
};

/* Counts over a message's recipients. */
struct counts {
	size_t sent, failed, deferred, fresh;
};

static void count(const struct qentry *e, struct counts *c)
{
	size_t i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < e->nr; i++)
		switch (e->rcpts[i].status) {
		case RCPT_SENT: c->sent++; break;
		case RCPT_FAILED: c->failed++; break;
		case RCPT_DEFERRED: c->deferred++; break;
		case RCPT_NEW: c->fresh++; break;
		}
}

/* Get the relay's outcome for every recipient of the batch. */
static void send_smtp(struct deliver *d, struct qentry *e)
{
	const struct config *cfg = &d->ctx->cfg;
	size_t i;

	if (!d->smtp && !d->relay_down) {
		strbuf_reset(&d->down_why);
		d->smtp = smtp_open(cfg->smtp_host, cfg->smtp_port, d->timeout, &d->down_why);
		if (!d->smtp) {
			d->relay_down = 1;
			error("%s", d->down_why.buf);
		}
	}
	if (d->relay_down) {
		for (i = 0; i < d->nr; i++) {
			d->replies[i].code = 0;
			snprintf(d->replies[i].text, SMTP_TEXT_MAX, "%s", d->down_why.buf);
		}
		return;
	}
	if (smtp_send_verp(d->smtp, e->sender, e->verp, d->addrs, d->nr, e->msg.buf, e->msg.len,
			   d->replies) < 0) {
		/* The next transaction connects again (once: then the relay is down). */
		smtp_close(d->smtp);
		d->smtp = NULL;
	}
}

static void send_local(struct deliver *d, struct qentry *e)
{
	maildir_deliver_batch(&d->ctx->spool, d->addrs, d->nr, e->msg.buf, e->msg.len,
			      d->replies);
}

/* Send the batch, record its outcomes durably. 0, or -1 on a spool error. */
static int run_batch(struct deliver *d, struct qentry *e, struct counts *run)
{
	struct strbuf lines = STRBUF_INIT;
	size_t i;
	int ret;

	if (d->ctx->cfg.smtp_host)
		send_smtp(d, e);
	else
		send_local(d, e);
	d->now = clock_now();   /* a long run records when each outcome came */
	for (i = 0; i < d->nr; i++) {
		struct rcpt *r = d->batch[i];

		rcpt_record(e, r, d->replies[i].code, d->replies[i].text, d->now, &lines);
		if (r->status == RCPT_SENT)
			run->sent++;
		else if (r->status == RCPT_FAILED)
			run->failed++;
		else
			run->deferred++;
	}
	ret = state_append(&d->ctx->spool, e, &lines);
	strbuf_release(&lines);
	d->nr = 0;
	return ret;
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return x < y ? -1 : x > y;
}

/*
 * The reach record of a finished list copy (core/queue.h, SPOOL_REACH):
 * "list ID", "queued T", "recipients N", "sent N", "failed N" and
 * "delays D:COUNT …", the seconds from queueing to each recipient's
 * 2xx, grouped. Written again whole after a crash: the same content.
 */
static int reach_add(struct deliver *d, struct spool_batch *b, const struct qentry *e,
		     const struct counts *c)
{
	struct strbuf rel = STRBUF_INIT, rec = STRBUF_INIT;
	long *delays = xmalloc((e->nr + 1) * sizeof(*delays));
	size_t i, n = 0;
	char *dir;
	int ret;

	strbuf_addf(&rel, SPOOL_REACH "/%s", e->alert);
	dir = spool_path(&d->ctx->spool, rel.buf);
	ret = mkdir_p(dir, 0700);
	if (ret < 0)
		error_errno("cannot create '%s'", rel.buf);
	free(dir);
	for (i = 0; i < e->nr; i++)
		if (e->rcpts[i].status == RCPT_SENT)
			delays[n++] = e->rcpts[i].last > e->queued ? e->rcpts[i].last - e->queued : 0;
	qsort(delays, n, sizeof(*delays), cmp_long);
	strbuf_addf(&rec, "list %s\nqueued %lld\nrecipients %zu\nsent %zu\nfailed %zu\ndelays",
		    e->list, (long long)e->queued, e->nr, c->sent, c->failed);
	for (i = 0; i < n;) {
		size_t j = i;

		while (j < n && delays[j] == delays[i])
			j++;
		strbuf_addf(&rec, " %ld:%zu", delays[i], j - i);
		i = j;
	}
	strbuf_addch(&rec, '\n');
	strbuf_addf(&rel, "/%s", e->qid);
	if (!ret)
		ret = spool_batch_write(b, rel.buf, rec.buf, rec.len);
	free(delays);
	strbuf_release(&rel);
	strbuf_release(&rec);
	return ret;
}

/* Queue the failure report (when asked for), then remove the entry. */
static int finish(struct deliver *d, struct qentry *e, const struct counts *c)
{
	struct spool_batch b;
	struct strbuf rel = STRBUF_INIT;
	char report_qid[QUEUE_QID_MAX] = "";
	int ret = -1;

	spool_batch_init(&b, &d->ctx->spool);
	if (e->report && c->failed &&
	    deliver_report_add(d->ctx, &b, e, c->sent, report_qid) < 0)
		goto out;
	if (e->alert && e->list && reach_add(d, &b, e, c) < 0)
		goto out;
	if (e->state_fd >= 0) {
		close(e->state_fd);
		e->state_fd = -1;
	}
	strbuf_addf(&rel, SPOOL_QUEUE_ENV "/%s", e->qid);
	spool_batch_unlink(&b, rel.buf);
	strbuf_reset(&rel);
	strbuf_addf(&rel, SPOOL_QUEUE_MSG "/%s", e->qid);
	spool_batch_unlink(&b, rel.buf);
	strbuf_reset(&rel);
	strbuf_addf(&rel, SPOOL_QUEUE_STATE "/%s", e->qid);
	spool_batch_unlink(&b, rel.buf);
	if (spool_batch_commit(&b) < 0)
		goto out;
	if (report_qid[0])
		audit_add("report", "queue=%s report=%s failed=%zu", e->qid, report_qid,
			  c->failed);
	audit_add("done", "queue=%s sent=%zu failed=%zu", e->qid, c->sent, c->failed);
	ret = 0;
out:
	spool_batch_release(&b);
	strbuf_release(&rel);
	return ret;
}

static void audit_run(const struct qentry *e, const struct counts *run)
{
	static const char *const events[] = { "sent", "failed", "deferred" };
	size_t n[3] = { run->sent, run->failed, run->deferred };
	int i;

	for (i = 0; i < 3; i++) {
		if (!n[i])
			continue;
		if (e->alert)
			audit_add(events[i], "queue=%s alert=%s count=%zu", e->qid, e->alert,
				  n[i]);
		else
			audit_add(events[i], "queue=%s count=%zu", e->qid, n[i]);
	}
}

/*
 * A broken entry goes to rejected/ with the reason: its message first (as
 * QID.msg, when there is one), then its envelope (as QID).
 */
static void reject_entry(struct deliver *d, const char *qid, const char *why)
{
	struct strbuf rel = STRBUF_INIT, name = STRBUF_INIT;
	struct stat st;
	char *msg;

	strbuf_addf(&rel, SPOOL_QUEUE_MSG "/%s", qid);
	strbuf_addf(&name, "%s.msg", qid);
	msg = spool_path(&d->ctx->spool, rel.buf);
	if (lstat(msg, &st) == 0 &&
	    spool_reject(&d->ctx->spool, rel.buf, name.buf, why, NULL) < 0)
		d->io_error = 1;
	free(msg);
	strbuf_release(&name);
	strbuf_reset(&rel);
	strbuf_addf(&rel, SPOOL_QUEUE_ENV "/%s", qid);
	if (d->io_error) {
		/* the message stays queued; tried again next run */
	} else if (spool_reject(&d->ctx->spool, rel.buf, qid, why, NULL) < 0) {
		d->io_error = 1;
	} else {
		printf("rejected " SPOOL_QUEUE_ENV "/%s: %s\n", qid, why);
		audit_add("reject", "input=" SPOOL_QUEUE_ENV "/%s", qid);
	}
	strbuf_release(&rel);
}

static int deliver_entry(struct deliver *d, const char *qid)
{
	struct qentry e;
	struct strbuf why = STRBUF_INIT;
	struct counts run = { 0, 0, 0, 0 }, all;
	size_t i, due = 0;
	int r, ret = 0, audited = 0, finished;

	r = qentry_load(&d->ctx->spool, qid, &e, &why);
	if (r < 0) {
		d->io_error = 1;
		ret = -1;
		goto out;
	}
	if (r > 0) {
		if (strcmp(why.buf, "envelope gone"))
			reject_entry(d, qid, why.buf);
		goto out;
	}
	if (!e.queued)
		e.queued = d->now;
	for (i = 0; i < e.nr; i++) {
		if (!rcpt_due(&e, &e.rcpts[i], d->now))
			continue;
		due++;
		d->batch[d->nr] = &e.rcpts[i];
		d->addrs[d->nr] = e.rcpts[i].addr;
		if (++d->nr == SMTP_MAX_RCPTS && run_batch(d, &e, &run) < 0)
			goto io_error;
	}
	if (d->nr && run_batch(d, &e, &run) < 0)
		goto io_error;
	count(&e, &all);
	audit_run(&e, &run);
	audited = 1;
	finished = !all.deferred && !all.fresh;
	if (finished) {
		if (finish(d, &e, &all) < 0)
			goto io_error;
	} else {
		d->deferred_left = 1;
	}
	printf("%s " SPOOL_QUEUE "/%s %zu sent, %zu failed, %zu deferred\n",
	       due || finished ? "sent" : "waiting", qid, all.sent, all.failed, all.deferred);
	fflush(stdout);
	if (audit_flush() < 0)
		d->io_error = 1;
	goto out;
io_error:
	d->nr = 0;
	d->io_error = 1;
	if (!audited)
		audit_run(&e, &run);
	audit_flush();
	ret = -1;
out:
	qentry_release(&e);
	strbuf_release(&why);
	return ret;
}

/*
 * Leftovers: a msg/ file without its env/ older than an hour (a stage
 * killed between the two renames), a state/ file without its env/ (deliver
 * killed while removing a finished entry).
 */
static void sweep(struct deliver *d, const struct strlist *envs)
{
	static const char *const dirs[] = { SPOOL_QUEUE_MSG, SPOOL_QUEUE_STATE };
	time_t real_now = time(NULL);
	size_t i, j;

	for (i = 0; i < 2; i++) {
		struct strlist names = STRLIST_INIT;
		char *dir = spool_path(&d->ctx->spool, dirs[i]);
		int removed = 0;

		dir_list(dir, &names, 0);
		for (j = 0; j < names.nr; j++) {
			char *p;
			struct stat st;

			if (strlist_has(envs, names.items[j]))
				continue;
			p = path_join(dir, names.items[j]);
			if (lstat(p, &st) == 0 &&
			    (i == 1 || st.st_mtime + ORPHAN_AGE < real_now)) {
				if (unlink(p) == 0)
					removed++;
			}
			free(p);
		}
		if (removed)
			fsync_dir(dir);
		strlist_clear(&names);
		free(dir);
	}
}

int deliver_run(struct context *ctx)
{
	struct deliver d;
	struct strlist envs = STRLIST_INIT;
	char *dir;
	const char *t;
	size_t i;
	int lock, ret;

	if (queue_init(&ctx->spool) < 0)
		return EX_IOERR;
	lock = spool_lock(&ctx->spool, "deliver");
	if (lock < 0)
		return EX_IOERR;
	memset(&d, 0, sizeof(d));
	d.ctx = ctx;
	d.now = clock_now();
	strbuf_init(&d.down_why, 0);
	t = getenv("MIMAMORI_SMTP_TIMEOUT");
	d.timeout = t && atoi(t) > 0 ? atoi(t) : SMTP_TIMEOUT_DEFAULT;
	d.addrs = xcalloc(SMTP_MAX_RCPTS, sizeof(*d.addrs));
	d.batch = xcalloc(SMTP_MAX_RCPTS, sizeof(*d.batch));
	d.replies = xcalloc(SMTP_MAX_RCPTS, sizeof(*d.replies));

	dir = spool_path(&ctx->spool, SPOOL_QUEUE_ENV);
	if (dir_list(dir, &envs, 0) < 0)
		d.io_error = 1;
	free(dir);
	sweep(&d, &envs);
	for (i = 0; i < envs.nr && !d.io_error; i++)
		if (name_is_safe(envs.items[i]))
			deliver_entry(&d, envs.items[i]);
	smtp_close(d.smtp);
	spool_unlock(lock);

	ret = d.io_error ? EX_IOERR : d.deferred_left ? EX_TEMPFAIL : EX_OK;
	strlist_clear(&envs);
	strbuf_release(&d.down_why);
	free(d.addrs);
	free(d.batch);
	free(d.replies);
	return ret;
}

int cmd_deliver(int argc, char **argv, struct context *ctx)
{
	if (argc > 1) {
		error("usage: mimamori deliver");
		return EX_USAGE;
	}
	return deliver_run(ctx);
}
