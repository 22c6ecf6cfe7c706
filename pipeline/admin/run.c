/*
 * run - every stage once, in the order that lets one pass carry a
 * document from incoming/ to its outputs: fetch (when <imap> is
 * configured), intake, import, dispatch, listmail, deliver, expire, export. A stage
 * that fails does not stop the others; the exit code is the first
 * non-zero one. Each stage speaks under its own name, in messages and in
 * the audit log.
 */
#include <stdio.h>
#include <sysexits.h>
#include "../commands.h"
#include "../lists/lists.h"
#include "../core/audit.h"
#include "../expire/expire.h"
#include "../util/msg.h"

static int expire_stage(int argc, char **argv, struct context *ctx)
{
	return expire_run(ctx);
}

/*
 * One stage as its own command would run: its name in messages and in the
 * audit log (as watch does), the audit lines flushed after it.
 */
static int stage(struct context *ctx, const char *name,
		 int (*fn)(int, char **, struct context *))
{
	char *argv[] = { (char *)name, NULL };
	int r;

	msg_set_stage(name);
	audit_begin(&ctx->spool, name);
	r = fn(1, argv, ctx);
	if (audit_flush() < 0 && !r)
		r = EX_IOERR;
	fflush(stdout);
	return r;
}

int cmd_run(int argc, char **argv, struct context *ctx)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **, struct context *);
	} stages[] = {
		{ "fetch", cmd_fetch },   /* nothing without <imap> */
		{ "intake", cmd_intake },
		{ "import", cmd_import },
		{ "dispatch", cmd_dispatch },
		{ "listmail", cmd_listmail },
		{ "deliver", cmd_deliver },
		{ "expire", expire_stage },
		{ "export", cmd_export },
	};
	size_t i;
	int ret = 0, r;

	if (argc != 1) {
		fprintf(stderr, "usage: mimamori run\n");
		return EX_USAGE;
	}
	for (i = 0; i < sizeof(stages) / sizeof(stages[0]); i++) {
		r = stage(ctx, stages[i].name, stages[i].fn);
		if (!ret)
			ret = r;
	}
	msg_set_stage("run");
	audit_begin(&ctx->spool, "run");
	return ret;
}
