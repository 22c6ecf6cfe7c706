/*
 * lists_send - the mails the listmail stage sends (confirmations, probes,
 * the owner's notices): rendered from templates/ (dispatch/render.c's
 * render_pairs()), composed by lib/mail_compose.c and kept with the
 * input until its commit (lists_mail.c queues them).
 *
 * SECURITY: rcpt comes from a From: field or the store and has passed
 * lists_address_ok(); the composer refuses CR, LF and NUL in headers.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include "lists_int.h"
#include "../dispatch/dispatch.h"
#include "../lib/mail.h"
#include "../util/msg.h"
#include "../util/xalloc.h"

void lin_reason(struct lin *in, const char *fmt, ...)
{
	va_list ap;

	if (in->reasons.len)
		strbuf_addstr(&in->reasons, "; ");
	va_start(ap, fmt);
	strbuf_vaddf(&in->reasons, fmt, ap);
	va_end(ap);
}

void lin_result(struct lin *in, const char *fmt, ...)
{
	va_list ap;

	strbuf_reset(&in->result);
	va_start(ap, fmt);
	strbuf_vaddf(&in->result, fmt, ap);
	va_end(ap);
}

int lm_send(struct lm *lm, struct lin *in, const char *tpl, const char *const *pairs,
	    const char *rcpt, const char *sender, const char *reply_to)
{
	const struct config *cfg = &lm->ctx->cfg;
	struct strbuf subject = STRBUF_INIT, body = STRBUF_INIT, why = STRBUF_INIT,
		      data = STRBUF_INIT;
	struct mail_out h;
	struct lm_out *o;
	int ret = -1;

	if (render_pairs(lm->ctx->home, tpl, "ja", pairs, &subject, &body, &why) < 0) {
		error("%s", why.buf);
		lm->node_error = EX_CONFIG;
		goto out;
	}
	memset(&h, 0, sizeof(h));
	h.from_address = cfg->sender_address;
	h.from_name = cfg->sender_name;
	h.to = rcpt;
	h.subject = subject.buf;
	h.reply_to = reply_to;
	h.auto_submitted = 1;
	strbuf_reset(&why);
	if (mail_compose_text(&h, body.buf, &data, NULL, &why) < 0) {
		lin_reason(in, "cannot compose the %s mail: %s", tpl, why.buf);
		ret = 0;
		goto out;
	}
	ALLOC_GROW(in->out, in->nr_out + 1, in->alloc_out);
	o = &in->out[in->nr_out++];
	strbuf_init(&o->data, 0);
	strbuf_addbuf(&o->data, &data);
	o->rcpt = xstrdup(rcpt);
	o->sender = xstrdup(sender);
	ret = 0;
out:
	strbuf_release(&subject);
	strbuf_release(&body);
	strbuf_release(&why);
	strbuf_release(&data);
	return ret;
}
