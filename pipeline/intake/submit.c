/*
 * submit - copy files into incoming/ safely: each is written under tmp/
 * and renamed into place once its data is durable, so intake never sees a
 * partial document. Files are committed in batches (spool_batch: one
 * syncfs() for the batch's data, then the renames, then one fsync of
 * incoming/), and "submitted" is printed for a file only after its batch
 * is committed. A name already waiting in incoming/, or taken earlier in
 * the same batch, gets ".1", ".2" … before its extension.
 *
 * Reading a file and writing its temporary copy run on one thread per
 * processor (util/pmap.c); names, batches and messages are dealt with in
 * the order of the arguments, on the main thread.
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
#include "intake.h"
#include "../util/fileio.h"
#include "../util/hashmap.h"
#include "../util/msg.h"
#include "../util/pmap.h"
#include "../util/strbuf.h"
#include "../util/xalloc.h"

/* The cap is generous: intake, not submit, rejects oversize documents. */
#define SUBMIT_MAX ((size_t)64 << 20)
/* Files per commit: bounds the work a failed commit undoes. */
#define SUBMIT_BATCH 1000
/* Files read and copied ahead of the main thread, at most. */
#define SUBMIT_WINDOW 32
#define SUBMIT_THREADS 4

void submit_free_name(const struct spool *sp, const struct hashmap *taken_here,
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

/* One argument: read and copied to a temporary file on a worker. */
struct input {
	const char *arg;
	const char *name;   /* its base name */
	int unsafe;         /* a name submit does not take */
	int read_errno;     /* the file could not be read: errno */
	int write_failed;   /* the copy could not be written (reported), or
			     * was not made after another failed */
	size_t size;
	struct strbuf tmp;  /* the temporary copy, spool-relative */
};

struct submit {
	struct context *ctx;
	struct input *inputs;
	struct spool_batch batch;
	struct hashmap taken;      /* rel -> the same string: names of this batch */
	struct strlist rels;       /* in the order of the arguments */
	size_t *sizes;
	size_t alloc_sizes;
	int ret;
	int broken;                /* a write or commit failed: nothing more */
	int stop;                  /* tells the workers so (atomic) */
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

/* Read argument i and write its temporary copy (on a worker thread). */
static void copy_input(void *arg, size_t i)
{
	struct submit *sm = arg;
	struct input *in = &sm->inputs[i];
	struct strbuf buf = STRBUF_INIT;

	/* After a failure nothing more is copied (and the main thread
	 * stops at the first item it sees that was not). */
	if (__atomic_load_n(&sm->stop, __ATOMIC_RELAXED)) {
		in->write_failed = 1;
		return;
	}
	if (!name_is_safe(in->name)) {
		in->unsafe = 1;
		return;
	}
	if (strbuf_read_file(&buf, in->arg, SUBMIT_MAX) < 0) {
		in->read_errno = errno;
	} else if (spool_tmp_write(&sm->ctx->spool, buf.buf, buf.len, &in->tmp) < 0) {
		in->write_failed = 1;
		__atomic_store_n(&sm->stop, 1, __ATOMIC_RELAXED);
	}
	in->size = buf.len;
	strbuf_release(&buf);
}

/* Name argument i in incoming/ and add it to the batch (main thread). */
static void add_input(void *arg, size_t i)
{
	struct submit *sm = arg;
	struct input *in = &sm->inputs[i];
	struct strbuf rel = STRBUF_INIT;

	if (sm->broken || in->write_failed) {
		/* After a failure nothing more is taken: what was copied
		 * ahead is dropped. */
		if (in->tmp.len) {
			char *p = spool_path(&sm->ctx->spool, in->tmp.buf);

			unlink(p);
			free(p);
		}
		if (in->write_failed)
			sm->ret = EX_IOERR;
		sm->broken = 1;
		return;
	}
	if (in->unsafe) {
		error("'%s': unusable file name", in->arg);
		sm->ret = EX_DATAERR;
		return;
	}
	if (in->read_errno) {
		errno = in->read_errno;
		error_errno("cannot read '%s'", in->arg);
		sm->ret = in->read_errno == EFBIG ? EX_DATAERR : EX_IOERR;
		return;
	}
	submit_free_name(&sm->ctx->spool, &sm->taken, in->name, &rel);
	spool_batch_adopt(&sm->batch, in->tmp.buf, rel.buf);
	strlist_add(&sm->rels, rel.buf);
	ALLOC_GROW(sm->sizes, sm->rels.nr, sm->alloc_sizes);
	sm->sizes[sm->rels.nr - 1] = in->size;
	hashmap_put(&sm->taken, sm->rels.items[sm->rels.nr - 1], sm->rels.items[sm->rels.nr - 1]);
	strbuf_release(&rel);
	if (sm->rels.nr >= SUBMIT_BATCH && submit_flush(sm) < 0) {
		sm->ret = EX_IOERR;
		sm->broken = 1;
		__atomic_store_n(&sm->stop, 1, __ATOMIC_RELAXED);
	}
}

int cmd_submit(int argc, char **argv, struct context *ctx)
{
	struct submit sm;
	size_t i, n;

	if (argc < 2) {
		fprintf(stderr, "usage: mimamori submit FILE...\n");
		return EX_USAGE;
	}
	memset(&sm, 0, sizeof(sm));
	sm.ctx = ctx;
	n = (size_t)argc - 1;
	sm.inputs = xcalloc(n, sizeof(*sm.inputs));
	for (i = 0; i < n; i++) {
		sm.inputs[i].arg = argv[i + 1];
		sm.inputs[i].name = path_basename(argv[i + 1]);
		strbuf_init(&sm.inputs[i].tmp, 0);
	}
	spool_batch_init(&sm.batch, &ctx->spool);
	pmap_run(n, pmap_workers(SUBMIT_THREADS), SUBMIT_WINDOW, copy_input, add_input, NULL,
		 &sm);
	/* An input that cannot be read (74 too) does not hold the others back. */
	if (!sm.broken && submit_flush(&sm) < 0)
		sm.ret = EX_IOERR;
	/* After a commit too: the batch keeps its array of operations. */
	spool_batch_release(&sm.batch);
	hashmap_clear(&sm.taken);
	strlist_clear(&sm.rels);
	for (i = 0; i < n; i++)
		strbuf_release(&sm.inputs[i].tmp);
	free(sm.inputs);
	free(sm.sizes);
	return sm.ret;
}
