/*
 * run - every stage once, in the order that lets one pass carry a
 * document from incoming/ to its outputs.
 */
#include <stdio.h>
#include <sysexits.h>
#include "../commands.h"
#include "../core/audit.h"
#include "../expire/expire.h"

int cmd_run(int argc, char **argv, struct context *ctx)
{
	static char *intake_argv[] = { "intake", NULL };
	static char *import_argv[] = { "import", NULL };
	static char *export_argv[] = { "export", NULL };
	int ret, r;

	if (argc != 1) {
		fprintf(stderr, "usage: mimamori run\n");
		return EX_USAGE;
	}
	ret = cmd_intake(1, intake_argv, ctx);
	audit_flush();
	r = cmd_import(1, import_argv, ctx);
	audit_flush();
	if (!ret)
		ret = r;
	r = expire_run(ctx);
	audit_flush();
	if (!ret)
		ret = r;
	r = cmd_export(1, export_argv, ctx);
	audit_flush();
	if (!ret)
		ret = r;
	return ret;
}
