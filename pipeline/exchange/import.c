/*
 * import - apply the bundles other agencies sent (import/NAME.tar.gpg, see
 * exchange.h): decrypt as a stream, read the archive from the stream one
 * entry at a time, check every part and put it in the registry's
 * uncommitted batch, check who signed it and for whom, then commit all of
 * it, or undo all of it (the registry is read again) and reject the
 * bundle whole with its reason.
 *
 * Authority. Only the sources (config: source="yes", else the custodians)
 * may send records and deletions; every record must be in this node's own
 * scope; no record or deletion may touch a record this node registered
 * itself (one not marked EXCHANGE_IMPORTED).
 *
 * Crash safety. Under the "import" lock and the registry lock, each
 * bundle is claimed by renaming it to work/import/TOKEN-NAME. Its commit
 * records, with the records and deletions, the sender's sequence number
 * and the claim's token (registry state import-seq:/import-token:<from>,
 * and a claim note, core/claim.h); only then is the claimed file removed. A run that finds a
 * claimed file whose token the registry names was killed after that
 * commit, and only removes it; any other claimed file is processed again
 * (record files of a killed run were never named by the index and are
 * removed when the registry is opened). So a bundle is applied exactly
 * once, and a replay is refused by its sequence number.
 *
 * The parts: import_read.c reads and checks a bundle as it streams,
 * import_apply.c puts its records and deletions in the registry's batch;
 * this file runs the loop, claims each bundle and commits or rejects it.
 *
 * SECURITY: reads files from other agencies and whatever travelled with
 * them: hostile input. The file's size is capped from fstat() before a
 * byte is read; the plaintext is capped at 4 GiB as it streams, each
 * entry (16 MiB), record (8 MiB) and document's element count before it
 * is parsed, so memory stays bounded whatever the bundle. Nothing is
 * committed before the one signature is checked against the pinned key
 * of the agency the manifest names, and no reason from the contents is
 * given before it either; the archive is never extracted (lib/archive.c
 * refuses links, devices and paths); every record is validated against
 * the schema and must hold no more than this node's audience may see.
 * Decrypted entries are wiped after use; reasons hold ids and element
 * names, never personal data.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>
#include "import_int.h"
#include "../core/audit.h"
#include "../core/claim.h"
#include "../core/datakey.h"
#include "../core/supervise.h"
#include "../util/clock.h"
#include "../util/fileio.h"
#include "../util/msg.h"
#include "../util/xalloc.h"

/* The worker's limits (core/supervise.h): the streaming import peaks far
 * below; a bundle may take ten minutes, time for gpg to inflate the 4 GiB
 * a bundle may hold once decrypted even on a slow, busy machine. */
#define IMPORT_MEM_MIB 256
#define INPUT_SECONDS  600

static void bundle_init(struct bundle *b, const char *token, const char *name)
{
	struct strbuf rel = STRBUF_INIT;

	memset(b, 0, sizeof(*b));
	snprintf(b->token, sizeof(b->token), "%s", token);
	b->name = xstrdup(name);
	claim_rel(&rel, SPOOL_WORK_IMPORT, token, name);
	b->rel = strbuf_detach(&rel, NULL);
	strbuf_init(&b->reason, 0);
}

static void bundle_release(struct bundle *b)
{
	node_free(b->manifest);
	hashmap_clear(&b->listed);
	hashmap_clear(&b->seen);
	strlist_clear(&b->seen_vals);
	hashmap_clear(&b->sent);
	hashmap_clear(&b->deleted);
	strlist_clear(&b->ids);
	strlist_clear(&b->destroyed);
	free(b->name);
	free(b->rel);
	strbuf_release(&b->reason);
}


int bundle_reject(struct bundle *b, const char *fmt, ...)
{
	va_list ap;

	strbuf_reset(&b->reason);
	va_start(ap, fmt);
	strbuf_vaddf(&b->reason, fmt, ap);
	va_end(ap);
	return -1;
}

static void state_key(struct strbuf *sb, const char *prefix, const char *agency)
{
	strbuf_reset(sb);
	strbuf_addf(sb, "%s:%s", prefix, agency);
}

/* Commit a checked bundle. -1 (reported) on an I/O error. */
static int apply(struct import *im, struct bundle *b)
{
	struct strbuf key = STRBUF_INIT, val = STRBUF_INIT;
	char *ref;
	size_t i;
	int ret;

	if (b->complete)
		import_reconcile(im, b);
	/* A bundle that carried only receipts is not acknowledged, or two
	 * agencies would acknowledge each other's receipts for ever. */
	if (b->complete || b->nr_records || b->nr_deletions)
		import_receipt_due(im, b->from, b->seq);
	if (b->receipt)
		exchange_acknowledge(im->reg, b->from, b->receipt, clock_today());

	state_key(&key, "import-seq", b->from->id);
	strbuf_addf(&val, "%ld", b->seq);
	registry_state_set(im->reg, key.buf, val.buf);
	state_key(&key, "import-token", b->from->id);
	registry_state_set(im->reg, key.buf, b->token);
	strbuf_reset(&val);
	strbuf_addf(&val, "%s-%ld", b->from->id, b->seq);
	ref = strbuf_detach(&val, NULL);
	claim_note_accepted("import", b->token, ref, &key, &val);
	free(ref);
	registry_note(im->reg, key.buf, val.buf);
	ret = registry_commit(im->reg);
	for (i = 0; !ret && i < b->destroyed.nr; i++)
		audit_add("destroy", "id=%s from=%s", b->destroyed.items[i], b->from->id);
	strbuf_release(&key);
	strbuf_release(&val);
	return ret;
}

/*
 * The registry, for writing: a bundle puts thousands of records at a time,
 * their files written behind on a thread of their own (registry.h).
 */
static int open_registry(struct import *im)
{
	if (registry_open(&im->reg, &im->ctx->cfg, &im->ctx->spool, 1) < 0)
		return -1;
	registry_write_behind(im->reg);
	return 0;
}

/* Undo what a rejected bundle put in the registry: read it again. */
static int undo(struct import *im, struct bundle *b)
{
	if (!b->touched)
		return 0;
	registry_close(im->reg);
	im->reg = NULL;
	return open_registry(im);
}

/* Give a claimed bundle back to import/ (it could not be read for now). */
static void unclaim(struct import *im, const struct bundle *b)
{
	struct strbuf to = STRBUF_INIT;
	char *src = spool_path(&im->ctx->spool, b->rel), *dst;

	strbuf_addf(&to, SPOOL_IMPORT "/%s", b->name);
	dst = spool_path(&im->ctx->spool, to.buf);
	if (rename(src, dst) < 0)
		error_errno("cannot put '%s' back", to.buf);
	strbuf_release(&to);
	free(src);
	free(dst);
}

/* Check, then apply or reject one claimed bundle, and say so. */
static void process(struct import *im, struct bundle *b)
{
	struct strbuf from = STRBUF_INIT;
	int bad, r;

	strbuf_addf(&from, SPOOL_IMPORT "/%s", b->name);
	inflight_begin(b->rel, from.buf, 0);
	strbuf_release(&from);
	r = import_read_bundle(im, b);
	bad = r < 0;
	inflight_end();

	if (r > 0) {
		/* Signed by its sender, but it builds on a state we lack. */
		unclaim(im, b);
		printf("waiting " SPOOL_IMPORT "/%s: needs bundle %ld from %s first\n", b->name,
		       b->previous, b->from->id);
		audit_add("wait", "input=" SPOOL_IMPORT "/%s from=%s seq=%ld previous=%ld",
			  b->name, b->from->id, b->seq, b->previous);
		im->waiting++;
		fflush(stdout);
		if (audit_flush() < 0)
			im->io_error = 1;
		return;
	}
	if (bad && undo(im, b) < 0) {
		im->io_error = 1;
		return;
	}
	if (bad && b->temporary) {
		error("'%s' left in " SPOOL_IMPORT "/: gpg-agent cannot be reached: %s",
		      b->name, b->reason.buf);
		unclaim(im, b);
		im->agent_down = 1;
		return;
	} else if (bad) {
		if (spool_reject(&im->ctx->spool, b->rel, b->name, b->reason.buf, NULL) < 0) {
			im->io_error = 1;
			return;
		}
		printf("rejected " SPOOL_IMPORT "/%s: %s\n", b->name, b->reason.buf);
		audit_add("reject", "input=" SPOOL_IMPORT "/%s", b->name);
		im->rejected++;
	} else if (apply(im, b) < 0) {
		im->io_error = 1;
		return;
	} else {
		spool_claim_done(&im->ctx->spool, b->rel);
		printf("accepted " SPOOL_IMPORT "/%s %s-%ld %zu/%zu", b->name, b->from->id,
		       b->seq, b->nr_records, b->nr_deletions);
		if (b->receipt)
			printf(" receipt %ld", b->receipt);
		printf("\n");
		audit_add("apply", "input=" SPOOL_IMPORT "/%s from=%s seq=%ld previous=%ld "
			  "complete=%d records=%zu changed=%zu deletions=%zu receipt=%ld",
			  b->name, b->from->id, b->seq, b->previous, b->complete, b->nr_records,
			  b->changed, b->nr_deletions, b->receipt);
		im->accepted++;
	}
	fflush(stdout);
	if (audit_flush() < 0)
		im->io_error = 1;
}

/* Whether the registry says the claim with this token was applied. */
static const struct agency *applied_by(struct import *im, const char *token)
{
	const struct config *cfg = &im->ctx->cfg;
	struct strbuf key = STRBUF_INIT;
	const struct agency *found = NULL;
	size_t i;

	for (i = 0; i < cfg->nr_agencies && !found; i++) {
		const char *v;

		state_key(&key, "import-token", cfg->agencies[i].id);
		v = registry_state_get(im->reg, key.buf);
		if (v && !strcmp(v, token))
			found = &cfg->agencies[i];
	}
	strbuf_release(&key);
	return found;
}

/*
 * What a run takes, in order: bundles in import/ (token NULL) and bundles
 * a killed run left claimed (their token), sorted together by sender and
 * sequence (by_sequence()). Bundles are not cumulative: one taken after a
 * later bundle of its sender would be refused as old and its changes
 * lost, so a claim left by a killed run keeps its place in the sequence
 * rather than going after the bundles that arrived since (a bundle that
 * keeps killing the stage is rejected by core/supervise.c instead).
 */
struct take {
	char *name;
	char token[SPOOL_TOKEN_LEN + 1];  /* "" for a bundle in import/ */
};

struct take_list {
	struct take *v;
	size_t nr, alloc;
};

static void take_add(struct take_list *l, const char *name, const char *token)
{
	ALLOC_GROW(l->v, l->nr + 1, l->alloc);
	l->v[l->nr].name = xstrdup(name);
	snprintf(l->v[l->nr].token, sizeof(l->v[l->nr].token), "%s", token ? token : "");
	l->nr++;
}

static void take_clear(struct take_list *l)
{
	size_t i;

	for (i = 0; i < l->nr; i++)
		free(l->v[i].name);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/*
 * Claimed bundles left by a killed run: one the registry names was
 * applied and is only removed; any other goes into todo.
 */
static const char *note_get(const void *reg, const char *key)
{
	return registry_note_get(reg, key);
}

static void recover(struct import *im, struct take_list *todo)
{
	struct claim_left *left;
	size_t i, nr = claim_left_list(&im->ctx->spool, SPOOL_WORK_IMPORT, &left);

	for (i = 0; i < nr && !im->io_error && !im->agent_down; i++) {
		const char *name = left[i].name, *token = left[i].token;
		struct claim_note note;
		struct bundle b;
		int noted = claim_note_find(note_get, im->reg, "import", token, &note) &&
			    note.outcome == CLAIM_ACCEPTED;

		claim_note_release(&note);
		if (noted || applied_by(im, token)) {
			bundle_init(&b, token, name);
			spool_claim_done(&im->ctx->spool, b.rel);
			printf("accepted " SPOOL_IMPORT "/%s (applied before an interruption)\n",
			       b.name);
			im->accepted++;
			bundle_release(&b);
		} else {
			take_add(todo, name, token);
		}
	}
	claim_left_free(left, nr);
}

static int has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n > m && !strcmp(s + n - m, suffix);
}

/*
 * Bundle names FROM-TO-SEQ.tar.gpg in the order to apply them: by sender
 * and addressee, then by sequence number as a number (a plain sort would
 * put council-x-10 before council-x-9, and 9 would then be refused as old).
 */
static void split_seq(const char *name, size_t *prefix, unsigned long long *seq)
{
	const char *dash = strrchr(name, '-');
	char *end;

	*prefix = strlen(name);
	*seq = 0;
	if (!dash || !isdigit((unsigned char)dash[1]))
		return;
	errno = 0;
	*seq = strtoull(dash + 1, &end, 10);
	if (errno || strcmp(end, BUNDLE_SUFFIX))
		*seq = 0;
	else
		*prefix = dash - name;
}

static int by_sequence(const void *va, const void *vb)
{
	const char *a = ((const struct take *)va)->name, *b = ((const struct take *)vb)->name;
	unsigned long long sa, sb;
	size_t pa, pb;
	int c;

	split_seq(a, &pa, &sa);
	split_seq(b, &pb, &sb);
	c = memcmp(a, b, pa < pb ? pa : pb);
	if (c)
		return c;
	if (pa != pb)
		return pa < pb ? -1 : 1;
	if (sa != sb)
		return sa < sb ? -1 : 1;
	return strcmp(a, b);
}

/* Claim import/NAME and process it; nothing when another process took it. */
static void claim_and_process(struct import *im, const struct take *t)
{
	char token[SPOOL_TOKEN_LEN + 1];
	struct bundle b;

	if (t->token[0]) {
		/* Left claimed by a killed run: processed again. */
		bundle_init(&b, t->token, t->name);
		process(im, &b);
		bundle_release(&b);
		return;
	}
	spool_claim_token(token);
	bundle_init(&b, token, t->name);
	if (spool_claim(&im->ctx->spool, SPOOL_IMPORT, t->name, b.rel) == 0)
		process(im, &b);
	bundle_release(&b);
}

static int import_main(void *arg)
{
	struct context *ctx = arg;
	struct import im;
	struct strlist names = STRLIST_INIT;
	struct take_list todo = { NULL, 0, 0 };
	char *dir;
	size_t i;
	int lock, ret = 0;

	memset(&im, 0, sizeof(im));
	im.ctx = ctx;
	dir = spool_path(&ctx->spool, SPOOL_WORK_IMPORT);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		free(dir);
		return error_errno("cannot create '%s'", SPOOL_WORK_IMPORT), EX_IOERR;
	}
	free(dir);
	lock = spool_lock(&ctx->spool, "import");
	if (lock < 0)
		return EX_IOERR;
	if (open_registry(&im) < 0) {
		spool_unlock(lock);
		return EX_SOFTWARE;
	}
	recover(&im, &todo);
	dir = spool_path(&ctx->spool, SPOOL_IMPORT);
	if (dir_list(dir, &names, 0) < 0)
		ret = error_errno("cannot list '%s'", dir);
	free(dir);
	for (i = 0; i < names.nr; i++)
		if (name_is_safe(names.items[i]) && has_suffix(names.items[i], BUNDLE_SUFFIX))
			take_add(&todo, names.items[i], NULL);
	if (todo.nr)
		qsort(todo.v, todo.nr, sizeof(*todo.v), by_sequence);
	for (i = 0; i < todo.nr && !im.io_error && !im.agent_down; i++)
		claim_and_process(&im, &todo.v[i]);
	audit_add("done", "accepted=%zu rejected=%zu waiting=%zu", im.accepted, im.rejected,
		  im.waiting);
	take_clear(&todo);
	strlist_clear(&names);
	registry_close(im.reg);
	spool_unlock(lock);
	if (im.io_error)
		return EX_IOERR;
	if (im.agent_down)
		return EX_UNAVAILABLE;
	return ret < 0 ? EX_IOERR : 0;
}

/*
 * In a supervised worker (core/supervise.h): a bundle that crashes,
 * hangs or exhausts gpg's or libarchive's reader ends in rejected/, and
 * the next is taken.
 */
int cmd_import(int argc, char **argv, struct context *ctx)
{
	static const struct supervise_limits lim = { IMPORT_MEM_MIB, INPUT_SECONDS, 0 };
	const unsigned char *key;

	if (argc != 1) {
		fprintf(stderr, "usage: mimamori import\n");
		return EX_USAGE;
	}
	/* Opened once here, the workers inherit it: watch runs import often. */
	if (datakey_get(&ctx->cfg, &ctx->spool, &key) < 0)
		return EX_SOFTWARE;
	return supervise(&ctx->spool, "import", &lim, import_main, ctx);
}
