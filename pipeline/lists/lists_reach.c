/*
 * lists_reach - how many helpers an alert reached, per list, and how
 * fast: `show ALERT-ID` prints
 *
 *   list ID: N recipients, N sent, N failed, N deferred, N bounced; 50% in S s, 90% in S s, 100% in S s
 *
 * from the reach records deliver leaves for each finished list copy
 * (reach/ALERT-ID/QID: counts and the delays of each 2xx, no address),
 * the copies still in the queue (qentry_peek(), as `status` reads them),
 * and the bounces listmail counted (reach/ALERT-ID/b-TOKEN). Shares are
 * of the recipients; "-" for one not reached.
 *
 * And the reply to the operator when an exercise is done: dispatch notes
 * the list copies of an exercise alert in reach/ALERT-ID/drill; once each
 * has its reach record, deliver (lists_reach_drills()) queues one signed
 * reply with the same figures for those copies, per list, and renames the
 * note drill-done in the same commit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "lists.h"
#include "../core/audit.h"
#include "../core/queue.h"
#include "../deliver/deliver.h"
#include "../dispatch/dispatch.h"
#include "../lib/gpg.h"
#include "../lib/mail.h"
#include "../util/fileio.h"
#include "../util/msg.h"
#include "../util/xalloc.h"

struct reach {
	char *list;
	size_t rcpts, sent, failed, deferred, bounced;
	long *delays;                 /* one per sent recipient */
	size_t nr_delays, alloc_delays;
};

struct reaches {
	struct reach *v;
	size_t nr, alloc;
};

static struct reach *reach_of(struct reaches *r, const char *list)
{
	size_t i;

	for (i = 0; i < r->nr; i++)
		if (!strcmp(r->v[i].list, list))
			return &r->v[i];
	ALLOC_GROW(r->v, r->nr + 1, r->alloc);
	memset(&r->v[r->nr], 0, sizeof(r->v[0]));
	r->v[r->nr].list = xstrdup(list);
	return &r->v[r->nr++];
}

static void add_delay(struct reach *r, long d, size_t count)
{
	while (count--) {
		ALLOC_GROW(r->delays, r->nr_delays + 1, r->alloc_delays);
		r->delays[r->nr_delays++] = d;
	}
}

/* A finished copy's record, or a bounce note. */
static void read_record(struct reaches *rs, const char *text)
{
	char list[128] = "";
	const char *p;
	size_t n;
	struct reach *r;

	if (sscanf(text, "bounce %127s", list) == 1) {
		reach_of(rs, list)->bounced++;
		return;
	}
	if (sscanf(text, "list %127s", list) != 1)
		return;
	r = reach_of(rs, list);
	if ((p = strstr(text, "\nrecipients ")) && sscanf(p, "\nrecipients %zu", &n) == 1)
		r->rcpts += n;
	if ((p = strstr(text, "\nsent ")) && sscanf(p, "\nsent %zu", &n) == 1)
		r->sent += n;
	if ((p = strstr(text, "\nfailed ")) && sscanf(p, "\nfailed %zu", &n) == 1)
		r->failed += n;
	if ((p = strstr(text, "\ndelays")) != NULL) {
		p += 7;
		while (*p == ' ') {
			char *end;
			long d = strtol(p + 1, &end, 10);

			if (*end != ':')
				break;
			n = strtoul(end + 1, &end, 10);
			add_delay(r, d, n);
			p = end;
		}
	}
}

/* The copies of alert_id still in the queue. */
static void read_queue(const struct context *ctx, const char *alert_id, struct reaches *rs)
{
	struct strlist envs = STRLIST_INIT;
	char *dir = spool_path(&ctx->spool, SPOOL_QUEUE_ENV);
	size_t i, j;

	dir_list(dir, &envs, 0);
	free(dir);
	for (i = 0; i < envs.nr; i++) {
		struct qentry e;
		struct strbuf why = STRBUF_INIT;
		struct reach *r;

		memset(&e, 0, sizeof(e));
		if (qentry_peek(&ctx->spool, envs.items[i], &e, &why) == 0 && e.alert && e.list &&
		    !strcmp(e.alert, alert_id)) {
			r = reach_of(rs, e.list);
			r->rcpts += e.nr;
			for (j = 0; j < e.nr; j++) {
				if (e.rcpts[j].status == RCPT_SENT) {
					r->sent++;
					add_delay(r, e.rcpts[j].last > e.queued ? e.rcpts[j].last - e.queued
										: 0, 1);
				} else if (e.rcpts[j].status == RCPT_FAILED) {
					r->failed++;
				} else if (e.rcpts[j].status == RCPT_DEFERRED) {
					r->deferred++;
				}
			}
		}
		qentry_release(&e);
		strbuf_release(&why);
	}
	strlist_clear(&envs);
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return x < y ? -1 : x > y;
}

/* The seconds to pct % of the recipients ("12 s"), or none. */
static void share_seconds(struct strbuf *out, const struct reach *r, int pct,
			  const char *unit, const char *none)
{
	size_t need = (r->rcpts * pct + 99) / 100;

	if (!need || r->nr_delays < need)
		strbuf_addstr(out, none);
	else
		strbuf_addf(out, "%ld %s", r->delays[need - 1], unit);
}

static void share(struct strbuf *out, const struct reach *r, int pct)
{
	strbuf_addf(out, "%d%% in ", pct);
	share_seconds(out, r, pct, "s", "-");
}

/*
 * The reach of alert_id per list, delays sorted: from every record of
 * reach/ALERT-ID/ and the queue, or, with only, from the records of
 * those copies (QIDs) alone.
 */
static void reach_collect(const struct context *ctx, const char *alert_id,
			  const struct strlist *only, struct reaches *rs)
{
	struct strlist files = STRLIST_INIT;
	struct strbuf rel = STRBUF_INIT;
	char *dir;
	size_t i;

	strbuf_addf(&rel, SPOOL_REACH "/%s", alert_id);
	dir = spool_path(&ctx->spool, rel.buf);
	if (only)
		for (i = 0; i < only->nr; i++)
			strlist_add(&files, only->items[i]);
	else
		dir_list(dir, &files, 0);
	for (i = 0; i < files.nr; i++) {
		struct strbuf text = STRBUF_INIT;
		char *path = path_join(dir, files.items[i]);

		if (strbuf_read_file(&text, path, 1 << 24) >= 0)
			read_record(rs, text.buf);
		free(path);
		strbuf_release(&text);
	}
	free(dir);
	if (!only)
		read_queue(ctx, alert_id, rs);
	for (i = 0; i < rs->nr; i++)
		qsort(rs->v[i].delays, rs->v[i].nr_delays, sizeof(*rs->v[i].delays), cmp_long);
	strlist_clear(&files);
	strbuf_release(&rel);
}

static void reaches_release(struct reaches *rs)
{
	size_t i;

	for (i = 0; i < rs->nr; i++) {
		free(rs->v[i].list);
		free(rs->v[i].delays);
	}
	free(rs->v);
	memset(rs, 0, sizeof(*rs));
}

int lists_reach_show(const struct context *ctx, const char *alert_id, struct strbuf *out)
{
	struct reaches rs = { NULL, 0, 0 };
	size_t i;

	reach_collect(ctx, alert_id, NULL, &rs);
	for (i = 0; i < rs.nr; i++) {
		struct reach *r = &rs.v[i];

		strbuf_addf(out, "list %s: %zu recipients, %zu sent, %zu failed, %zu deferred, "
			    "%zu bounced; ", r->list, r->rcpts, r->sent, r->failed, r->deferred,
			    r->bounced);
		share(out, r, 50);
		strbuf_addstr(out, ", ");
		share(out, r, 90);
		strbuf_addstr(out, ", ");
		share(out, r, 100);
		strbuf_addch(out, '\n');
	}
	reaches_release(&rs);
	return 0;
}

/* ---------------------------------------------------------------- drills */

/* reach/ALERT-ID into rel (reset first), the folder made. 0, or -1 (reported). */
static int reach_dir(const struct spool *sp, const char *alert_id, struct strbuf *rel)
{
	char *dir;
	int ret;

	strbuf_reset(rel);
	strbuf_addf(rel, SPOOL_REACH "/%s", alert_id);
	dir = spool_path(sp, rel->buf);
	ret = mkdir_p(dir, 0700);
	if (ret < 0)
		error_errno("cannot create '%s'", rel->buf);
	free(dir);
	return ret;
}

int lists_reach_drill_note(const struct spool *sp, struct spool_batch *b, const char *alert_id,
			   const char *operator_fpr, const struct strlist *copies)
{
	struct strbuf rel = STRBUF_INIT, text = STRBUF_INIT;
	size_t i;
	int ret = reach_dir(sp, alert_id, &rel);

	strbuf_addf(&text, "drill %s\noperator %s\n", alert_id, operator_fpr);
	for (i = 0; i < copies->nr; i++)
		strbuf_addf(&text, "copy %s\n", copies->items[i]);
	strbuf_addstr(&rel, "/" LISTS_DRILL);
	if (!ret)
		ret = spool_batch_write(b, rel.buf, text.buf, text.len);
	strbuf_release(&rel);
	strbuf_release(&text);
	return ret;
}

/* The figures of the reply, one block per list. */
static void drill_figures(const struct reaches *rs, struct strbuf *out, size_t *total)
{
	size_t i;

	for (i = 0; i < rs->nr; i++) {
		const struct reach *r = &rs->v[i];

		strbuf_addf(out, "%s: 送信先 %zu 件、送信 %zu 件、失敗 %zu 件、90%% まで ", r->list,
			    r->rcpts, r->sent, r->failed);
		share_seconds(out, r, 90, "秒", "未達");
		strbuf_addf(out, "\n  %zu recipients, %zu sent, %zu failed; 90%% in ", r->rcpts,
			    r->sent, r->failed);
		share_seconds(out, r, 90, "s", "not reached");
		strbuf_addch(out, '\n');
		*total += r->rcpts;
	}
}

int lists_reach_bounce(const struct spool *sp, struct spool_batch *b, const char *alert_id,
		       const char *list, const char *token)
{
	struct strbuf rel = STRBUF_INIT, text = STRBUF_INIT;
	int ret = reach_dir(sp, alert_id, &rel);

	strbuf_addf(&rel, "/b-%s", token);
	strbuf_addf(&text, "bounce %s\n", list);
	if (!ret)
		ret = spool_batch_write(b, rel.buf, text.buf, text.len);
	strbuf_release(&rel);
	strbuf_release(&text);
	return ret;
}

/* The note of a drill: its operator and its copies. 0, or -1 when it is not one. */
static int drill_read(const char *text, struct strbuf *op, struct strlist *copies)
{
	const char *p = text;

	while (*p) {
		size_t n = strcspn(p, "\n");

		if (n > 9 && !strncmp(p, "operator ", 9))
			strbuf_add(op, p + 9, n - 9);
		else if (n > 5 && !strncmp(p, "copy ", 5)) {
			struct strbuf q = STRBUF_INIT;

			strbuf_add(&q, p + 5, n - 5);
			if (name_is_safe(q.buf))
				strlist_add(copies, q.buf);
			strbuf_release(&q);
		}
		p += n + (p[n] == '\n');
	}
	return op->len && copies->nr ? 0 : -1;
}

/*
 * The reply of one finished drill, queued as drill-ALERT-ID with the
 * rename of its note to drill-done in one batch. A reply queued by a run
 * killed before the rename is found by its name and not made again.
 * 1 when queued (qid), 0 when nothing was (not finished; no operator),
 * -1 when the node cannot do it now (gpg-agent, disk: tried next run).
 */
static int drill_reply(struct context *ctx, const char *id, char *qid)
{
	const struct config *cfg = &ctx->cfg;
	struct strbuf rel = STRBUF_INIT, text = STRBUF_INIT, op = STRBUF_INIT,
		      figures = STRBUF_INIT, subject = STRBUF_INIT, body = STRBUF_INIT,
		      why = STRBUF_INIT, msg = STRBUF_INIT, env = STRBUF_INIT,
		      count = STRBUF_INIT, done = STRBUF_INIT;
	struct strlist copies = STRLIST_INIT;
	struct reaches rs = { NULL, 0, 0 };
	struct spool_batch b;
	const struct operator *o;
	size_t i, total = 0;
	int ret = 0;

	spool_batch_init(&b, &ctx->spool);
	strbuf_addf(&rel, SPOOL_REACH "/%s/" LISTS_DRILL, id);
	strbuf_addf(&done, SPOOL_REACH "/%s/" LISTS_DRILL_DONE, id);
	{
		char *path = spool_path(&ctx->spool, rel.buf);

		if (strbuf_read_file(&text, path, 1 << 20) < 0 ||
		    drill_read(text.buf, &op, &copies) < 0) {
			free(path);
			goto out;
		}
		free(path);
	}
	for (i = 0; i < copies.nr; i++) {
		struct strbuf r = STRBUF_INIT;
		int there;

		strbuf_addf(&r, SPOOL_REACH "/%s/%s", id, copies.items[i]);
		there = spool_exists(&ctx->spool, r.buf);
		strbuf_release(&r);
		if (!there)
			goto out;    /* a copy still going (or not yet queued) */
	}
	snprintf(qid, QUEUE_QID_MAX, "drill-%s", id);
	strbuf_addf(&env, SPOOL_QUEUE_ENV "/%s", qid);
	if (spool_exists(&ctx->spool, env.buf)) {
		/* Queued by a run killed before the rename. */
		spool_batch_rename(&b, rel.buf, done.buf);
		ret = spool_batch_commit(&b) < 0 ? -1 : 0;
		qid[0] = '\0';
		goto out;
	}
	strbuf_reset(&env);
	o = config_operator(cfg, op.buf);
	if (!o || !o->address) {
		msg_warn("alert %s: the operator who asked for the exercise is no longer "
			 "configured: no reply", id);
		audit_add("no-reply", "alert=%s operator=%s", id, op.buf);
		spool_batch_rename(&b, rel.buf, done.buf);
		ret = spool_batch_commit(&b) < 0 ? -1 : 0;
		qid[0] = '\0';
		goto out;
	}
	reach_collect(ctx, id, &copies, &rs);
	drill_figures(&rs, &figures, &total);
	strbuf_addf(&count, "%zu", total);
	{
		const char *pairs[] = {
			"alert-id", id,
			"recipients", count.buf,
			"lists", figures.buf,
			NULL, NULL
		};

		if (render_pairs(ctx->home, "reply-drill-done", "ja", pairs, &subject, &body,
				 &why) < 0) {
			error("%s", why.buf);
			ret = -1;
			goto out;
		}
	}
	{
		struct mail_out h;
		const char *to[2] = { o->key, NULL };
		const char *rcpt[1] = { o->address };
		struct queue_msg m;

		memset(&h, 0, sizeof(h));
		h.from_address = cfg->sender_address;
		h.from_name = cfg->sender_name;
		h.to = o->address;
		h.subject = subject.buf;
		h.auto_submitted = 1;
		strbuf_reset(&why);
		if (mail_compose_pgp(&h, body.buf, cfg->self->key, to, &msg, NULL, &why) < 0) {
			if (gpg_agent_down(cfg->self->key)) {
				error("gpg-agent cannot be reached for '%s': the reply to the "
				      "exercise %s is left for the next run", cfg->gnupg_home, id);
				ret = -1;
				goto out;
			}
			/* The operator's key expired, was revoked: no reply, never a wedge. */
			msg_warn("alert %s: no reply to the exercise's operator: %s", id, why.buf);
			audit_add("no-reply", "alert=%s operator=%s", id, o->key);
			spool_batch_rename(&b, rel.buf, done.buf);
			ret = spool_batch_commit(&b) < 0 ? -1 : 0;
			qid[0] = '\0';
			goto out;
		}
		memset(&m, 0, sizeof(m));
		m.sender = cfg->sender_address;
		m.rcpts = rcpt;
		m.nr_rcpts = 1;
		m.alert_id = id;
		if (queue_envelope(&m, &env) < 0) {
			ret = -1;
			goto out;
		}
	}
	strbuf_reset(&why);
	strbuf_addf(&why, SPOOL_QUEUE_MSG "/%s", qid);
	if (spool_batch_write(&b, why.buf, msg.buf, msg.len) < 0) {
		ret = -1;
		goto out;
	}
	strbuf_reset(&why);
	strbuf_addf(&why, SPOOL_QUEUE_ENV "/%s", qid);
	if (spool_batch_write(&b, why.buf, env.buf, env.len) < 0) {
		ret = -1;
		goto out;
	}
	/* The envelope first: a kill between the two finds it and only renames. */
	spool_batch_rename(&b, rel.buf, done.buf);
	if (spool_batch_commit(&b) < 0) {
		ret = -1;
		goto out;
	}
	audit_add("drill-done", "alert=%s queue=%s recipients=%zu", id, qid, total);
	ret = 1;
out:
	if (ret < 0)
		qid[0] = '\0';
	spool_batch_release(&b);
	reaches_release(&rs);
	strlist_clear(&copies);
	strbuf_release(&rel);
	strbuf_release(&text);
	strbuf_release(&op);
	strbuf_release(&figures);
	strbuf_release(&subject);
	strbuf_release(&body);
	strbuf_release(&why);
	strbuf_release(&msg);
	strbuf_release(&env);
	strbuf_release(&count);
	strbuf_release(&done);
	return ret;
}

int lists_reach_drills(struct context *ctx, struct strlist *queued)
{
	struct strlist ids = STRLIST_INIT;
	char *dir = spool_path(&ctx->spool, SPOOL_REACH);
	size_t i;
	int ret = 0;

	dir_list(dir, &ids, 1);
	free(dir);
	for (i = 0; i < ids.nr; i++) {
		struct strbuf rel = STRBUF_INIT;
		char qid[QUEUE_QID_MAX] = "";
		int r;

		if (!name_is_safe(ids.items[i]))
			continue;
		strbuf_addf(&rel, SPOOL_REACH "/%s/" LISTS_DRILL, ids.items[i]);
		r = spool_exists(&ctx->spool, rel.buf) ? drill_reply(ctx, ids.items[i], qid) : 0;
		strbuf_release(&rel);
		if (r < 0) {
			ret = -1;
			break;
		}
		if (r > 0 && queued)
			strlist_add(queued, qid);
	}
	strlist_clear(&ids);
	return ret;
}
