/*
 * submit - copy files into incoming/ safely: each is written under tmp/,
 * fsynced and renamed, so intake never sees a partial document. A name
 * already waiting in incoming/ gets ".1", ".2" … before its extension.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>
#include "../commands.h"
#include "../core/audit.h"
#include "../util/fileio.h"
#include "../util/msg.h"
#include "../util/strbuf.h"

/* The cap is generous: intake, not submit, rejects oversize documents. */
#define SUBMIT_MAX ((size_t)64 << 20)

static void free_name(const struct spool *sp, const char *name, struct strbuf *rel)
{
	const char *dot = strrchr(name, '.');
	struct stat st;
	int n = 0;

	if (!dot || dot == name)
		dot = name + strlen(name);
	for (;;) {
		char *p;
		int taken;

		strbuf_reset(rel);
		strbuf_addstr(rel, SPOOL_INCOMING "/");
		if (n)
			strbuf_addf(rel, "%.*s.%d%s", (int)(dot - name), name, n, dot);
		else
			strbuf_addstr(rel, name);
		p = spool_path(sp, rel->buf);
		taken = lstat(p, &st) == 0;
		free(p);
		if (!taken)
			return;
		n++;
	}
}

int cmd_submit(int argc, char **argv, struct context *ctx)
{
	struct strbuf buf = STRBUF_INIT, rel = STRBUF_INIT;
	int i, ret = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: mimamori submit FILE...\n");
		return EX_USAGE;
	}
	for (i = 1; i < argc; i++) {
		const char *name = path_basename(argv[i]);

		strbuf_reset(&buf);
		if (!name_is_safe(name)) {
			error("'%s': unusable file name", argv[i]);
			ret = EX_DATAERR;
			continue;
		}
		if (strbuf_read_file(&buf, argv[i], SUBMIT_MAX) < 0) {
			error_errno("cannot read '%s'", argv[i]);
			ret = errno == EFBIG ? EX_DATAERR : EX_NOINPUT;
			continue;
		}
		free_name(&ctx->spool, name, &rel);
		if (spool_commit(&ctx->spool, rel.buf, buf.buf, buf.len) < 0) {
			ret = EX_IOERR;
			break;
		}
		printf("submitted %s\n", rel.buf);
		audit_add("submit", "input=%s bytes=%zu", rel.buf, buf.len);
	}
	strbuf_release(&buf);
	strbuf_release(&rel);
	return ret;
}
