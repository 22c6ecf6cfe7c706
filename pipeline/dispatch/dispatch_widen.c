/*
 * dispatch_widen - the search widens when the person is not found: an
 * open actual alert whose area was not every ward is sent, once
 * <escalation after=…/> has passed since it was sent, to the members of
 * every ward it has not reached yet, marked 【範囲拡大】; the operator who
 * asked is told. Held alerts past their approval window are closed
 * unsent. Run at the end of every dispatch (so run and watch do it) and
 * by expire (dispatch_widen_cmd()).
 *
 * Reads the alert store, the registry (read only) and the config; writes
 * the alert store, queue/, feed/ and work/widen/.
 *
 * Crash safety: one commit per widening, as for a request. Its marker
 * work/widen/ALERT-ID is written before the store's index and removed
 * after the queue envelopes; the commit's note "dispatch:ALERT-ID"
 * holds the envelopes. A run that finds a marker writes the envelopes
 * the note names whose message is there, then removes the marker; a
 * commit that never happened left only files its next run replaces.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>
#include "../core/audit.h"
#include "../core/claim.h"
#include "../core/queue.h"
#include "../util/clock.h"
#include "../util/msg.h"
#include "../util/xalloc.h"
#include "dispatch_int.h"

void dispatch_widen_recover(struct dispatch *d)
{
	struct strlist names = STRLIST_INIT;
	char *dir = spool_path(&d->ctx->spool, SPOOL_WORK_WIDEN);
	size_t i;

	dir_list(dir, &names, 0);
	for (i = 0; i < names.nr; i++) {
		struct strbuf key = STRBUF_INIT, rel = STRBUF_INIT;
		struct claim_note n;
		const char *note;
		char *path;

		claim_note_key(&key, "dispatch", names.items[i]);
		note = alert_note_get(d->st, key.buf);
		if (note && claim_note_parse(note, &n) == 0) {
			int r = queue_finish_envelopes(&d->ctx->spool, n.queued);

			claim_note_release(&n);
			if (r < 0) {
				d->io_error = 1;
				strbuf_release(&key);
				break;
			}
		} else if (note) {
			error("widening of %s: its commit's note cannot be read", names.items[i]);
		}
		strbuf_addf(&rel, SPOOL_WORK_WIDEN "/%s", names.items[i]);
		path = spool_path(&d->ctx->spool, rel.buf);
		unlink(path);
		free(path);
		strbuf_release(&key);
		strbuf_release(&rel);
	}
	if (names.nr)
		fsync_dir(dir);
	strlist_clear(&names);
	free(dir);
}

/* A held alert nobody approved in time: closed, never sent. */
static void drop_held(struct dispatch *d, struct alert_entry *e)
{
	struct alert a;

	if (alert_load(d->st, e, &a) < 0)
		return;
	alert_close(d->st, &a.entry, ALERT_EXPIRED, d->now);
	if (alert_put(d->st, &a) == 0 && alert_commit(d->st) == 0) {
		printf("not-approved %s\n", e->id);
		fflush(stdout);
		audit_add("not-approved", "alert=%s", e->id);
	} else {
		d->io_error = 1;
	}
	alert_release(&a);
}

/* The members of every ward not yet reached by r->alert, into rcpts. */
static void not_reached(struct dispatch *d, struct req *r, struct strlist *rcpts)
{
	struct strlist all = STRLIST_INIT;
	size_t i;

	dispatch_all_recipients(d, r, &all);
	for (i = 0; i < all.nr; i++)
		if (!strlist_has(&r->alert.recipients, all.items[i]))
			strlist_add(rcpts, all.items[i]);
	strlist_clear(&all);
}

static void widen_one(struct dispatch *d, struct alert_entry *e)
{
	const struct config *cfg = &d->ctx->cfg;
	struct strlist rcpts = STRLIST_INIT;
	struct strbuf marker = STRBUF_INIT;
	struct req r;
	size_t i;

	req_setup(&r, e->id, "-");
	r.widened = 1;
	r.type = "widen";
	if (alert_load(d->st, e, &r.alert) < 0 || !r.alert.request)
		goto skip;
	r.request = node_copy(r.alert.request);
	node_remove(node_child(r.request, "area"));      /* every ward */
	r.entry = registry_find(d->reg, e->registration);
	if (!r.entry || r.entry->state != REG_ACTIVE ||
	    registry_load(d->reg, r.entry, &r.record) < 0)
		goto skip;
	r.police = config_agency(cfg, r.alert.police ? r.alert.police : "");
	r.op = config_operator(cfg, r.alert.operator_fpr ? r.alert.operator_fpr : "");
	if (!r.op && cfg->nr_operators)
		r.op = &cfg->operators[0];   /* the queue's report address */
	if (!r.op)
		goto skip;
	r.reply_to = config_operator(cfg, r.alert.operator_fpr ? r.alert.operator_fpr : "");
	not_reached(d, &r, &rcpts);
	if (rcpts.nr && dispatch_widen_mails(d, &r, &rcpts) < 0) {
		if (d->io_error || d->node_error)
			goto out;
		/* The leak guard or the composer: never sent wider, said once. */
		msg_warn("alert %s not widened: %s", e->id, r.reasons.buf);
		audit_add("widen-failed", "alert=%s", e->id);
		r.nr_out = 0;
		r.nr_rcpts = 0;
		r.cap_type = NULL;
	}
	for (i = 0; i < rcpts.nr && r.cap_type; i++)
		strlist_add(&r.alert.recipients, rcpts.items[i]);
	strlist_sort(&r.alert.recipients);
	r.alert.widened_at = d->now;
	if (r.cap_type && dispatch_reply(d, &r, 1) < 0)
		goto out;
	strbuf_addf(&marker, SPOOL_WORK_WIDEN "/%s", e->id);
	free(r.rel);
	r.rel = strbuf_detach(&marker, NULL);
	if (spool_batch_write(alert_batch(d->st), r.rel, "", 0) < 0 ||
	    dispatch_commit(d, &r, 1) < 0) {
		d->io_error = 1;
		goto out;
	}
	audit_add("widened", "alert=%s recipients=%zu", e->id, r.nr_rcpts);
	goto out;
skip:
	/* Its own data cannot be had: left as it is, the run goes on. */
	audit_add("widen-skipped", "alert=%s", e->id);
out:
	strlist_clear(&rcpts);
	strbuf_release(&marker);
	req_release(&r);
}

void dispatch_widen(struct dispatch *d)
{
	const struct config *cfg = &d->ctx->cfg;
	size_t i;
	char *dir = spool_path(&d->ctx->spool, SPOOL_WORK_WIDEN);

	mkdir_p(dir, 0700);
	free(dir);
	for (i = 0; i < alert_count(d->st) && !d->io_error && !d->node_error; i++) {
		struct alert_entry *e = alert_entry(d->st, i);
		struct alert a;
		const char *area;
		int due;

		if (e->state == ALERT_HELD && d->now > e->opened + APPROVAL_WINDOW) {
			drop_held(d, e);
			continue;
		}
		if (!cfg->escalate_after || e->state != ALERT_OPEN || e->exercise)
			continue;
		if (alert_load(d->st, e, &a) < 0)
			continue;
		area = a.request ? node_text(a.request, "area") : NULL;
		due = !a.widened_at && a.sent_at && area && strcmp(area, "*") &&
		      d->now >= a.sent_at + (time_t)cfg->escalate_after;
		alert_release(&a);
		if (due)
			widen_one(d, e);
		audit_flush();
	}
}

int dispatch_widen_cmd(struct context *ctx)
{
	struct dispatch d;
	int lock;

	memset(&d, 0, sizeof(d));
	d.ctx = ctx;
	d.lang = "ja";
	d.now = clock_now();
	d.today = clock_today();
	if (queue_init(&ctx->spool) < 0)
		return EX_IOERR;
	lock = spool_lock(&ctx->spool, "dispatch");
	if (lock < 0)
		return EX_IOERR;
	if (registry_open(&d.reg, &ctx->cfg, &ctx->spool, 0) < 0 ||
	    alert_store_open(&d.st, &ctx->cfg, &ctx->spool, 1) < 0) {
		registry_close(d.reg);
		spool_unlock(lock);
		return EX_SOFTWARE;
	}
	dispatch_widen_recover(&d);
	if (!d.io_error)
		dispatch_widen(&d);
	audit_flush();
	alert_store_close(d.st);
	registry_close(d.reg);
	spool_unlock(lock);
	return d.io_error ? EX_IOERR : d.node_error;
}
