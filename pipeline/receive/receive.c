/*
 * receive - the delivery agent for the MTA, as mlmmj-receive or dovecot's
 * LDA: one message on stdin into inbox/new (--list: listbox/new), the
 * Maildir way.
 *
 * The message is written to inbox/tmp/NAME as it is read, fsynced, then
 * renamed to inbox/new/NAME and the folder fsynced: watch, dispatch and
 * fetch never see a partial file. A message over MAIL_MAX_SIZE is still
 * read whole (so the MTA sees it taken) and moved to rejected/ with its
 * reason: no bounce goes to a sender who may be forged. Every failure of
 * the spool exits 75 (EX_TEMPFAIL), so the MTA keeps the message and
 * tries again.
 *
 * With --list, the message's envelope recipient ($ORIGINAL_RECIPIENT, else
 * $RECIPIENT: Postfix's local and pipe set them) is written first as the
 * line "X-Mimamori-Recipient: ADDRESS" (empty when neither is set), so
 * that listmail knows which command address it came to; a sender's own
 * such line can only come after it.
 *
 * Reads stdin; writes inbox/ or listbox/, rejected/, audit/.
 *
 * SECURITY: the bytes are anyone's; this file only counts and stores
 * them. Nothing of the message reaches a name, the audit log or stdout.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sysexits.h>
#include <unistd.h>
#include "../commands.h"
#include "../core/audit.h"
#include "../lib/mail.h"
#include "../util/fileio.h"
#include "../util/msg.h"
#include "../util/strbuf.h"

/* A Maildir name of our own: TIME.MUSECPPID_RANDOM.receive */
static void unique_name(struct strbuf *name)
{
	struct timeval tv;
	char token[SPOOL_TOKEN_LEN + 1];

	gettimeofday(&tv, NULL);
	spool_claim_token(token);
	strbuf_addf(name, "%ld.M%06ldP%ld_%s.receive", (long)tv.tv_sec, (long)tv.tv_usec,
		    (long)getpid(), token);
}

/*
 * Copy stdin to fd; the byte count in *size. A leading mbox envelope
 * line ("From sender date", which Postfix's local puts before a message
 * it pipes to a command) is not part of the message and is dropped, as
 * a Maildir delivery does. 0, or -1 (reported).
 */
static int copy_stdin(int fd, size_t *size)
{
	char buf[65536], *p;
	ssize_t n;
	size_t len;
	int first = 1, in_envelope = 0;

	*size = 0;
	for (;;) {
		n = read(0, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return error_errno("cannot read the message");
		if (n == 0)
			return 0;
		p = buf;
		len = (size_t)n;
		if (first && len >= 5 && !memcmp(buf, "From ", 5))
			in_envelope = 1;
		first = 0;
		if (in_envelope) {
			char *nl = memchr(p, '\n', len);

			if (!nl)
				continue;
			in_envelope = 0;
			len -= (size_t)(nl + 1 - p);
			p = nl + 1;
		}
		if (write_full(fd, p, len) < 0)
			return error_errno("cannot write the message");
		*size += len;
	}
}

/* The envelope recipient line of a list message (see above). */
static int recipient_line(int fd)
{
	const char *r = getenv("ORIGINAL_RECIPIENT");
	struct strbuf line = STRBUF_INIT;
	const char *p;
	int ret;

	if (!r || !*r)
		r = getenv("RECIPIENT");
	strbuf_addstr(&line, "X-Mimamori-Recipient: ");
	for (p = r ? r : ""; *p && line.len < 512; p++)
		if ((unsigned char)*p > ' ' && (unsigned char)*p < 0x7f)
			strbuf_addch(&line, *p);
	strbuf_addch(&line, '\n');
	ret = write_full(fd, line.buf, line.len);
	if (ret < 0)
		error_errno("cannot write the message");
	strbuf_release(&line);
	return ret;
}

int cmd_receive(int argc, char **argv, struct context *ctx)
{
	const char *box = SPOOL_INBOX;
	struct strbuf name = STRBUF_INIT, rel = STRBUF_INIT, dest = STRBUF_INIT;
	struct strbuf why = STRBUF_INIT;
	char *path = NULL, *dpath = NULL, *dir = NULL;
	size_t size = 0;
	int fd = -1, ret = EX_TEMPFAIL;

	if (argc == 2 && !strcmp(argv[1], "--list")) {
		box = SPOOL_LISTBOX;
	} else if (argc != 1) {
		fprintf(stderr, "usage: mimamori receive [--list]\n");
		return EX_USAGE;
	}
	unique_name(&name);
	strbuf_addf(&rel, "%s/tmp", box);
	dir = spool_path(&ctx->spool, rel.buf);
	if (mkdir_p(dir, 0700) < 0) {
		error_errno("cannot create '%s'", rel.buf);
		goto out;
	}
	strbuf_addf(&dest, "%s/new", box);
	free(dir);
	dir = spool_path(&ctx->spool, dest.buf);
	if (mkdir_p(dir, 0700) < 0) {
		error_errno("cannot create '%s'", dest.buf);
		goto out;
	}
	strbuf_addf(&rel, "/%s", name.buf);
	strbuf_addf(&dest, "/%s", name.buf);
	path = spool_path(&ctx->spool, rel.buf);
	dpath = spool_path(&ctx->spool, dest.buf);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		error_errno("cannot create '%s'", rel.buf);
		goto out;
	}
	if (!strcmp(box, SPOOL_LISTBOX) && recipient_line(fd) < 0) {
		close(fd);
		fd = -1;
		unlink(path);
		goto out;
	}
	if (copy_stdin(fd, &size) < 0 || fsync(fd) < 0 || close(fd) < 0) {
		if (errno)
			error_errno("cannot store the message");
		fd = -1;
		unlink(path);
		goto out;
	}
	fd = -1;
	if (size > MAIL_MAX_SIZE) {
		strbuf_addf(&why, "too large (over %zu bytes)", (size_t)MAIL_MAX_SIZE);
		if (spool_reject(&ctx->spool, rel.buf, name.buf, why.buf, NULL) < 0) {
			unlink(path);
			goto out;
		}
		printf("rejected %s: %s\n", dest.buf, why.buf);
		audit_add("reject", "input=%s size=%zu reason=too-large", dest.buf, size);
	} else {
		if (rename(path, dpath) < 0) {
			error_errno("cannot move the message to '%s'", dest.buf);
			unlink(path);
			goto out;
		}
		if (fsync_dir(dir) < 0) {
			error_errno("cannot fsync '%s'", dir);
			goto out;
		}
		printf("stored %s\n", dest.buf);
		audit_add("store", "input=%s size=%zu", dest.buf, size);
	}
	/* Stored: taking it again would make a second copy. */
	if (audit_flush() < 0)
		msg_warn("the message is stored, but the audit log could not be written");
	ret = 0;
out:
	if (fd >= 0) {
		close(fd);
		unlink(path);
	}
	free(path);
	free(dpath);
	free(dir);
	strbuf_release(&name);
	strbuf_release(&rel);
	strbuf_release(&dest);
	strbuf_release(&why);
	return ret;
}
