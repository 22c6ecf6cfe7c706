/*
 * audit_cmd - `mimamori audit verify`: check the hash chain of
 * audit/audit.log against audit/audit.head and say whether it is intact.
 *
 * Reads the audit log (and, after a crash, moves audit.head forward as
 * core/audit.c describes); adds its own "verify" line, which main()
 * flushes after the command.
 */
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include "../commands.h"
#include "../core/audit.h"
#include "../util/msg.h"
#include "../util/strbuf.h"

int cmd_audit(int argc, char **argv, struct context *ctx)
{
	struct strbuf why = STRBUF_INIT;
	long lines = 0;
	int ret;

	if (argc != 2 || strcmp(argv[1], "verify")) {
		fprintf(stderr, "usage: mimamori audit verify\n");
		return EX_USAGE;
	}
	if (!audit_verify(&ctx->spool, &lines, &why)) {
		printf("audit log intact: %ld lines\n", lines);
		audit_add("verify", "lines=%ld result=ok", lines);
		ret = 0;
	} else if (why.len) {
		/* audit_verify() has printed the first bad line. */
		audit_add("verify", "lines=%ld result=bad", lines);
		ret = EX_DATAERR;
	} else {
		ret = EX_IOERR;
	}
	strbuf_release(&why);
	return ret;
}
