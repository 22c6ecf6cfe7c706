/*
 * init - create an installation in a folder: a configuration, a GnuPG
 * home with this node's key, and the spool layout.
 *
 *   init DIR [--agency ID --kind KIND --name NAME]
 *   init DIR --demo
 *
 * --demo makes a throwaway installation for the demo and the tests: the
 * custodian's node in DIR, and one node per other demo agency in
 * DIR/nodes/ID/, each with its own GnuPG home holding its own secret key
 * and every other agency's public key (keys pinned in the config by
 * fingerprint); an operator's GnuPG home in DIR/operator/; synthetic sample
 * registrations in DIR/samples/. Demo keys have no passphrase: never use
 * them for real data.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>
#include "../commands.h"
#include "../lib/gpg.h"
#include "../core/spool.h"
#include "../util/fileio.h"
#include "../util/msg.h"
#include "../util/xalloc.h"

struct demo_agency {
	const char *id, *kind, *name, *wards, *phone;
};

/* Two wards, as in mimamori.xml(5): Chuo (中央区) and Nada (灘区). */
static const struct demo_agency demo_agencies[] = {
	{ "council", "custodian", "市社会福祉協議会", NULL, NULL },
	{ "ward-chuo", "ward-office", "中央区役所", "chuo", NULL },
	{ "ward-nada", "ward-office", "灘区役所", "nada", NULL },
	{ "center-chuo-1", "care-center", "中央あんしんすこやかセンター", "chuo", NULL },
	{ "center-nada-1", "care-center", "灘あんしんすこやかセンター", "nada", NULL },
	{ "police-ikuta", "police", "生田警察署", "chuo", "078-000-0110" },
	{ "police-nada", "police", "灘警察署", "nada", "078-000-0119" },
	{ "vendor", "mail-vendor", "見守りメール配信株式会社", NULL, NULL },
};
#define NR_DEMO (sizeof(demo_agencies) / sizeof(demo_agencies[0]))

static int make_dir(const char *path)
{
	if (mkdir_p(path, 0700) < 0)
		return error_errno("cannot create '%s'", path);
	return 0;
}

static int write_file(const char *path, const char *text)
{
	FILE *f;

	if (access(path, F_OK) == 0)
		return error("'%s' exists already; not overwriting", path);
	f = fopen(path, "w");
	if (!f)
		return error_errno("cannot create '%s'", path);
	fputs(text, f);
	if (fclose(f) != 0)
		return error_errno("cannot write '%s'", path);
	return 0;
}

/* A new GnuPG home with one fresh key for uid; its fingerprint in fpr. */
static int new_home(const char *home, const char *uid, struct strbuf *fpr,
		    struct strbuf *pub)
{
	struct strbuf why = STRBUF_INIT;
	int ret = -1;

	if (make_dir(home) < 0)
		return -1;
	chmod(home, 0700);
	if (gpg_init(home, &why) < 0 || gpg_generate_key(uid, fpr, &why) < 0 ||
	    gpg_export_public(fpr->buf, pub, &why) < 0)
		error("'%s': cannot make a key: %s", home, why.buf);
	else
		ret = 0;
	strbuf_release(&why);
	return ret;
}

static int import_into(const char *home, const struct strbuf *keys)
{
	struct strbuf why = STRBUF_INIT;
	int ret = 0;

	if (gpg_init(home, &why) < 0 || gpg_import(keys->buf, keys->len, &why) < 0)
		ret = error("'%s': cannot import keys: %s", home, why.buf);
	strbuf_release(&why);
	return ret;
}

static void config_head(struct strbuf *x, const char *agency)
{
	strbuf_addf(x, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		    "<config xmlns=\"urn:mimamori:1\">\n"
		    "  <node agency=\"%s\"/>\n"
		    "  <spool>spool</spool>\n"
		    "  <gnupg-home>gnupg</gnupg-home>\n"
		    "  <sender address=\"alerts@example.jp\" name=\"高齢者安心登録事業\"/>\n",
		    agency);
}

static void demo_config(struct strbuf *x, const char *self, struct strbuf *fprs,
			const char *op_fpr)
{
	size_t i;

	config_head(x, self);
	strbuf_addstr(x, "  <agencies>\n");
	for (i = 0; i < NR_DEMO; i++) {
		const struct demo_agency *a = &demo_agencies[i];

		strbuf_addf(x, "    <agency id=\"%s\" kind=\"%s\" name=\"%s\" key=\"%s\"", a->id,
			    a->kind, a->name, fprs[i].buf);
		if (a->wards)
			strbuf_addf(x, " wards=\"%s\"", a->wards);
		if (a->phone)
			strbuf_addf(x, " phone=\"%s\"", a->phone);
		strbuf_addf(x, " address=\"%s@example.jp\"/>\n", a->id);
	}
	strbuf_addf(x, "  </agencies>\n"
		    "  <operators>\n"
		    "    <operator key=\"%s\" name=\"見守り 当番\" address=\"ops@vendor.example.jp\"/>\n"
		    "  </operators>\n"
		    "  <lists>\n"
		    "    <list id=\"agencies-chuo\" audience=\"agency\" wards=\"chuo\" address=\"alert-agency-chuo@example.jp\">\n"
		    "      <member address=\"ward-chuo@example.jp\" name=\"中央区役所\"/>\n"
		    "      <member address=\"center-chuo-1@example.jp\" name=\"中央あんしんすこやかセンター\"/>\n"
		    "    </list>\n"
		    "    <list id=\"agencies-nada\" audience=\"agency\" wards=\"nada\" address=\"alert-agency-nada@example.jp\">\n"
		    "      <member address=\"ward-nada@example.jp\" name=\"灘区役所\"/>\n"
		    "      <member address=\"center-nada-1@example.jp\" name=\"灘あんしんすこやかセンター\"/>\n"
		    "    </list>\n"
		    "    <list id=\"cooperators\" audience=\"community\" wards=\"*\" address=\"alert@example.jp\">\n"
		    "      <member address=\"helper1@example.jp\" name=\"協力者 一\" pledge=\"2026-04-01\"/>\n"
		    "      <member address=\"helper2@example.jp\" name=\"協力者 二\" pledge=\"2026-04-01\" charset=\"iso-2022-jp\"/>\n"
		    "      <member address=\"commissioner-chuo@example.jp\" name=\"民生委員 中央\" pledge=\"2025-10-01\"/>\n"
		    "    </list>\n"
		    "  </lists>\n"
		    "  <retention validity=\"P2Y\" reminder=\"P60D\" alert-data=\"P30D\"/>\n"
		    "</config>\n", op_fpr);
}

static int copy_samples(const char *home, const char *dir)
{
	struct strlist names = STRLIST_INIT;
	char *src = path_join(home, "samples"), *dst = path_join(dir, "samples");
	size_t i;
	int ret = 0;

	if (make_dir(dst) < 0 || dir_list(src, &names, 0) < 0) {
		ret = -1;
		goto out;
	}
	for (i = 0; i < names.nr && !ret; i++) {
		struct strbuf buf = STRBUF_INIT;
		char *from = path_join(src, names.items[i]), *to = path_join(dst, names.items[i]);

		if (strbuf_read_file(&buf, from, 1 << 24) < 0)
			ret = error_errno("cannot read '%s'", from);
		else
			ret = write_file(to, buf.buf);
		strbuf_release(&buf);
		free(from);
		free(to);
	}
out:
	strlist_clear(&names);
	free(src);
	free(dst);
	return ret;
}

static int init_demo(const char *dir, const char *home)
{
	struct strbuf fprs[NR_DEMO], pubs = STRBUF_INIT, op_fpr = STRBUF_INIT,
		      x = STRBUF_INIT;
	char *homes[NR_DEMO + 1], *cfgs[NR_DEMO];
	size_t i;
	int ret = -1;

	for (i = 0; i < NR_DEMO; i++) {
		char *node = i ? path_join(dir, "nodes") : xstrdup(dir), *nd;

		strbuf_init(&fprs[i], 0);
		nd = i ? path_join(node, demo_agencies[i].id) : xstrdup(node);
		homes[i] = path_join(nd, "gnupg");
		cfgs[i] = path_join(nd, "mimamori.xml");
		free(node);
		free(nd);
	}
	homes[NR_DEMO] = path_join(dir, "operator/gnupg");
	for (i = 0; i < NR_DEMO; i++) {
		struct strbuf uid = STRBUF_INIT;

		strbuf_addf(&uid, "%s (mimamori demo) <%s@example.jp>", demo_agencies[i].name,
			    demo_agencies[i].id);
		if (new_home(homes[i], uid.buf, &fprs[i], &pubs) < 0) {
			strbuf_release(&uid);
			goto out;
		}
		strbuf_release(&uid);
	}
	if (new_home(homes[NR_DEMO], "見守り 当番 (mimamori demo) <ops@vendor.example.jp>",
		     &op_fpr, &pubs) < 0)
		goto out;
	for (i = 0; i <= NR_DEMO; i++)
		if (import_into(homes[i], &pubs) < 0)
			goto out;
	for (i = 0; i < NR_DEMO; i++) {
		char *nd = path_dirname(cfgs[i]), *sp = path_join(nd, "spool");
		struct spool spool;

		strbuf_reset(&x);
		demo_config(&x, demo_agencies[i].id, fprs, op_fpr.buf);
		if (write_file(cfgs[i], x.buf) < 0 || spool_open(&spool, sp) < 0) {
			free(nd);
			free(sp);
			goto out;
		}
		spool_release(&spool);
		free(nd);
		free(sp);
	}
	ret = copy_samples(home, dir);
	if (!ret) {
		printf("demo installation in '%s':\n", dir);
		printf("  %s  (node council, the custodian)\n", cfgs[0]);
		for (i = 1; i < NR_DEMO; i++)
			printf("  %s  (node %s)\n", cfgs[i], demo_agencies[i].id);
		printf("  %s  (the operator's keys, %s)\n", homes[NR_DEMO], op_fpr.buf);
		printf("  %s/samples/  (synthetic registrations)\n", dir);
	}
out:
	for (i = 0; i < NR_DEMO; i++) {
		strbuf_release(&fprs[i]);
		free(homes[i]);
		free(cfgs[i]);
	}
	free(homes[NR_DEMO]);
	strbuf_release(&pubs);
	strbuf_release(&op_fpr);
	strbuf_release(&x);
	return ret;
}

static int init_plain(const char *dir, const char *id, const char *kind, const char *name)
{
	struct strbuf fpr = STRBUF_INIT, pub = STRBUF_INIT, x = STRBUF_INIT,
		      uid = STRBUF_INIT;
	char *home = path_join(dir, "gnupg"), *cfg = path_join(dir, "mimamori.xml"),
	     *sp = path_join(dir, "spool");
	struct spool spool;
	int ret = -1;

	if (access(cfg, F_OK) == 0) {
		error("'%s' exists already; not overwriting", cfg);
		goto out;
	}
	strbuf_addf(&uid, "%s (mimamori) <%s@localhost>", name, id);
	if (new_home(home, uid.buf, &fpr, &pub) < 0)
		goto out;
	config_head(&x, id);
	strbuf_addf(&x, "  <agencies>\n"
		    "    <agency id=\"%s\" kind=\"%s\" name=\"%s\" key=\"%s\"/>\n"
		    "  </agencies>\n"
		    "  <operators/>\n"
		    "  <lists/>\n"
		    "  <retention validity=\"P2Y\" reminder=\"P60D\" alert-data=\"P30D\"/>\n"
		    "</config>\n", id, kind, name, fpr.buf);
	if (write_file(cfg, x.buf) < 0 || spool_open(&spool, sp) < 0)
		goto out;
	spool_release(&spool);
	printf("created '%s' (agency %s, key %s); add agencies, operators and lists\n", cfg,
	       id, fpr.buf);
	ret = 0;
out:
	free(home);
	free(cfg);
	free(sp);
	strbuf_release(&fpr);
	strbuf_release(&pub);
	strbuf_release(&x);
	strbuf_release(&uid);
	return ret;
}

int cmd_init(int argc, char **argv, struct context *ctx)
{
	const char *dir = NULL, *id = "council", *kind = "custodian",
		   *name = "市社会福祉協議会";
	char cwd[4096];
	char *abs;
	int i, demo = 0, ret;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--demo"))
			demo = 1;
		else if (!strcmp(argv[i], "--agency") && i + 1 < argc)
			id = argv[++i];
		else if (!strcmp(argv[i], "--kind") && i + 1 < argc)
			kind = argv[++i];
		else if (!strcmp(argv[i], "--name") && i + 1 < argc)
			name = argv[++i];
		else if (!dir && argv[i][0] != '-')
			dir = argv[i];
		else
			dir = NULL, i = argc;
	}
	if (!dir) {
		fprintf(stderr, "usage: mimamori init DIR [--demo | --agency ID --kind KIND "
			"--name NAME]\n");
		return EX_USAGE;
	}
	if (agency_kind_parse(kind) < 0 || !name_is_safe(id)) {
		error("bad --kind '%s' or --agency '%s'", kind, id);
		return EX_USAGE;
	}
	if (make_dir(dir) < 0)
		return EX_IOERR;
	abs = dir[0] == '/' || !getcwd(cwd, sizeof(cwd)) ? xstrdup(dir) : path_join(cwd, dir);
	ret = demo ? init_demo(abs, ctx->home) : init_plain(abs, id, kind, name);
	gpg_release();
	free(abs);
	return ret < 0 ? EX_IOERR : 0;
}
