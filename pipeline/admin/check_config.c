/*
 * check-config - load the configuration and check it against the
 * keyring: prints every problem, one line each, and exits 78 on any
 * error (the program cannot run as configured); warnings ("warning: …",
 * something a person should see while the program runs) leave it 0.
 * Reads the config and the keyring; writes nothing.
 */
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include "../commands.h"
#include "../lib/gpg.h"
#include "../util/msg.h"

int cmd_check_config(int argc, char **argv, struct context *ctx)
{
	struct strbuf problems = STRBUF_INIT, warnings = STRBUF_INIT, why = STRBUF_INIT;
	struct config *cfg = &ctx->cfg;
	int n = 0, loaded = 0;

	if (argc != 2)
		return EX_USAGE;
	if (config_load(cfg, argv[1], &problems) == 0) {
		loaded = 1;
		if (gpg_init(cfg->gnupg_home, &why) < 0) {
			strbuf_addf(&problems, "mimamori: check-config: cannot use gnupg home "
				    "'%s': %s\n", cfg->gnupg_home, why.buf);
			n++;
		} else {
			n += config_check(cfg, &problems, &warnings);
			gpg_release();
		}
	} else {
		n++;
	}
	fputs(problems.buf, stderr);
	fputs(warnings.buf, stderr);
	if (!n) {
		size_t nr_warn = 0;
		const char *p;

		for (p = warnings.buf; (p = strchr(p, '\n')); p++)
			nr_warn++;
		printf("config '%s' is fine: %zu agencies, %zu operators, %zu lists",
		       cfg->path, cfg->nr_agencies, cfg->nr_operators, cfg->nr_lists);
		if (nr_warn)
			printf(" (%zu warning%s)", nr_warn, nr_warn == 1 ? "" : "s");
		putchar('\n');
	}
	if (loaded || cfg->path)
		config_release(cfg);
	strbuf_release(&problems);
	strbuf_release(&warnings);
	strbuf_release(&why);
	return n ? EX_CONFIG : 0;
}
