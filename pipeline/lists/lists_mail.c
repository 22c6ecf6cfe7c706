/*
 * lists_mail - the listmail stage: the mail MTA delivered to the lists'
 * command addresses (`receive --list` into listbox/new), one input at a
 * time in a supervised worker (core/supervise.h).
 *
 *   ID+subscribe@DOMAIN      a confirmation to the From: address, naming
 *                            ID+confirm-TOKEN@DOMAIN (valid 7 days)
 *   ID+unsubscribe@DOMAIN    from a member: a confirmation; else nothing
 *   ID+confirm-TOKEN@DOMAIN  the subscription or unsubscription is done
 *   ID+bounces@DOMAIN        a DSN (lists_bounce.c)
 *   ID+probe-TOKEN@DOMAIN    a probe bounced: the member is disabled
 *
 * The recipient is the first line receive --list wrote
 * (X-Mimamori-Recipient: from $ORIGINAL_RECIPIENT or $RECIPIENT), else
 * X-Original-To:, Delivered-To:, then To:. Nothing here ever reaches
 * inbox/ or dispatch: a signed request sent to a list address is only
 * list mail.
 *
 * Each input: claim (rename to work/listmail/TOKEN-NAME), process, then
 * one commit: queued messages (queue/msg/) and bounce records, the
 * member store's index with the claim note "listmail:TOKEN" (core/
 * claim.h: done WHAT, or rejected REASON; with the queue envelopes), then the envelopes (queue/env/) and the
 * removal of the claim (or its move to rejected/). A claim whose token
 * the last commit noted is finished from the note; any other is done
 * again, so after kill -9 at any instant every input ends in one place
 * and no mail goes twice.
 *
 * SECURITY: reads mail from anyone: size checked with fstat before
 * reading, headers capped before libetpan (lib/mail_parse.c), the whole
 * input under the worker's limits. Reasons, stdout and the audit log
 * name no address; a hostile mail only rejects itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>
#include "lists_int.h"
#include "../core/audit.h"
#include "../core/claim.h"
#include "../core/datakey.h"
#include "../core/queue.h"
#include "../core/supervise.h"
#include "../lib/mail.h"
#include "../lib/seal.h"
#include "../util/clock.h"
#include "../util/fileio.h"
#include "../util/msg.h"
#include "../util/timeutil.h"
#include "../util/xalloc.h"

static void lin_setup(struct lin *in, const char *token, const char *name)
{
	struct strbuf rel = STRBUF_INIT;

	memset(in, 0, sizeof(*in));
	memcpy(in->token, token, SPOOL_TOKEN_LEN + 1);
	in->name = xstrdup(name);
	strbuf_addf(&rel, SPOOL_WORK_LISTMAIL "/%s-%s", token, name);
	in->rel = strbuf_detach(&rel, NULL);
	strbuf_init(&in->reasons, 0);
	strbuf_init(&in->result, 0);
}

static void lin_release(struct lin *in)
{
	size_t i;

	for (i = 0; i < in->nr_out; i++) {
		if (in->out[i].data.len)
			wipe(in->out[i].data.buf, in->out[i].data.len);
		strbuf_release(&in->out[i].data);
		free(in->out[i].rcpt);
		free(in->out[i].sender);
	}
	free(in->out);
	free(in->name);
	free(in->rel);
	strbuf_release(&in->reasons);
	strbuf_release(&in->result);
}

/* The envelope recipient, as described above. 0, or -1. */
static int recipient(const char *raw, size_t len, struct strbuf *rcpt, const char **body,
		     size_t *blen)
{
	static const char *const fields[] = { "X-Original-To", "Delivered-To", "To", NULL };
	size_t hl = strlen(LM_RCPT_HEADER);
	const char *const *f;
	struct strbuf why = STRBUF_INIT;

	*body = raw;
	*blen = len;
	if (len > hl && !strncasecmp(raw, LM_RCPT_HEADER, hl)) {
		const char *nl = memchr(raw, '\n', len);

		if (nl) {
			strbuf_add(rcpt, raw + hl, nl - raw - hl);
			strbuf_trim(rcpt);
			*body = nl + 1;
			*blen = len - (nl + 1 - raw);
			if (rcpt->len)
				return 0;
		}
	}
	for (f = fields; *f; f++) {
		strbuf_reset(rcpt);
		if (mail_header_get(*body, *blen, *f, rcpt, &why) == 0 && rcpt->len) {
			/* "Name <addr>": the address */
			char *lt = strrchr(rcpt->buf, '<'), *gt;

			if (lt && (gt = strchr(lt, '>'))) {
				struct strbuf a = STRBUF_INIT;

				strbuf_add(&a, lt + 1, gt - lt - 1);
				strbuf_reset(rcpt);
				strbuf_addbuf(rcpt, &a);
				strbuf_release(&a);
			}
			strbuf_release(&why);
			return 0;
		}
	}
	strbuf_release(&why);
	return -1;
}

static void subscribe(struct lm *lm, struct lin *in, const struct lcommand *c, char action,
		      const char *from)
{
	const struct list *l = c->list;
	struct lmember *m;
	struct strbuf what = STRBUF_INIT, reply = STRBUF_INIT, sender = STRBUF_INIT;
	char token[LISTS_TOKEN_LEN + 1], until[11];
	const char *verb = action == 's' ? "subscribe" : "unsubscribe";
	long expires = lm->today + LISTS_CONFIRM_DAYS;
	const char *pairs[] = { "list", l->id, "confirm", NULL, "until", until, NULL, NULL };

	if (!lists_address_ok(from)) {
		lin_reason(in, "%s: no usable From: address", verb);
		return;
	}
	m = lstore_find(lm->st, l->id, from);
	if (action == 's' && m && m->state == LM_MEMBER) {
		lin_result(in, "subscribe: already a member, nothing sent");
		return;
	}
	if (action == 'u' && (!m || m->state == LM_REMOVED)) {
		lin_result(in, "unsubscribe: not a member, nothing changed");
		return;
	}
	if (lstore_confirm_same(lm->st, l->id, action, from, lm->today)) {
		lin_result(in, "%s: a confirmation is already waiting, nothing sent", verb);
		return;
	}
	lists_token(lstore_key(lm->st), "confirm", l->id, action, from, expires, token);
	strbuf_addf(&what, "confirm-%s", token);
	lists_address(l, what.buf, &reply);
	lists_address(l, "bounces", &sender);
	date_format(expires, until);
	pairs[3] = reply.buf;
	if (lm_send(lm, in, action == 's' ? "list-subscribe" : "list-unsubscribe", pairs, from,
		    sender.buf, reply.buf) == 0 && !in->reasons.len) {
		lstore_confirm_add(lm->st, token, l->id, action, from, expires);
		lin_result(in, "%s: confirmation sent", verb);
	}
	strbuf_release(&what);
	strbuf_release(&reply);
	strbuf_release(&sender);
}

static void confirm(struct lm *lm, struct lin *in, const struct lcommand *c)
{
	struct lconfirm *k = lstore_confirm_find(lm->st, c->list->id, c->token);
	char again[LISTS_TOKEN_LEN + 1];
	struct lmember *m;

	if (!k) {
		lin_reason(in, "confirm: unknown or used confirmation token");
		return;
	}
	lists_token(lstore_key(lm->st), "confirm", k->list, k->action, k->address, k->expires,
		    again);
	if (strcmp(again, k->token)) {
		lin_reason(in, "confirm: the token does not match what it confirms");
		return;
	}
	if (k->expires < lm->today) {
		lin_reason(in, "confirm: the confirmation token has expired");
		return;
	}
	m = lstore_find(lm->st, k->list, k->address);
	if (k->action == 's') {
		if (!m)
			m = lstore_add(lm->st, k->list, k->address, "", lm->today);
		m->state = LM_MEMBER;
		m->nr_bounces = 0;
		m->probe[0] = '\0';
		lin_result(in, "confirm: subscribed (%s)",
			   lstore_shown_name(lstore_shown(&lm->ctx->cfg, m, lm->today)));
	} else {
		if (m)
			m->state = LM_REMOVED;
		lin_result(in, "confirm: unsubscribed");
	}
	lstore_confirm_drop(lm->st, k);
}

static void handle(struct lm *lm, struct lin *in, const char *raw, size_t len)
{
	struct strbuf rcpt = STRBUF_INIT, why = STRBUF_INIT;
	struct lcommand c;
	const char *body;
	size_t blen;

	memset(&c, 0, sizeof(c));
	if (recipient(raw, len, &rcpt, &body, &blen) < 0 ||
	    lists_command(&lm->ctx->cfg, rcpt.buf, &c) < 0) {
		lin_reason(in, "not sent to a command address of a list");
		goto out;
	}
	in->list = c.list->id;
	if (c.cmd == LC_SUBSCRIBE || c.cmd == LC_UNSUBSCRIBE) {
		struct mail_in m;

		if (mail_parse(body, blen, &m, &why) < 0) {
			lin_reason(in, "%s", why.buf);
			goto out;
		}
		subscribe(lm, in, &c, c.cmd == LC_SUBSCRIBE ? 's' : 'u', m.from ? m.from : "");
		mail_in_release(&m);
	} else if (c.cmd == LC_CONFIRM) {
		confirm(lm, in, &c);
	} else if (c.cmd == LC_BOUNCES) {
		lm_bounce(lm, in, &c, body, blen);
	} else if (c.cmd == LC_PROBE) {
		lm_probe(lm, in, &c, body, blen);
	}
out:
	lcommand_release(&c);
	strbuf_release(&rcpt);
	strbuf_release(&why);
}

/* ------------------------------------------------------------ commit */

static void print_result(struct lm *lm, const char *name, const struct claim_note *n)
{
	if (n->outcome == CLAIM_DONE) {
		printf("done " SPOOL_LISTBOX_NEW "/%s: %s\n", name, n->text.buf);
		audit_add("listmail", "input=" SPOOL_LISTBOX_NEW "/%s result=done", name);
		lm->done++;
	} else {
		printf("rejected " SPOOL_LISTBOX_NEW "/%s: %s\n", name, n->text.buf);
		audit_add("reject", "input=" SPOOL_LISTBOX_NEW "/%s", name);
		lm->rejected++;
	}
	fflush(stdout);
}

static int commit(struct lm *lm, struct lin *in)
{
	struct strbuf note = STRBUF_INIT, key = STRBUF_INIT;
	struct claim_note n = CLAIM_NOTE_INIT, back;
	int ok = !in->reasons.len;
	size_t i;
	int ret = -1;

	n.outcome = ok ? CLAIM_DONE : CLAIM_REJECTED;
	strbuf_addbuf(&n.text, ok ? &in->result : &in->reasons);
	claim_note_format(&n, &note);
	for (i = 0; ok && i < in->nr_out; i++) {
		const struct lm_out *o = &in->out[i];
		const char *rcpts[1] = { o->rcpt };
		struct queue_msg m = { o->sender, rcpts, 1, NULL, NULL, NULL, 0, NULL, 0 };
		struct strbuf env = STRBUF_INIT, rel = STRBUF_INIT;
		char qid[QUEUE_QID_MAX];

		if (queue_envelope(&m, &env) < 0) {
			strbuf_release(&env);
			goto out;
		}
		queue_new_qid(qid);
		strbuf_addf(&rel, SPOOL_QUEUE_MSG "/%s", qid);
		if (spool_batch_write(lstore_batch(lm->st), rel.buf, o->data.buf, o->data.len) < 0)
			goto fail;
		strbuf_reset(&rel);
		strbuf_addf(&rel, SPOOL_QUEUE_ENV "/%s", qid);
		if (spool_batch_write(lstore_after(lm->st), rel.buf, env.buf, env.len) < 0)
			goto fail;
		claim_note_queue(&note, qid, env.buf, env.len);
		strbuf_release(&env);
		strbuf_release(&rel);
		continue;
fail:
		strbuf_release(&env);
		strbuf_release(&rel);
		goto out;
	}
	if (ok)
		spool_batch_unlink(lstore_after(lm->st), in->rel);
	claim_note_key(&key, "listmail", in->token);
	lstore_note(lm->st, key.buf, note.buf);
	if (lstore_commit(lm->st) < 0)
		goto out;
	if (claim_note_parse(note.buf, &back) < 0)
		msg_panic("listmail: a claim note it cannot read");
	if (!ok && claim_finish(&lm->ctx->spool, in->rel, in->name, &back) < 0) {
		claim_note_release(&back);
		goto out;
	}
	if (in->list)
		audit_add("listmail", "input=" SPOOL_LISTBOX_NEW "/%s list=%s", in->name, in->list);
	print_result(lm, in->name, &back);
	claim_note_release(&back);
	ret = 0;
out:
	claim_note_release(&n);
	strbuf_release(&note);
	strbuf_release(&key);
	return ret;
}

static void process(struct lm *lm, struct lin *in)
{
	struct strbuf raw = STRBUF_INIT, from = STRBUF_INIT;
	char *path = spool_path(&lm->ctx->spool, in->rel);
	struct stat st;
	int fd;

	strbuf_addf(&from, SPOOL_LISTBOX_NEW "/%s", in->name);
	inflight_begin(in->rel, from.buf, 0);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0 && fstat(fd, &st) == 0 && (size_t)st.st_size > MAIL_MAX_SIZE + 1024)
		lin_reason(in, "too large (over %zu bytes)", MAIL_MAX_SIZE);
	else if (fd < 0 || strbuf_read_fd(&raw, fd, MAIL_MAX_SIZE + 1024) < 0)
		lin_reason(in, errno == EFBIG ? "too large (over %zu bytes)" : "cannot read it",
			   MAIL_MAX_SIZE);
	else
		handle(lm, in, raw.buf, raw.len);
	if (fd >= 0)
		close(fd);
	inflight_end();
	if (!lm->io_error && !lm->node_error && commit(lm, in) < 0)
		lm->io_error = 1;
	if (raw.len)
		wipe(raw.buf, raw.len);
	strbuf_release(&raw);
	strbuf_release(&from);
	free(path);
}

/*
 * Claims a killed run left (core/claim.h): pass 0 finishes the noted
 * ones, pass 1 redoes the rest.
 */
static const char *note_get(const void *store, const char *key)
{
	return lstore_note_get(store, key);
}

static void recover_finished(void *ctx, const struct claim_left *c, const struct claim_note *n)
{
	struct lm *lm = ctx;
	struct lin in;

	lin_setup(&in, c->token, c->name);
	if (claim_finish(&lm->ctx->spool, in.rel, in.name, n) < 0)
		lm->io_error = 1;
	else
		print_result(lm, in.name, n);
	audit_flush();
	lin_release(&in);
}

static void recover_redo(void *ctx, const struct claim_left *c)
{
	struct lm *lm = ctx;
	struct lin in;

	lin_setup(&in, c->token, c->name);
	process(lm, &in);
	audit_flush();
	lin_release(&in);
}

static int recover_stop(void *ctx)
{
	const struct lm *lm = ctx;

	return lm->io_error || lm->node_error;
}

static int mkdirs(const struct spool *sp)
{
	static const char *const dirs[] = { SPOOL_WORK_LISTMAIL, SPOOL_LISTBOX_NEW,
					    SPOOL_LISTBOX "/tmp", NULL };
	const char *const *d;

	for (d = dirs; *d; d++) {
		char *p = spool_path(sp, *d);
		int r = mkdir_p(p, 0700);

		free(p);
		if (r < 0)
			return error_errno("cannot create '%s'", *d);
	}
	return queue_init(sp);
}

int listmail_run(struct context *ctx)
{
	struct lm lm;
	struct strlist names = STRLIST_INIT;
	struct claim_recovery rec = { "listmail", note_get, NULL, &lm, recover_finished,
				      recover_redo, recover_stop };
	struct claim_left *left;
	char *dir;
	size_t i, lapsed, nr_left;
	int lock, ret = 0;

	memset(&lm, 0, sizeof(lm));
	lm.ctx = ctx;
	lm.now = clock_now();
	lm.today = clock_today();
	audit_begin(&ctx->spool, "listmail");
	if (mkdirs(&ctx->spool) < 0)
		return EX_IOERR;
	lock = spool_lock(&ctx->spool, "listmail");
	if (lock < 0)
		return EX_IOERR;
	if (lstore_open(&lm.st, &ctx->cfg, &ctx->spool, 1) < 0) {
		spool_unlock(lock);
		return EX_SOFTWARE;
	}
	rec.store = lm.st;
	nr_left = claim_left_list(&ctx->spool, SPOOL_WORK_LISTMAIL, &left);
	claim_recover(&rec, left, nr_left, 0);
	dir = spool_path(&ctx->spool, SPOOL_LISTBOX_NEW);
	if (dir_list(dir, &names, 0) < 0)
		ret = error_errno("cannot list '%s'", SPOOL_LISTBOX_NEW);
	free(dir);
	for (i = 0; i < names.nr && !lm.io_error && !lm.node_error; i++) {
		char token[SPOOL_TOKEN_LEN + 1];
		struct lin in;

		if (!name_is_safe(names.items[i]))
			continue;
		spool_claim_token(token);
		lin_setup(&in, token, names.items[i]);
		if (spool_claim(&ctx->spool, SPOOL_LISTBOX_NEW, names.items[i], in.rel) == 0) {
			process(&lm, &in);
			if (audit_flush() < 0)
				lm.io_error = 1;
		}
		lin_release(&in);
	}
	claim_recover(&rec, left, nr_left, 1);
	claim_left_free(left, nr_left);
	/* The day's housekeeping: old confirmations, lapsed bounces and probes. */
	lapsed = lm_probes_lapse(&lm);
	lstore_tidy(lm.st, &ctx->cfg, lm.today);
	if (!lm.io_error && lstore_commit(lm.st) < 0)
		lm.io_error = 1;
	if (lapsed)
		audit_add("probe-lapsed", "members=%zu", lapsed);
	audit_add("done", "done=%zu rejected=%zu", lm.done, lm.rejected);
	if (audit_flush() < 0)
		lm.io_error = 1;
	strlist_clear(&names);
	hashmap_clear(&lm.msgids);
	strlist_clear(&lm.ids);
	lstore_close(lm.st);
	spool_unlock(lock);
	if (lm.io_error || ret < 0)
		return EX_IOERR;
	return lm.node_error;
}

static int worker(void *arg)
{
	return listmail_run(arg);
}

int cmd_listmail(int argc, char **argv, struct context *ctx)
{
	static const struct supervise_limits lim = { LM_MEM_MIB, LM_SECONDS, 0 };
	const unsigned char *key;

	if (argc != 1) {
		fprintf(stderr, "usage: mimamori listmail\n");
		return EX_USAGE;
	}
	/* Unwrapped once here; the workers inherit it. */
	if (datakey_get(&ctx->cfg, &ctx->spool, &key) < 0)
		return EX_SOFTWARE;
	return supervise(&ctx->spool, "listmail", &lim, worker, ctx);
}
