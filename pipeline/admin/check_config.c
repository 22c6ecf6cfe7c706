/*
 * check-config - load the configuration and check it against the
 * keyring: prints every problem, one line each, and exits 78 on any;
 * warnings (an operator key that expired or was revoked) do not count.
 */
#include <stdio.h>
#include <sysexits.h>
#include "../commands.h"
#include "../core/gpg.h"
#include "../util/msg.h"

int cmd_check_config(int argc, char **argv, struct context *ctx)
{
	struct strbuf problems = STRBUF_INIT, why = STRBUF_INIT;
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
			n += config_check(cfg, &problems);
			gpg_release();
		}
	} else {
		n++;
	}
	fputs(problems.buf, stderr);
	if (!n)
		printf("config '%s' is fine: %zu agencies, %zu operators, %zu lists\n",
		       cfg->path, cfg->nr_agencies, cfg->nr_operators, cfg->nr_lists);
	if (loaded || cfg->path)
		config_release(cfg);
	strbuf_release(&problems);
	strbuf_release(&why);
	return n ? EX_CONFIG : 0;
}
