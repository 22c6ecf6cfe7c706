/*
 * mimamori - the command: parses the global options, loads the
 * configuration, opens the keyring and the spool, and hands over to one
 * subcommand, as git.c does for its builtins. The table of subcommands,
 * commands[], says what each one needs opened.
 */
#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>
#include "commands.h"
#include "lists/lists.h"
#include "core/audit.h"
#include "util/clock.h"
#include "lib/gpg.h"
#include "lib/seal.h"
#include "lib/xml.h"
#include "util/fileio.h"
#include "util/msg.h"
#include "util/strbuf.h"
#include "util/timeutil.h"
#include "util/xalloc.h"

enum {
	NEED_NOTHING = 0,
	NEED_CONFIG = 1,     /* configuration loaded */
	NEED_SPOOL = 2,      /* spool opened, audit log ready */
	NEED_KEYRING = 4,    /* keyring opened, the node's own key checked */
	NEED_ALL = NEED_CONFIG | NEED_SPOOL | NEED_KEYRING,
	/* Every failure before the command runs exits 75, not 78 or 74: the
	 * MTA that runs it keeps the message and tries again. */
	NEED_TEMPFAIL = 8,
};

struct command {
	const char *name;
	int (*fn)(int, char **, struct context *);
	int needs;
};

static const struct command commands[] = {
	{ "init", cmd_init, NEED_NOTHING },
	{ "check-config", cmd_check_config, NEED_NOTHING },
	/* submit copies files into incoming/: no key is needed for that. */
	{ "submit", cmd_submit, NEED_CONFIG | NEED_SPOOL },
	{ "intake", cmd_intake, NEED_ALL },
	{ "show", cmd_show, NEED_ALL },
	{ "audit", cmd_audit, NEED_ALL },
	{ "export", cmd_export, NEED_ALL },
	{ "import", cmd_import, NEED_ALL },
	{ "exchange", cmd_exchange, NEED_ALL },
	{ "fetch", cmd_fetch, NEED_ALL },
	{ "dispatch", cmd_dispatch, NEED_ALL },
	{ "deliver", cmd_deliver, NEED_ALL },
	{ "expire", cmd_expire, NEED_ALL },
	{ "run", cmd_run, NEED_ALL },
	{ "watch", cmd_watch, NEED_ALL },
	{ "stats", cmd_stats, NEED_ALL },
	{ "match", cmd_match, NEED_ALL },
	{ "request-mail", cmd_request_mail, NEED_NOTHING },
	/* The MTA's delivery agent: needs no key to store a message. */
	{ "receive", cmd_receive, NEED_CONFIG | NEED_SPOOL | NEED_TEMPFAIL },
	/* form and import-csv write into incoming/, as submit: no key needed. */
	{ "form", cmd_form, NEED_CONFIG | NEED_SPOOL },
	{ "import-csv", cmd_import_csv, NEED_CONFIG | NEED_SPOOL },
	{ "list", cmd_list, NEED_ALL },
	{ "members", cmd_members, NEED_ALL },
	{ "listmail", cmd_listmail, NEED_ALL },
	/* status opens the keyring itself: a key problem is one of its lines. */
	{ "status", cmd_status, NEED_CONFIG | NEED_SPOOL },
};

static void usage(void)
{
	size_t i;

	fprintf(stderr, "usage: mimamori [-c CONFIG] [--now ISO-8601] COMMAND [ARGS]\n"
		"commands:");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(stderr, " %s", commands[i].name);
	fprintf(stderr, "\n");
}

#ifndef MIMAMORI_DATADIR
#define MIMAMORI_DATADIR "/usr/local/share/mimamori"
#endif

/*
 * The installation's folder (schemas/, templates/, samples/):
 * $MIMAMORI_HOME; else the folder above the binary's own when it holds
 * schemas/config.xsd (the source tree: build/mimamori -> .); else the
 * folder `make install` put them in (PREFIX/share/mimamori, compiled in).
 */
static char *find_home(void)
{
	const char *env = getenv("MIMAMORI_HOME");
	char exe[PATH_MAX];
	ssize_t n;
	char *dir, *home, *probe;

	if (env && *env)
		return xstrdup(env);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return xstrdup(MIMAMORI_DATADIR);
	exe[n] = '\0';
	dir = path_dirname(exe);
	home = path_dirname(dir);
	free(dir);
	probe = path_join(home, "schemas/config.xsd");
	if (access(probe, R_OK) < 0) {
		free(home);
		home = xstrdup(MIMAMORI_DATADIR);
	}
	free(probe);
	return home;
}

static const char *config_path(const char *opt)
{
	const char *env = getenv("MIMAMORI_CONFIG");

	if (opt)
		return opt;
	if (env && *env)
		return env;
	return "mimamori.xml";
}

/* Load the configuration, printing every problem; exit `code` on any. */
static void load_config(struct context *ctx, const char *path, int code)
{
	struct strbuf problems = STRBUF_INIT;

	if (config_load(&ctx->cfg, path, &problems) < 0) {
		fputs(problems.buf, stderr);
		exit(code);
	}
	strbuf_release(&problems);
}

/* Open the keyring and check the node's own key; exit 78 (or 69) if not. */
static void open_keyring(struct context *ctx)
{
	struct strbuf why = STRBUF_INIT;

	if (gpg_init(ctx->cfg.gnupg_home, &why) < 0)
		msg_die(EX_CONFIG, "cannot use gnupg home '%s': %s", ctx->cfg.gnupg_home,
			why.buf);
	/* Without its own key the node can neither open its registry nor
	 * sign: a configuration error, found before the spool is touched. */
	if (gpg_key_check(ctx->cfg.self->key, 1, &why) < 0 &&
	    gpg_key_check(ctx->cfg.self->key, 1, &why) < 0) {
		/* Asked twice (gpg-agent may have been restarting); an error
		 * unless the key is there and only gpg-agent is missing. */
		if (gpg_agent_down(ctx->cfg.self->key))
			msg_die(EX_UNAVAILABLE, "gpg-agent cannot be reached or started for "
				"'%s': the node's secret key is there but cannot be used; "
				"nothing was done", ctx->cfg.gnupg_home);
		msg_die(EX_CONFIG, "'%s': node '%s': key %s: %s", ctx->cfg.path,
			ctx->cfg.self->id, ctx->cfg.self->key, why.buf);
	}
	strbuf_release(&why);
}

/* Set the clock from an ISO 8601 instant, or a date (noon in Japan). */
static void set_now(const char *value, const char *what)
{
	time_t t;
	long d;

	if (!datetime_parse(value, &t))
		clock_set(t);
	else if (!date_parse(value, &d))
		clock_set((time_t)d * 86400 - JST_OFFSET + 12 * 3600);
	else
		msg_die(EX_USAGE, "bad %s '%s' (expected ISO 8601, e.g. "
			"2026-11-21T09:40:00+09:00)", what, value);
}

int main(int argc, char **argv)
{
	const char *cfgopt = NULL;
	struct context ctx;
	const struct command *cmd = NULL;
	char *home, *schemas;
	size_t i;
	int ret;

	umask(077);
	setlocale(LC_CTYPE, "C.UTF-8");
	memset(&ctx, 0, sizeof(ctx));
	msg_set_stage(NULL);
	for (argv++, argc--; argc > 0 && argv[0][0] == '-'; argv++, argc--) {
		if (!strcmp(argv[0], "-c") && argc > 1) {
			cfgopt = *++argv;
			argc--;
		} else if (!strcmp(argv[0], "--now") && argc > 1) {
			argv++;
			argc--;
			set_now(argv[0], "--now");
			ctx.now_set = 1;
		} else if (!strcmp(argv[0], "-h") || !strcmp(argv[0], "--help")) {
			usage();
			return 0;
		} else {
			usage();
			return EX_USAGE;
		}
	}
	if (argc < 1) {
		usage();
		return EX_USAGE;
	}
	/* $MIMAMORI_NOW: --now for every command of a drill or a test. */
	if (!ctx.now_set && getenv("MIMAMORI_NOW") && *getenv("MIMAMORI_NOW")) {
		set_now(getenv("MIMAMORI_NOW"), "$MIMAMORI_NOW");
		ctx.now_set = 1;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, argv[0]))
			cmd = &commands[i];
	if (!cmd) {
		error("unknown command '%s'", argv[0]);
		usage();
		return EX_USAGE;
	}
	msg_set_stage(cmd->name);
	seal_init();
	home = find_home();
	ctx.home = home;
	schemas = path_join(home, "schemas");
	xml_set_schema_dir(schemas);
	if (!strcmp(cmd->name, "check-config"))
		cfgopt = config_path(cfgopt);
	if (cmd->needs & NEED_CONFIG)
		load_config(&ctx, config_path(cfgopt),
			    cmd->needs & NEED_TEMPFAIL ? EX_TEMPFAIL : EX_CONFIG);
	if (cmd->needs & NEED_KEYRING)
		open_keyring(&ctx);
	if (cmd->needs & NEED_SPOOL) {
		if (spool_open(&ctx.spool, ctx.cfg.spool) < 0)
			return cmd->needs & NEED_TEMPFAIL ? EX_TEMPFAIL : EX_IOERR;
		audit_begin(&ctx.spool, cmd->name);
	}
	if (!strcmp(cmd->name, "check-config")) {
		/* check-config loads the configuration itself, to print all. */
		char *argv2[] = { argv[0], (char *)cfgopt, NULL };

		if (argc != 1) {
			fprintf(stderr, "usage: mimamori check-config\n");
			ret = EX_USAGE;
		} else {
			ret = cmd->fn(2, argv2, &ctx);
		}
	} else {
		ret = cmd->fn(argc, argv, &ctx);
	}
	if (cmd->needs & NEED_SPOOL) {
		if (audit_flush() < 0 && !ret)
			ret = EX_IOERR;
		spool_release(&ctx.spool);
	}
	if (cmd->needs & NEED_CONFIG) {
		config_release(&ctx.cfg);
		gpg_release();
	}
	xml_cleanup();
	free(schemas);
	free(home);
	return ret;
}
