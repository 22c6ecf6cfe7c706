/*
 * import - apply the bundles other agencies sent (import/NAME.tar.gpg, see
 * exchange.h): decrypt, check who signed it and for whom, read the
 * archive in memory, check every part, then apply all of it to the
 * registry in one commit, or reject it whole with its reason.
 *
 * Crash safety. Under the "import" lock and the registry lock, each
 * bundle is claimed by renaming it to work/import/TOKEN-NAME. Its commit
 * records, with the records and deletions, the sender's sequence number
 * and the claim's token (registry state import-seq:/import-token:<from>,
 * and a note); only then is the claimed file removed. A run that finds a
 * claimed file whose token the registry names was killed after that
 * commit, and only removes it; any other claimed file is processed again.
 * So a bundle is applied exactly once, and a replay is refused by its
 * sequence number.
 *
 * SECURITY: reads files from other agencies and whatever travelled with
 * them: hostile input. The file is size-capped before it is read; nothing
 * is believed before the one signature is checked against the pinned key
 * of the agency the manifest names; the archive is never extracted (core/
 * archive.c reads it in memory with caps and refuses links, devices and
 * paths); every record is validated against the schema and must hold no
 * more than this node's audience may see. Decrypted data is wiped after
 * use; reasons hold ids and element names, never personal data.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>
#include "exchange.h"
#include "../commands.h"
#include "../core/archive.h"
#include "../core/audit.h"
#include "../core/clock.h"
#include "../core/gpg.h"
#include "../core/seal.h"
#include "../core/view.h"
#include "../core/xml.h"
#include "../util/fileio.h"
#include "../util/msg.h"
#include "../util/timeutil.h"
#include "../util/xalloc.h"

#define WORK_DIR  SPOOL_WORK "/import"
#define ID_LEN    12   /* R2026-000001 */

struct bundle {
	char token[SPOOL_TOKEN_LEN + 1];
	char *name;          /* its name in import/ */
	char *rel;           /* work/import/TOKEN-NAME */
	struct strbuf reason;
	const struct agency *from;
	long seq;
	struct node **records;
	size_t nr_records;
	struct node *deletions;
	size_t nr_deletions;
	int temporary;       /* not the bundle's fault: gpg-agent is down */
};

struct import {
	struct context *ctx;
	struct registry *reg;
	size_t accepted, rejected;
	int io_error;
	int agent_down;      /* stop: what is left waits for the next run */
};

static void bundle_init(struct bundle *b, const char *token, const char *name)
{
	struct strbuf rel = STRBUF_INIT;

	memset(b, 0, sizeof(*b));
	snprintf(b->token, sizeof(b->token), "%s", token);
	b->name = xstrdup(name);
	strbuf_addf(&rel, WORK_DIR "/%s-%s", token, name);
	b->rel = strbuf_detach(&rel, NULL);
	strbuf_init(&b->reason, 0);
}

static void bundle_release(struct bundle *b)
{
	size_t i;

	for (i = 0; i < b->nr_records; i++)
		node_free(b->records[i]);
	free(b->records);
	node_free(b->deletions);
	free(b->name);
	free(b->rel);
	strbuf_release(&b->reason);
}

static int reject(struct bundle *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int reject(struct bundle *b, const char *fmt, ...)
{
	va_list ap;

	strbuf_reset(&b->reason);
	va_start(ap, fmt);
	strbuf_vaddf(&b->reason, fmt, ap);
	va_end(ap);
	return -1;
}

/* records/R2026-000001.xml -> the id; NULL when the name is not of that form. */
static int record_name_id(const char *name, char *id)
{
	const char *p = name + 8;
	int i;

	if (strncmp(name, "records/", 8) || strlen(p) != ID_LEN + 4 || strcmp(p + ID_LEN, ".xml"))
		return 0;
	for (i = 0; i < ID_LEN; i++) {
		int ok = i == 0 ? p[i] == 'R' : i == 5 ? p[i] == '-' : isdigit((unsigned char)p[i]);

		if (!ok)
			return 0;
	}
	memcpy(id, p, ID_LEN);
	id[ID_LEN] = '\0';
	return 1;
}

static int allowed_name(const char *name, void *cb)
{
	char id[ID_LEN + 1];

	(void)cb;
	return !strcmp(name, "manifest.xml") || !strcmp(name, "deletions.xml") ||
	       record_name_id(name, id);
}

/* Encrypted with integrity protection, with exactly one good signature. */
static int check_envelope(struct bundle *b, const struct gpg_sigs *sigs)
{
	const struct gpg_sig *s;

	if (!sigs->was_encrypted)
		return reject(b, "not encrypted");
	if (!sigs->integrity_ok)
		return reject(b, "not integrity protected");
	if (sigs->nr == 0)
		return reject(b, "not signed");
	if (sigs->nr > 1)
		return reject(b, "%zu signatures (exactly one is required)", sigs->nr);
	s = &sigs->sig[0];
	if (!s->valid)
		return reject(b, "bad signature by %s: %s", s->fpr[0] ? s->fpr : "an unknown key",
			      s->status);
	return 0;
}

/* Whether the one signature was made by the pinned key of the sender. */
static int check_signer(struct bundle *b, const struct gpg_sigs *sigs,
			const struct agency *from)
{
	const struct gpg_sig *s = &sigs->sig[0];

	if (strcasecmp(s->primary_fpr, from->key))
		return reject(b, "signed by %s, not by the key of '%s'",
			      s->primary_fpr[0] ? s->primary_fpr : s->fpr, from->id);
	return 0;
}

/* The manifest: from, to, sequence; the sender's identity. */
static int check_manifest(struct import *im, struct bundle *b, const struct node *m,
			  const struct gpg_sigs *sigs)
{
	const struct config *cfg = &im->ctx->cfg;
	const char *from = node_text(m, "from"), *to = node_text(m, "to");
	const char *seq = node_text(m, "sequence");
	struct strbuf key = STRBUF_INIT;
	const char *last;
	long last_seq;
	char *end;

	b->from = config_agency(cfg, from);
	if (!b->from)
		return reject(b, "from an unknown agency '%s'", from);
	if (b->from == cfg->self)
		return reject(b, "claims to come from this node itself");
	if (check_signer(b, sigs, b->from) < 0)
		return -1;
	if (strcmp(to, cfg->self->id))
		return reject(b, "addressed to '%s', not to this node ('%s')", to, cfg->self->id);
	errno = 0;
	b->seq = strtol(seq, &end, 10);
	if (errno || *end || b->seq <= 0)
		return reject(b, "bad sequence number '%s'", seq);
	strbuf_addf(&key, "import-seq:%s", b->from->id);
	last = registry_state_get(im->reg, key.buf);
	strbuf_release(&key);
	last_seq = last ? atol(last) : 0;
	if (b->seq <= last_seq)
		return reject(b, "replayed or old bundle: sequence %ld from '%s', %ld already "
			      "applied", b->seq, b->from->id, last_seq);
	return 0;
}

/* Every entry listed with its size and hash, every listed entry there. */
static int check_entries(struct bundle *b, const struct node *m, const struct tar_contents *c)
{
	const struct node *en = node_child(node_child(m, "entries"), "entry");
	size_t i;

	for (; en; en = node_next_same(en)) {
		const char *name = node_attr(en, "name"), *size = node_attr(en, "size");
		const char *hash = node_attr(en, "sha256");
		struct tar_file *f = tar_contents_find(c, name);
		struct strbuf hex = STRBUF_INIT;
		int bad;

		if (!f)
			return reject(b, "entry '%s' listed in the manifest is missing", name);
		if (f->mark)
			return reject(b, "manifest lists '%s' twice", name);
		f->mark = 1;
		sha256_hex(f->data, f->len, &hex);
		bad = strtoull(size, NULL, 10) != f->len || strcmp(hex.buf, hash);
		strbuf_release(&hex);
		if (bad)
			return reject(b, "entry '%s' does not match the manifest (size or SHA-256)",
				      name);
	}
	for (i = 0; i < c->nr; i++)
		if (!c->files[i].mark && strcmp(c->files[i].name, "manifest.xml"))
			return reject(b, "entry '%s' is not listed in the manifest",
				      c->files[i].name);
	return 0;
}

/* Validate every record and keep its tree. */
static int check_records(struct import *im, struct bundle *b, const struct tar_contents *c)
{
	const struct agency *self = im->ctx->cfg.self;
	enum audience aud = audience_of(self->kind);
	struct strbuf why = STRBUF_INIT;
	size_t i;
	int ret = 0;

	b->records = xcalloc(c->nr, sizeof(*b->records));
	for (i = 0; i < c->nr && !ret; i++) {
		const struct tar_file *f = &c->files[i];
		struct node *r = NULL;
		char id[ID_LEN + 1];
		const char *rid;

		if (!record_name_id(f->name, id))
			continue;
		strbuf_reset(&why);
		if (xml_parse(f->data, f->len, BUNDLE_MAX_RECORD, XML_SCHEMA_REGISTRATION, &r,
			      &why) < 0) {
			ret = reject(b, "record %s: %s", id, why.buf);
			break;
		}
		b->records[b->nr_records++] = r;
		rid = node_attr(r, "id");
		if (strcmp(r->name, "record"))
			ret = reject(b, "record %s: <%s> is not a record", id, r->name);
		else if (!rid || strcmp(rid, id))
			ret = reject(b, "record %s: its id is '%s'", id, rid ? rid : "");
		else if (!view_within(r, aud, &why))
			ret = reject(b, "record %s: holds %s, more than a %s node may see", id,
				     why.buf, agency_kind_name(self->kind));
	}
	strbuf_release(&why);
	return ret;
}

static int check_deletions(struct bundle *b, const struct tar_contents *c)
{
	const struct tar_file *f = tar_contents_find(c, "deletions.xml");
	struct strbuf why = STRBUF_INIT, name = STRBUF_INIT;
	const struct node *d;
	int both;

	if (!f)
		return 0;
	if (xml_parse(f->data, f->len, BUNDLE_MAX_RECORD, XML_SCHEMA_MANIFEST, &b->deletions,
		      &why) < 0) {
		reject(b, "deletions.xml: %s", why.buf);
		strbuf_release(&why);
		return -1;
	}
	strbuf_release(&why);
	if (strcmp(b->deletions->name, "deletions"))
		return reject(b, "deletions.xml: <%s> is not <deletions>", b->deletions->name);
	for (d = node_child(b->deletions, "deletion"); d; d = node_next_same(d)) {
		b->nr_deletions++;
		strbuf_reset(&name);
		strbuf_addf(&name, "records/%s.xml", node_attr(d, "id"));
		both = tar_contents_find(c, name.buf) != NULL;
		strbuf_release(&name);
		if (both)
			return reject(b, "record %s is both sent and deleted", node_attr(d, "id"));
	}
	return 0;
}

/* Read, decrypt and check a claimed bundle; the trees are kept in b. */
static int check_bundle(struct import *im, struct bundle *b)
{
	struct strbuf raw = STRBUF_INIT, plain = STRBUF_INIT, why = STRBUF_INIT;
	struct gpg_sigs sigs = { NULL, 0, 0, 0 };
	struct tar_contents c = TAR_CONTENTS_INIT;
	struct tar_limits lim = { TAR_MAX_ENTRIES, BUNDLE_MAX_RECORD, TAR_MAX_TOTAL };
	struct tar_file *mf;
	struct node *m = NULL;
	char *path = spool_path(&im->ctx->spool, b->rel);
	int fd, ret = -1;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || strbuf_read_fd(&raw, fd, BUNDLE_MAX_SIZE) < 0) {
		if (errno == EFBIG)
			reject(b, "too large (over %zu bytes)", BUNDLE_MAX_SIZE);
		else
			reject(b, "cannot read: %s", strerror(errno));
		goto out;
	}
	if (gpg_decrypt(raw.buf, raw.len, &plain, &sigs, &why) < 0) {
		reject(b, "%s", why.buf);
		b->temporary = gpg_agent_down(im->ctx->cfg.self->key);
		goto out;
	}
	/* Nothing is used before the signature is checked: here that there
	 * is exactly one good one, then (check_manifest) that its key is the
	 * pinned key of the agency the manifest names. */
	if (check_envelope(b, &sigs) < 0)
		goto out;
	if (tar_read(plain.buf, plain.len, &lim, allowed_name, NULL, &c, &why) < 0) {
		reject(b, "%s", why.buf);
		goto out;
	}
	mf = tar_contents_find(&c, "manifest.xml");
	if (!mf) {
		reject(b, "no manifest.xml");
		goto out;
	}
	strbuf_reset(&why);
	if (xml_parse(mf->data, mf->len, BUNDLE_MAX_RECORD, XML_SCHEMA_MANIFEST, &m, &why) < 0) {
		reject(b, "manifest.xml: %s", why.buf);
		goto out;
	}
	if (strcmp(m->name, "manifest")) {
		reject(b, "manifest.xml: <%s> is not <manifest>", m->name);
		goto out;
	}
	if (check_manifest(im, b, m, &sigs) < 0 || check_entries(b, m, &c) < 0 ||
	    check_records(im, b, &c) < 0 || check_deletions(b, &c) < 0)
		goto out;
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	if (plain.len)
		wipe(plain.buf, plain.len);
	node_free(m);
	tar_contents_release(&c);
	gpg_sigs_release(&sigs);
	strbuf_release(&raw);
	strbuf_release(&plain);
	strbuf_release(&why);
	free(path);
	return ret;
}

static void state_key(struct strbuf *sb, const char *prefix, const char *agency)
{
	strbuf_reset(sb);
	strbuf_addf(sb, "%s:%s", prefix, agency);
}

/* Apply a checked bundle and commit. -1 (reported) on an I/O error. */
static int apply(struct import *im, struct bundle *b, size_t *changed)
{
	struct strbuf key = STRBUF_INIT, val = STRBUF_INIT;
	const struct node *d;
	size_t i;
	int ret;

	*changed = 0;
	for (i = 0; i < b->nr_records; i++) {
		const struct node *r = b->records[i];
		struct reg_entry *e = registry_find(im->reg, node_attr(r, "id"));

		/* A version we hold already (or a newer one) is left as it is. */
		if (e && e->state == REG_ACTIVE && e->version >= atoi(node_attr(r, "version")))
			continue;
		e = registry_put(im->reg, r);
		registry_mark_sent(im->reg, e, EXCHANGE_IMPORTED);
		(*changed)++;
	}
	for (d = b->deletions ? node_child(b->deletions, "deletion") : NULL; d;
	     d = node_next_same(d)) {
		struct reg_entry *e = registry_find(im->reg, node_attr(d, "id"));
		long date;

		if (!e || e->state != REG_ACTIVE)
			continue;
		if (date_parse(node_attr(d, "date"), &date) < 0)
			date = clock_today();
		registry_destroy(im->reg, e, date, node_attr(d, "reason"));
		audit_add("destroy", "id=%s reason=%s from=%s", e->id, e->reason, b->from->id);
	}
	state_key(&key, "import-seq", b->from->id);
	strbuf_addf(&val, "%ld", b->seq);
	registry_state_set(im->reg, key.buf, val.buf);
	state_key(&key, "import-token", b->from->id);
	registry_state_set(im->reg, key.buf, b->token);
	strbuf_reset(&val);
	strbuf_addf(&val, "accepted %s-%ld", b->from->id, b->seq);
	registry_note(im->reg, b->token, val.buf);
	ret = registry_commit(im->reg);
	strbuf_release(&key);
	strbuf_release(&val);
	return ret;
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
	size_t changed;
	int bad = check_bundle(im, b) < 0;

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
	} else if (apply(im, b, &changed) < 0) {
		im->io_error = 1;
		return;
	} else {
		spool_claim_done(&im->ctx->spool, b->rel);
		printf("accepted " SPOOL_IMPORT "/%s %s-%ld %zu/%zu\n", b->name, b->from->id,
		       b->seq, b->nr_records, b->nr_deletions);
		audit_add("apply", "input=" SPOOL_IMPORT "/%s from=%s seq=%ld records=%zu "
			  "changed=%zu deletions=%zu", b->name, b->from->id, b->seq,
			  b->nr_records, changed, b->nr_deletions);
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
 * Claimed bundles left by a killed run: one the registry names was
 * applied and is only removed; any other is processed now.
 */
static void recover(struct import *im)
{
	struct strlist names = STRLIST_INIT;
	char *dir = spool_path(&im->ctx->spool, WORK_DIR);
	size_t i;

	dir_list(dir, &names, 1);
	for (i = 0; i < names.nr && !im->io_error && !im->agent_down; i++) {
		const char *name;
		char token[SPOOL_TOKEN_LEN + 1];
		struct bundle b;

		name = spool_claim_name(names.items[i], token);
		if (!name)
			continue;
		bundle_init(&b, token, name);
		if (applied_by(im, token) || registry_note_get(im->reg, token)) {
			spool_claim_done(&im->ctx->spool, b.rel);
			printf("accepted " SPOOL_IMPORT "/%s (applied before an interruption)\n",
			       b.name);
			im->accepted++;
		} else {
			process(im, &b);
		}
		bundle_release(&b);
	}
	strlist_clear(&names);
	free(dir);
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
	const char *a = *(const char *const *)va, *b = *(const char *const *)vb;
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
static void claim_and_process(struct import *im, const char *name)
{
	char token[SPOOL_TOKEN_LEN + 1];
	struct bundle b;

	spool_claim_token(token);
	bundle_init(&b, token, name);
	if (spool_claim(&im->ctx->spool, SPOOL_IMPORT, name, b.rel) == 0)
		process(im, &b);
	bundle_release(&b);
}

int cmd_import(int argc, char **argv, struct context *ctx)
{
	struct import im;
	struct strlist names = STRLIST_INIT;
	char *dir;
	size_t i;
	int lock, ret = 0;

	if (argc != 1) {
		fprintf(stderr, "usage: mimamori import\n");
		return EX_USAGE;
	}
	memset(&im, 0, sizeof(im));
	im.ctx = ctx;
	dir = spool_path(&ctx->spool, WORK_DIR);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		free(dir);
		return error_errno("cannot create '%s'", WORK_DIR), EX_IOERR;
	}
	free(dir);
	lock = spool_lock(&ctx->spool, "import");
	if (lock < 0)
		return EX_IOERR;
	if (registry_open(&im.reg, &ctx->cfg, &ctx->spool, 1) < 0) {
		spool_unlock(lock);
		return EX_SOFTWARE;
	}
	recover(&im);
	dir = spool_path(&ctx->spool, SPOOL_IMPORT);
	if (dir_list(dir, &names, 0) < 0)
		ret = error_errno("cannot list '%s'", dir);
	free(dir);
	if (names.nr)
		qsort(names.items, names.nr, sizeof(*names.items), by_sequence);
	for (i = 0; i < names.nr && !im.io_error && !im.agent_down; i++)
		if (name_is_safe(names.items[i]) && has_suffix(names.items[i], BUNDLE_SUFFIX))
			claim_and_process(&im, names.items[i]);
	audit_add("done", "accepted=%zu rejected=%zu", im.accepted, im.rejected);
	strlist_clear(&names);
	registry_close(im.reg);
	spool_unlock(lock);
	if (im.io_error)
		return EX_IOERR;
	if (im.agent_down)
		return EX_UNAVAILABLE;
	return ret < 0 ? EX_IOERR : 0;
}
