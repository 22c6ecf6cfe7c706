/*
 * deliver_report - the failure report to an operator: which recipients of
 * a queued message failed and why. Composed with lib/mail_compose.c as PGP/MIME,
 * signed by the node and encrypted to the operator's pinned key, since it
 * names recipients (helpers' addresses are personal data); queued like any
 * other mail.
 *
 * Reads the finished queue entry in memory; writes queue/msg/QID-report
 * and queue/env/QID-report through the caller's batch, a name that makes
 * the report exactly-once across a kill (see report_qid()).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "deliver_report.h"
#include "../util/clock.h"
#include "../lib/mail.h"
#include "../util/msg.h"
#include "../util/timeutil.h"

static void report_body(const struct qentry *e, size_t sent, size_t failed,
			struct strbuf *body)
{
	char when[32];
	size_t i;

	datetime_format(e->queued, when);
	strbuf_addstr(body, "配信できなかった宛先があります。\n"
			    "Some recipients could not be delivered to.\n\n");
	strbuf_addf(body, "queue:    %s\n", e->qid);
	if (e->alert)
		strbuf_addf(body, "alert:    %s\n", e->alert);
	strbuf_addf(body, "queued:   %s\n", when);
	strbuf_addf(body, "sent:     %zu\nfailed:   %zu\n\n", sent, failed);
	for (i = 0; i < e->nr; i++)
		if (e->rcpts[i].status == RCPT_FAILED)
			strbuf_addf(body, "%s: %s\n", e->rcpts[i].addr,
				    e->rcpts[i].reply ? e->rcpts[i].reply : "");
}

/* Add msg/QID and env/QID of the report to the batch (env last). */
static int write_report(struct spool_batch *b, const char *qid, const struct strbuf *msg,
			const struct strbuf *env)
{
	struct strbuf rel = STRBUF_INIT;
	int ret;

	strbuf_addf(&rel, SPOOL_QUEUE_MSG "/%s", qid);
	ret = spool_batch_write(b, rel.buf, msg->buf, msg->len);
	strbuf_reset(&rel);
	strbuf_addf(&rel, SPOOL_QUEUE_ENV "/%s", qid);
	if (!ret)
		ret = spool_batch_write(b, rel.buf, env->buf, env->len);
	strbuf_release(&rel);
	return ret;
}

/*
 * The report of QID is queued as QID-report, so that a run killed after
 * queueing it but before removing QID finds it on the next run (QID is
 * taken before QID-report: names are taken in sorted order) and does not
 * queue it twice. 1 when it is queued already.
 */
static int report_qid(const struct spool *sp, const char *qid, char *out)
{
	struct strbuf rel = STRBUF_INIT;
	int there;

	if (strlen(qid) + sizeof("-report") > QUEUE_QID_MAX) {
		queue_new_qid(out);
		return 0;
	}
	snprintf(out, QUEUE_QID_MAX, "%s-report", qid);
	strbuf_addf(&rel, SPOOL_QUEUE_ENV "/%s", out);
	there = spool_exists(sp, rel.buf);
	strbuf_release(&rel);
	return there;
}

int deliver_report_add(struct context *ctx, struct spool_batch *b, const struct qentry *e,
		       size_t sent, char *qid)
{
	const struct config *cfg = &ctx->cfg;
	const struct operator *op = config_operator(cfg, e->report);
	struct strbuf body = STRBUF_INIT, out = STRBUF_INIT, why = STRBUF_INIT,
		      subject = STRBUF_INIT, env = STRBUF_INIT;
	struct mail_out h;
	const char *to[2];
	const char *rcpts[1];
	struct queue_msg m;
	size_t i, failed = 0;
	int ret = -1;

	if (!op || !op->address) {
		msg_warn("queue/%s: no operator with key %s and an address: "
			 "no failure report", e->qid, e->report);
		return 0;
	}
	if (report_qid(&ctx->spool, e->qid, qid)) {
		qid[0] = '\0';   /* queued by a run killed before it removed the entry */
		return 0;
	}
	for (i = 0; i < e->nr; i++)
		failed += e->rcpts[i].status == RCPT_FAILED;
	report_body(e, sent, failed, &body);
	strbuf_addf(&subject, "配信失敗の報告 %s", e->alert ? e->alert : e->qid);
	memset(&h, 0, sizeof(h));
	h.from_address = cfg->sender_address;
	h.from_name = cfg->sender_name;
	h.to = op->address;
	h.subject = subject.buf;
	h.auto_submitted = 1;
	to[0] = op->key;
	to[1] = NULL;
	if (mail_compose_pgp(&h, body.buf, cfg->self->key, to, &out, NULL, &why) < 0) {
		error("queue/%s: cannot compose the failure report: %s", e->qid, why.buf);
		goto out;
	}
	rcpts[0] = op->address;
	memset(&m, 0, sizeof(m));
	m.sender = cfg->sender_address;
	m.rcpts = rcpts;
	m.nr_rcpts = 1;
	m.alert_id = e->alert;
	ret = queue_envelope(&m, &env);
	if (!ret)
		ret = write_report(b, qid, &out, &env);
out:
	strbuf_release(&body);
	strbuf_release(&out);
	strbuf_release(&why);
	strbuf_release(&subject);
	strbuf_release(&env);
	return ret;
}
