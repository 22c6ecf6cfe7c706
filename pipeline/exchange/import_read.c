/*
 * import_read - read one claimed bundle (see import.c): decrypt it as a
 * stream, read the archive from the stream one entry at a time, and check
 * each entry as it comes: the manifest first (from, to, sequence, the
 * entries it lists), then every entry against its size and SHA-256, each
 * record (schema, id, view, scope), the deletions and receipts (handed to
 * import_apply.c), entries.xml last when the manifest lists none; at the
 * end of the stream the envelope: encrypted with integrity protection,
 * exactly one valid signature, made by the pinned key of the sender.
 *
 * SECURITY: parses what other agencies sent: hostile input. The file's
 * size is capped from fstat() before a byte is read; the plaintext is
 * capped at 4 GiB as it streams, each entry (16 MiB), record (8 MiB) and
 * document's element count before it is parsed. The archive is never
 * extracted (lib/archive.c refuses links, devices and paths, and only the
 * names of allowed_name() are read). No reason found in the contents is
 * given before the signature is known to be the sender's.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include "import_int.h"
#include "../core/view.h"
#include "../lib/seal.h"
#include "../lib/xml.h"
#include "../util/base64.h"
#include "../util/pmap.h"
#include "../util/pstream.h"
#include "../util/xalloc.h"

/* records/R2026-000001.xml -> the id; NULL when the name is not of that form. */
int import_record_id(const char *name, char *id)
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
	       import_record_id(name, id);
}

/* Encrypted with integrity protection, with exactly one good signature. */
static int check_envelope(struct bundle *b, const struct gpg_sigs *sigs)
{
	const struct gpg_sig *s;

	if (!sigs->was_encrypted)
		return bundle_reject(b, "not encrypted");
	if (!sigs->integrity_ok)
		return bundle_reject(b, "not integrity protected");
	if (sigs->nr == 0)
		return bundle_reject(b, "not signed");
	if (sigs->nr > 1)
		return bundle_reject(b, "%zu signatures (exactly one is required)", sigs->nr);
	s = &sigs->sig[0];
	if (!s->valid)
		return bundle_reject(b, "bad signature by %s: %s", s->fpr[0] ? s->fpr : "an unknown key",
			      s->status);
	return 0;
}

/* Whether the one signature was made by the pinned key of the sender. */
static int check_signer(struct bundle *b, const struct gpg_sigs *sigs,
			const struct agency *from)
{
	const struct gpg_sig *s = &sigs->sig[0];

	if (strcasecmp(s->primary_fpr, from->key))
		return bundle_reject(b, "signed by %s, not by the key of '%s'",
			      s->primary_fpr[0] ? s->primary_fpr : s->fpr, from->id);
	return 0;
}

size_t import_count_markup(const struct tar_file *f)
{
	const char *p = f->data, *end = f->data + f->len;
	size_t n = 0;

	while ((p = memchr(p, '<', (size_t)(end - p)))) {
		n++;
		p++;
	}
	return n;
}

/* Parse the manifest and list its entries (b->manifest, b->listed). */
static int parse_manifest(struct bundle *b, const struct tar_file *f)
{
	struct strbuf why = STRBUF_INIT;
	const struct node *en;
	size_t n = 0;

	if (import_count_markup(f) > MANIFEST_MAX_MARKUP)
		return bundle_reject(b, "manifest.xml: more than %d elements", MANIFEST_MAX_MARKUP);
	if (xml_parse(f->data, f->len, BUNDLE_MAX_ENTRY, XML_SCHEMA_MANIFEST, &b->manifest,
		      &why) < 0) {
		bundle_reject(b, "manifest.xml: %s", why.buf);
		strbuf_release(&why);
		return -1;
	}
	if (strcmp(b->manifest->name, "manifest"))
		return bundle_reject(b, "manifest.xml: <%s> is not <manifest>", b->manifest->name);
	b->trailer = !node_child(b->manifest, "entries");
	en = node_child(node_child(b->manifest, "entries"), "entry");
	for (; en; en = node_next_same(en)) {
		const char *name = node_attr(en, "name");

		if (++n > TAR_MAX_ENTRIES)
			return bundle_reject(b, "more than %d entries", TAR_MAX_ENTRIES);
		if (hashmap_get(&b->listed, name))
			return bundle_reject(b, "manifest lists '%s' twice", name);
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
		return bundle_reject(b, "from an unknown agency '%s'", from);
	if (b->from == cfg->self)
		return bundle_reject(b, "claims to come from this node itself");
	if (strcmp(to, cfg->self->id))
		return bundle_reject(b, "addressed to '%s', not to this node ('%s')", to, cfg->self->id);
	errno = 0;
	b->seq = strtol(seq, &end, 10);
	if (errno || *end || b->seq <= 0)
		return bundle_reject(b, "bad sequence number '%s'", seq);
	if (previous) {
		errno = 0;
		b->previous = strtol(previous, &end, 10);
		if (errno || *end || b->previous < 0)
			return bundle_reject(b, "<previous>: '%s' is not a sequence number", previous);
	}
	if (b->previous >= b->seq)
		return bundle_reject(b, "<previous>: %ld is not below <sequence> %ld", b->previous,
			      b->seq);
	b->complete = complete && !strcmp(complete, "yes");
	if (b->complete && !b->from->source)
		return bundle_reject(b, "<manifest complete>: '%s' is not a source of records",
			      b->from->id);
	if (!im->reg)
		return 0;
	strbuf_addf(&key, "import-seq:%s", b->from->id);
	last = registry_state_get(im->reg, key.buf);
	strbuf_release(&key);
	last_seq = last ? atol(last) : 0;
	if (b->seq <= last_seq)
		return bundle_reject(b, "replayed or old bundle: sequence %ld from '%s', %ld already "
			      "applied", b->seq, b->from->id, last_seq);
	/* It builds on a state of ours we do not have: not yet applicable. */
	if (!b->complete && b->previous > last_seq)
		b->waiting = 1;
	return b->waiting;
}

/* An entry (whose SHA-256 is hex) is listed in the manifest, with its size and hash. */
static int check_listed(struct bundle *b, const struct tar_file *f, const char *hex)
{
	const struct node *en = hashmap_get(&b->listed, f->name);
	int bad;

	if (!en)
		return bundle_reject(b, "entry '%s' is not listed in the manifest", f->name);
	bad = strtoull(node_attr(en, "size"), NULL, 10) != f->len ||
	      strcmp(hex, node_attr(en, "sha256"));
	if (bad)
		return bundle_reject(b, "entry '%s' does not match the manifest (size or SHA-256)",
			      f->name);
	hashmap_remove(&b->listed, f->name);
	return 0;
}

/* A bundle listing its entries last: remember what each one was. */
static void note_seen(struct bundle *b, const struct tar_file *f, const char *hex)
{
	struct strbuf v = STRBUF_INIT;

	strbuf_addf(&v, "%s %zu", hex, f->len);
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
		return bundle_reject(b, "entries.xml in a bundle whose manifest lists its entries");
	if (import_count_markup(f) > MANIFEST_MAX_MARKUP)
		return bundle_reject(b, "entries.xml: more than %d elements", MANIFEST_MAX_MARKUP);
	if (xml_parse(f->data, f->len, BUNDLE_MAX_ENTRY, XML_SCHEMA_MANIFEST, &root, &why) < 0) {
		bundle_reject(b, "entries.xml: %s", why.buf);
		goto out;
	}
	if (strcmp(root->name, "entries")) {
		bundle_reject(b, "entries.xml: <%s> is not <entries>", root->name);
		goto out;
	}
	for (en = node_child(root, "entry"); en; en = node_next_same(en)) {
		const char *name = node_attr(en, "name"), *got = hashmap_get(&b->seen, name);

		strbuf_reset(&v);
		strbuf_addf(&v, "%s %s", node_attr(en, "sha256"), node_attr(en, "size"));
		if (!got) {
			bundle_reject(b, "entry '%s' listed in entries.xml is missing", name);
			goto out;
		}
		if (strcmp(got, v.buf)) {
			bundle_reject(b, "entry '%s' does not match entries.xml (size or SHA-256)", name);
			goto out;
		}
		hashmap_remove(&b->seen, name);
	}
	if (b->seen.nr) {
		bundle_reject(b, "entries.xml does not list every entry of the bundle");
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
			return bundle_reject(b, "entry '%s' listed in the manifest is missing",
				      node_attr(en, "name"));
	return 0;
}

int import_not_a_source(struct bundle *b)
{
	return bundle_reject(b, "'%s' is not a source of records", b->from->id);
}

/*
 * A photo's base64, as photo-data in schemas/registration.xsd allows it:
 * the lexical form of xs:base64Binary (base64_xsd_size() is stricter than
 * libxml2, which skips stray characters), 1 to 2 MiB decoded.
 */
#define PHOTO_MIN_BYTES 1
#define PHOTO_MAX_BYTES 2097152

static int photos_valid(const struct node *n)
{
	const struct node *c;
	size_t size;

	if (!strcmp(n->name, "photo") &&
	    (!n->text || !base64_xsd_size(n->text, strlen(n->text), &size) ||
	     size < PHOTO_MIN_BYTES || size > PHOTO_MAX_BYTES))
		return 0;
	for (c = n->child; c; c = c->next)
		if (!photos_valid(c))
			return 0;
	return 1;
}

/*
 * Parse a record against the schema. A photo's 60 KB of base64 cost
 * libxml2 more than the rest of the record: they are checked here instead
 * (xml_parse_base64_unchecked(), as intake does), more strictly. Should the
 * record fail either way, it is parsed again in full, so that any reason is
 * libxml2's own, the one the record gets without this shortcut.
 */
static int parse_record(const struct tar_file *f, struct node **r, struct strbuf *why)
{
	if (!xml_parse_base64_unchecked(f->data, f->len, BUNDLE_MAX_RECORD,
					XML_SCHEMA_REGISTRATION, "photo", r, why)) {
		if (photos_valid(*r))
			return 0;
		node_free(*r);
		*r = NULL;
	}
	strbuf_reset(why);
	return xml_parse(f->data, f->len, BUNDLE_MAX_RECORD, XML_SCHEMA_REGISTRATION, r, why);
}

/*
 * The checks of one record that need nothing but the record and this
 * node's config (on a checking thread): the caps before libxml2 sees a
 * byte, then the schema, id, view and scope.
 */
void import_record_check(const struct agency *self, const struct tar_file *f,
			 const char *id, struct record_check *rc)
{
	enum audience aud = audience_of(self->kind);
	struct strbuf why = STRBUF_INIT;
	const struct node *person;
	const char *rid, *ward, *center;
	struct node *r;

	if (f->len > BUNDLE_MAX_RECORD) {
		rc->capped = 1;
		strbuf_addf(&rc->why, "record %s: larger than %zu bytes", id, BUNDLE_MAX_RECORD);
		return;
	}
	if (import_count_markup(f) > RECORD_MAX_MARKUP) {
		rc->capped = 1;
		strbuf_addf(&rc->why, "record %s: more than %d elements", id, RECORD_MAX_MARKUP);
		return;
	}
	if (parse_record(f, &r, &why) < 0) {
		strbuf_addf(&rc->why, "record %s: %s", id, why.buf);
		strbuf_release(&why);
		return;
	}
	rid = node_attr(r, "id");
	person = node_child(r, "person");
	ward = node_attr(node_child(person, "address"), "ward");
	center = node_attr(node_child(r, "intake"), "center");
	if (strcmp(r->name, "record"))
		strbuf_addf(&rc->why, "record %s: <%s> is not a record", id, r->name);
	else if (!rid || strcmp(rid, id))
		strbuf_addf(&rc->why, "record %s: its id is '%s'", id, rid ? rid : "");
	else if (!view_within(r, aud, &why))
		strbuf_addf(&rc->why, "record %s: holds %s, more than a %s node may see", id,
			    why.buf, agency_kind_name(self->kind));
	else if (!exchange_scope_has(self, ward, center))
		strbuf_addf(&rc->why, "record %s: outside the scope of this node ('%s')", id,
			    self->id);
	else
		rc->tree = r;
	if (!rc->tree)
		node_free(r);
	strbuf_release(&why);
}

void record_check_release(struct record_check *rc)
{
	node_free(rc->tree);
	rc->tree = NULL;
	strbuf_release(&rc->why);
	rc->capped = 0;
}

int import_record_verdict(struct bundle *b, const char *id, struct record_check *rc,
			  struct node **r)
{
	*r = NULL;
	if (b->from && !b->from->source)
		return import_not_a_source(b);
	if (rc->capped)
		return bundle_reject(b, "%s", rc->why.buf);
	if (hashmap_get(&b->deleted, id))
		return bundle_reject(b, "record %s is both sent and deleted", id);
	if (!rc->tree)
		return bundle_reject(b, "%s", rc->why.buf);
	*r = rc->tree;
	rc->tree = NULL;
	return 0;
}

int import_check_record(struct import *im, struct bundle *b, const struct tar_file *f,
			const char *id, struct node **r)
{
	struct record_check rc = RECORD_CHECK_INIT;
	int ret;

	*r = NULL;
	if (b->from && !b->from->source)
		return import_not_a_source(b);
	import_record_check(im->ctx->cfg.self, f, id, &rc);
	ret = import_record_verdict(b, id, &rc, r);
	record_check_release(&rc);
	return ret;
}

/*
 * The entries are checked on other threads (util/pstream.c). This thread
 * reads them out of the archive, in order, and hands each over; what
 * costs most and needs nothing but the entry itself (its SHA-256, and
 * for a record import_record_check(): the caps, parsing against the
 * schema, the view and scope) runs on check_threads() threads, at most
 * CHECK_WINDOW entries or CHECK_BYTES bytes ahead (a larger entry goes
 * alone); what depends on the bundle or the registry (the manifest, the
 * listing, deletions, receipts, is_own, the registry's batch) is done
 * back on this thread, entry after entry in archive order. So the first
 * bad entry stops the bundle with the reason it gave when the entries
 * were checked one at a time; the entries read after it are only wiped
 * and freed, and the reading stops at the next one.
 *
 * The threads: libxml2 keeps its state (error handlers included) per
 * thread, xml.c its error capture too, and the schema is compiled here,
 * before they start (xml_prepare()); SHA-256 is libgcrypt's, thread-safe
 * once seal_init() ran here. They never print and never touch the
 * bundle: every reason is kept in the entry and given, or not, here. An
 * allocation that fails on one ends the process as it does on this
 * thread (util/xalloc.c; util/msg.c ends it at once, leaving alone the
 * key this thread may be sealing with), with the bundle named: the
 * supervisor rejects it ("over the memory limit").
 */
#define CHECK_THREADS 2
#define CHECK_WINDOW  256
#define CHECK_BYTES   ((size_t)4 << 20)

/*
 * One a processor beside this thread's, at most CHECK_THREADS: on two
 * processors the decryption (gpg and its relay) and the writing of the
 * record files take about one already, and a second checking thread only
 * competes with them.
 */
static unsigned check_threads(void)
{
	return pmap_workers(CHECK_THREADS + 1) - 1;
}

struct entry {
	struct tar_file f;            /* its name and data, ours */
	char sha256[2 * SHA256_LEN + 1];
	char id[ID_LEN + 1];          /* a record's id, "" for another entry */
	struct record_check rc;
};

struct reading {
	struct import *im;
	struct bundle *b;
	struct pstream *ps;
	int stopped;                  /* an entry stopped the bundle */
};

static void entry_free(struct entry *e)
{
	wipe(e->f.data, e->f.len);
	free(e->f.data);
	free(e->f.name);
	record_check_release(&e->rc);
	free(e);
}

/* On a checking thread: what an entry alone tells. */
static void check_entry(void *cb, void *item)
{
	struct reading *rd = cb;
	struct entry *e = item;
	struct strbuf hex = STRBUF_INIT;

	sha256_hex(e->f.data, e->f.len, &hex);
	memcpy(e->sha256, hex.buf, sizeof(e->sha256));
	strbuf_release(&hex);
	if (e->id[0])
		import_record_check(rd->im->ctx->cfg.self, &e->f, e->id, &e->rc);
}

/* Each entry in archive order, checked; non-zero stops the bundle. */
static int take_entry(struct reading *rd, struct entry *e)
{
	struct bundle *b = rd->b;
	const struct tar_file *f = &e->f;

	if (!b->manifest) {
		if (strcmp(f->name, "manifest.xml"))
			return bundle_reject(b, "manifest.xml is not the first entry"), 1;
		return parse_manifest(b, f) < 0 || check_header(rd->im, b) != 0;
	}
	if (b->ended)
		return bundle_reject(b, "entry '%s' after entries.xml", f->name), 1;
	if (!strcmp(f->name, "entries.xml"))
		return check_trailer(b, f) < 0;
	if (b->trailer)
		note_seen(b, f, e->sha256);
	else if (check_listed(b, f, e->sha256) < 0)
		return 1;
	if (!strcmp(f->name, "deletions.xml"))
		return import_take_deletions(rd->im, b, f) < 0;
	if (!strcmp(f->name, "receipts.xml")) {
		struct strbuf why = STRBUF_INIT;
		int bad = exchange_receipts_check(rd->im->reg, b->from, f->data, f->len,
						  &b->receipt, &why) < 0;

		if (bad)
			bundle_reject(b, "%s", why.buf);
		strbuf_release(&why);
		return bad;
	}
	return import_take_record(rd->im, b, e->id, &e->rc) < 0;
}

static void use_entry(void *cb, void *item)
{
	struct reading *rd = cb;

	if (!rd->stopped && take_entry(rd, item))
		rd->stopped = 1;
	entry_free(item);
}

/* Each entry as it comes out of the archive: handed over, its data kept. */
static int on_entry(void *cb, struct tar_file *f)
{
	struct reading *rd = cb;
	struct entry *e;

	if (rd->stopped)
		return 1;
	e = xcalloc(1, sizeof(*e));
	e->f = *f;
	e->f.name = xstrdup(f->name);
	f->data = NULL;
	import_record_id(f->name, e->id);
	strbuf_init(&e->rc.why, 0);
	pstream_push(rd->ps, e, sizeof(*e) + e->f.len);
	return rd->stopped;
}

/*
 * Read, decrypt and check a claimed bundle, putting its records and
 * deletions in the registry as they come (committed only by apply()).
 * The plaintext streams from gpg into the archive reader, one entry in
 * memory at a time. Nothing is believed before the signature is checked
 * at the end of the stream: a reason found on the way is given only once
 * the bundle is known to be from whom it says.
 */
int import_read_bundle(struct import *im, struct bundle *b)
{
	struct strbuf why = STRBUF_INIT, gwhy = STRBUF_INIT;
	struct gpg_sigs sigs = { NULL, 0, 0, 0 };
	struct tar_limits lim = { TAR_MAX_ENTRIES, BUNDLE_MAX_ENTRY, 0 };
	struct reading rd = { im, b, NULL, 0 };
	struct gpg_stream *gs;
	struct stat st;
	char *path = spool_path(&im->ctx->spool, b->rel);
	int fd, plain = -1, r, g, ret = -1;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	free(path);
	if (fd < 0 || fstat(fd, &st) < 0)
		bundle_reject(b, "cannot read: %s", strerror(errno));
	else if (!S_ISREG(st.st_mode))
		bundle_reject(b, "not a regular file");
	else if ((unsigned long long)st.st_size > BUNDLE_MAX_SIZE)
		bundle_reject(b, "too large: over %zu MiB", BUNDLE_MAX_SIZE >> 20);
	else if (gpg_decrypt_start(fd, &gs, &plain, &why) < 0)
		bundle_reject(b, "%s", why.buf);
	else
		goto read;
	goto out;
read:
	/* Both schemas compiled before the threads start: none is compiled
	 * (libxml2 told to load files) while a record is being parsed. */
	seal_init();
	xml_prepare(XML_SCHEMA_REGISTRATION);
	xml_prepare(XML_SCHEMA_MANIFEST);
	rd.ps = pstream_start(check_threads(), CHECK_WINDOW, CHECK_BYTES, check_entry, use_entry,
			      &rd);
	r = tar_read_stream(plain, &lim, BUNDLE_MAX_PLAIN, allowed_name, on_entry, &rd, &why);
	pstream_finish(rd.ps);
	/* The entries are taken behind the reading: the reading may have
	 * gone past the one that stopped the bundle, which is what counts. */
	if (rd.stopped && r != TAR_OVER)
		r = TAR_STOPPED;
	close(plain);
	g = gpg_decrypt_finish(gs, &sigs, &gwhy);
	if (r == TAR_OVER) {
		bundle_reject(b, "%s", why.buf);
	} else if (g < 0) {
		bundle_reject(b, "%s", gwhy.buf);
		b->temporary = gpg_agent_down(im->ctx->cfg.self->key);
	} else if (check_envelope(b, &sigs) < 0 ||
		   (b->from && check_signer(b, &sigs, b->from) < 0)) {
		;
	} else if (r == TAR_STOPPED && b->waiting) {
		ret = 1;
	} else if (r == TAR_STOPPED) {
		;       /* the reason on_entry() gave */
	} else if (r < 0) {
		bundle_reject(b, "%s", why.buf);
	} else if (!b->manifest) {
		bundle_reject(b, "no manifest.xml");
	} else if (b->trailer && !b->ended) {
		bundle_reject(b, "no entries.xml at the end of the bundle");
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
