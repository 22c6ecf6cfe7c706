/*
 * dispatch - operator requests in inbox/new, alerts and replies queued.
 *
 * For each message in inbox/new: claim it (rename to work/dispatch/
 * TOKEN-NAME), authenticate it (PGP/MIME, exactly one good signature by a
 * configured operator, checked by lib/gpg.c on the exact signed bytes),
 * read the form (or the XML attachment) into <request> (schemas/
 * request.xsd), run every check (mimamori-dispatch(1)) collecting all
 * failures, render the mails from the alert view only (render.c), run the
 * leak guard, and queue the alert copies (one per charset) and the reply
 * to the operator.
 *
 * No wedge. A request that cannot be finished for a reason of its own
 * (its operator's key expired or revoked, a reply that cannot be
 * encrypted, an alert it names that cannot be read) is rejected, or
 * finished without the reply, with that reason; the run goes on. Only a
 * failure of the node (disk 74, gpg-agent 69, templates 78) stops it, and
 * leaves the input claimed for the next run. Every request an operator
 * signed is remembered, accepted or rejected, so that a replay of it is
 * rejected.
 *
 * Crash safety. One commit per request, with the alert store's index as
 * the commit point: the alert file and the queued messages (queue/msg/)
 * are made durable first, then the index with the claim note
 * "dispatch:TOKEN" (core/claim.h: accepted ALERT-ID N [held], or rejected
 * REASON; with the queue envelopes), then the envelopes (queue/env/, the
 * queue's own commit point) and the removal of the claimed input (or its
 * move to rejected/). A run that finds a claimed input looks its token up
 * in the notes of the last commit: a noted one is finished (missing
 * envelopes written from the note), any other is
 * processed again from the start; nothing was queued for it, since a
 * message without its envelope is never sent. So after kill -9 at any
 * instant each request ends accepted once or rejected once.
 *
 * Reads inbox/new, the registry (read only), the alert store; writes the
 * alert store, queue/, rejected/, audit/.
 *
 * SECURITY: parses mail from anyone (lib/mail_parse.c takes it apart, after
 * capping its header sections; this file decides; a mail over 1 MiB is
 * refused from fstat, unread). Nothing from a request reaches a header: subjects come
 * from templates with the alert id only; values in bodies lose their
 * control characters. Replies go to the operator's configured address
 * and key, never to the From: of the request. Reasons name fields, never
 * a person's data.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>
#include "../core/audit.h"
#include "../core/cap.h"
#include "../core/claim.h"
#include "../util/clock.h"
#include "../core/datakey.h"
#include "../core/supervise.h"
#include "../lib/mail.h"
#include "../core/queue.h"
#include "../lists/lists.h"
#include "../util/msg.h"
#include "../util/xalloc.h"
#include "dispatch_int.h"

void req_reason(struct req *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void req_reason(struct req *r, const char *fmt, ...)
{
	va_list ap;

	if (r->reasons.len)
		strbuf_addstr(&r->reasons, "; ");
	va_start(ap, fmt);
	strbuf_vaddf(&r->reasons, fmt, ap);
	va_end(ap);
}

struct outmsg *req_out_new(struct req *r)
{
	struct outmsg *o;

	ALLOC_GROW(r->out, r->nr_out + 1, r->alloc_out);
	o = &r->out[r->nr_out++];
	memset(o, 0, sizeof(*o));
	strbuf_init(&o->data, 0);
	return o;
}

void req_release(struct req *r)
{
	size_t i;

	free(r->name);
	free(r->rel);
	free(r->rid);
	free(r->msgid);
	strbuf_release(&r->reasons);
	strbuf_release(&r->cap_doc);
	strbuf_release(&r->cap_id);
	strbuf_release(&r->cap_headline);
	node_free(r->request);
	node_free(r->record);
	alert_release(&r->alert);
	for (i = 0; i < r->nr_out; i++) {
		if (r->out[i].data.len)
			wipe(r->out[i].data.buf, r->out[i].data.len);
		strbuf_release(&r->out[i].data);
		strlist_clear(&r->out[i].rcpts);
		free(r->out[i].sender);
	}
	free(r->out);
	memset(r, 0, sizeof(*r));
}

/* ---------------------------------------------------------------- */
/* Queueing and the commit                                            */
/* ---------------------------------------------------------------- */

/*
 * Stage every message: queue/msg/QID in the store's batch (before the
 * index), queue/env/QID after it; the note gets " QID=BASE64(ENV)" each.
 */
static int stage_messages(struct dispatch *d, struct req *r, struct strbuf *note)
{
	const struct config *cfg = &d->ctx->cfg;
	struct strlist drill = STRLIST_INIT;
	size_t i;
	int ret = -1;

	for (i = 0; i < r->nr_out; i++) {
		struct outmsg *o = &r->out[i];
		struct strbuf env = STRBUF_INIT, rel = STRBUF_INIT;
		char qid[QUEUE_QID_MAX];
		struct queue_msg m = { o->sender ? o->sender : cfg->sender_address,
				       (const char *const *)o->rcpts.items, o->rcpts.nr,
				       o->alert_id, o->report, NULL, 0, o->list, o->verp };

		if (queue_envelope(&m, &env) < 0) {
			strbuf_release(&env);
			return -1;
		}
		queue_new_qid(qid);
		strbuf_addf(&rel, SPOOL_QUEUE_MSG "/%s", qid);
		if (spool_batch_write(alert_batch(d->st), rel.buf, o->data.buf, o->data.len) < 0)
			goto fail;
		strbuf_reset(&rel);
		strbuf_addf(&rel, SPOOL_QUEUE_ENV "/%s", qid);
		if (spool_batch_write(alert_after_commit(d->st), rel.buf, env.buf, env.len) < 0)
			goto fail;
		claim_note_queue(note, qid, env.buf, env.len);
		if (o->list)
			strlist_add(&drill, qid);
		strbuf_release(&env);
		strbuf_release(&rel);
		continue;
fail:
		strbuf_release(&env);
		strbuf_release(&rel);
		goto out;
	}
	/* An exercise: its operator is told when its copies are done (deliver). */
	if (drill.nr && r->exercise && r->type && !strcmp(r->type, "alert") && !r->held &&
	    lists_reach_drill_note(&d->ctx->spool, alert_batch(d->st), r->alert.entry.id,
				   r->op->key, &drill) < 0)
		goto out;
	ret = 0;
out:
	strlist_clear(&drill);
	return ret;
}

static void print_result(struct dispatch *d, const char *name, const struct claim_note *n)
{
	if (n->outcome == CLAIM_ACCEPTED) {
		const char *held = strstr(n->detail, " held") ? " held" : "";
		int nr = atoi(n->detail);

		printf("accepted " SPOOL_INBOX_NEW "/%s %s %d%s\n", name, n->ref, nr, held);
		audit_add("accept", "input=" SPOOL_INBOX_NEW "/%s alert=%s recipients=%d%s", name,
			  n->ref, nr, held);
		d->accepted++;
	} else {
		printf("rejected " SPOOL_INBOX_NEW "/%s: %s\n", name, n->text.buf);
		audit_add("reject", "input=" SPOOL_INBOX_NEW "/%s", name);
		d->rejected++;
	}
	fflush(stdout);
}

/*
 * The CAP document of r (when it publishes one) into the feed, then the
 * alert, then the feed's index: all in the store's commit.
 */
static int put_alert(struct dispatch *d, struct req *r)
{
	if (r->cap_type && r->cap_doc.len &&
	    feed_put(d->st, &d->ctx->spool, &r->alert, r->cap_id.buf, r->cap_sent,
		     r->cap_type, r->cap_headline.buf, &r->cap_doc) < 0)
		return -1;
	if (alert_put(d->st, &r->alert) < 0)
		return -1;
	return feed_index(d->st, &d->ctx->cfg, &d->ctx->spool, d->now);
}

int dispatch_commit(struct dispatch *d, struct req *r, int accepted)
{
	struct strbuf note = STRBUF_INIT, key = STRBUF_INIT;
	struct claim_note n = CLAIM_NOTE_INIT, back;
	int ret = -1;

	/* Accepted or rejected, with the commit; the first time is kept. */
	if (r->rid && !r->replay)
		alert_request_mark(d->st, r->op->key, r->rid, d->now);
	if (accepted) {
		if (put_alert(d, r) < 0)
			goto out;
		snprintf(n.ref, sizeof(n.ref), "%s", r->alert.entry.id);
		snprintf(n.detail, sizeof(n.detail), "%zu%s", r->nr_rcpts, r->held ? " held" : "");
	} else {
		n.outcome = CLAIM_REJECTED;
		strbuf_addbuf(&n.text, &r->reasons);
	}
	claim_note_format(&n, &note);
	if (stage_messages(d, r, &note) < 0)
		goto out;
	if (accepted && r->rel)
		spool_batch_unlink(alert_after_commit(d->st), r->rel);
	claim_note_key(&key, "dispatch", r->token);
	alert_note(d->st, key.buf, note.buf);
	if (alert_commit(d->st) < 0)
		goto out;
	if (claim_note_parse(note.buf, &back) < 0)
		msg_panic("dispatch: a claim note it cannot read");
	if (!accepted && claim_finish(&d->ctx->spool, r->rel, r->name, &back) < 0) {
		claim_note_release(&back);
		goto out;
	}
	if (accepted) {
		if (r->held)
			audit_add("held", "alert=%s operator=%s", r->alert.entry.id, r->op->key);
		else if (r->dropped)
			audit_add("dropped", "alert=%s operator=%s", r->alert.entry.id,
				  r->op->key);
		else
			audit_add("queued", "alert=%s type=%s messages=%zu recipients=%zu",
				  r->alert.entry.id, r->type,
				  r->nr_out - (r->reply_to ? 1 : 0), r->nr_rcpts);
		if (!strcmp(r->type, "approve"))
			audit_add("approved", "alert=%s operator=%s", r->alert.entry.id,
				  r->op->key);
		if (r->cap_type && r->cap_doc.len)
			audit_add("feed", "alert=%s cap=%s type=%s", r->alert.entry.id,
				  r->cap_id.buf, r->cap_type);
		if (r->alert.entry.state == ALERT_CLOSED)
			audit_add("closed", "alert=%s type=%s", r->alert.entry.id,
				  alert_close_name(r->alert.entry.close_type));
	}
	if (r->widened) {
		printf("widened %s %zu\n", r->alert.entry.id, r->nr_rcpts);
		fflush(stdout);
	} else {
		print_result(d, r->name, &back);
	}
	claim_note_release(&back);
	ret = 0;
out:
	claim_note_release(&n);
	strbuf_release(&note);
	strbuf_release(&key);
	return ret;
}

/* ---------------------------------------------------------------- */
/* One request                                                        */
/* ---------------------------------------------------------------- */

static void process(struct dispatch *d, struct req *r)
{
	struct strbuf raw = STRBUF_INIT, entity = STRBUF_INIT;
	char *path = spool_path(&d->ctx->spool, r->rel);
	struct stat st;
	int fd, accepted = 0;

	strbuf_addf(&raw, SPOOL_INBOX_NEW "/%s", r->name);
	inflight_begin(r->rel, raw.buf, 0);
	strbuf_reset(&raw);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0 && fstat(fd, &st) == 0 && (size_t)st.st_size > MAIL_MAX_SIZE) {
		/* Refused unread. */
		req_reason(r, "too large (over %zu bytes)", MAIL_MAX_SIZE);
	} else if (fd < 0 || strbuf_read_fd(&raw, fd, MAIL_MAX_SIZE) < 0) {
		if (errno == EFBIG)
			req_reason(r, "too large (over %zu bytes)", MAIL_MAX_SIZE);
		else
			req_reason(r, "cannot read: %s", strerror(errno));
	} else {
		int signed_ok = dispatch_authenticate(d, r, &raw, &entity) == 0;
		int ok = signed_ok && dispatch_read_request(d, r, &entity) == 0;

		if (r->op)
			dispatch_check_replay(d, r, &entity);
		/* A field that fails the schema hides none of the other checks. */
		if (signed_ok && r->request)
			dispatch_checks(d, r);
		if (ok && !r->reasons.len && dispatch_mails(d, r) == 0 && !r->reasons.len)
			accepted = 1;
	}
	if (fd >= 0)
		close(fd);
	if (d->io_error || d->node_error)
		goto out;
	if (!accepted) {
		/* Nothing for the helpers: only the reply. */
		size_t i;

		for (i = 0; i < r->nr_out; i++) {
			strbuf_release(&r->out[i].data);
			strlist_clear(&r->out[i].rcpts);
		}
		r->nr_out = 0;
		r->nr_rcpts = 0;
	}
	if (dispatch_reply(d, r, accepted) < 0)
		goto out;
	inflight_end();
	if (dispatch_commit(d, r, accepted) < 0)
		d->io_error = 1;
out:
	inflight_end();
	if (raw.len)
		wipe(raw.buf, raw.len);
	if (entity.len)
		wipe(entity.buf, entity.len);
	strbuf_release(&raw);
	strbuf_release(&entity);
	free(path);
}

void req_setup(struct req *r, const char *token, const char *name)
{
	struct strbuf rel = STRBUF_INIT;

	memset(r, 0, sizeof(*r));
	snprintf(r->token, sizeof(r->token), "%s", token);
	r->name = xstrdup(name);
	if (strcmp(name, "-")) {
		strbuf_addf(&rel, SPOOL_WORK_DISPATCH "/%s-%s", token, name);
		r->rel = strbuf_detach(&rel, NULL);
	}
	strbuf_init(&r->reasons, 0);
	strbuf_init(&r->cap_doc, 0);
	strbuf_init(&r->cap_id, 0);
	strbuf_init(&r->cap_headline, 0);
	alert_init(&r->alert);
}

/* Claim inbox/new/NAME; 0, or -1 when another process took it first. */
static int claim(struct dispatch *d, struct req *r, const char *name)
{
	char token[SPOOL_TOKEN_LEN + 1];

	spool_claim_token(token);
	req_setup(r, token, name);
	if (spool_claim(&d->ctx->spool, SPOOL_INBOX_NEW, name, r->rel) < 0) {
		req_release(r);
		return -1;
	}
	return 0;
}

/*
 * Claimed inputs left by a killed run (core/claim.h): pass 0 finishes the
 * ones the last commit noted; pass 1, after the inputs that arrived
 * since, processes the others again from the start.
 */
static const char *note_get(const void *store, const char *key)
{
	return alert_note_get(store, key);
}

static void recover_finished(void *ctx, const struct claim_left *c, const struct claim_note *n)
{
	struct dispatch *d = ctx;
	struct req r;

	req_setup(&r, c->token, c->name);
	if (claim_finish(&d->ctx->spool, r.rel, r.name, n) < 0)
		d->io_error = 1;
	else
		print_result(d, r.name, n);
	audit_flush();
	req_release(&r);
}

static void recover_redo(void *ctx, const struct claim_left *c)
{
	struct dispatch *d = ctx;
	struct req r;

	req_setup(&r, c->token, c->name);
	process(d, &r);
	audit_flush();
	req_release(&r);
}

static int recover_stop(void *ctx)
{
	const struct dispatch *d = ctx;

	return d->io_error || d->node_error;
}

static int dispatch_run(int argc, char **argv, struct context *ctx)
{
	struct dispatch d;
	struct strlist names = STRLIST_INIT;
	struct claim_recovery rec = { "dispatch", note_get, NULL, &d, recover_finished,
				      recover_redo, recover_stop };
	struct claim_left *left;
	char *dir;
	size_t i, nr_left;
	int lock, ret = 0;

	memset(&d, 0, sizeof(d));
	d.ctx = ctx;
	d.lang = "ja";
	for (i = 1; i < (size_t)argc; i++) {
		if (!strcmp(argv[i], "--lang") && i + 1 < (size_t)argc &&
		    (!strcmp(argv[i + 1], "ja") || !strcmp(argv[i + 1], "en"))) {
			d.lang = argv[++i];
		} else {
			fprintf(stderr, "usage: mimamori dispatch [--lang ja|en]\n");
			return EX_USAGE;
		}
	}
	d.now = clock_now();
	d.today = clock_today();
	audit_begin(&ctx->spool, "dispatch");
	if (queue_init(&ctx->spool) < 0)
		return EX_IOERR;
	dir = spool_path(&ctx->spool, SPOOL_WORK_DISPATCH);
	if (mkdir_p(dir, 0700) < 0) {
		error_errno("cannot create '%s'", SPOOL_WORK_DISPATCH);
		free(dir);
		return EX_IOERR;
	}
	free(dir);
	dir = spool_path(&ctx->spool, SPOOL_INBOX_NEW);
	mkdir_p(dir, 0700);
	free(dir);
	lock = spool_lock(&ctx->spool, "dispatch");
	if (lock < 0)
		return EX_IOERR;
	if (registry_open(&d.reg, &ctx->cfg, &ctx->spool, 0) < 0 ||
	    alert_store_open(&d.st, &ctx->cfg, &ctx->spool, 1) < 0) {
		registry_close(d.reg);
		spool_unlock(lock);
		return EX_SOFTWARE;
	}
	rec.store = d.st;
	nr_left = claim_left_list(&ctx->spool, SPOOL_WORK_DISPATCH, &left);
	claim_recover(&rec, left, nr_left, 0);
	if (!d.io_error && !d.node_error)
		dispatch_widen_recover(&d);
	dir = spool_path(&ctx->spool, SPOOL_INBOX_NEW);
	if (dir_list(dir, &names, 0) < 0)
		ret = error_errno("cannot list '%s'", dir);
	free(dir);
	for (i = 0; i < names.nr && !d.io_error && !d.node_error; i++) {
		struct req r;

		if (!name_is_safe(names.items[i]) || claim(&d, &r, names.items[i]) < 0)
			continue;
		process(&d, &r);
		if (audit_flush() < 0)
			d.io_error = 1;
		req_release(&r);
	}
	claim_recover(&rec, left, nr_left, 1);
	claim_left_free(left, nr_left);
	if (!d.io_error && !d.node_error)
		dispatch_widen(&d);
	audit_add("done", "accepted=%zu rejected=%zu", d.accepted, d.rejected);
	if (audit_flush() < 0)
		d.io_error = 1;
	strlist_clear(&names);
	alert_store_close(d.st);
	registry_close(d.reg);
	spool_unlock(lock);
	if (d.io_error || ret < 0)
		return EX_IOERR;
	return d.node_error;
}

struct dispatch_call {
	int argc;
	char **argv;
	struct context *ctx;
};

static int dispatch_worker(void *arg)
{
	struct dispatch_call *c = arg;

	return dispatch_run(c->argc, c->argv, c->ctx);
}

/*
 * In a supervised worker (core/supervise.h): a mail that crashes, hangs
 * or exhausts the parser ends in rejected/, and the next is taken.
 */
int cmd_dispatch(int argc, char **argv, struct context *ctx)
{
	static const struct supervise_limits lim = { DISPATCH_MEM_MIB, INPUT_SECONDS, 0 };
	struct dispatch_call c = { argc, argv, ctx };
	const unsigned char *key;
	size_t i;

	/* Opened and looked up once here, the workers inherit them: watch
	 * runs dispatch often, and each gpg run costs about 10 ms. */
	if (datakey_get(&ctx->cfg, &ctx->spool, &key) < 0)
		return EX_SOFTWARE;
	gpg_key_warm(ctx->cfg.self->key, 1);
	gpg_key_warm(ctx->cfg.self->key, 0);
	for (i = 0; i < ctx->cfg.nr_operators; i++)
		gpg_key_warm(ctx->cfg.operators[i].key, 0);
	return supervise(&ctx->spool, "dispatch", &lim, dispatch_worker, &c);
}

