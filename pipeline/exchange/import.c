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
#include "../lib/archive.h"
#include "../core/audit.h"
#include "../core/claim.h"
#include "../util/clock.h"
#include "../core/datakey.h"
#include "../core/supervise.h"
#include "../lib/gpg.h"
#include "../lib/seal.h"
#include "../core/view.h"
#include "../lib/xml.h"
#include "../util/fileio.h"
#include "../util/hashmap.h"
#include "../util/msg.h"
#include "../util/timeutil.h"
#include "../util/xalloc.h"

/* The worker's limits (core/supervise.h): the streaming import peaks far
 * below; a bundle may take ten minutes, time for gpg to inflate the 4 GiB
 * a bundle may hold once decrypted even on a slow, busy machine. */
#define IMPORT_MEM_MIB 256
#define INPUT_SECONDS  600
#define ID_LEN    12   /* R2026-000001 */

struct bundle {
	char token[SPOOL_TOKEN_LEN + 1];
	char *name;          /* its name in import/ */
	char *rel;           /* work/import/TOKEN-NAME */
	struct strbuf reason;
	const struct agency *from;
	long seq;
	long previous;       /* the highest of ours the sender saw acknowledged */
	int complete;        /* complete="yes": reconcile against it */
	int waiting;         /* previous is above what we applied: not yet */
	long receipt;        /* highest of our sequences it acknowledges, 0 none */
	size_t nr_records, nr_deletions, changed;
	int temporary;       /* not the bundle's fault: gpg-agent is down */
	int touched;         /* the registry was changed: undo by reopening it */
	/* While it is read: */
	struct node *manifest;
	struct hashmap listed;      /* entry name -> <entry>, until it is seen */
	int trailer;                /* entries listed last, in entries.xml */
	int ended;                  /* entries.xml was read */
	struct hashmap seen;        /* trailer: entry name -> "SHA256 SIZE" */
	struct strlist seen_vals;
	struct hashmap sent;        /* ids of the records it holds */
	struct hashmap deleted;     /* ids it deletes */
	struct strlist ids;         /* the keys of sent and deleted */
	struct strlist destroyed;   /* "ID reason=R" destroyed, audited after the commit */
};

struct import {
	struct context *ctx;
	struct registry *reg;
	size_t accepted, rejected, waiting;
	int io_error;
	int agent_down;      /* stop: what is left waits for the next run */
};

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
	       !strcmp(name, "receipts.xml") || !strcmp(name, "entries.xml") ||
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

/*
 * A document of more elements than this is refused before it is parsed:
 * libxml2 spends over a hundred bytes on each, and a few MiB of "<a/>"
 * would otherwise cost a GiB. A record has a few dozen; a manifest one
 * per entry.
 */
#define RECORD_MAX_MARKUP    20000
#define MANIFEST_MAX_MARKUP  (TAR_MAX_ENTRIES + 1000)

static size_t count_markup(const struct tar_file *f)
{
	size_t i, n = 0;

	for (i = 0; i < f->len; i++)
		n += f->data[i] == '<';
	return n;
}

/* Parse the manifest and list its entries (b->manifest, b->listed). */
static int parse_manifest(struct bundle *b, const struct tar_file *f)
{
	struct strbuf why = STRBUF_INIT;
	const struct node *en;
	size_t n = 0;

	if (count_markup(f) > MANIFEST_MAX_MARKUP)
		return reject(b, "manifest.xml: more than %d elements", MANIFEST_MAX_MARKUP);
	if (xml_parse(f->data, f->len, BUNDLE_MAX_ENTRY, XML_SCHEMA_MANIFEST, &b->manifest,
		      &why) < 0) {
		reject(b, "manifest.xml: %s", why.buf);
		strbuf_release(&why);
		return -1;
	}
	if (strcmp(b->manifest->name, "manifest"))
		return reject(b, "manifest.xml: <%s> is not <manifest>", b->manifest->name);
	b->trailer = !node_child(b->manifest, "entries");
	en = node_child(node_child(b->manifest, "entries"), "entry");
	for (; en; en = node_next_same(en)) {
		const char *name = node_attr(en, "name");

		if (++n > TAR_MAX_ENTRIES)
			return reject(b, "more than %d entries", TAR_MAX_ENTRIES);
		if (hashmap_get(&b->listed, name))
			return reject(b, "manifest lists '%s' twice", name);
		hashmap_put(&b->listed, name, (void *)en);
	}
	return 0;
}

/* The manifest's from, to and sequence, against the config and the registry. */
static int check_header(struct import *im, struct bundle *b)
{
	const struct config *cfg = &im->ctx->cfg;
	const struct node *m = b->manifest;
	const char *from = node_text(m, "from"), *to = node_text(m, "to");
	const char *seq = node_text(m, "sequence"), *last;
	const char *previous = node_text(m, "previous"), *complete = node_attr(m, "complete");
	struct strbuf key = STRBUF_INIT;
	long last_seq;
	char *end;

	b->from = config_agency(cfg, from);
	if (!b->from)
		return reject(b, "from an unknown agency '%s'", from);
	if (b->from == cfg->self)
		return reject(b, "claims to come from this node itself");
	if (strcmp(to, cfg->self->id))
		return reject(b, "addressed to '%s', not to this node ('%s')", to, cfg->self->id);
	errno = 0;
	b->seq = strtol(seq, &end, 10);
	if (errno || *end || b->seq <= 0)
		return reject(b, "bad sequence number '%s'", seq);
	if (previous) {
		errno = 0;
		b->previous = strtol(previous, &end, 10);
		if (errno || *end || b->previous < 0)
			return reject(b, "<previous>: '%s' is not a sequence number", previous);
	}
	if (b->previous >= b->seq)
		return reject(b, "<previous>: %ld is not below <sequence> %ld", b->previous,
			      b->seq);
	b->complete = complete && !strcmp(complete, "yes");
	if (b->complete && !b->from->source)
		return reject(b, "<manifest complete>: '%s' is not a source of records",
			      b->from->id);
	if (!im->reg)
		return 0;
	strbuf_addf(&key, "import-seq:%s", b->from->id);
	last = registry_state_get(im->reg, key.buf);
	strbuf_release(&key);
	last_seq = last ? atol(last) : 0;
	if (b->seq <= last_seq)
		return reject(b, "replayed or old bundle: sequence %ld from '%s', %ld already "
			      "applied", b->seq, b->from->id, last_seq);
	/* It builds on a state of ours we do not have: not yet applicable. */
	if (!b->complete && b->previous > last_seq)
		b->waiting = 1;
	return b->waiting;
}

/* An entry is listed in the manifest, with its size and hash. */
static int check_listed(struct bundle *b, const struct tar_file *f)
{
	const struct node *en = hashmap_get(&b->listed, f->name);
	struct strbuf hex = STRBUF_INIT;
	int bad;

	if (!en)
		return reject(b, "entry '%s' is not listed in the manifest", f->name);
	sha256_hex(f->data, f->len, &hex);
	bad = strtoull(node_attr(en, "size"), NULL, 10) != f->len ||
	      strcmp(hex.buf, node_attr(en, "sha256"));
	strbuf_release(&hex);
	if (bad)
		return reject(b, "entry '%s' does not match the manifest (size or SHA-256)",
			      f->name);
	hashmap_remove(&b->listed, f->name);
	return 0;
}

/* A bundle listing its entries last: remember what each one was. */
static void note_seen(struct bundle *b, const struct tar_file *f)
{
	struct strbuf v = STRBUF_INIT;

	sha256_hex(f->data, f->len, &v);
	strbuf_addf(&v, " %zu", f->len);
	strlist_add(&b->seen_vals, f->name);
	strlist_add(&b->seen_vals, v.buf);
	hashmap_put(&b->seen, b->seen_vals.items[b->seen_vals.nr - 2],
		    b->seen_vals.items[b->seen_vals.nr - 1]);
	strbuf_release(&v);
}

/* entries.xml: exactly the entries that came, each with its size and hash. */
static int check_trailer(struct bundle *b, const struct tar_file *f)
{
	struct strbuf why = STRBUF_INIT, v = STRBUF_INIT;
	struct node *root = NULL;
	const struct node *en;
	int ret = -1;

	if (!b->trailer)
		return reject(b, "entries.xml in a bundle whose manifest lists its entries");
	if (count_markup(f) > MANIFEST_MAX_MARKUP)
		return reject(b, "entries.xml: more than %d elements", MANIFEST_MAX_MARKUP);
	if (xml_parse(f->data, f->len, BUNDLE_MAX_ENTRY, XML_SCHEMA_MANIFEST, &root, &why) < 0) {
		reject(b, "entries.xml: %s", why.buf);
		goto out;
	}
	if (strcmp(root->name, "entries")) {
		reject(b, "entries.xml: <%s> is not <entries>", root->name);
		goto out;
	}
	for (en = node_child(root, "entry"); en; en = node_next_same(en)) {
		const char *name = node_attr(en, "name"), *got = hashmap_get(&b->seen, name);

		strbuf_reset(&v);
		strbuf_addf(&v, "%s %s", node_attr(en, "sha256"), node_attr(en, "size"));
		if (!got) {
			reject(b, "entry '%s' listed in entries.xml is missing", name);
			goto out;
		}
		if (strcmp(got, v.buf)) {
			reject(b, "entry '%s' does not match entries.xml (size or SHA-256)", name);
			goto out;
		}
		hashmap_remove(&b->seen, name);
	}
	if (b->seen.nr) {
		reject(b, "entries.xml does not list every entry of the bundle");
		goto out;
	}
	b->ended = 1;
	ret = 0;
out:
	node_free(root);
	strbuf_release(&why);
	strbuf_release(&v);
	return ret;
}

/* Every entry the manifest lists was there. */
static int check_all_listed(struct bundle *b)
{
	const struct node *en = node_child(node_child(b->manifest, "entries"), "entry");

	for (; en; en = node_next_same(en))
		if (hashmap_get(&b->listed, node_attr(en, "name")))
			return reject(b, "entry '%s' listed in the manifest is missing",
				      node_attr(en, "name"));
	return 0;
}

static void remember(struct bundle *b, struct hashmap *set, const char *id)
{
	strlist_add(&b->ids, id);
	hashmap_put(set, b->ids.items[b->ids.nr - 1], (void *)1);
}

/*
 * What the sender may not touch here: a record this node registered
 * itself (it was never imported) is this node's own, whoever asks.
 */
static int is_own(struct import *im, const char *id)
{
	struct reg_entry *e = registry_find(im->reg, id);

	return e && !registry_was_sent(e, EXCHANGE_IMPORTED);
}

static int not_a_source(struct bundle *b)
{
	return reject(b, "'%s' is not a source of records", b->from->id);
}

/*
 * Check one record as this node (authority, size, schema, id, view,
 * scope) and hand back its tree in *r. No registry needed.
 */
static int check_record(struct import *im, struct bundle *b, const struct tar_file *f,
			const char *id, struct node **r)
{
	const struct agency *self = im->ctx->cfg.self;
	enum audience aud = audience_of(self->kind);
	struct strbuf why = STRBUF_INIT;
	const struct node *person;
	const char *rid, *ward, *center;
	int ret = -1;

	*r = NULL;
	if (b->from && !b->from->source)
		return not_a_source(b);
	if (f->len > BUNDLE_MAX_RECORD)
		return reject(b, "record %s: larger than %zu bytes", id, BUNDLE_MAX_RECORD);
	if (count_markup(f) > RECORD_MAX_MARKUP)
		return reject(b, "record %s: more than %d elements", id, RECORD_MAX_MARKUP);
	if (hashmap_get(&b->deleted, id))
		return reject(b, "record %s is both sent and deleted", id);
	if (xml_parse(f->data, f->len, BUNDLE_MAX_RECORD, XML_SCHEMA_REGISTRATION, r,
		      &why) < 0) {
		reject(b, "record %s: %s", id, why.buf);
		goto out;
	}
	rid = node_attr(*r, "id");
	person = node_child(*r, "person");
	ward = node_attr(node_child(person, "address"), "ward");
	center = node_attr(node_child(*r, "intake"), "center");
	if (strcmp((*r)->name, "record"))
		reject(b, "record %s: <%s> is not a record", id, (*r)->name);
	else if (!rid || strcmp(rid, id))
		reject(b, "record %s: its id is '%s'", id, rid ? rid : "");
	else if (!view_within(*r, aud, &why))
		reject(b, "record %s: holds %s, more than a %s node may see", id, why.buf,
		       agency_kind_name(self->kind));
	else if (!exchange_scope_has(self, ward, center))
		reject(b, "record %s: outside the scope of this node ('%s')", id, self->id);
	else
		ret = 0;
out:
	strbuf_release(&why);
	return ret;
}

/* Check one record and put it in the registry (not yet committed). */
static int take_record(struct import *im, struct bundle *b, const struct tar_file *f)
{
	struct node *r = NULL;
	struct reg_entry *e;
	char id[ID_LEN + 1];
	int ret = -1;

	record_name_id(f->name, id);
	b->nr_records++;
	if (check_record(im, b, f, id, &r) < 0)
		goto out;
	if (is_own(im, id)) {
		reject(b, "record %s: registered by this node, not to be replaced", id);
		goto out;
	}
	e = registry_find(im->reg, id);
	remember(b, &b->sent, id);
	ret = 0;
	/* Records by version: a version we hold already, or a newer one (or
	 * destroyed at it), is left as it is. */
	if (e && e->version >= atoi(node_attr(r, "version")))
		goto out;
	e = registry_put(im->reg, r);
	registry_mark_sent(im->reg, e, EXCHANGE_IMPORTED);
	exchange_mark_from(im->reg, e, b->from->id);
	b->touched = 1;
	b->changed++;
out:
	node_free(r);
	return ret;
}

/* Parse deletions.xml into *dels; a non-source may send none. */
static int parse_deletions(struct bundle *b, const struct tar_file *f, struct node **dels)
{
	struct strbuf why = STRBUF_INIT;

	*dels = NULL;
	if (count_markup(f) > MANIFEST_MAX_MARKUP)
		return reject(b, "deletions.xml: more than %d elements", MANIFEST_MAX_MARKUP);
	if (xml_parse(f->data, f->len, BUNDLE_MAX_ENTRY, XML_SCHEMA_MANIFEST, dels, &why) < 0) {
		reject(b, "deletions.xml: %s", why.buf);
		strbuf_release(&why);
		return -1;
	}
	if (strcmp((*dels)->name, "deletions"))
		return reject(b, "deletions.xml: <%s> is not <deletions>", (*dels)->name);
	if (node_child(*dels, "deletion") && b->from && !b->from->source)
		return not_a_source(b);
	return 0;
}

/* Check the deletions and make them in the registry (not yet committed). */
static int take_deletions(struct import *im, struct bundle *b, const struct tar_file *f)
{
	struct strbuf why = STRBUF_INIT;
	struct node *dels = NULL;
	const struct node *d;
	int ret = -1;

	if (parse_deletions(b, f, &dels) < 0)
		goto out;
	for (d = node_child(dels, "deletion"); d; d = node_next_same(d)) {
		const char *id = node_attr(d, "id");
		struct reg_entry *e = registry_find(im->reg, id);
		long date;

		b->nr_deletions++;
		if (hashmap_get(&b->sent, id)) {
			reject(b, "record %s is both sent and deleted", id);
			goto out;
		}
		if (is_own(im, id)) {
			reject(b, "deletion of record %s: registered by this node", id);
			goto out;
		}
		remember(b, &b->deleted, id);
		if (!e || e->state != REG_ACTIVE)
			continue;
		if (date_parse(node_attr(d, "date"), &date) < 0)
			date = clock_today();
		registry_destroy(im->reg, e, date, node_attr(d, "reason"));
		strbuf_reset(&why);
		strbuf_addf(&why, "%s reason=%s", e->id, e->reason);
		strlist_add(&b->destroyed, why.buf);
		b->touched = 1;
	}
	ret = 0;
out:
	node_free(dels);
	strbuf_release(&why);
	return ret;
}

struct reading {
	struct import *im;
	struct bundle *b;
};

/* Each entry as it comes out of the archive; non-zero stops the reading. */
static int on_entry(void *cb, const struct tar_file *f)
{
	struct reading *rd = cb;
	struct bundle *b = rd->b;

	if (!b->manifest) {
		if (strcmp(f->name, "manifest.xml"))
			return reject(b, "manifest.xml is not the first entry"), 1;
		return parse_manifest(b, f) < 0 || check_header(rd->im, b) != 0;
	}
	if (b->ended)
		return reject(b, "entry '%s' after entries.xml", f->name), 1;
	if (!strcmp(f->name, "entries.xml"))
		return check_trailer(b, f) < 0;
	if (b->trailer)
		note_seen(b, f);
	else if (check_listed(b, f) < 0)
		return 1;
	if (!strcmp(f->name, "deletions.xml"))
		return take_deletions(rd->im, b, f) < 0;
	if (!strcmp(f->name, "receipts.xml")) {
		struct strbuf why = STRBUF_INIT;
		int bad = exchange_receipts_check(rd->im->reg, b->from, f->data, f->len,
						  &b->receipt, &why) < 0;

		if (bad)
			reject(b, "%s", why.buf);
		strbuf_release(&why);
		return bad;
	}
	return take_record(rd->im, b, f) < 0;
}

/*
 * Read, decrypt and check a claimed bundle, putting its records and
 * deletions in the registry as they come (committed only by apply()).
 * The plaintext streams from gpg into the archive reader, one entry in
 * memory at a time. Nothing is believed before the signature is checked
 * at the end of the stream: a reason found on the way is given only once
 * the bundle is known to be from whom it says.
 */
static int check_bundle(struct import *im, struct bundle *b)
{
	struct strbuf why = STRBUF_INIT, gwhy = STRBUF_INIT;
	struct gpg_sigs sigs = { NULL, 0, 0, 0 };
	struct tar_limits lim = { TAR_MAX_ENTRIES, BUNDLE_MAX_ENTRY, 0 };
	struct reading rd = { im, b };
	struct gpg_stream *gs;
	struct stat st;
	char *path = spool_path(&im->ctx->spool, b->rel);
	int fd, plain = -1, r, g, ret = -1;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	free(path);
	if (fd < 0 || fstat(fd, &st) < 0)
		reject(b, "cannot read: %s", strerror(errno));
	else if (!S_ISREG(st.st_mode))
		reject(b, "not a regular file");
	else if ((unsigned long long)st.st_size > BUNDLE_MAX_SIZE)
		reject(b, "too large: over %zu MiB", BUNDLE_MAX_SIZE >> 20);
	else if (gpg_decrypt_start(fd, &gs, &plain, &why) < 0)
		reject(b, "%s", why.buf);
	else
		goto read;
	goto out;
read:
	r = tar_read_stream(plain, &lim, BUNDLE_MAX_PLAIN, allowed_name, on_entry, &rd, &why);
	close(plain);
	g = gpg_decrypt_finish(gs, &sigs, &gwhy);
	if (r == TAR_OVER) {
		reject(b, "%s", why.buf);
	} else if (g < 0) {
		reject(b, "%s", gwhy.buf);
		b->temporary = gpg_agent_down(im->ctx->cfg.self->key);
	} else if (check_envelope(b, &sigs) < 0 ||
		   (b->from && check_signer(b, &sigs, b->from) < 0)) {
		;
	} else if (r == TAR_STOPPED && b->waiting) {
		ret = 1;
	} else if (r == TAR_STOPPED) {
		;       /* the reason on_entry() gave */
	} else if (r < 0) {
		reject(b, "%s", why.buf);
	} else if (!b->manifest) {
		reject(b, "no manifest.xml");
	} else if (b->trailer && !b->ended) {
		reject(b, "no entries.xml at the end of the bundle");
	} else if (b->trailer || check_all_listed(b) == 0) {
		ret = 0;
	}
out:
	if (fd >= 0)
		close(fd);
	gpg_sigs_release(&sigs);
	strbuf_release(&why);
	strbuf_release(&gwhy);
	return ret;
}

static void state_key(struct strbuf *sb, const char *prefix, const char *agency)
{
	strbuf_reset(sb);
	strbuf_addf(sb, "%s:%s", prefix, agency);
}

/*
 * A complete bundle is all the sender holds for us: every record from it
 * that the bundle lacks is destroyed here.
 */
static void reconcile(struct import *im, struct bundle *b)
{
	size_t i, n = registry_count(im->reg);
	struct strbuf sb = STRBUF_INIT;

	for (i = 0; i < n; i++) {
		struct reg_entry *e = registry_entry(im->reg, i);

		if (e->state != REG_ACTIVE || hashmap_get(&b->sent, e->id) ||
		    !exchange_is_from(e, b->from->id))
			continue;
		registry_destroy(im->reg, e, clock_today(), "other");
		strbuf_reset(&sb);
		strbuf_addf(&sb, "%s reason=other", e->id);
		strlist_add(&b->destroyed, sb.buf);
		b->nr_deletions++;
	}
	strbuf_release(&sb);
}

/* Remember to acknowledge sequence n of agency a in our next bundle to it. */
static void receipt_due(struct import *im, const struct agency *a, long n)
{
	const char *old = exchange_state_str(im->reg, "receipt-due", a->id);
	struct strbuf sb = STRBUF_INIT;

	/* The highest is what counts (bundles are cumulative): keep the list short. */
	if (old && old[0] && strlen(old) < 600)
		strbuf_addf(&sb, "%s,", old);
	strbuf_addf(&sb, "%ld", n);
	exchange_state_set_str(im->reg, "receipt-due", a->id, sb.buf);
	strbuf_release(&sb);
}

/* Commit a checked bundle. -1 (reported) on an I/O error. */
static int apply(struct import *im, struct bundle *b)
{
	struct strbuf key = STRBUF_INIT, val = STRBUF_INIT;
	char *ref;
	size_t i;
	int ret;

	if (b->complete)
		reconcile(im, b);
	/* A bundle that carried only receipts is not acknowledged, or two
	 * agencies would acknowledge each other's receipts for ever. */
	if (b->complete || b->nr_records || b->nr_deletions)
		receipt_due(im, b->from, b->seq);
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

/* Undo what a rejected bundle put in the registry: read it again. */
static int undo(struct import *im, struct bundle *b)
{
	if (!b->touched)
		return 0;
	registry_close(im->reg);
	im->reg = NULL;
	return registry_open(&im->reg, &im->ctx->cfg, &im->ctx->spool, 1);
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
	r = check_bundle(im, b);
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

		if (applied_by(im, token) ||
		    claim_note_find(note_get, im->reg, "import", token, &note)) {
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
	if (registry_open(&im.reg, &ctx->cfg, &ctx->spool, 1) < 0) {
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
