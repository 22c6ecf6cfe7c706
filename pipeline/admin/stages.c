/*
 * stages - the pipeline's stages in the order that lets one pass carry a
 * document from incoming/ to its outputs, and the one way to run a stage
 * inside another command (its name in messages and in the audit log, the
 * audit lines flushed after it): what `run` and `watch` share.
 */
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include "../commands.h"
#include "../core/audit.h"
#include "../lists/lists.h"
#include "../util/msg.h"

const struct pipeline_stage pipeline_stages[] = {
	{ "fetch", cmd_fetch },   /* nothing without <imap> */
	{ "intake", cmd_intake },
	{ "import", cmd_import },
	{ "dispatch", cmd_dispatch },
	{ "listmail", cmd_listmail },
	{ "deliver", cmd_deliver },
	{ "expire", cmd_expire },
	{ "export", cmd_export },
	{ NULL, NULL },
};

const struct pipeline_stage *pipeline_stage_find(const char *name)
{
	const struct pipeline_stage *s;

	for (s = pipeline_stages; s->name; s++)
		if (!strcmp(s->name, name))
			return s;
	msg_panic("no stage '%s'", name);
}

int pipeline_stage_run(struct context *ctx, const struct pipeline_stage *s)
{
	char *argv[] = { (char *)s->name, NULL };
	int r;

	msg_set_stage(s->name);
	audit_begin(&ctx->spool, s->name);
	r = s->fn(1, argv, ctx);
	if (audit_flush() < 0 && !r)
		r = EX_IOERR;
	fflush(stdout);
	return r;
}
