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

/* One recipient of a batch on its way into its Maildir. */
struct drop {
	char *tmp, *new;
};

static void drop_fail(struct drop *dr, struct smtp_reply *r, const char *what)
{
	snprintf(r->text, sizeof(r->text), "450 4.3.0 %s: %s", what, strerror(errno));
	r->code = 450;
	if (dr->tmp)
		unlink(dr->tmp);
	free(dr->tmp);
	free(dr->new);
	dr->tmp = dr->new = NULL;
}

/* Write the message under tmp/ of addr's Maildir (not synced yet). */
static void drop_write(const struct spool *sp, const char *addr, const struct strbuf *body,
		       struct drop *dr, struct smtp_reply *r)
{
	static unsigned long seq;
	struct strbuf rel = STRBUF_INIT;
	struct timeval tv;
	char *dir;
	int fd;

	memset(dr, 0, sizeof(*dr));
	if (!name_is_safe(addr) || strchr(addr, '/') || addr[0] == '.') {
		r->code = 550;
		snprintf(r->text, sizeof(r->text),
			 "550 5.1.3 address cannot be a mailbox folder name");
		return;
	}
	strbuf_addf(&rel, SPOOL_MAIL "/%s", addr);
	dir = spool_path(sp, rel.buf);
	if (make_maildir(dir) < 0) {
		drop_fail(dr, r, "cannot create the mailbox");
		goto out;
	}
	gettimeofday(&tv, NULL);
	strbuf_reset(&rel);
	strbuf_addf(&rel, "%s/tmp/%lld.M%06ldP%dQ%lu.%s", dir, (long long)tv.tv_sec,
		    (long)tv.tv_usec, (int)getpid(), ++seq, host_name());
	dr->tmp = xstrdup(rel.buf);
	strbuf_reset(&rel);
	strbuf_addf(&rel, "%s/new/%s", dir, path_basename(dr->tmp));
	dr->new = strbuf_detach(&rel, NULL);
	fd = open(dr->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		free(dr->tmp);
		dr->tmp = NULL;
		drop_fail(dr, r, "cannot write the message");
		goto out;
	}
	if (write_full(fd, body->buf, body->len) < 0) {
		close(fd);
		drop_fail(dr, r, "cannot write the message");
		goto out;
	}
	if (close(fd) < 0) {
		drop_fail(dr, r, "cannot write the message");
		goto out;
	}
	r->code = 0;   /* written, not yet durable */
out:
	free(dir);
	strbuf_release(&rel);
}

/*
 * Deliver data into the Maildirs of addrs[0..n), out[i] getting each
 * outcome. Durability for the batch at once, as spool_batch_commit() does
 * it: the messages are written under tmp/, one syncfs() makes their data
 * durable, they are renamed into new/, and a second syncfs() makes the
 * renames durable (one per batch, not two fsyncs per recipient).
 */
void maildir_deliver_batch(const struct spool *sp, const char *const *addrs, size_t n,
			   const char *data, size_t len, struct smtp_reply *out)
{
	struct strbuf body = STRBUF_INIT;
	struct drop *drops = xcalloc(n ? n : 1, sizeof(*drops));
	char *mail = spool_path(sp, SPOOL_MAIL);
	size_t i;
	int fd;

	to_lf(data, len, &body);
	if (mkdir(mail, 0700) < 0 && errno != EEXIST) {
		for (i = 0; i < n; i++)
			drop_fail(&drops[i], &out[i], "cannot create the mail folder");
		goto out;
	}
	for (i = 0; i < n; i++)
		drop_write(sp, addrs[i], &body, &drops[i], &out[i]);
	fd = open(mail, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || syncfs(fd) < 0) {
		for (i = 0; i < n; i++)
			if (drops[i].tmp)
				drop_fail(&drops[i], &out[i], "cannot sync the message");
		if (fd >= 0)
			close(fd);
		goto out;
	}
	for (i = 0; i < n; i++)
		if (drops[i].tmp && rename(drops[i].tmp, drops[i].new) < 0)
			drop_fail(&drops[i], &out[i], "cannot move the message into new/");
	if (syncfs(fd) < 0) {
		/* Renamed but perhaps not durable: deferred (a retry may repeat it). */
		for (i = 0; i < n; i++)
			if (drops[i].tmp) {
				free(drops[i].tmp);
				drops[i].tmp = NULL;
				drop_fail(&drops[i], &out[i], "cannot sync the mailbox");
			}
	}
	close(fd);
	for (i = 0; i < n; i++) {
		if (!drops[i].tmp)
			continue;
		out[i].code = 250;
		snprintf(out[i].text, sizeof(out[i].text), "250 2.0.0 delivered to %s",
			 drops[i].new + strlen(sp->root) + 1);
	}
out:
	for (i = 0; i < n; i++) {
		free(drops[i].tmp);
		free(drops[i].new);
	}
	free(drops);
	free(mail);
	strbuf_release(&body);
}

int maildir_deliver(const struct spool *sp, const char *addr, const char *data, size_t len,
		    struct strbuf *text)
{
	struct smtp_reply r;

	maildir_deliver_batch(sp, &addr, 1, data, len, &r);
	strbuf_addstr(text, r.text);
	return r.code;
}
