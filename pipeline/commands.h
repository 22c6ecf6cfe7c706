#ifndef COMMANDS_H
#define COMMANDS_H
#include "core/config.h"
#include "core/spool.h"

/*
 * The subcommands. mimamori.c loads the configuration, opens the spool
 * and the keyring for the commands that need them, and calls one of these
 * with the remaining arguments (argv[0] is the command name). Each returns
 * a sysexits code.
 */
struct context {
	struct config cfg;
	struct spool spool;
	int now_set;           /* --now was given */
	const char *home;      /* the installation: schemas/, templates/, samples/ */
};

int cmd_init(int argc, char **argv, struct context *ctx);
int cmd_check_config(int argc, char **argv, struct context *ctx);
int cmd_submit(int argc, char **argv, struct context *ctx);
int cmd_intake(int argc, char **argv, struct context *ctx);
int cmd_show(int argc, char **argv, struct context *ctx);
int cmd_audit(int argc, char **argv, struct context *ctx);
int cmd_run(int argc, char **argv, struct context *ctx);
int cmd_export(int argc, char **argv, struct context *ctx);
int cmd_import(int argc, char **argv, struct context *ctx);
int cmd_exchange(int argc, char **argv, struct context *ctx);
int cmd_fetch(int argc, char **argv, struct context *ctx);
int cmd_dispatch(int argc, char **argv, struct context *ctx);
int cmd_deliver(int argc, char **argv, struct context *ctx);
int cmd_expire(int argc, char **argv, struct context *ctx);
int cmd_watch(int argc, char **argv, struct context *ctx);
int cmd_stats(int argc, char **argv, struct context *ctx);
int cmd_match(int argc, char **argv, struct context *ctx);
int cmd_request_mail(int argc, char **argv, struct context *ctx);
int cmd_receive(int argc, char **argv, struct context *ctx);
int cmd_form(int argc, char **argv, struct context *ctx);
int cmd_import_csv(int argc, char **argv, struct context *ctx);
int cmd_list(int argc, char **argv, struct context *ctx);
int cmd_status(int argc, char **argv, struct context *ctx);

/*
 * The stages of the pipeline (admin/stages.c), in the order that lets one
 * pass carry a document from incoming/ to its outputs: `run` runs them
 * all once; `watch` all of them at its start and on its timer, and the
 * one whose folder had a file land in between. Ends with { NULL, NULL }.
 */
struct pipeline_stage {
	const char *name;
	int (*fn)(int argc, char **argv, struct context *ctx);
};
extern const struct pipeline_stage pipeline_stages[];
/* The stage called name (a name not in the table is a bug). */
const struct pipeline_stage *pipeline_stage_find(const char *name);
/*
 * Run stage s as its own command would: its name in messages and in the
 * audit log, the audit lines and stdout flushed after it. Returns its
 * exit code (EX_IOERR when only the audit flush failed). The caller sets
 * its own name back.
 */
int pipeline_stage_run(struct context *ctx, const struct pipeline_stage *s);

#endif
