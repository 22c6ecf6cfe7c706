/*
 * run - every stage once, in the order that lets one pass carry a
 * document from incoming/ to its outputs: fetch (when <imap> is
 * configured), intake, import, dispatch, deliver, expire, export. A stage
 * that fails does not stop the others; the exit code is the first
 * non-zero one.
 */
#include <stdio.h>
#include <sysexits.h>
#include "../commands.h"
#include "../core/audit.h"
#include "../expire/expire.h"

int cmd_run(int argc, char **argv, struct context *ctx)
{
	static char *fetch_argv[] = { "fetch", NULL };
	static char *dispatch_argv[] = { "dispatch", NULL };
	static char *deliver_argv[] = { "deliver", NULL };
	static char *intake_argv[] = { "intake", NULL };
	static char *import_argv[] = { "import", NULL };
	static char *export_argv[] = { "export", NULL };
	int ret, r;

	if (argc != 1) {
		fprintf(stderr, "usage: mimamori run\n");
		return EX_USAGE;
	}
	ret = cmd_fetch(1, fetch_argv, ctx);   /* nothing without <imap> */
	audit_flush();
	r = cmd_intake(1, intake_argv, ctx);
	audit_flush();
	if (!ret)
		ret = r;
	r = cmd_import(1, import_argv, ctx);
	audit_flush();
	if (!ret)
		ret = r;
	r = cmd_dispatch(1, dispatch_argv, ctx);
	audit_flush();
	audit_begin(&ctx->spool, "run");   /* dispatch names itself */
	if (!ret)
		ret = r;
	r = cmd_deliver(1, deliver_argv, ctx);
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
