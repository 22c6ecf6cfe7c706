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

#endif
