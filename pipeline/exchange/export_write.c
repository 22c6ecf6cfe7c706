/*
 * export_write - the bundles of one export run written as streams (see
 * export_int.h): pax tar into a pipe, encrypted and signed by a child
 * process per agency (its own gpg, lib/gpg_stream.c) into a temporary
 * file in the spool, committed by rename. Every bundle is written at once,
 * in one pass over the records: each record is read once, and each
 * audience's view of it made once and added to every bundle it goes to.
 *
 * The archive holds manifest.xml first (from, to, sequence, previous,
 * created), deletions.xml, receipts.xml when due, the records, and
 * entries.xml last: each entry's size and SHA-256, computed as it went
 * out (mimamori-spool(5)).
 *
 * Memory: the registry's index, one record and its views at a time, and
 * the entry lists; the views are wiped once written.
 *
 * SECURITY: decrypts records and writes them out, encrypted to exactly
 * one pinned key each; what an agency receives is its view (core/view.h)
 * and nothing else.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "export_int.h"
#include "../core/audit.h"
#include "../core/view.h"
#include "../lib/seal.h"
#include "../util/clock.h"
#include "../util/msg.h"
#include "../util/timeutil.h"
#include "../util/xalloc.h"

/*
 * gpg refused o's bundle (why: its words): gpg-agent down (not the key's
 * fault: every change stays pending), or the agency's key, named with
 * the key's own trouble when it has one. An agency whose key expired or
 * was revoked is left out (its changes stay pending for it), not a
 * broken configuration.
 */
static void key_failed(struct export *ex, struct export_out *o, const char *why)
{
	struct strbuf kwhy = STRBUF_INIT;

	if (gpg_agent_down(ex->ctx->cfg.self->key)) {
		error("no bundle for '%s': %s", o->a->id, why);
		if (!ex->agent_down)
			error("gpg-agent cannot be reached: the bundles wait");
		ex->agent_down = 1;
		return;
	}
	if (gpg_key_check(o->a->key, 0, &kwhy) < 0)
		error("no bundle for '%s': %s", o->a->id, kwhy.buf);
	else
		error("no bundle for '%s': %s", o->a->id, why);
	strbuf_release(&kwhy);
	audit_add("fail", "to=%s reason=key", o->a->id);
	if (!gpg_key_lapsed(o->a->key))
		ex->key_error = 1;
}

/*
 * A write into o's archive failed: most likely gpg gave up (its outcome,
 * at the end, says why); the reason is kept for when it did not.
 */
static void out_fail(struct export *ex, struct export_out *o, const char *what)
{
	(void)ex;
	if (o->failed)
		return;
	o->failed = 1;
	strbuf_addstr(&o->why, what);
}

/* One file into the archive of o, listed in its entries.xml (unless the
 * manifest or entries.xml itself). */
static void out_add(struct export *ex, struct export_out *o, const char *name,
		    const char *data, size_t len, int listed)
{
	struct strbuf why = STRBUF_INIT;

	if (o->failed)
		return;
	if (tar_writer_add(o->tw, name, data, len, &why) < 0) {
		out_fail(ex, o, why.buf);
	} else if (listed) {
		struct node *en = node_add(o->entries, "entry", NULL);
		struct strbuf hex = STRBUF_INIT;
		char size[32];

		sha256_hex(data, len, &hex);
		snprintf(size, sizeof(size), "%zu", len);
		node_set_attr(en, "name", name);
		node_set_attr(en, "sha256", hex.buf);
		node_set_attr(en, "size", size);
		strbuf_release(&hex);
	}
	strbuf_release(&why);
}

static void manifest_xml(struct export *ex, const struct export_out *o, struct strbuf *out)
{
	struct node *root = node_new("manifest");
	char buf[32];

	if (o->full)
		node_set_attr(root, "complete", "yes");
	node_add(root, "from", ex->ctx->cfg.self->id);
	node_add(root, "to", o->a->id);
	snprintf(buf, sizeof(buf), "%ld", o->n);
	node_add(root, "sequence", buf);
	snprintf(buf, sizeof(buf), "%ld", o->previous);
	node_add(root, "previous", buf);
	datetime_format(clock_now(), buf);
	node_add(root, "created", buf);
	node_write(root, out);
	node_free(root);
}

/* Start the encryption of o and its archive, and write its first entries. */
static void out_start(struct export *ex, struct export_out *o,
		      int (*prepare)(struct export *, struct export_out *))
{
	const struct config *cfg = &ex->ctx->cfg;
	const char *recipients[2] = { o->a->key, NULL };
	struct strbuf why = STRBUF_INIT, sb = STRBUF_INIT;

	strbuf_init(&o->why, 0);
	o->fd = spool_stream_open(&ex->ctx->spool, &o->tmp);
	if (o->fd < 0) {
		o->failed = 1;
		ex->io_error = 1;
		goto out;
	}
	if (gpg_encrypt_start(recipients, cfg->self->key, o->fd, &o->gs, &o->in_fd, &why) < 0) {
		out_fail(ex, o, why.buf);
		goto out;
	}
	if (prepare(ex, o) < 0) {
		out_fail(ex, o, "its work file cannot be written");
		goto out;
	}
	if (tar_writer_open(o->in_fd, (long long)clock_now(), &o->tw, &why) < 0) {
		out_fail(ex, o, why.buf);
		goto out;
	}
	o->entries = node_new("entries");
	manifest_xml(ex, o, &sb);
	out_add(ex, o, "manifest.xml", sb.buf, sb.len, 0);
	strbuf_reset(&sb);
	export_deletions_xml(ex, &o->p, &sb);
	out_add(ex, o, "deletions.xml", sb.buf, sb.len, 1);
	if (o->receipts.len)
		out_add(ex, o, "receipts.xml", o->receipts.buf, o->receipts.len, 1);
out:
	strbuf_release(&why);
	strbuf_release(&sb);
}

/* The smallest id the outs still have to write, or NULL when all are done. */
static struct reg_entry *next_record(struct export_out *outs, size_t nr)
{
	struct reg_entry *best = NULL;
	size_t i;

	for (i = 0; i < nr; i++) {
		struct export_out *o = &outs[i];

		while (o->failed && o->next < o->p.nr_records)
			o->next = o->p.nr_records;
		if (o->next < o->p.nr_records &&
		    (!best || strcmp(o->p.records[o->next]->id, best->id) < 0))
			best = o->p.records[o->next];
	}
	return best;
}

/* Write record e to every out whose next record it is, one view per audience. */
static void write_record(struct export *ex, struct export_out *outs, size_t nr,
			 struct reg_entry *e)
{
	struct strbuf view[AUDIENCE_MAX], name = STRBUF_INIT;
	int made[AUDIENCE_MAX] = { 0 }, a;
	struct node *record = NULL;
	size_t i;

	for (a = 0; a < AUDIENCE_MAX; a++)
		strbuf_init(&view[a], 0);
	if (registry_load(ex->reg, e, &record) < 0) {
		for (i = 0; i < nr; i++)
			if (outs[i].next < outs[i].p.nr_records && outs[i].p.records[outs[i].next] == e)
				out_fail(ex, &outs[i], "a record cannot be read");
		ex->io_error = 1;
		goto out;
	}
	strbuf_addf(&name, "records/%s.xml", e->id);
	for (i = 0; i < nr; i++) {
		struct export_out *o = &outs[i];

		if (o->next >= o->p.nr_records || o->p.records[o->next] != e)
			continue;
		o->next++;
		a = audience_of(o->a->kind);
		if (!made[a]) {
			struct node *v = view_make(record, (enum audience)a, ex->today);

			node_write(v, &view[a]);
			node_free(v);
			made[a] = 1;
		}
		out_add(ex, o, name.buf, view[a].buf, view[a].len, 1);
	}
out:
	for (a = 0; a < AUDIENCE_MAX; a++) {
		if (view[a].len)
			wipe(view[a].buf, view[a].len);
		strbuf_release(&view[a]);
	}
	strbuf_release(&name);
	node_free(record);
}

/* entries.xml, the end of the archive and of the encryption; commit. */
static void out_finish(struct export *ex, struct export_out *o)
{
	struct strbuf why = STRBUF_INIT, sb = STRBUF_INIT;

	if (o->entries) {
		node_write(o->entries, &sb);
		out_add(ex, o, "entries.xml", sb.buf, sb.len, 0);
	}
	if (o->tw && tar_writer_close(o->tw, !o->failed, &why) < 0)
		out_fail(ex, o, why.buf);
	o->tw = NULL;
	if (o->in_fd >= 0)
		close(o->in_fd);
	o->in_fd = -1;
	if (o->gs) {
		strbuf_reset(&why);
		if (gpg_encrypt_finish(o->gs, &why) < 0) {
			o->failed = 1;
			key_failed(ex, o, why.buf);
		} else if (o->failed) {
			error("no bundle for '%s': %s", o->a->id, o->why.buf);
			ex->io_error = 1;
		}
		o->gs = NULL;
	} else if (o->failed) {
		error("no bundle for '%s': %s", o->a->id, o->why.buf);
		ex->io_error = 1;
	}
	if (o->fd >= 0) {
		if (o->failed)
			spool_stream_abort(&ex->ctx->spool, o->fd, o->tmp.buf);
		else if (spool_stream_commit(&ex->ctx->spool, o->fd, o->tmp.buf, o->rel.buf) < 0)
			o->failed = 1, ex->io_error = 1;
		o->fd = -1;
	}
	strbuf_release(&o->why);
	node_free(o->entries);
	o->entries = NULL;
	strbuf_release(&why);
	strbuf_release(&sb);
}

void export_write(struct export *ex, struct export_out *outs, size_t nr,
		  int (*prepare)(struct export *, struct export_out *))
{
	void (*old)(int) = signal(SIGPIPE, SIG_IGN);
	struct reg_entry *e;
	size_t i;

	for (i = 0; i < nr; i++) {
		outs[i].fd = outs[i].in_fd = -1;
		out_start(ex, &outs[i], prepare);
	}
	while ((e = next_record(outs, nr)))
		write_record(ex, outs, nr, e);
	for (i = 0; i < nr; i++)
		out_finish(ex, &outs[i]);
	signal(SIGPIPE, old);
}
