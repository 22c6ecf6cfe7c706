/*
 * fuzz_bundle - the decrypted content of a bundle from another agency, as
 * import reads it after the signature check: tar_read() in memory with
 * import's caps and allowed names (core/archive.c), the manifest parsed
 * against manifest.xsd, its entry list matched against the archive, every
 * record validated and checked against this node's audience, and the
 * deletions (pipeline/exchange/import.c, included here for its static
 * checks; the registry and gpg steps are left out).
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

/* The checks import makes of a bundle's content, as the node `self`. */
static void check_content(const struct tar_contents *c, const struct node *m,
			  const struct agency *self)
{
	struct import im;
	struct bundle b;
	size_t i;

	memset(&im, 0, sizeof(im));
	im.ctx = &ctx;
	ctx.cfg.self = (struct agency *)self;
	bundle_init(&b, "0123456789abcdef", "council-x-1.tar.gpg");
	for (i = 0; i < c->nr; i++)
		c->files[i].mark = 0;
	if (check_entries(&b, m, c) < 0 || check_records(&im, &b, c) < 0 ||
	    check_deletions(&b, c) < 0)
		FUZZ_CHECK(b.reason.len > 0);
	bundle_release(&b);
	ctx.cfg.self = (struct agency *)selves[0];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tar_contents c = TAR_CONTENTS_INIT;
	struct tar_limits lim = { TAR_MAX_ENTRIES, BUNDLE_MAX_RECORD, TAR_MAX_TOTAL };
	struct strbuf why = STRBUF_INIT;
	struct tar_file *mf;
	struct node *m = NULL;
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
	mf = tar_contents_find(&c, "manifest.xml");
	if (!mf)
		goto out;
	strbuf_reset(&why);
	if (xml_parse(mf->data, mf->len, BUNDLE_MAX_RECORD, XML_SCHEMA_MANIFEST, &m, &why) < 0) {
		FUZZ_CHECK(why.len > 0);
		goto out;
	}
	if (strcmp(m->name, "manifest"))
		goto out;
	check_content(&c, m, selves[0]);
	check_content(&c, m, selves[1]);
out:
	node_free(m);
	tar_contents_release(&c);
	strbuf_release(&why);
	return 0;
}
