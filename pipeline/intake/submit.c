/*
 * submit - copy files into incoming/ safely: each is written under tmp/
 * and renamed into place once its data is durable, so intake never sees a
 * partial document. Files are committed in batches (spool_batch: one
 * syncfs() for the batch's data, then the renames, then one fsync of
 * incoming/), and "submitted" is printed for a file only after its batch
 * is committed. A name already waiting in incoming/, or taken earlier in
 * the same batch, gets ".1", ".2" … before its extension.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>
#include "../commands.h"
#include "../core/audit.h"
#include "../util/fileio.h"
#include "../util/hashmap.h"
#include "../util/msg.h"
#include "../util/strbuf.h"
#include "../util/xalloc.h"

/* The cap is generous: intake, not submit, rejects oversize documents. */
#define SUBMIT_MAX ((size_t)64 << 20)
/* Files per commit: bounds the work a failed commit undoes. */
#define SUBMIT_BATCH 1000

/* A free name for name in incoming/, not among the batch's names either. */
static void free_name(const struct spool *sp, const struct hashmap *taken_here,
		      const char *name, struct strbuf *rel)
{
	const char *dot = strrchr(name, '.');
	int n = 0;

	if (!dot || dot == name)
		dot = name + strlen(name);
	for (;;) {
		int taken;

		strbuf_reset(rel);
		strbuf_addstr(rel, SPOOL_INCOMING "/");
		if (n)
			strbuf_addf(rel, "%.*s.%d%s", (int)(dot - name), name, n, dot);
		else
			strbuf_addstr(rel, name);
		taken = hashmap_get(taken_here, rel->buf) || spool_exists(sp, rel->buf);
		if (!taken)
			return;
		n++;
	}
}

struct submit {
	struct context *ctx;
	struct spool_batch batch;
	struct hashmap taken;      /* rel -> the same string: names of this batch */
	struct strlist rels;       /* in the order of the arguments */
	size_t *sizes;
	size_t alloc_sizes;
};

/* Commit the batch, then tell what is in incoming/. 0, or -1 (reported). */
static int submit_flush(struct submit *sm)
{
	size_t i;
	int ret = 0;

	if (spool_batch_commit(&sm->batch) < 0) {
		ret = -1;
	} else {
		for (i = 0; i < sm->rels.nr; i++) {
			printf("submitted %s\n", sm->rels.items[i]);
			audit_add("submit", "input=%s bytes=%zu", sm->rels.items[i], sm->sizes[i]);
		}
	}
	hashmap_clear(&sm->taken);
	strlist_clear(&sm->rels);
	return ret;
}

int cmd_submit(int argc, char **argv, struct context *ctx)
{
	struct strbuf buf = STRBUF_INIT, rel = STRBUF_INIT;
	struct submit sm;
	int i, ret = 0, broken = 0;   /* broken: a write or commit failed */

	if (argc < 2) {
		fprintf(stderr, "usage: mimamori submit FILE...\n");
		return EX_USAGE;
	}
	memset(&sm, 0, sizeof(sm));
	sm.ctx = ctx;
	spool_batch_init(&sm.batch, &ctx->spool);
	for (i = 1; i < argc; i++) {
		const char *name = path_basename(argv[i]);

		strbuf_reset(&buf);
		if (!name_is_safe(name)) {
			error("'%s': unusable file name", argv[i]);
			ret = EX_DATAERR;
			continue;
		}
		if (strbuf_read_file(&buf, argv[i], SUBMIT_MAX) < 0) {
			error_errno("cannot read '%s'", argv[i]);
			ret = errno == EFBIG ? EX_DATAERR : EX_IOERR;
			continue;
		}
		free_name(&ctx->spool, &sm.taken, name, &rel);
		if (spool_batch_write(&sm.batch, rel.buf, buf.buf, buf.len) < 0) {
			ret = EX_IOERR;
			broken = 1;
			break;
		}
		strlist_add(&sm.rels, rel.buf);
		ALLOC_GROW(sm.sizes, sm.rels.nr, sm.alloc_sizes);
		sm.sizes[sm.rels.nr - 1] = buf.len;
		hashmap_put(&sm.taken, sm.rels.items[sm.rels.nr - 1], sm.rels.items[sm.rels.nr - 1]);
		if (sm.rels.nr >= SUBMIT_BATCH && submit_flush(&sm) < 0) {
			ret = EX_IOERR;
			broken = 1;
			break;
		}
	}
	/* An input that cannot be read (74 too) does not hold the others back. */
	if (!broken && submit_flush(&sm) < 0)
		ret = EX_IOERR;
	/* After a commit too: the batch keeps its array of operations. */
	spool_batch_release(&sm.batch);
	hashmap_clear(&sm.taken);
	strlist_clear(&sm.rels);
	free(sm.sizes);
	strbuf_release(&buf);
	strbuf_release(&rel);
	return ret;
}
