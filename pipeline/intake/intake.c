/*
 * intake - the registry's front door: takes each document in incoming/,
 * validates it, applies it to the registry or moves it to rejected/ with
 * its reason, and prints one line per input.
 *
 * Crash safety. Under the "intake" lock, each input is claimed by renaming
 * it to work/intake/TOKEN-NAME (TOKEN random per claim). A batch of claims
 * is applied to the registry, whose commit carries a claim note
 * (core/claim.h) "intake:TOKEN" -> "accepted ID" for every accepted
 * input; only then are the accepted inputs removed, before the next
 * commit.
 * A run that finds claimed inputs left by a killed run looks their tokens
 * up in the notes of the last commit: a noted one was accepted and is only
 * removed; any other is processed again. Rejections are made durable one by
 * one (rejected/NAME.reason, then rejected/NAME) before the commit.
 *
 * Accepted inputs are removed: their data lives on only in the sealed
 * registry. Rejected inputs are kept, 0600, for staff to correct.
 *
 * Speed. Parsing and validating is most of the work: parsing threads
 * (util/pmap.c) claim, read, parse and check up to PARSE_WINDOW inputs
 * ahead while the main thread applies them in order (parsing too while
 * the next is not ready) and commits every batch_limit(), so the commits
 * overlap the parsing too. A document is freed on the thread that parsed
 * it, and a committed batch's inputs are removed on a thread of their own
 * while the next batch is applied (reap_wait() before the next commit).
 * Inputs are taken CHUNK_SIZE at a time, which bounds the memory of their
 * claims.
 *
 * SECURITY: reads documents written by center staff (untrusted format);
 * parsing is lib/xml.c's hardened parser with a size cap.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>
#include "intake.h"
#include "../commands.h"
#include "../core/audit.h"
#include "../core/claim.h"
#include "../util/clock.h"
#include "../core/datakey.h"
#include "../lib/seal.h"
#include "../core/supervise.h"
#include "../lib/xml.h"
#include "../util/fileio.h"
#include "../util/msg.h"
#include "../util/pmap.h"
#include "../util/xalloc.h"

#define BATCH_SIZE 1000
#define CHUNK_SIZE (10 * BATCH_SIZE)
/* Parsed documents waiting to be applied, at most. */
#define PARSE_WINDOW 64
#define PARSE_THREADS 4
/* The worker's limits (core/supervise.h): 64 documents of up to 8 MiB
 * may be parsed at once; one document may take a minute. */
#define INTAKE_MEM_MIB 1024
#define INPUT_SECONDS  60

struct claim {
	char *token;
	char *name;      /* the name it had in incoming/ */
	char *rel;       /* work/intake/TOKEN-NAME */
	int claimed;     /* in work/ (a parsing thread claims the others) */
	int gone;        /* taken by another process before our claim */
	int accepted;
	int failed;      /* neither: an I/O error left it claimed */
	char id[24];
	char destroyed[16]; /* an applied cancellation's reason, for the audit */
	struct node *doc;   /* parsed and valid, until applied */
	struct strbuf reason;
};

struct intake {
	struct context *ctx;
	struct registry *reg;
	struct claim *claims;
	size_t nr, alloc;
	long today;
	size_t accepted, rejected;
	size_t batch_start; /* the first claim of the batch being applied */
	unsigned threads;   /* parsing threads beside the main one */
	int io_error;
	/* The committed batch not reported yet: its accepted inputs are
	 * being removed by the reaper thread, or were removed already. */
	enum { REAP_NONE, REAP_THREAD, REAP_DONE } reaping;
	pthread_t reaper;
	size_t reap_from, reap_to;
};

/* A claim of name, which it takes (freed with the claim). */
static struct claim *claim_take(struct intake *in, const char *token, char *name)
{
	struct claim *c;
	struct strbuf rel = STRBUF_INIT;

	ALLOC_GROW(in->claims, in->nr + 1, in->alloc);
	c = &in->claims[in->nr++];
	memset(c, 0, sizeof(*c));
	c->token = xstrdup(token);
	c->name = name;
	claim_rel(&rel, SPOOL_WORK_INTAKE, token, name);
	c->rel = strbuf_detach(&rel, NULL);
	strbuf_init(&c->reason, 0);
	return c;
}

static struct claim *claim_add(struct intake *in, const char *token, const char *name)
{
	return claim_take(in, token, xstrdup(name));
}

static void claim_release(struct claim *c)
{
	free(c->token);
	free(c->name);
	free(c->rel);
	strbuf_release(&c->reason);
}

static void claims_clear(struct intake *in)
{
	size_t i;

	for (i = 0; i < in->nr; i++)
		claim_release(&in->claims[i]);
	in->nr = 0;
}

/*
 * Claim, read and parse one input (on a parsing thread: touches only c
 * and what is read-only during the map).
 */
static void parse_claim(void *arg, size_t i)
{
	struct intake *in = arg;
	struct claim *c = &in->claims[i];
	struct strbuf buf = STRBUF_INIT;
	char *path;
	int fd;

	if (!c->claimed) {
		if (spool_claim(&in->ctx->spool, SPOOL_INCOMING, c->name, c->rel) < 0) {
			c->gone = 1;
			return;
		}
		c->claimed = 1;
	}
	if (supervised()) {
		/* Named only when one input is parsed at a time. */
		struct strbuf from = STRBUF_INIT;

		strbuf_addf(&from, SPOOL_INCOMING "/%s", c->name);
		if (supervise_serial())
			inflight_begin(c->rel, from.buf, 0);
		else
			supervise_test_fault(from.buf);
		strbuf_release(&from);
	}
	path = spool_path(&in->ctx->spool, c->rel);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || strbuf_read_fd(&buf, fd, INTAKE_MAX_SIZE) < 0) {
		if (errno == EFBIG)
			strbuf_addf(&c->reason, "too large (over %u bytes)", INTAKE_MAX_SIZE);
		else
			strbuf_addf(&c->reason, "cannot read: %s", strerror(errno));
	} else if (xml_parse_base64_unchecked(buf.buf, buf.len, INTAKE_MAX_SIZE,
					      XML_SCHEMA_REGISTRATION, "photo", &c->doc,
					      &c->reason) == 0 &&
		   intake_check_document(c->doc, &c->reason) < 0) {
		node_free(c->doc);
		c->doc = NULL;
	}
	if (fd >= 0)
		close(fd);
	if (buf.len)
		wipe(buf.buf, buf.len);
	strbuf_release(&buf);
	free(path);
	inflight_end();
}

/* Apply one input to the registry, or reject it (main thread). */
static void apply_one(struct intake *in, struct claim *c)
{
	if (c->doc) {
		c->accepted = !intake_apply(in->reg, &in->ctx->cfg, c->doc, in->today, c->id,
					    sizeof(c->id), &c->reason);
		if (c->accepted && !strcmp(c->doc->name, "cancellation"))
			snprintf(c->destroyed, sizeof(c->destroyed), "%s",
				 node_text(c->doc, "reason"));
	}
	if (c->accepted) {
		struct strbuf key = STRBUF_INIT, value = STRBUF_INIT;

		claim_note_accepted("intake", c->token, c->id, &key, &value);
		registry_note(in->reg, key.buf, value.buf);
		strbuf_release(&key);
		strbuf_release(&value);
		return;
	}
	if (spool_reject(&in->ctx->spool, c->rel, c->name, c->reason.buf, NULL) < 0) {
		c->failed = 1;
		in->io_error = 1;
	}
}

static void report(struct intake *in, struct claim *c)
{
	if (c->accepted) {
		printf("accepted " SPOOL_INCOMING "/%s %s\n", c->name, c->id);
		audit_add("accept", "input=" SPOOL_INCOMING "/%s id=%s", c->name, c->id);
		if (c->destroyed[0])
			audit_add("destroy", "id=%s reason=%s", c->id, c->destroyed);
		in->accepted++;
	} else if (!c->failed && !c->gone) {
		printf("rejected " SPOOL_INCOMING "/%s: %s\n", c->name, c->reason.buf);
		audit_add("reject", "input=" SPOOL_INCOMING "/%s", c->name);
		in->rejected++;
	}
}

/* Remove the accepted inputs of claims [from, to) of a committed batch. */
static void finish_accepted(struct intake *in, size_t from, size_t to)
{
	char *dir = spool_path(&in->ctx->spool, SPOOL_WORK_INTAKE);
	size_t i;

	for (i = from; i < to; i++) {
		char *p;

		if (!in->claims[i].accepted)
			continue;
		p = spool_path(&in->ctx->spool, in->claims[i].rel);
		if (unlink(p) < 0 && errno != ENOENT)
			error_errno("cannot remove '%s'", p);
		free(p);
	}
	fsync_dir(dir);
	free(dir);
}

static void *reap(void *arg)
{
	struct intake *in = arg;

	finish_accepted(in, in->reap_from, in->reap_to);
	return NULL;
}

/*
 * Wait until the inputs of the last committed batch are removed, then
 * report them. Called before the next commit: the recovery after a crash
 * trusts only the notes of the last commit.
 */
static void reap_wait(struct intake *in)
{
	size_t i;

	if (in->reaping == REAP_NONE)
		return;
	if (in->reaping == REAP_THREAD)
		pthread_join(in->reaper, NULL);
	in->reaping = REAP_NONE;
	for (i = in->reap_from; i < in->reap_to; i++)
		report(in, &in->claims[i]);
	fflush(stdout);
	if (audit_flush() < 0)
		in->io_error = 1;
}

/*
 * Commit the batch of claims [from, to), then remove its accepted inputs
 * on a thread of its own, while the next batch is applied: on a disk that
 * discards freed blocks, each unlink waits for the device.
 */
static void commit_batch(struct intake *in, size_t from, size_t to)
{
	size_t i;

	reap_wait(in);
	if (registry_commit(in->reg) < 0) {
		in->io_error = 1;
		for (i = from; i < to; i++)
			if (in->claims[i].accepted) {
				in->claims[i].accepted = 0;
				in->claims[i].failed = 1;
			}
		return;
	}
	in->reap_from = from;
	in->reap_to = to;
	in->reaping = REAP_THREAD;
	if (pthread_create(&in->reaper, NULL, reap, in) != 0) {
		finish_accepted(in, from, to);
		in->reaping = REAP_DONE;
	}
}

/*
 * Inputs per commit: BATCH_SIZE, or a fifth of the registry when that is
 * more, since each commit rewrites the whole index (at 100,000 people,
 * 19 MB): the index written in a run stays within about six times its
 * final size. At most a chunk.
 */
static size_t batch_limit(const struct intake *in)
{
	size_t n = registry_count(in->reg) / 5;

	return n > BATCH_SIZE ? n : BATCH_SIZE;
}

/*
 * Apply one parsed input, in input order (main thread), and commit the
 * batch it completes. After an I/O error nothing more is applied: what
 * is left claimed is taken up by the next run.
 */
static void apply_claim(void *arg, size_t i)
{
	struct intake *in = arg;
	struct claim *c = &in->claims[i];

	if (!in->io_error && !c->gone)
		apply_one(in, c);
	if (i + 1 - in->batch_start >= batch_limit(in) || i + 1 == in->nr) {
		if (!in->io_error)
			commit_batch(in, in->batch_start, i + 1);
		in->batch_start = i + 1;
	}
}

/* Free a parsed document on the thread that parsed it. */
static void release_claim(void *arg, size_t i)
{
	struct intake *in = arg;

	node_free(in->claims[i].doc);
	in->claims[i].doc = NULL;
}

/* Take up the claims in->claims[0..nr), then forget them. */
static void run_chunk(struct intake *in)
{
	in->batch_start = 0;
	pmap_run(in->nr, in->threads, PARSE_WINDOW, parse_claim, apply_claim, release_claim, in);
	reap_wait(in);
	claims_clear(in);
}

static const char *note_get(const void *reg, const char *key)
{
	return registry_note_get(reg, key);
}

/*
 * Claimed inputs left by a killed run: those the last commit noted were
 * accepted are finished; the others stay in in->claims, to be taken up
 * after the inputs that arrived since (take_later()).
 */
static void recover(struct intake *in)
{
	struct claim_left *left;
	size_t i, nr = claim_left_list(&in->ctx->spool, SPOOL_WORK_INTAKE, &left), done = 0;

	for (i = 0; i < nr; i++) {
		struct claim_note note;
		struct claim *c = claim_add(in, left[i].token, left[i].name);

		c->claimed = 1;
		if (claim_note_find(note_get, in->reg, "intake", left[i].token, &note) &&
		    note.outcome == CLAIM_ACCEPTED) {
			snprintf(c->id, sizeof(c->id), "%.*s", (int)sizeof(c->id) - 1, note.ref);
			c->accepted = 1;
			done++;
		}
		claim_note_release(&note);
	}
	if (done) {
		/* Finish them and report; keep the rest as the first batch. */
		size_t j = 0;

		finish_accepted(in, 0, in->nr);
		for (i = 0; i < in->nr; i++) {
			if (in->claims[i].accepted) {
				report(in, &in->claims[i]);
				claim_release(&in->claims[i]);
			} else {
				in->claims[j++] = in->claims[i];
			}
		}
		in->nr = j;
	}
	claim_left_free(left, nr);
}

/*
 * Move the claims recover() left in in->claims to later[], so that an
 * input a killed run held (perhaps the one that killed it) is taken up
 * after the inputs that arrived since.
 */
static struct claim *take_later(struct intake *in, size_t *nr)
{
	struct claim *later = in->claims;

	*nr = in->nr;
	in->claims = NULL;
	in->nr = in->alloc = 0;
	return later;
}

static void add_later(struct intake *in, struct claim *later, size_t nr)
{
	size_t i;

	for (i = 0; i < nr && !in->io_error; i++) {
		ALLOC_GROW(in->claims, in->nr + 1, in->alloc);
		in->claims[in->nr++] = later[i];
		if (in->nr >= CHUNK_SIZE)
			run_chunk(in);
	}
	for (; i < nr; i++)
		claim_release(&later[i]);
	free(later);
}

static int intake_main(void *arg)
{
	struct context *ctx = arg;
	struct intake in;
	struct strlist names = STRLIST_INIT;
	struct claim *later;
	size_t i, nr_later;
	char *dir;
	int lock, ret = 0;
	memset(&in, 0, sizeof(in));
	in.ctx = ctx;
	in.today = clock_today();
	in.threads = supervise_serial() ? 0 : pmap_workers(PARSE_THREADS);
	xml_prepare(XML_SCHEMA_REGISTRATION);
	dir = spool_path(&ctx->spool, SPOOL_WORK_INTAKE);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		free(dir);
		return error_errno("cannot create '%s'", SPOOL_WORK_INTAKE), EX_IOERR;
	}
	free(dir);
	lock = spool_lock(&ctx->spool, "intake");
	if (lock < 0)
		return EX_IOERR;
	if (registry_open(&in.reg, &ctx->cfg, &ctx->spool, 1) < 0) {
		spool_unlock(lock);
		return EX_SOFTWARE;
	}
	recover(&in);
	later = take_later(&in, &nr_later);
	dir = spool_path(&ctx->spool, SPOOL_INCOMING);
	if (dir_list(dir, &names, 0) < 0)
		ret = error_errno("cannot list '%s'", dir);
	free(dir);
	for (i = 0; i < names.nr && !in.io_error; i++) {
		char token[SPOOL_TOKEN_LEN + 1];

		if (!name_is_safe(names.items[i]))
			continue;
		spool_claim_token(token);
		/* The name goes to its claim, freed with the chunk: the
		 * listing of a large incoming/ is not held for the whole run. */
		claim_take(&in, token, names.items[i]);
		names.items[i] = NULL;
		if (in.nr >= CHUNK_SIZE)
			run_chunk(&in);
	}
	add_later(&in, later, nr_later);
	if (in.nr && !in.io_error)
		run_chunk(&in);
	audit_add("done", "accepted=%zu rejected=%zu", in.accepted, in.rejected);
	claims_clear(&in);
	free(in.claims);
	strlist_clear(&names);
	registry_close(in.reg);
	spool_unlock(lock);
	if (in.io_error)
		return EX_IOERR;
	return ret < 0 ? EX_IOERR : 0;
}

int cmd_intake(int argc, char **argv, struct context *ctx)
{
	static const struct supervise_limits lim = { INTAKE_MEM_MIB, INPUT_SECONDS, 1 };
	const unsigned char *key;

	if (argc != 1) {
		fprintf(stderr, "usage: mimamori intake\n");
		return EX_USAGE;
	}
	/* Opened once here, the workers inherit it: watch runs intake often. */
	if (datakey_get(&ctx->cfg, &ctx->spool, &key) < 0)
		return EX_SOFTWARE;
	return supervise(&ctx->spool, "intake", &lim, intake_main, ctx);
}
