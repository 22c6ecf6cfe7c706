/*
 * unit_node.h - a node for the unit tests of the sealed stores: its own
 * GnuPG home and key (gnupg/), a configuration naming it (mimamori.xml)
 * and a spool (spool/), all in the test's folder. node_teardown() stops
 * the gpg-agent the key generation started.
 */
#ifndef UNIT_NODE_H
#define UNIT_NODE_H
#include "unit.h"
#include "core/config.h"
#include "core/spool.h"
#include "lib/gpg.h"
#include "lib/seal.h"
#include "util/strbuf.h"

static struct config cfg;
static struct spool sp;

/*
 * A node with its own key in the test's folder. Keep test names short: the
 * gpg-agent's socket path (gnupg/S.gpg-agent under the test's folder) must
 * fit in 108 bytes.
 */
static int node_setup(void)
{
	struct strbuf why = STRBUF_INIT, fpr = STRBUF_INIT, x = STRBUF_INIT;
	char cwd[PATH_MAX - 64], home[PATH_MAX];
	FILE *f;
	int ret = -1;

	seal_init();
	if (!getcwd(cwd, sizeof(cwd)))
		return -1;
	snprintf(home, sizeof(home), "%s/gnupg", cwd);
	mkdir(home, 0700);
	mkdir("spool", 0700);
	if (gpg_init(home, &why) < 0 || gpg_generate_key("node <node@localhost>", &fpr, &why) < 0) {
		fprintf(stderr, "  %s\n", why.buf);
		goto out;
	}
	strbuf_addf(&x, "<config xmlns=\"urn:mimamori:1\">\n  <node agency=\"council\"/>\n"
		    "  <spool>spool</spool>\n  <gnupg-home>gnupg</gnupg-home>\n"
		    "  <sender address=\"alerts@example.jp\" name=\"x\"/>\n"
		    "  <agencies>\n    <agency id=\"council\" kind=\"custodian\" name=\"c\" key=\"%s\"/>\n"
		    "  </agencies>\n</config>\n", fpr.buf);
	f = fopen("mimamori.xml", "w");
	if (!f)
		goto out;
	fputs(x.buf, f);
	fclose(f);
	strbuf_reset(&why);
	if (config_load(&cfg, "mimamori.xml", &why) < 0) {
		fprintf(stderr, "  %s\n", why.buf);
		goto out;
	}
	ret = spool_open(&sp, cfg.spool);
out:
	strbuf_release(&why);
	strbuf_release(&fpr);
	strbuf_release(&x);
	return ret;
}

static void node_teardown(void)
{
	char cmd[PATH_MAX * 2];

	snprintf(cmd, sizeof(cmd), "gpgconf --homedir '%s' --kill gpg-agent", cfg.gnupg_home);
	spool_release(&sp);
	config_release(&cfg);
	gpg_release();
	CHECK_INT(system(cmd), 0);
}

#endif
