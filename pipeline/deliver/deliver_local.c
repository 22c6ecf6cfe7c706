/*
 * deliver_local - local delivery when no SMTP relay is configured: each
 * recipient gets the message in its own Maildir, spool/mail/ADDRESS/
 * {tmp,new,cur}, the way qmail delivers: a unique name, written in tmp/,
 * fsynced, renamed into new/, then new/ fsynced.
 *
 * The message is stored with LF line ends (a Maildir holds local text
 * files, as qmail-local and Postfix's local write them); nothing is added
 * to it (no Delivered-To: no header ever names a recipient).
 *
 * SECURITY: the address becomes a folder name: one with '/', a leading
 * '.', a control character or more than 200 bytes is refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#include "deliver.h"
#include "../util/fileio.h"
#include "../util/msg.h"
#include "../util/xalloc.h"

/* The host part of Maildir names, with '/' and ':' replaced. */
static const char *host_name(void)
{
	static char host[64];
	size_t i;

	if (!host[0]) {
		if (gethostname(host, sizeof(host) - 1) < 0 || !host[0])
			strcpy(host, "localhost");
		for (i = 0; host[i]; i++)
			if (host[i] == '/' || host[i] == ':')
				host[i] = '_';
	}
	return host;
}

/* Make dir/{tmp,new,cur} (0700). 0 or -1 with errno. */
static int make_maildir(const char *dir)
{
	static const char *const sub[] = { "tmp", "new", "cur" };
	size_t i;

	for (i = 0; i < 3; i++) {
		char *p = path_join(dir, sub[i]);
		int bad = mkdir_p(p, 0700) < 0;

		free(p);
		if (bad)
			return -1;
	}
	return 0;
}

/* The message with CRLF turned into LF. */
static void to_lf(const char *data, size_t len, struct strbuf *out)
{
	size_t i, start = 0;

	strbuf_grow(out, len);
	for (i = 0; i + 1 < len; i++)
		if (data[i] == '\r' && data[i + 1] == '\n') {
			strbuf_add(out, data + start, i - start);
			start = i + 1;   /* keep the LF */
		}
	strbuf_add(out, data + start, len - start);
}

static int write_tmp(const char *path, const struct strbuf *body)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0)
		return -1;
	if (write_full(fd, body->buf, body->len) < 0 || fsync(fd) < 0) {
		int e = errno;

		close(fd);
		unlink(path);
		errno = e;
		return -1;
	}
	if (close(fd) < 0) {
		int e = errno;

		unlink(path);
		errno = e;
		return -1;
	}
	return 0;
}

int maildir_deliver(const struct spool *sp, const char *addr, const char *data, size_t len,
		    struct strbuf *text)
{
	static unsigned long seq;
	struct strbuf rel = STRBUF_INIT, name = STRBUF_INIT, body = STRBUF_INIT;
	char *dir = NULL, *tmp = NULL, *new = NULL, *newdir = NULL;
	struct timeval tv;
	int code = 450;

	if (!name_is_safe(addr) || strchr(addr, '/') || addr[0] == '.') {
		strbuf_addstr(text, "550 5.1.3 address cannot be a mailbox folder name");
		return 550;
	}
	strbuf_addf(&rel, SPOOL_MAIL "/%s", addr);
	dir = spool_path(sp, rel.buf);
	if (make_maildir(dir) < 0) {
		strbuf_addf(text, "450 4.3.0 cannot create the mailbox: %s", strerror(errno));
		goto out;
	}
	gettimeofday(&tv, NULL);
	strbuf_addf(&name, "%lld.M%06ldP%dQ%lu.%s", (long long)tv.tv_sec, (long)tv.tv_usec,
		    (int)getpid(), ++seq, host_name());
	strbuf_reset(&rel);
	strbuf_addf(&rel, "tmp/%s", name.buf);
	tmp = path_join(dir, rel.buf);
	strbuf_reset(&rel);
	strbuf_addf(&rel, "new/%s", name.buf);
	new = path_join(dir, rel.buf);
	newdir = path_join(dir, "new");
	to_lf(data, len, &body);
	if (write_tmp(tmp, &body) < 0) {
		strbuf_addf(text, "450 4.3.0 cannot write the message: %s", strerror(errno));
		goto out;
	}
	if (rename(tmp, new) < 0 || fsync_dir(newdir) < 0) {
		strbuf_addf(text, "450 4.3.0 cannot move the message into new/: %s",
			    strerror(errno));
		unlink(tmp);
		goto out;
	}
	strbuf_addf(text, "250 2.0.0 delivered to " SPOOL_MAIL "/%s/new/%s", addr, name.buf);
	code = 250;
out:
	strbuf_release(&rel);
	strbuf_release(&name);
	strbuf_release(&body);
	free(dir);
	free(tmp);
	free(new);
	free(newdir);
	return code;
}
