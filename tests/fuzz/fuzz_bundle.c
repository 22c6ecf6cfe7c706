/*
 * fuzz_bundle - the decrypted content of a bundle from another agency:
 * tar_read() in memory with import's caps and allowed names (core/
 * archive.c; import itself reads the same checks from a stream), then,
 * entry by entry in archive order as import does, the manifest parsed
 * against manifest.xsd and its header checked, every entry matched
 * against it, every record checked (authority, schema, view, scope) as
 * this node, and the deletions parsed (pipeline/exchange/import*.c,
 * included here for their static checks; the registry and gpg steps are
 * left out).
 *
 * Invariants (FUZZ_CHECK): a refused archive leaves nothing behind and has
 * a reason; every name tar_read() accepts is safe and allowed; a refused
 * bundle has a reason.
 *
 * SECURITY: a signed bundle still comes from outside this node; this is
 * the code that must hold against a compromised or buggy sender.
 */
#include "fuzz.h"
#include "../../pipeline/exchange/import.c"
#include "../../pipeline/exchange/import_read.c"
#include "../../pipeline/exchange/import_apply.c"

static struct context ctx;
static const struct agency *selves[2];   /* the custodian, a police station */

static void setup(void)
{
	static int done;
	struct strbuf why = STRBUF_INIT;
	size_t i;

	if (done)
		return;
	done = 1;
	fuzz_setup();
	FUZZ_CHECK(config_load(&ctx.cfg, SRCDIR "/tests/data/config/example.xml", &why) == 0);
	selves[0] = ctx.cfg.self;
	for (i = 0; i < ctx.cfg.nr_agencies; i++)
		if (ctx.cfg.agencies[i].kind == AGENCY_POLICE)
			selves[1] = &ctx.cfg.agencies[i];
	FUZZ_CHECK(selves[0] && selves[1]);
	strbuf_release(&why);
}

/* The checks import makes of a bundle's entries, as the node `self`. */
static void check_content(const struct tar_contents *c, const struct agency *self)
{
	struct import im;
	struct bundle b;
	size_t i;
	int bad = 0;

	memset(&im, 0, sizeof(im));
	im.ctx = &ctx;
	ctx.cfg.self = (struct agency *)self;
	bundle_init(&b, "0123456789abcdef", "council-x-1.tar.gpg");
	for (i = 0; i < c->nr && !bad; i++) {
		const struct tar_file *f = &c->files[i];
		struct strbuf hex = STRBUF_INIT;
		struct node *n = NULL;
		char id[ID_LEN + 1];

		sha256_hex(f->data, f->len, &hex);
		if (i == 0)
			bad = strcmp(f->name, "manifest.xml") ? bundle_reject(&b, "not first") :
			      parse_manifest(&b, f) < 0 || check_header(&im, &b) < 0;
		else if (check_listed(&b, f, hex.buf) < 0)
			bad = 1;
		else if (!strcmp(f->name, "deletions.xml"))
			bad = parse_deletions(&b, f, &n) < 0;
		else if (import_record_id(f->name, id))
			bad = import_check_record(&im, &b, f, id, &n) < 0;
		node_free(n);
		strbuf_release(&hex);
	}
	if (!bad && b.manifest)
		bad = check_all_listed(&b) < 0;
	if (bad)
		FUZZ_CHECK(b.reason.len > 0);
	bundle_release(&b);
	ctx.cfg.self = (struct agency *)selves[0];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tar_contents c = TAR_CONTENTS_INIT;
	struct tar_limits lim = { TAR_MAX_ENTRIES, BUNDLE_MAX_ENTRY, TAR_MAX_TOTAL };
	struct strbuf why = STRBUF_INIT;
	size_t i;

	setup();
	if (tar_read(data, size, &lim, allowed_name, NULL, &c, &why) < 0) {
		FUZZ_CHECK(why.len > 0 && c.nr == 0);
		goto out;
	}
	for (i = 0; i < c.nr; i++) {
		FUZZ_CHECK(tar_name_is_safe(c.files[i].name));
		FUZZ_CHECK(allowed_name(c.files[i].name, NULL));
		FUZZ_CHECK(tar_contents_find(&c, c.files[i].name) != NULL);
		FUZZ_CHECK(c.files[i].data && c.files[i].data[c.files[i].len] == '\0');
	}
	check_content(&c, selves[0]);
	check_content(&c, selves[1]);
out:
	tar_contents_release(&c);
	strbuf_release(&why);
	return 0;
}
