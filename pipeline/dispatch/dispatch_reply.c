/*
 * dispatch_reply - the operator's side of a request: the signed and
 * encrypted reply (accepted, held, rejected with its reasons), the word to
 * the first operator when another approves a held alert, and a request
 * finished without a reply when the operator's key cannot take one.
 */
#include <ctype.h>
#include <string.h>
#include <sysexits.h>
#include "../core/audit.h"
#include "../lib/mail.h"
#include "../util/msg.h"
#include "dispatch_int.h"

/*
 * The reply cannot be made for a reason of the request's own (its
 * operator's key expired, was revoked, cannot be encrypted to): the
 * request is finished without it, the reason says so, and for an
 * accepted request stderr and the audit log do.
 */
static void no_reply(struct req *r, int accepted, const char *why)
{
	if (accepted) {
		msg_warn("no reply to '%s' for inbox/new/%s: %s", r->reply_to->address, r->name,
			 why);
		audit_add("no-reply", "input=" SPOOL_INBOX_NEW "/%s operator=%s", r->name,
			  r->reply_to->key);
	} else {
		req_reason(r, "no reply sent to the operator: %s", why);
	}
	r->reply_to = NULL;
}

/* Whether id is a request-id as schemas/request.xsd allows it. */
static int rid_ok(const char *id)
{
	size_t i;

	if (!id || !id[0] || strlen(id) > 64 || !isalnum((unsigned char)id[0]))
		return 0;
	for (i = 1; id[i]; i++)
		if (!isalnum((unsigned char)id[i]) && !strchr("._:-", id[i]))
			return 0;
	return 1;
}

/*
 * Four eyes: the operator who asked for a held alert is told that
 * another approved it (templates/reply-approved.txt), signed by the node
 * and encrypted to that operator. An operator no longer configured, or
 * whose key cannot be encrypted to, is not told (warned, audited). -1
 * only when the node cannot make it (templates, gpg-agent).
 */
/*
 * Queue h and body, signed by the node and encrypted to key, for address
 * (the operator's, from the config; never a request's From:). 0 queued;
 * 1 when it cannot be made for a reason of its own (why says it); -1 when
 * gpg-agent is down (reported, the request left for the next run).
 */
static int queue_signed(struct dispatch *d, struct req *r, struct mail_out *h, const char *body,
			const char *address, const char *key, const char *alert_id,
			struct strbuf *why)
{
	const struct config *cfg = &d->ctx->cfg;
	const char *enc[2] = { key, NULL };
	struct outmsg *o = req_out_new(r);

	h->from_address = cfg->sender_address;
	h->from_name = cfg->sender_name;
	h->to = address;
	h->auto_submitted = 1;
	strbuf_reset(why);
	if (mail_compose_pgp(h, body, cfg->self->key, enc, &o->data, NULL, why) < 0) {
		r->nr_out--;
		strbuf_release(&o->data);
		if (!gpg_agent_down(cfg->self->key))
			return 1;
		error("gpg-agent cannot be reached or started for '%s': the mail to '%s' "
		      "cannot be signed; the request is left for the next run",
		      cfg->gnupg_home, address);
		d->node_error = EX_UNAVAILABLE;
		return -1;
	}
	strlist_add(&o->rcpts, address);
	o->alert_id = alert_id;
	return 0;
}

static int tell_first_operator(struct dispatch *d, struct req *r)
{
	const struct config *cfg = &d->ctx->cfg;
	const struct operator *first = config_operator(cfg, r->alert.operator_fpr ?
						      r->alert.operator_fpr : "");
	struct strbuf subject = STRBUF_INIT, body = STRBUF_INIT, why = STRBUF_INIT,
		      count = STRBUF_INIT;
	struct mail_out h;
	int ret = -1;

	if (!first || !first->address || !first->key) {
		msg_warn("alert %s: the operator who asked for it is no longer configured: "
			 "not told of its approval", r->alert.entry.id);
		return 0;
	}
	strbuf_addf(&count, "%zu", r->nr_rcpts);
	{
		const char *pairs[] = {
			"alert-id", r->alert.entry.id,
			"approver", r->op->name ? r->op->name : r->op->key,
			"recipients", count.buf,
			NULL, NULL
		};

		if (render_pairs(d->ctx->home, "reply-approved", "ja", pairs, &subject, &body,
				 &why) < 0) {
			error("%s", why.buf);
			d->node_error = EX_CONFIG;
			goto out;
		}
	}
	memset(&h, 0, sizeof(h));
	h.subject = subject.buf;
	switch (queue_signed(d, r, &h, body.buf, first->address, first->key, r->alert.entry.id,
			     &why)) {
	case -1:
		goto out;
	case 1:
		msg_warn("alert %s: the operator who asked for it is not told of its "
			 "approval: %s", r->alert.entry.id, why.buf);
		audit_add("no-reply", "alert=%s operator=%s", r->alert.entry.id, first->key);
		break;
	}
	ret = 0;
out:
	strbuf_release(&subject);
	strbuf_release(&body);
	strbuf_release(&why);
	strbuf_release(&count);
	return ret;
}

/*
 * The reply to the operator (signed by the node, encrypted to the
 * operator). -1 only when the node cannot make it (templates, gpg-agent).
 */
int dispatch_reply(struct dispatch *d, struct req *r, int accepted)
{
	struct strbuf subject = STRBUF_INIT, body = STRBUF_INIT, why = STRBUF_INIT,
		      count = STRBUF_INIT, reasons = STRBUF_INIT, input = STRBUF_INIT,
		      ignored = STRBUF_INIT, held = STRBUF_INIT, approved = STRBUF_INIT,
		      after = STRBUF_INIT;
	const char *rid = r->request ? req_value(r, "request-id") : NULL;
	const char *closed = NULL;
	struct mail_out h;
	int ret = -1;
	const char *p, *q;

	if (!r->reply_to)
		return 0;
	/* Into the subject only as the schema allows it. */
	if (!rid_ok(rid))
		rid = rid_ok(r->rid) ? r->rid : NULL;
	strbuf_addf(&count, "%zu", r->nr_rcpts);
	if (r->ignored)
		strbuf_addf(&ignored, "無視した行 / lines ignored (greeting, signature): %zu",
			    r->ignored);
	for (p = r->reasons.buf; *p; p = q) {
		q = strstr(p, "; ");
		strbuf_addstr(&reasons, "- ");
		strbuf_add(&reasons, p, q ? (size_t)(q - p) : strlen(p));
		strbuf_addch(&reasons, '\n');
		q = q ? q + 2 : p + strlen(p);
	}
	for (p = r->name; *p; p++)
		strbuf_addch(&input, (*p > ' ' && *p < 0x7f) ? *p : '?');
	if (accepted && r->alert.entry.state == ALERT_CLOSED)
		closed = r->dropped ? "承認前に取り下げたため、誰にも送信していません / withdrawn "
				      "before approval: nothing was sent to anyone"
				    : "アラートを終了しました / the alert is closed";
	if (accepted && r->held)
		strbuf_addf(&held, "第二の運用者が承認するまで保留しています。2時間以内に別の運用者が "
			    "type: approve と alert: %s を送ってください。\n"
			    "held until a second operator approves: %s (type: approve, "
			    "alert: %s, within 2 hours)",
			    r->alert.entry.id, r->alert.entry.id, r->alert.entry.id);
	if (accepted && !strcmp(r->type ? r->type : "", "approve"))
		strbuf_addf(&approved, "承認により送信しました / approved and sent: %s",
			    r->alert.entry.id);
	strbuf_addf(&after, "%ld", d->ctx->cfg.escalate_after / 60);
	{
		const char *pairs[] = {
			"request-id", rid ? rid : "-",
			"type", r->type ? r->type : "-",
			"status", r->exercise ? "exercise" : "actual",
			"exercise-mark", r->exercise ? "【訓練】" : "",
			"alert-id", r->alert.entry.id,
			"recipients", count.buf,
			"closed", closed,
			"held", held.len ? held.buf : NULL,
			"approved", approved.len ? approved.buf : NULL,
			"after-minutes", after.buf,
			"reasons", reasons.buf,
			"input", input.buf,
			"ignored", ignored.len ? ignored.buf : NULL,
			NULL, NULL
		};

		if (render_pairs(d->ctx->home, r->widened ? "reply-widened" :
				 accepted ? "reply-accepted" : "reply-rejected",
				 "ja", pairs, &subject, &body, &why) < 0) {
			error("%s", why.buf);
			d->node_error = EX_CONFIG;
			goto out;
		}
	}
	memset(&h, 0, sizeof(h));
	h.subject = subject.buf;
	h.in_reply_to = r->msgid;
	h.references = r->msgid;
	switch (queue_signed(d, r, &h, body.buf, r->reply_to->address, r->reply_to->key,
			     accepted ? r->alert.entry.id : NULL, &why)) {
	case -1:
		goto out;
	case 1:
		no_reply(r, accepted, why.buf);
		ret = 0;
		goto out;
	}
	ret = 0;
	if (accepted && !strcmp(r->type ? r->type : "", "approve"))
		ret = tell_first_operator(d, r);
out:
	strbuf_release(&subject);
	strbuf_release(&body);
	strbuf_release(&why);
	strbuf_release(&count);
	strbuf_release(&reasons);
	strbuf_release(&input);
	strbuf_release(&ignored);
	strbuf_release(&held);
	strbuf_release(&approved);
	strbuf_release(&after);
	return ret;
}

