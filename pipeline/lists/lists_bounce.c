/*
 * lists_bounce - bounces, as Mailman 3 counts them: a delivery status
 * notification (RFC 3464) to ID+bounces@DOMAIN (or its XVERP form
 * ID+bounces+USER=HOST@DOMAIN) scores each failed member of the list, 1
 * for a hard failure (5.x.x), 0.5 for a soft one (4.x.x), at most once a
 * day; a bounce older than LISTS_BOUNCE_DAYS no longer counts. At a
 * score of 5 the member gets a probe whose envelope sender is
 * ID+probe-TOKEN@DOMAIN; only a mail to that address disables the
 * member (so forged DSNs disable no one) and tells the list's owner; a
 * probe not bounced within LISTS_PROBE_DAYS resets the score.
 *
 * A DSN also counts as a bounce for the alert whose Message-ID its
 * returned headers carry (reach/ALERT-ID/b-TOKEN, for `show`).
 *
 * SECURITY: reads mail from anyone through lib/mail_parse.c (caps before
 * libetpan); looks at most LM_DSN_MAX recipients of a report; reasons
 * and the audit log name no address.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "lists_int.h"
#include "../core/alert.h"
#include "../core/audit.h"
#include "../lib/mail.h"
#include "../util/msg.h"
#include "../util/timeutil.h"
#include "../util/xalloc.h"

struct dsn_rcpt {
	char addr[256];
	char action[16];
	char status[16];
};

static void copy_value(char *dst, size_t size, const char *v, size_t n)
{
	size_t i, j = 0;

	while (n && (*v == ' ' || *v == '\t'))
		v++, n--;
	for (i = 0; i < n && j + 1 < size; i++)
		if ((unsigned char)v[i] > ' ' && (unsigned char)v[i] < 0x7f)
			dst[j++] = v[i];
	dst[j] = '\0';
}

/* A field "Name: value" of a group (a line of it; continuations ignored). */
static void take_field(struct dsn_rcpt *r, const char *line, size_t n)
{
	const char *colon = memchr(line, ':', n);
	size_t k;

	if (!colon)
		return;
	k = colon - line;
	if (k == 15 && !strncasecmp(line, "Final-Recipient", 15)) {
		const char *semi = memchr(colon, ';', n - k);

		/* "rfc822; user@host" */
		if (semi)
			copy_value(r->addr, sizeof(r->addr), semi + 1, line + n - semi - 1);
	} else if (k == 6 && !strncasecmp(line, "Action", 6)) {
		copy_value(r->action, sizeof(r->action), colon + 1, n - k - 1);
	} else if (k == 6 && !strncasecmp(line, "Status", 6)) {
		copy_value(r->status, sizeof(r->status), colon + 1, n - k - 1);
	}
}

/* The per-recipient groups of a delivery-status body (the first group is the message's). */
static size_t dsn_read(const struct strbuf *status, struct dsn_rcpt *out, size_t max)
{
	const char *p = status->buf, *end = status->buf + status->len;
	struct dsn_rcpt cur;
	size_t nr = 0;
	int in_group = 0;

	memset(&cur, 0, sizeof(cur));
	while (p < end) {
		const char *nl = memchr(p, '\n', end - p);
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (n && p[n - 1] == '\r')
			n--;
		if (!n) {
			if (in_group && cur.addr[0] && nr < max)
				out[nr++] = cur;
			memset(&cur, 0, sizeof(cur));
			in_group = 0;
		} else if (*p != ' ' && *p != '\t') {
			take_field(&cur, p, n);
			in_group = 1;
		}
		p = nl ? nl + 1 : end;
	}
	if (in_group && cur.addr[0] && nr < max)
		out[nr++] = cur;
	return nr;
}

/* 2 (hard), 1 (soft), 0 (not a failure). */
static int weight(const struct dsn_rcpt *r)
{
	if (!strcasecmp(r->action, "failed"))
		return r->status[0] == '4' ? 1 : 2;
	if (!strcasecmp(r->action, "delayed"))
		return 1;
	if (!r->action[0] && r->status[0] == '5')
		return 2;
	if (!r->action[0] && r->status[0] == '4')
		return 1;
	return 0;
}

/* Load Message-ID -> alert id once a run. */
static void load_msgids(struct lm *lm)
{
	struct alert_store *st;
	size_t i, j;

	if (lm->msgids_loaded)
		return;
	lm->msgids_loaded = 1;
	if (alert_store_open(&st, &lm->ctx->cfg, &lm->ctx->spool, 0) < 0)
		return;
	for (i = 0; i < alert_count(st); i++) {
		struct alert_entry *e = alert_entry(st, i);
		struct alert a;

		if (e->state == ALERT_DESTROYED)
			continue;
		alert_init(&a);
		if (alert_load(st, e, &a) == 0)
			for (j = 0; j < a.message_ids.nr; j++) {
				strlist_add(&lm->ids, a.message_ids.items[j]);
				strlist_add(&lm->ids, e->id);
			}
		alert_release(&a);
	}
	for (i = 0; i + 1 < lm->ids.nr; i += 2)
		hashmap_put(&lm->msgids, lm->ids.items[i], lm->ids.items[i + 1]);
	alert_store_close(st);
}

/* Keep the bounces that still count today. */
static void lapse(struct lmember *m, long today)
{
	int i, j = 0;

	for (i = 0; i < m->nr_bounces; i++)
		if (today - m->bounces[i].day < LISTS_BOUNCE_DAYS)
			m->bounces[j++] = m->bounces[i];
	m->nr_bounces = j;
}

static void send_probe(struct lm *lm, struct lin *in, const struct list *l, struct lmember *m)
{
	struct strbuf sender = STRBUF_INIT, what = STRBUF_INIT;
	const char *pairs[] = { "list", l->id, NULL, NULL };

	lists_token(lstore_key(lm->st), "probe", l->id, 'p', m->address, lm->today, m->probe);
	m->probe_day = lm->today;
	strbuf_addf(&what, "probe-%s", m->probe);
	lists_address(l, what.buf, &sender);
	lm_send(lm, in, "list-probe", pairs, m->address, sender.buf, NULL);
	strbuf_release(&sender);
	strbuf_release(&what);
}

void lm_bounce(struct lm *lm, struct lin *in, const struct lcommand *c, const char *raw,
	       size_t len)
{
	struct mail_report rep;
	struct strbuf why = STRBUF_INIT;
	struct dsn_rcpt *r = xcalloc(LM_DSN_MAX, sizeof(*r));
	size_t nr, i, counted = 0, others = 0, probes = 0, failures = 0;

	if (mail_report_parse(raw, len, &rep, &why) < 0) {
		lin_reason(in, "bounce: %s", why.buf);
		goto out;
	}
	nr = dsn_read(&rep.status, r, LM_DSN_MAX);
	if (c->verp) {
		/* The relay's VERP address says whose copy this was. */
		for (i = 0; i < nr && !weight(&r[i]); i++)
			;
		if (i < nr) {
			snprintf(r[0].addr, sizeof(r[0].addr), "%s", c->verp);
			if (i) {
				memcpy(r[0].action, r[i].action, sizeof(r[0].action));
				memcpy(r[0].status, r[i].status, sizeof(r[0].status));
			}
			nr = 1;
		}
	}
	if (!nr) {
		lin_reason(in, "bounce: no recipient in the delivery status notification");
		goto out;
	}
	for (i = 0; i < nr; i++) {
		int w = weight(&r[i]), b;
		struct lmember *m;

		if (!w)
			continue;
		failures++;
		m = lstore_find(lm->st, c->list->id, r[i].addr);
		if (!m || m->state != LM_MEMBER) {
			others++;
			continue;
		}
		lapse(m, lm->today);
		for (b = 0; b < m->nr_bounces && m->bounces[b].day != lm->today; b++)
			;
		if (b < m->nr_bounces)
			continue;   /* once a day */
		if (m->nr_bounces == LISTS_BOUNCE_MAX)
			memmove(m->bounces, m->bounces + 1, (LISTS_BOUNCE_MAX - 1) * sizeof(*m->bounces));
		else
			m->nr_bounces++;
		m->bounces[m->nr_bounces - 1].day = lm->today;
		m->bounces[m->nr_bounces - 1].halves = w;
		copy_value(m->last_status, sizeof(m->last_status), r[i].status, strlen(r[i].status));
		counted++;
		if (lstore_score(m, lm->today) >= LISTS_SCORE_PROBE && !m->probe[0]) {
			send_probe(lm, in, c->list, m);
			probes++;
		}
	}
	if (!failures) {
		lin_result(in, "bounce: no failure reported");
		goto out;
	}
	if (rep.returned_id) {
		const char *alert;

		load_msgids(lm);
		alert = hashmap_get(&lm->msgids, rep.returned_id);
		if (alert && lists_reach_bounce(&lm->ctx->spool, lstore_batch(lm->st), alert,
						c->list->id, in->token) < 0)
			lm->io_error = 1;
	}
	lin_result(in, "bounce: %zu counted, %zu not members, %zu probe(s) sent", counted, others,
		   probes);
out:
	mail_report_release(&rep);
	strbuf_release(&why);
	free(r);
}

static void tell_owner(struct lm *lm, struct lin *in, const struct list *l,
		       const struct lmember *m)
{
	char day[11], score[16];
	const char *pairs[] = { "list", l->id, "address", m->address, "date", day,
				"score", score, "status", m->last_status[0] ? m->last_status : "-",
				NULL, NULL };

	if (!l->owner)
		return;
	date_format(lm->today, day);
	snprintf(score, sizeof(score), "%d%s", lstore_score(m, lm->today) / 2,
		 lstore_score(m, lm->today) % 2 ? ".5" : "");
	lm_send(lm, in, "list-owner-disabled", pairs, l->owner, lm->ctx->cfg.sender_address,
		NULL);
}

void lm_probe(struct lm *lm, struct lin *in, const struct lcommand *c, const char *raw,
	      size_t len)
{
	size_t i;

	(void)raw;
	(void)len;
	for (i = 0; i < lstore_count(lm->st); i++) {
		struct lmember *m = lstore_member(lm->st, i);

		if (strcmp(m->list, c->list->id) || strcmp(m->probe, c->token))
			continue;
		if (m->state == LM_MEMBER) {
			m->state = LM_DISABLED;
			tell_owner(lm, in, c->list, m);
			audit_add("disable", "list=%s reason=bounces", c->list->id);
		}
		m->probe[0] = '\0';
		m->probe_day = -1;
		lin_result(in, "probe bounced: member disabled%s",
			   c->list->owner ? ", owner told" : "");
		return;
	}
	lin_reason(in, "probe: unknown or used probe token");
}

size_t lm_probes_lapse(struct lm *lm)
{
	size_t i, n = 0;

	for (i = 0; i < lstore_count(lm->st); i++) {
		struct lmember *m = lstore_member(lm->st, i);

		lapse(m, lm->today);
		if (m->probe[0] && lm->today - m->probe_day >= LISTS_PROBE_DAYS) {
			m->probe[0] = '\0';
			m->probe_day = -1;
			m->nr_bounces = 0;
			n++;
		}
	}
	return n;
}
