/*
 * fetch - copies new mail from the configured IMAP mailbox into inbox/new
 * (a Maildir), then marks it \Seen on the server (or \Deleted and
 * expunges it, with <imap after="delete">).
 *
 * Reads: the config's <imap>, its password file (must be 0600 or
 * stricter), fetch/state. Writes: inbox/new/imap-UIDVALIDITY-UID (one file
 * per message, spool_commit: tmp, fsync, rename, folder fsync),
 * rejected/ for messages over MAIL_MAX_SIZE (their header only: the
 * message is left on the server, marked seen), fetch/state (the highest
 * UID fetched per mailbox and UIDVALIDITY), the audit log.
 *
 * Crash safety. Each message is made durable in inbox/new BEFORE it is
 * flagged on the server, so a crash can only make a message be seen
 * again, never lost. Seen again, it is not fetched again: its name says
 * UIDVALIDITY and UID, and a UID at or below fetch/state's mark, or whose
 * file is in inbox/new, inbox/cur (NAME:2,…), work/dispatch (TOKEN-NAME)
 * or rejected/, is only flagged. One fetch per spool at a time (lock
 * "fetch").
 *
 * SECURITY: the bytes come from anyone who can mail the request address.
 * They are copied, never parsed here (dispatch parses and authenticates
 * them); at most MAIL_MAX_SIZE + 1 bytes of a message are ever read. The
 * password is read from a file only its owner may read, and wiped after
 * login.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>
#include "fetch.h"
#include "../core/audit.h"
#include "../lib/imap.h"
#include "../lib/mail.h"
#include "../lib/seal.h"
#include "../util/fileio.h"
#include "../util/msg.h"
#include "../util/xalloc.h"

#define FETCH_STATE    SPOOL_FETCH "/state"
#define NET_TIMEOUT    30        /* seconds for every network wait */
#define HEADER_MAX     (64 * 1024)
#define PASSWORD_MAX   1024

struct fetch {
	struct context *ctx;
	struct imap *im;
	char *key;              /* user@host:port/mailbox */
	uint32_t uidvalidity;
	uint32_t mark;          /* highest UID fetched under this UIDVALIDITY */
	struct strlist state;   /* the other lines of fetch/state, kept */
	struct strlist cur;     /* names in inbox/cur */
	struct strlist claimed; /* names in work/dispatch */
	uint32_t *expunge;      /* UIDs flagged \Deleted, to expunge */
	size_t nr_expunge, alloc_expunge;
	size_t fetched, rejected, skipped;
};

/*
 * The password: the first line of the password file, which must be a
 * regular file that neither group nor others can read.
 */
static int read_password(const char *path, struct strbuf *pw)
{
	struct stat st;
	char *nl;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return error_errno("cannot open password file '%s'", path);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return error("password file '%s' is not a regular file", path);
	}
	if (st.st_mode & 077) {
		close(fd);
		return error("password file '%s' is readable or writable by group or others "
			     "(mode %03o; chmod 600 it)", path, (unsigned)(st.st_mode & 0777));
	}
	if (strbuf_read_fd(pw, fd, PASSWORD_MAX) < 0) {
		close(fd);
		return error_errno("cannot read password file '%s'", path);
	}
	close(fd);
	if ((nl = memchr(pw->buf, '\n', pw->len)))
		strbuf_setlen(pw, nl - pw->buf);
	if (pw->len && pw->buf[pw->len - 1] == '\r')
		strbuf_setlen(pw, pw->len - 1);
	if (!pw->len || memchr(pw->buf, '\0', pw->len))
		return error("password file '%s' holds no usable password", path);
	return 0;
}

/*
 * fetch/state: one line per mailbox, "KEY<TAB>UIDVALIDITY<TAB>UID". Lines
 * of other mailboxes are kept as they are.
 */
static void state_load(struct fetch *f)
{
	struct strbuf sb = STRBUF_INIT;
	char *path = spool_path(&f->ctx->spool, FETCH_STATE);
	char *line, *next;

	if (strbuf_read_file(&sb, path, 1 << 20) == 0) {
		for (line = sb.buf; *line; line = next) {
			char *t1, *t2;

			next = strchrnul(line, '\n');
			if (*next)
				*next++ = '\0';
			t2 = strrchr(line, '\t');
			if (!t2)
				continue;
			for (t1 = t2 - 1; t1 > line && *t1 != '\t'; t1--)
				;
			if (t1 <= line)
				continue;
			if ((size_t)(t1 - line) == strlen(f->key) &&
			    !strncmp(line, f->key, t1 - line)) {
				if (strtoul(t1 + 1, NULL, 10) == f->uidvalidity)
					f->mark = (uint32_t)strtoul(t2 + 1, NULL, 10);
				continue;
			}
			strlist_add(&f->state, line);
		}
	}
	strbuf_release(&sb);
	free(path);
}

static int state_save(struct fetch *f)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;
	int ret;

	for (i = 0; i < f->state.nr; i++)
		strbuf_addf(&sb, "%s\n", f->state.items[i]);
	strbuf_addf(&sb, "%s\t%" PRIu32 "\t%" PRIu32 "\n", f->key, f->uidvalidity, f->mark);
	ret = spool_commit(&f->ctx->spool, FETCH_STATE, sb.buf, sb.len);
	strbuf_release(&sb);
	return ret;
}

/* Whether the message named name was fetched before (see the header). */
static int already(struct fetch *f, const char *name, uint32_t uid)
{
	struct strbuf rel = STRBUF_INIT;
	size_t i, n = strlen(name);
	int found = uid <= f->mark;

	if (!found) {
		strbuf_addf(&rel, SPOOL_INBOX "/new/%s", name);
		found = spool_exists(&f->ctx->spool, rel.buf);
	}
	if (!found) {
		strbuf_reset(&rel);
		strbuf_addf(&rel, SPOOL_REJECTED "/%s", name);
		found = spool_exists(&f->ctx->spool, rel.buf);
	}
	for (i = 0; !found && i < f->cur.nr; i++) {
		const char *c = f->cur.items[i];

		found = !strncmp(c, name, n) && (c[n] == '\0' || c[n] == ':');
	}
	for (i = 0; !found && i < f->claimed.nr; i++) {
		const char *c = strchr(f->claimed.items[i], '-');

		found = c && !strcmp(c + 1, name);
	}
	strbuf_release(&rel);
	return found;
}

/* A message over the limit: keep its header in rejected/ with the reason. */
static int reject_large(struct fetch *f, uint32_t uid, const char *name, size_t size,
			int *code)
{
	struct strbuf head = STRBUF_INIT, why = STRBUF_INIT, reason = STRBUF_INIT;
	struct strbuf rel = STRBUF_INIT;
	int r;

	r = imap_fetch(f->im, uid, 1, HEADER_MAX, &head, &why);
	if (r == IMAP_BROKEN) {
		error("%s", why.buf);
		*code = EX_TEMPFAIL;
		goto out;
	}
	if (r != IMAP_OK)
		strbuf_reset(&head);
	if (head.len > HEADER_MAX)
		strbuf_setlen(&head, HEADER_MAX);
	strbuf_addf(&reason, "too large: %zu bytes (the limit is %zu); left on the "
		    "server, marked seen; only its header is kept here", size, MAIL_MAX_SIZE);
	strbuf_addf(&rel, SPOOL_WORK_FETCH "/%s", name);
	if (spool_commit(&f->ctx->spool, rel.buf, head.buf, head.len) < 0 ||
	    spool_reject(&f->ctx->spool, rel.buf, name, reason.buf, NULL) < 0) {
		*code = EX_IOERR;
		goto out;
	}
	printf("rejected " SPOOL_INBOX "/new/%s: %s\n", name, reason.buf);
	fflush(stdout);
	audit_add("reject", "input=" SPOOL_INBOX "/new/%s uid=%" PRIu32 " size=%zu reason=too-large",
		  name, uid, size);
	f->rejected++;
out:
	strbuf_release(&head);
	strbuf_release(&why);
	strbuf_release(&reason);
	strbuf_release(&rel);
	return *code ? -1 : 0;
}

/*
 * One message: copy it into inbox/new (or reject it), raise the mark,
 * then flag it. Returns 0, or -1 with *code set (the run stops).
 */
static int fetch_one(struct fetch *f, const struct imap_msg *m, int *code)
{
	struct strbuf name = STRBUF_INIT, rel = STRBUF_INIT, buf = STRBUF_INIT;
	struct strbuf why = STRBUF_INIT;
	int r, large = 0, ret = -1;

	strbuf_addf(&name, "imap-%" PRIu32 "-%" PRIu32, f->uidvalidity, m->uid);
	if (already(f, name.buf, m->uid)) {
		audit_add("skip", "input=" SPOOL_INBOX "/new/%s uid=%" PRIu32
			  " reason=already-fetched", name.buf, m->uid);
		f->skipped++;
		strbuf_addf(&rel, SPOOL_REJECTED "/%s", name.buf);
		/* one rejected before is left on the server */
		large = m->size > MAIL_MAX_SIZE || spool_exists(&f->ctx->spool, rel.buf);
	} else if (m->size > MAIL_MAX_SIZE) {
		large = 1;
		if (reject_large(f, m->uid, name.buf, m->size, code) < 0)
			goto out;
	} else {
		r = imap_fetch(f->im, m->uid, 0, MAIL_MAX_SIZE, &buf, &why);
		if (r == IMAP_REFUSED) {
			/* expunged by someone else meanwhile: nothing to copy */
			msg_warn("uid %" PRIu32 ": %s", m->uid, why.buf);
			ret = 0;
			goto out;
		}
		if (r != IMAP_OK) {
			error("%s", why.buf);
			*code = EX_TEMPFAIL;
			goto out;
		}
		if (buf.len > MAIL_MAX_SIZE) {
			large = 1;
			if (reject_large(f, m->uid, name.buf, buf.len, code) < 0)
				goto out;
		} else {
			strbuf_addf(&rel, SPOOL_INBOX "/new/%s", name.buf);
			if (spool_commit(&f->ctx->spool, rel.buf, buf.buf, buf.len) < 0) {
				*code = EX_IOERR;
				goto out;
			}
			printf("fetched %s\n", rel.buf);
			fflush(stdout);
			audit_add("fetch", "input=%s uid=%" PRIu32 " size=%zu", rel.buf, m->uid,
				  buf.len);
			f->fetched++;
		}
	}
	if (m->uid > f->mark) {
		f->mark = m->uid;
		if (state_save(f) < 0) {
			*code = EX_IOERR;
			goto out;
		}
	}
	if (audit_flush() < 0) {
		*code = EX_IOERR;
		goto out;
	}
	/* A message too large to copy is kept on the server even with delete. */
	r = imap_flag(f->im, m->uid, f->ctx->cfg.imap_delete && !large, &why);
	if (r == IMAP_BROKEN) {
		error("%s", why.buf);
		*code = EX_TEMPFAIL;
		goto out;
	}
	if (r != IMAP_OK)
		msg_warn("uid %" PRIu32 ": %s", m->uid, why.buf);
	else if (f->ctx->cfg.imap_delete && !large) {
		ALLOC_GROW(f->expunge, f->nr_expunge + 1, f->alloc_expunge);
		f->expunge[f->nr_expunge++] = m->uid;
	}
	ret = 0;
out:
	if (buf.len)
		wipe(buf.buf, buf.len);
	strbuf_release(&name);
	strbuf_release(&rel);
	strbuf_release(&buf);
	strbuf_release(&why);
	return ret;
}

/* Connect, log in, select; a sysexits code. */
static int open_mailbox(struct fetch *f, const struct config *cfg)
{
	struct strbuf pw = STRBUF_INIT, why = STRBUF_INIT;
	int r, code = 0;

	if (read_password(cfg->imap_password_file, &pw) < 0) {
		code = EX_CONFIG;
		goto out;
	}
	r = imap_connect(&f->im, cfg->imap_host, cfg->imap_port, NET_TIMEOUT, &why);
	if (r != IMAP_OK) {
		error("%s", why.buf);
		code = EX_UNAVAILABLE;
		goto out;
	}
	r = imap_login(f->im, cfg->imap_user, pw.buf, &why);
	if (r != IMAP_OK) {
		error("%s:%d: user '%s': %s", cfg->imap_host, cfg->imap_port, cfg->imap_user,
		      why.buf);
		code = r == IMAP_REFUSED ? EX_CONFIG : EX_UNAVAILABLE;
		goto out;
	}
	r = imap_select(f->im, cfg->imap_mailbox, &f->uidvalidity, &why);
	if (r != IMAP_OK) {
		error("mailbox '%s': %s", cfg->imap_mailbox, why.buf);
		code = r == IMAP_REFUSED ? EX_CONFIG : EX_TEMPFAIL;
	}
out:
	if (pw.len)
		wipe(pw.buf, pw.len);
	strbuf_release(&pw);
	strbuf_release(&why);
	return code;
}

static void fetch_release(struct fetch *f)
{
	imap_close(f->im);
	free(f->key);
	free(f->expunge);
	strlist_clear(&f->state);
	strlist_clear(&f->cur);
	strlist_clear(&f->claimed);
}

static int fetch_run(struct context *ctx)
{
	const struct config *cfg = &ctx->cfg;
	struct fetch f;
	struct strbuf key = STRBUF_INIT, why = STRBUF_INIT;
	struct imap_msg *msgs = NULL;
	size_t nr = 0, i;
	char *dir;
	int code, lock, r;

	memset(&f, 0, sizeof(f));
	f.ctx = ctx;
	strbuf_addf(&key, "%s@%s:%d/%s", cfg->imap_user, cfg->imap_host, cfg->imap_port,
		    cfg->imap_mailbox);
	f.key = strbuf_detach(&key, NULL);
	if (mkdir_p(dir = spool_path(&ctx->spool, SPOOL_FETCH), 0700) < 0) {
		error_errno("cannot create '%s'", dir);
		free(dir);
		fetch_release(&f);
		return EX_IOERR;
	}
	free(dir);
	if (mkdir_p(dir = spool_path(&ctx->spool, SPOOL_WORK_FETCH), 0700) < 0) {
		error_errno("cannot create '%s'", dir);
		free(dir);
		fetch_release(&f);
		return EX_IOERR;
	}
	free(dir);
	lock = spool_lock(&ctx->spool, "fetch");
	if (lock < 0) {
		fetch_release(&f);
		return EX_IOERR;
	}
	code = open_mailbox(&f, cfg);
	if (code)
		goto out;
	state_load(&f);
	dir = spool_path(&ctx->spool, SPOOL_INBOX "/cur");
	dir_list(dir, &f.cur, 1);
	free(dir);
	dir = spool_path(&ctx->spool, SPOOL_WORK_DISPATCH);
	dir_list(dir, &f.claimed, 1);
	free(dir);

	r = imap_unseen(f.im, &msgs, &nr, &why);
	if (r != IMAP_OK) {
		error("%s", why.buf);
		code = r == IMAP_BROKEN ? EX_TEMPFAIL : EX_UNAVAILABLE;
		goto out;
	}
	for (i = 0; i < nr; i++)
		if (fetch_one(&f, &msgs[i], &code) < 0)
			break;
	if (f.nr_expunge && (code == 0 || code == EX_IOERR)) {
		strbuf_reset(&why);
		r = imap_expunge(f.im, f.expunge, f.nr_expunge, &why);
		if (r != IMAP_OK) {
			error("%s", why.buf);
			if (!code)
				code = EX_TEMPFAIL;
		}
	}
	if (f.fetched || f.rejected || f.skipped || code)
		audit_add("end", "fetched=%zu rejected=%zu skipped=%zu exit=%d", f.fetched,
			  f.rejected, f.skipped, code);
	if (code == EX_TEMPFAIL)
		msg_warn("connection lost after %zu message(s): the rest is fetched next time",
			 f.fetched + f.rejected + f.skipped);
out:
	if (code && code != EX_TEMPFAIL && code != EX_IOERR)
		audit_add("fail", "exit=%d", code);
	if (audit_flush() < 0 && !code)
		code = EX_IOERR;
	free(msgs);
	fetch_release(&f);
	strbuf_release(&why);
	spool_unlock(lock);
	return code;
}

int fetch_idle_open(struct context *ctx, struct imap **out)
{
	struct fetch f;
	struct strbuf why = STRBUF_INIT;
	int code, r;

	*out = NULL;
	if (!ctx->cfg.imap_host)
		return 0;
	memset(&f, 0, sizeof(f));
	f.ctx = ctx;
	code = open_mailbox(&f, &ctx->cfg);
	if (!code) {
		r = imap_idle_start(f.im, &why);
		if (r == IMAP_REFUSED) {
			error("%s:%d: %s", ctx->cfg.imap_host, ctx->cfg.imap_port, why.buf);
			code = -1;
		} else if (r != IMAP_OK) {
			error("%s", why.buf);
			code = EX_TEMPFAIL;
		}
	}
	strbuf_release(&why);
	if (code) {
		imap_close(f.im);
		return code;
	}
	*out = f.im;
	return 0;
}

int cmd_fetch(int argc, char **argv, struct context *ctx)
{
	if (argc != 1) {
		fprintf(stderr, "usage: mimamori fetch\n");
		return EX_USAGE;
	}
	if (!ctx->cfg.imap_host)
		return 0;   /* no <imap> in the config: nothing to fetch */
	return fetch_run(ctx);
}
