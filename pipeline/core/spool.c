/*
 * spool - the folders every stage reads and writes, and the one way files
 * get into them: written under tmp/, flushed, renamed into place, folder
 * fsynced (qmail's maildir delivery, OpenSMTPD's queue_fs.c). Also locks,
 * and moving rejected inputs aside with their reason.
 *
 * Temporary files are named tmp/PID.COUNTER; spool_open() and
 * spool_lock() remove those of processes that are gone (or dead and not
 * yet reaped). The lock's turn matters: a stage's run killed with its
 * worker still dying is gone once its lock is free.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "spool.h"
#include "../util/clock.h"
#include "../lib/seal.h"
#include "../util/fileio.h"
#include "../util/msg.h"
#include "../util/pstream.h"
#include "../util/timeutil.h"
#include "../util/xalloc.h"

static const char *const folders[] = {
	SPOOL_INCOMING, SPOOL_INBOX, SPOOL_INBOX "/tmp", SPOOL_INBOX_NEW,
	SPOOL_INBOX "/cur", SPOOL_LISTBOX, SPOOL_LISTBOX "/tmp", SPOOL_LISTBOX_NEW,
	SPOOL_LISTBOX "/cur", SPOOL_IMPORT, SPOOL_OUTGOING, SPOOL_REJECTED,
	SPOOL_AUDIT, SPOOL_REGISTRY, SPOOL_RECORDS, SPOOL_TMP, SPOOL_WORK, SPOOL_LOCK,
	SPOOL_REJECTED_AT,
};

static unsigned long tmp_counter;

/* Whether process pid has ended: none, or a zombie (its parent killed too). */
static int process_gone(long pid)
{
	char path[64], buf[256], *p;
	int fd;
	ssize_t n;

	if (pid <= 0)
		return 1;
	if (kill((pid_t)pid, 0) < 0 && errno != EPERM)
		return 1;
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* "PID (COMM) STATE ...": COMM may hold anything; the last ')' ends it. */
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X');
}

static void clean_tmp(const struct spool *sp)
{
	struct strlist names = STRLIST_INIT;
	char *dir = spool_path(sp, SPOOL_TMP);
	size_t i;

	if (dir_list(dir, &names, 1) == 0) {
		for (i = 0; i < names.nr; i++) {
			long pid = strtol(names.items[i], NULL, 10);
			char *p;

			if (pid > 0 && !process_gone(pid))
				continue;
			p = path_join(dir, names.items[i]);
			unlink(p);
			free(p);
		}
	}
	strlist_clear(&names);
	free(dir);
}

int spool_open(struct spool *sp, const char *root)
{
	size_t i;

	sp->root = xstrdup(root);
	if (mkdir_p(root, 0700) < 0)
		return error_errno("cannot create spool '%s'", root);
	for (i = 0; i < sizeof(folders) / sizeof(folders[0]); i++) {
		char *p = spool_path(sp, folders[i]);

		if (mkdir(p, 0700) < 0 && errno != EEXIST) {
			error_errno("cannot create '%s'", p);
			free(p);
			return -1;
		}
		free(p);
	}
	clean_tmp(sp);
	return 0;
}

void spool_release(struct spool *sp)
{
	free(sp->root);
	sp->root = NULL;
}

char *spool_path(const struct spool *sp, const char *rel)
{
	return path_join(sp->root, rel);
}

int spool_exists(const struct spool *sp, const char *rel)
{
	char *p = spool_path(sp, rel);
	struct stat st;
	int r = lstat(p, &st) == 0;

	free(p);
	return r;
}

/* Create a fresh temporary file; its spool-relative name goes in rel. */
static int tmp_create(const struct spool *sp, struct strbuf *rel)
{
	for (;;) {
		char *path;
		int fd;

		strbuf_reset(rel);
		strbuf_addf(rel, SPOOL_TMP "/%ld.%lu", (long)getpid(),
			    __atomic_add_fetch(&tmp_counter, 1, __ATOMIC_RELAXED));
		path = spool_path(sp, rel->buf);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			error_errno("cannot create '%s'", path);
		free(path);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
}

/* Write data into a new temporary file (not synced: a batch syncs them). */
int spool_tmp_write(const struct spool *sp, const void *data, size_t len, struct strbuf *rel)
{
	int fd = tmp_create(sp, rel);
	char *path;

	if (fd < 0)
		return -1;
	path = spool_path(sp, rel->buf);
	if (write_full(fd, data, len) < 0) {
		error_errno("cannot write '%s'", path);
		goto fail;
	}
	/* close() can fail after the writes succeeded (NFS, quota): check it. */
	if (close(fd) < 0) {
		fd = -1;
		error_errno("cannot close '%s'", path);
		goto fail;
	}
	free(path);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlink(path);
	free(path);
	return -1;
}

int spool_stream_open(const struct spool *sp, struct strbuf *tmp)
{
	return tmp_create(sp, tmp);
}

void spool_stream_abort(const struct spool *sp, int fd, const char *tmp)
{
	char *from = spool_path(sp, tmp);

	if (fd >= 0)
		close(fd);
	unlink(from);
	free(from);
}

int spool_stream_commit(const struct spool *sp, int fd, const char *tmp, const char *rel)
{
	char *from = spool_path(sp, tmp), *to = NULL, *dir = NULL;
	int ret = -1;

	if (fsync(fd) < 0) {
		error_errno("cannot fsync '%s'", from);
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		error_errno("cannot close '%s'", from);
		goto fail;
	}
	fd = -1;
	to = spool_path(sp, rel);
	if (rename(from, to) < 0) {
		error_errno("cannot rename '%s' to '%s'", tmp, rel);
		goto fail;
	}
	dir = path_dirname(to);
	if (fsync_dir(dir) < 0) {
		error_errno("cannot fsync '%s'", dir);
		goto out;
	}
	ret = 0;
	goto out;
fail:
	if (fd >= 0)
		close(fd);
	unlink(from);
out:
	free(from);
	free(to);
	free(dir);
	return ret;
}

int spool_commit_stream(const struct spool *sp, const char *rel,
			int (*produce)(void *ctx, int fd), void *ctx)
{
	struct strbuf tmp = STRBUF_INIT;
	int fd = tmp_create(sp, &tmp), ret = -1;

	if (fd < 0)
		goto out;
	if (produce(ctx, fd) < 0) {
		spool_stream_abort(sp, fd, tmp.buf);
		goto out;
	}
	ret = spool_stream_commit(sp, fd, tmp.buf, rel);
out:
	strbuf_release(&tmp);
	return ret;
}

struct buffer {
	const void *data;
	size_t len;
	const char *rel;
};

static int write_buffer(void *ctx, int fd)
{
	struct buffer *b = ctx;

	if (write_full(fd, b->data, b->len) < 0)
		return error_errno("cannot write '%s'", b->rel);
	return 0;
}

int spool_commit(const struct spool *sp, const char *rel, const void *data, size_t len)
{
	struct buffer b = { data, len, rel };

	return spool_commit_stream(sp, rel, write_buffer, &b);
}

enum batch_kind { BATCH_WRITE, BATCH_CREATE, BATCH_RENAME, BATCH_UNLINK };

struct batch_op {
	enum batch_kind kind;
	char *from;  /* spool-relative: the temporary file, or the file renamed */
	char *to;    /* spool-relative: the destination, or the file unlinked */
};

/* The file a write or create op made before the commit, or NULL. */
static const char *op_file(const struct batch_op *op)
{
	if (op->kind == BATCH_WRITE)
		return op->from;
	if (op->kind == BATCH_CREATE)
		return op->to;
	return NULL;
}

void spool_batch_init(struct spool_batch *b, const struct spool *sp)
{
	b->sp = sp;
	b->ops = NULL;
	b->nr = b->alloc = 0;
	b->writer = NULL;
	b->write_failed = 0;
}

static void batch_sync(struct spool_batch *b);

static void batch_push(struct spool_batch *b, enum batch_kind kind, const char *from,
		       const char *to)
{
	ALLOC_GROW(b->ops, b->nr + 1, b->alloc);
	b->ops[b->nr].kind = kind;
	b->ops[b->nr].from = from ? xstrdup(from) : NULL;
	b->ops[b->nr].to = xstrdup(to);
	b->nr++;
}

void spool_batch_adopt(struct spool_batch *b, const char *tmp, const char *rel)
{
	batch_sync(b);
	batch_push(b, BATCH_WRITE, tmp, rel);
}

int spool_batch_write(struct spool_batch *b, const char *rel, const void *data, size_t len)
{
	struct strbuf tmp = STRBUF_INIT;

	if (spool_tmp_write(b->sp, data, len, &tmp) < 0) {
		strbuf_release(&tmp);
		return -1;
	}
	spool_batch_adopt(b, tmp.buf, rel);
	strbuf_release(&tmp);
	return 0;
}

const char *spool_batch_pending(struct spool_batch *b, const char *rel)
{
	size_t i;

	batch_sync(b);
	i = b->nr;
	while (i--)
		if (op_file(&b->ops[i]) && !strcmp(b->ops[i].to, rel))
			return op_file(&b->ops[i]);
	return NULL;
}

/* Create path with data: NULL, or what failed ("create"...) with errno set. */
static const char *create_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600), e;
	const char *what = NULL;

	if (fd < 0)
		return "create";
	if (write_full(fd, data, len) < 0)
		what = "write";
	e = errno;
	if (close(fd) < 0 && !what) {
		what = "close";
		e = errno;
	}
	if (what)
		unlink(path);
	errno = e;
	return what;
}

int spool_batch_create(struct spool_batch *b, const char *rel, const void *data, size_t len)
{
	char *path = spool_path(b->sp, rel);
	const char *what;

	batch_sync(b);
	what = create_file(path, data, len);
	if (what)
		error_errno("cannot %s '%s'", what, path);
	free(path);
	if (what)
		return -1;
	batch_push(b, BATCH_CREATE, NULL, rel);
	return 0;
}

/*
 * Writing behind (spool_batch_create_async()): one writer thread through
 * util/pstream.c. The thread only creates the file and notes what failed
 * (errno included); the batch's thread, in pstream's done(), adds the file
 * to the batch or reports the failure: the batch itself is touched by one
 * thread only, and the files are added in the order they were handed over.
 * Every other function of the batch first waits for the writer to finish
 * (batch_sync()), so a commit never syncs a file still being written and a
 * release removes every file written.
 */
#define WRITER_ITEMS 256
#define WRITER_BYTES ((size_t)8 << 20)

struct pending_file {
	char *path, *rel, *data;
	size_t len;
	const char *failed;   /* what failed, NULL when written */
	int err;
};

static void write_pending(void *arg, void *item)
{
	struct pending_file *p = item;

	p->failed = create_file(p->path, p->data, p->len);
	p->err = errno;
}

static void take_written(void *arg, void *item)
{
	struct spool_batch *b = arg;
	struct pending_file *p = item;

	if (!p->failed)
		batch_push(b, BATCH_CREATE, NULL, p->rel);
	else if (!b->write_failed)
		error("cannot %s '%s': %s", p->failed, p->path, strerror(p->err));
	if (p->failed)
		b->write_failed = 1;
	free(p->path);
	free(p->rel);
	free(p->data);
	free(p);
}

void spool_batch_create_async(struct spool_batch *b, const char *rel, char *data, size_t len)
{
	struct pending_file *p = xcalloc(1, sizeof(*p));

	p->path = spool_path(b->sp, rel);
	p->rel = xstrdup(rel);
	p->data = data;
	p->len = len;
	if (!b->writer)
		b->writer = pstream_start(1, WRITER_ITEMS, WRITER_BYTES, write_pending,
					  take_written, b);
	pstream_push(b->writer, p, len + sizeof(*p));
}

static void batch_sync(struct spool_batch *b)
{
	if (b->writer) {
		pstream_finish(b->writer);
		b->writer = NULL;
	}
}

void spool_batch_rename(struct spool_batch *b, const char *from, const char *to)
{
	batch_sync(b);
	batch_push(b, BATCH_RENAME, from, to);
}

void spool_batch_unlink(struct spool_batch *b, const char *rel)
{
	batch_sync(b);
	batch_push(b, BATCH_UNLINK, NULL, rel);
}

static void clear_ops(struct spool_batch *b, int remove_tmp)
{
	size_t i;

	for (i = 0; i < b->nr; i++) {
		if (remove_tmp && op_file(&b->ops[i])) {
			char *p = spool_path(b->sp, op_file(&b->ops[i]));

			unlink(p);
			free(p);
		}
		free(b->ops[i].from);
		free(b->ops[i].to);
	}
	b->nr = 0;
}

int spool_batch_commit(struct spool_batch *b)
{
	struct strlist dirs = STRLIST_INIT;
	size_t i;
	int fd, ret = -1;

	batch_sync(b);
	if (b->write_failed) {
		b->write_failed = 0;
		clear_ops(b, 1);
		return -1;
	}
	if (!b->nr)
		return 0;
	/* One syncfs() makes the data of every temporary file durable. */
	fd = open(b->sp->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || syncfs(fd) < 0) {
		error_errno("cannot sync spool '%s'", b->sp->root);
		if (fd >= 0)
			close(fd);
		clear_ops(b, 1);
		return -1;
	}
	close(fd);
	for (i = 0; i < b->nr; i++) {
		struct batch_op *op = &b->ops[i];
		char *from = op->from ? spool_path(b->sp, op->from) : NULL;
		char *to = spool_path(b->sp, op->to);
		char *dir;
		int r;

		if (op->kind == BATCH_UNLINK)
			r = unlink(to) < 0 && errno != ENOENT ? -1 : 0;
		else if (op->kind == BATCH_CREATE)
			r = 0;   /* in place already: its folder is fsynced below */
		else
			r = rename(from, to);
		if (r < 0) {
			error_errno("cannot %s '%s'", op->kind == BATCH_UNLINK ? "remove" : "rename to",
				    op->to);
			free(from);
			free(to);
			goto out;
		}
		dir = path_dirname(to);
		if (!strlist_has(&dirs, dir)) {
			strlist_add(&dirs, dir);
			strlist_sort(&dirs);
		}
		free(dir);
		free(from);
		free(to);
	}
	for (i = 0; i < dirs.nr; i++) {
		if (fsync_dir(dirs.items[i]) < 0) {
			error_errno("cannot fsync '%s'", dirs.items[i]);
			goto out;
		}
	}
	ret = 0;
out:
	/* After a failure, temporary files not renamed yet are removed. */
	clear_ops(b, ret < 0);
	strlist_clear(&dirs);
	return ret;
}

void spool_batch_release(struct spool_batch *b)
{
	batch_sync(b);
	b->write_failed = 0;
	clear_ops(b, 1);
	free(b->ops);
	b->ops = NULL;
	b->alloc = 0;
}

/* The lock a supervisor holds for its worker (spool_lock_share()). */
static char *shared_name;
static int shared_fd = -1;

void spool_lock_share(const char *name, int fd)
{
	free(shared_name);
	shared_name = name ? xstrdup(name) : NULL;
	shared_fd = fd;
}

int spool_lock(const struct spool *sp, const char *name)
{
	struct strbuf rel = STRBUF_INIT;
	char *path;
	int fd;

	if (shared_name && !strcmp(name, shared_name)) {
		fd = fcntl(shared_fd, F_DUPFD_CLOEXEC, 0);
		if (fd < 0)
			error_errno("cannot share lock '%s'", name);
		return fd;
	}

	strbuf_addf(&rel, SPOOL_LOCK "/%s", name);
	path = spool_path(sp, rel.buf);
	strbuf_release(&rel);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		error_errno("cannot open lock '%s'", path);
		free(path);
		return -1;
	}
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			error_errno("cannot lock '%s'", path);
			close(fd);
			free(path);
			return -1;
		}
	}
	free(path);
	clean_tmp(sp);
	return fd;
}

int spool_lock_busy(const struct spool *sp, const char *name)
{
	struct strbuf rel = STRBUF_INIT;
	char *path;
	int fd, busy = 0;

	strbuf_addf(&rel, SPOOL_LOCK "/%s", name);
	path = spool_path(sp, rel.buf);
	strbuf_release(&rel);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	free(path);
	if (fd < 0)
		return 0;   /* never taken: free */
	if (flock(fd, LOCK_SH | LOCK_NB) < 0)
		busy = errno == EWOULDBLOCK;
	close(fd);
	return busy;
}

void spool_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

int spool_reject(const struct spool *sp, const char *from, const char *name,
		 const char *reason, struct strbuf *as)
{
	struct strbuf dest = STRBUF_INIT, rel = STRBUF_INIT, text = STRBUF_INIT;
	struct strbuf at = STRBUF_INIT;
	char *src = spool_path(sp, from), *path = NULL, *dir = NULL;
	char when[32];
	const char *dot;
	int n = 0, ret = -1;
	struct stat st;

	/* Find a free name: NAME, NAME.1.ext, NAME.2.ext … */
	dot = strrchr(name, '.');
	if (!dot || dot == name)
		dot = name + strlen(name);
	for (;;) {
		strbuf_reset(&dest);
		if (n)
			strbuf_addf(&dest, "%.*s.%d%s", (int)(dot - name), name, n, dot);
		else
			strbuf_addstr(&dest, name);
		strbuf_reset(&rel);
		strbuf_addf(&rel, SPOOL_REJECTED "/%s", dest.buf);
		free(path);
		path = spool_path(sp, rel.buf);
		if (lstat(path, &st) < 0 && errno == ENOENT)
			break;
		n++;
	}
	datetime_format(clock_now(), when);
	strbuf_addf(&text, "%s\n", when);
	strbuf_reset(&at);
	strbuf_addf(&at, SPOOL_REJECTED_AT "/%s", dest.buf);
	if (spool_commit(sp, at.buf, text.buf, text.len) < 0)
		goto out;
	strbuf_reset(&text);
	strbuf_addf(&text, "%s\n", reason);
	strbuf_addstr(&rel, ".reason");
	if (spool_commit(sp, rel.buf, text.buf, text.len) < 0)
		goto out;
	if (rename(src, path) < 0) {
		error_errno("cannot move '%s' to '%s'", from, path);
		goto out;
	}
	chmod(path, 0600);
	dir = path_dirname(path);
	if (fsync_dir(dir) < 0) {
		error_errno("cannot fsync '%s'", dir);
		goto out;
	}
	free(dir);
	dir = path_dirname(src);
	fsync_dir(dir);
	if (as) {
		strbuf_reset(as);
		strbuf_addbuf(as, &dest);
	}
	ret = 0;
out:
	free(src);
	free(path);
	free(dir);
	strbuf_release(&dest);
	strbuf_release(&rel);
	strbuf_release(&text);
	strbuf_release(&at);
	return ret;
}

void spool_claim_token(char *token)
{
	unsigned char raw[SPOOL_TOKEN_LEN / 2];
	struct strbuf sb = STRBUF_INIT;

	random_nonce(raw, sizeof(raw));
	strbuf_add_hex(&sb, raw, sizeof(raw));
	memcpy(token, sb.buf, SPOOL_TOKEN_LEN + 1);
	strbuf_release(&sb);
}

int spool_claim(const struct spool *sp, const char *from_dir, const char *name,
		const char *to)
{
	struct strbuf from = STRBUF_INIT;
	char *src, *dst;
	int ret = 0;

	strbuf_addf(&from, "%s/%s", from_dir, name);
	src = spool_path(sp, from.buf);
	dst = spool_path(sp, to);
	if (rename(src, dst) < 0) {
		if (errno != ENOENT)
			error_errno("cannot claim '%s'", from.buf);
		ret = -1;
	}
	strbuf_release(&from);
	free(src);
	free(dst);
	return ret;
}

const char *spool_claim_name(const char *file, char *token)
{
	if (strlen(file) <= SPOOL_TOKEN_LEN + 1 || file[SPOOL_TOKEN_LEN] != '-')
		return NULL;
	memcpy(token, file, SPOOL_TOKEN_LEN);
	token[SPOOL_TOKEN_LEN] = '\0';
	return file + SPOOL_TOKEN_LEN + 1;
}

void spool_claim_done(const struct spool *sp, const char *rel)
{
	char *p = spool_path(sp, rel), *dir;

	if (unlink(p) < 0 && errno != ENOENT)
		error_errno("cannot remove '%s'", p);
	dir = path_dirname(p);
	fsync_dir(dir);
	free(dir);
	free(p);
}
