/*
 * entry_out - where the entry commands put the documents they built:
 * into incoming/, committed in batches as `mimamori submit` does (the
 * same naming, the same spool batch: written under tmp/, renamed into
 * place once durable), so that `mimamori intake` takes them in as any
 * submitted document; or, with -o DIR, as files in a folder. A result
 * line is printed only once its document is durable.
 *
 * Writes incoming/ (or DIR) and the audit log: paths and counts, never a
 * value of the document.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>
#include "entry.h"
#include "../core/audit.h"
#include "../intake/intake.h"
#include "../util/fileio.h"
#include "../util/msg.h"

/* Documents per commit, as submit. */
#define ENTRY_BATCH 1000

void entry_out_init(struct entry_out *out, struct context *ctx, const char *dir)
{
	memset(out, 0, sizeof(*out));
	out->ctx = ctx;
	out->dir = dir;
	spool_batch_init(&out->batch, &ctx->spool);
}

/* Write DIR/name (a free one: name, name.1 …) through a temporary file. */
static int write_to_dir(struct entry_out *out, const char *name, const struct strbuf *xml,
			struct strbuf *path)
{
	struct strbuf tmp = STRBUF_INIT;
	const char *dot = strrchr(name, '.');
	int n = 0, fd;

	for (;;) {
		strbuf_reset(path);
		if (n)
			strbuf_addf(path, "%s/%.*s.%d%s", out->dir, (int)(dot - name), name, n, dot);
		else
			strbuf_addf(path, "%s/%s", out->dir, name);
		if (access(path->buf, F_OK) < 0 && errno == ENOENT)
			break;
		n++;
	}
	strbuf_addf(&tmp, "%s/.%s.tmp", out->dir, name);
	fd = open(tmp.buf, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		error_errno("cannot create '%s'", tmp.buf);
		strbuf_release(&tmp);
		return -1;
	}
	if (write_full(fd, xml->buf, xml->len) < 0 || fsync(fd) < 0) {
		error_errno("cannot write '%s'", tmp.buf);
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		error_errno("cannot close '%s'", tmp.buf);
		goto fail;
	}
	fd = -1;
	if (rename(tmp.buf, path->buf) < 0) {
		error_errno("cannot rename '%s'", tmp.buf);
		goto fail;
	}
	strbuf_release(&tmp);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp.buf);
	strbuf_release(&tmp);
	return -1;
}

int entry_out_add(struct entry_out *out, const char *label, const char *name,
		  const struct node *doc)
{
	struct strbuf xml = STRBUF_INIT, rel = STRBUF_INIT, line = STRBUF_INIT;
	int ret = 0;

	if (out->failed)
		return -1;
	node_write(doc, &xml);
	if (out->dir) {
		if (write_to_dir(out, name, &xml, &rel) < 0) {
			out->failed = 1;
			ret = -1;
		} else {
			printf("accepted %s %s\n", label, rel.buf);
			audit_add("entry", "output=%s bytes=%zu", rel.buf, xml.len);
			out->accepted++;
		}
	} else {
		submit_free_name(&out->ctx->spool, &out->taken, name, &rel);
		if (spool_batch_write(&out->batch, rel.buf, xml.buf, xml.len) < 0) {
			out->failed = 1;
			ret = -1;
		} else {
			strbuf_addf(&line, "accepted %s\t%s", label, rel.buf);
			strlist_add(&out->lines, line.buf);
			/* The key is the path after the tab, kept by the list. */
			hashmap_put(&out->taken, strrchr(out->lines.items[out->lines.nr - 1],
							'\t') + 1, out);
			if (out->lines.nr >= ENTRY_BATCH && entry_out_flush(out) < 0)
				ret = -1;
		}
	}
	strbuf_release(&xml);
	strbuf_release(&rel);
	strbuf_release(&line);
	return ret;
}

void entry_out_reject(struct entry_out *out, const char *label, const char *what,
		      const char *reason)
{
	struct strbuf line = STRBUF_INIT;

	/* Queued behind the accepted lines before it: output in input order. */
	strbuf_addf(&line, "rejected %s: %s", label, reason);
	if (out->lines.nr)
		strlist_add(&out->lines, line.buf);
	else
		puts(line.buf);
	strbuf_release(&line);
	audit_add("reject", "%s", what);
	out->rejected++;
}

int entry_out_flush(struct entry_out *out)
{
	size_t i;
	int ret = 0;

	if (!out->lines.nr)
		return 0;
	if (spool_batch_commit(&out->batch) < 0) {
		out->failed = 1;
		ret = -1;
	} else {
		for (i = 0; i < out->lines.nr; i++) {
			const char *l = out->lines.items[i];
			char *tab = strrchr(l, '\t');

			if (strncmp(l, "accepted ", 9) || !tab) {
				puts(l);  /* a rejection queued behind them */
				continue;
			}
			printf("%.*s %s\n", (int)(tab - l), l, tab + 1);
			audit_add("submit", "input=%s", tab + 1);
			out->accepted++;
		}
	}
	hashmap_clear(&out->taken);
	strlist_clear(&out->lines);
	return ret;
}

int entry_out_finish(struct entry_out *out)
{
	if (!out->failed)
		entry_out_flush(out);
	spool_batch_release(&out->batch);
	hashmap_clear(&out->taken);
	strlist_clear(&out->lines);
	audit_add("done", "accepted=%zu rejected=%zu", out->accepted, out->rejected);
	fflush(stdout);
	return out->failed ? EX_IOERR : 0;
}
