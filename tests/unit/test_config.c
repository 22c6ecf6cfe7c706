/*
 * test_config - the configuration loader (core/config.c): the example
 * configuration read into its fields, relative paths made absolute from
 * the file's folder, defaults, and the problems that make a configuration
 * unusable (schema, duplicate agency, unlisted node agency, bad duration,
 * bad pledge date), each reported with the file's name.
 */
#include "unit.h"
#include "core/config.h"
#include "util/fileio.h"
#include "util/strbuf.h"
#include "util/timeutil.h"

/*
 * Write tests/data/config/example.xml to mimamori.xml with the first
 * occurrence of from replaced by to (from NULL: unchanged).
 */
static int write_config(const char *from, const char *to)
{
	struct strbuf sb = STRBUF_INIT, out = STRBUF_INIT;
	const char *at;
	FILE *f;
	int ret = -1;

	if (strbuf_read_file(&sb, SRCDIR "/tests/data/config/example.xml", 1 << 20) < 0)
		goto out;
	at = from ? strstr(sb.buf, from) : NULL;
	if (from && !at) {
		fprintf(stderr, "  '%s' is not in the example configuration\n", from);
		goto out;
	}
	if (at) {
		strbuf_add(&out, sb.buf, at - sb.buf);
		strbuf_addstr(&out, to);
		strbuf_addstr(&out, at + strlen(from));
	} else {
		strbuf_addbuf(&out, &sb);
	}
	f = fopen("mimamori.xml", "w");
	if (!f)
		goto out;
	fwrite(out.buf, 1, out.len, f);
	ret = fclose(f);
out:
	strbuf_release(&sb);
	strbuf_release(&out);
	return ret;
}

/* Load mimamori.xml; its problems (empty when none) in problems. */
static int load(struct config *cfg, struct strbuf *problems)
{
	strbuf_reset(problems);
	return config_load(cfg, "mimamori.xml", problems);
}

TEST(example_loads)
{
	struct config cfg;
	struct strbuf pr = STRBUF_INIT;
	char cwd[PATH_MAX - 32], want[PATH_MAX];
	const struct agency *a;
	long d;

	CHECK_INT(write_config(NULL, NULL), 0);
	CHECK_INT(load(&cfg, &pr), 0);
	CHECK_STR(pr.buf, "");
	CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
	snprintf(want, sizeof(want), "%s/spool", cwd);
	CHECK_STR(cfg.spool, want);
	snprintf(want, sizeof(want), "%s/gnupg", cwd);
	CHECK_STR(cfg.gnupg_home, want);
	CHECK_STR(cfg.node_agency, "council");
	CHECK(cfg.self == config_agency(&cfg, "council"));
	CHECK_STR(cfg.sender_address, "alerts@example.jp");
	CHECK_STR(cfg.smtp_host, "127.0.0.1");
	CHECK_INT(cfg.smtp_port, 2525);
	CHECK_STR(cfg.imap_mailbox, "INBOX");
	CHECK_INT(cfg.imap_delete, 0);
	CHECK_INT(cfg.nr_agencies, 5);
	a = config_agency(&cfg, "police-ikuta");
	CHECK(a != NULL);
	if (a) {
		CHECK_INT(a->kind, AGENCY_POLICE);
		CHECK_STR(a->phone, "078-000-9110");
		CHECK_INT(wards_has(&a->wards, "chuo"), 1);
		CHECK_INT(wards_has(&a->wards, "nada"), 0);
	}
	/* Fingerprints in uppercase, whatever the file says. */
	a = config_agency(&cfg, "ward-chuo");
	CHECK(a != NULL);
	if (a)
		CHECK_STR(a->key, "9E8D7C6B5A4F3E2D1C0B9A8F7E6D5C4B3A2F1E0D");
	CHECK(config_agency(&cfg, "nobody") == NULL);
	CHECK_INT(cfg.nr_operators, 1);
	CHECK(config_operator(&cfg, "C0FFEE00112233445566778899AABBCCDDEEFF00") != NULL);
	CHECK_INT(cfg.nr_lists, 2);
	CHECK_INT(cfg.lists[1].audience, LIST_COMMUNITY);
	CHECK_INT(cfg.lists[1].wards.all, 1);
	CHECK_INT(cfg.lists[1].members[0].iso2022jp, 1);
	date_parse("2026-04-01", &d);
	CHECK_INT(cfg.lists[1].members[0].pledge, d);
	CHECK_INT(member_pledged(&cfg.lists[1].members[0], d), 1);
	CHECK_INT(member_pledged(&cfg.lists[1].members[0], d - 1), 0);
	CHECK_STR(cfg.validity, "P2Y");
	CHECK_STR(cfg.reminder, "P60D");
	CHECK_STR(cfg.alert_data, "P30D");
	config_release(&cfg);
	strbuf_release(&pr);
}

TEST(defaults_without_optional_parts)
{
	struct config cfg;
	struct strbuf pr = STRBUF_INIT;

	CHECK_INT(write_config("  <retention validity=\"P2Y\" reminder=\"P60D\" "
			       "alert-data=\"P30D\"/>\n", ""), 0);
	CHECK_INT(load(&cfg, &pr), 0);
	CHECK_STR(pr.buf, "");
	CHECK_STR(cfg.validity, "P2Y");
	CHECK_STR(cfg.reminder, "P60D");
	CHECK_STR(cfg.alert_data, "P30D");
	CHECK_STR(cfg.rejected, "P30D");
	config_release(&cfg);
	CHECK_INT(write_config("  <smtp host=\"127.0.0.1\" port=\"2525\"/>", ""), 0);
	CHECK_INT(load(&cfg, &pr), 0);
	CHECK(cfg.smtp_host == NULL);
	config_release(&cfg);
	strbuf_release(&pr);
}

/* The example with from replaced by to fails to load, saying want. */
static void refused(const char *from, const char *to, const char *want)
{
	struct config cfg;
	struct strbuf pr = STRBUF_INIT;

	CHECK_INT(write_config(from, to), 0);
	CHECK_INT(load(&cfg, &pr), -1);
	CHECK_CONTAINS(pr.buf, want);
	CHECK_CONTAINS(pr.buf, "mimamori.xml");
	config_release(&cfg);
	strbuf_release(&pr);
}

TEST(problems)
{
	refused("<node agency=\"council\"/>", "<node agency=\"nobody\"/>",
		"agency 'nobody' is not listed in <agencies>");
	refused("id=\"ward-chuo\"", "id=\"council\"", "agency 'council' listed twice");
	refused("validity=\"P2Y\"", "validity=\"2 years\"", "bad attribute 'validity' value '2 years'");
	refused("pledge=\"2026-04-01\"", "pledge=\"2026-02-30\"", "bad attribute 'pledge' value '2026-02-30'");
	refused("<spool>spool</spool>", "<spool>spool</spool><unknown/>", "unknown");
	refused("kind=\"police\"", "kind=\"constable\"", "constable");
}

TEST(missing_file)
{
	struct config cfg;
	struct strbuf pr = STRBUF_INIT;

	CHECK_INT(config_load(&cfg, "absent.xml", &pr), -1);
	CHECK_CONTAINS(pr.buf, "cannot read config 'absent.xml'");
	config_release(&cfg);
	strbuf_release(&pr);
}

UNIT_MAIN(T(example_loads), T(defaults_without_optional_parts), T(problems),
	  T(missing_file))
