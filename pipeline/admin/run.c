/*
 * run - every stage once, in the order that lets one pass carry a
 * document from incoming/ to its outputs (admin/stages.c: fetch when
 * <imap> is configured, intake, import, dispatch, listmail, deliver,
 * expire, export). A stage that fails does not stop the others; the exit code is the first
 * non-zero one. Each stage speaks under its own name, in messages and in
 * the audit log.
 */
#include <stdio.h>
#include <sysexits.h>
#include "../commands.h"
#include "../core/audit.h"
#include "../util/msg.h"

int cmd_run(int argc, char **argv, struct context *ctx)
{
	const struct pipeline_stage *s;
	int ret = 0, r;

	if (argc != 1) {
		fprintf(stderr, "usage: mimamori run\n");
		return EX_USAGE;
	}
	for (s = pipeline_stages; s->name; s++) {
		r = pipeline_stage_run(ctx, s);
		if (!ret)
			ret = r;
	}
	msg_set_stage("run");
	audit_begin(&ctx->spool, "run");
	return ret;
}
