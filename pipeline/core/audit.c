/*
 * audit - the hash-chained audit log of mimamori-spool(5) (format in audit.h).
 *
 * audit_add() formats lines into memory; audit_flush() takes lock/audit,
 * appends them to audit/audit.log (O_APPEND, one write, one fsync) and then
 * writes audit/audit.head ("<count> <hash>\n") with spool_commit().
 * audit_verify() recomputes the chain from the first line. Files are 0600,
 * the folder 0700. No personal data passes through here: callers log ids,
 * counts and spool paths only; control characters are replaced by '?' so
 * that no field can hold a tab or start a new line.
 *
 * Crash recovery. The log is appended before the head is written, so a
 * crash can leave (a) lines after the ones audit.head counts, or (b) the
 * beginning of an interrupted write without its final newline. Under the
 * lock, the next flush or verify reads the log; when line <count> carries
 * the head's hash and every later complete line chains correctly from it,
 * those lines are accepted, an incomplete last line is cut off, and the
 * head is moved forward. A head that is missing (or unreadable) while the
 * log is not empty is rebuilt by flush from the log's last line rather
 * than restarting the chain; verify reports it instead. A log that does not
 * match its head in any other way is never repaired: flush warns, keeps
 * chaining from the head (so the break stays where verify finds it), and
 * each of these cases is recorded in the log itself as a "recover" event.
 *
 * SECURITY: the chain is not keyed. It finds edits, removals and
 * reordering by anyone who does not rewrite every later line and the head
 * as well; someone who can write the spool as the program's user can
 * forge a consistent log, and a well-formed forged line appended after the
 * last one is indistinguishable from a crash and accepted by recovery.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "audit.h"
#include "../util/clock.h"
#include "../lib/seal.h"
#include "../util/fileio.h"
#include "../util/msg.h"
#include "../util/strbuf.h"
#include "../util/timeutil.h"
#include "../util/xalloc.h"

#define AUDIT_LOG   SPOOL_AUDIT "/audit.log"
#define AUDIT_HEAD  SPOOL_AUDIT "/audit.head"
#define HASH_HEX    64
#define AUDIT_FIELDS 6
/* The --now clock is recorded when it is this far from the real one. */
#define CLOCK_SLACK 5

static const char zero_hash[HASH_HEX + 1] =
	"0000000000000000000000000000000000000000000000000000000000000000";

static const struct spool *audit_spool;
static char *audit_command;
static char *audit_user;
/* Pending lines, each up to and including the tab before HASH, then '\n'. */
static struct strbuf pending = STRBUF_INIT;

struct head {
	long count;
	char hash[HASH_HEX + 1];
};

enum head_state { HEAD_OK, HEAD_MISSING, HEAD_MALFORMED };

/* The hash chain, with buffers kept across lines. */
struct chain {
	char prev[HASH_HEX + 1];
	struct strbuf in, hex;
};

void audit_begin(const struct spool *sp, const char *command)
{
	audit_spool = sp;
	free(audit_command);
	audit_command = xstrdup(command);
}

static const char *user_name(void)
{
	struct passwd *pw;

	if (!audit_user) {
		pw = getpwuid(getuid());
		if (pw && pw->pw_name && *pw->pw_name) {
			audit_user = xstrdup(pw->pw_name);
		} else {
			struct strbuf sb = STRBUF_INIT;

			strbuf_addf(&sb, "%lu", (unsigned long)getuid());
			audit_user = strbuf_detach(&sb, NULL);
		}
	}
	return audit_user;
}

/* Append s[0..len) and a tab, every control character replaced by '?'. */
static void add_field(struct strbuf *sb, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		strbuf_addch(sb, c < 0x20 || c == 0x7f ? '?' : c);
	}
	strbuf_addch(sb, '\t');
}

/* One line without its HASH into out (TIME USER COMMAND EVENT DETAILS). */
static void format_line(struct strbuf *out, const char *event, struct strbuf *details)
{
	const char *command = audit_command ? audit_command : "-";
	time_t now = time(NULL), clk = clock_now();
	char t[32];

	if (clk - now > CLOCK_SLACK || now - clk > CLOCK_SLACK) {
		datetime_format_utc(clk, t);
		strbuf_addf(details, "%snow=%s", details->len ? " " : "", t);
	}
	datetime_format_utc(now, t);
	add_field(out, t, strlen(t));
	add_field(out, user_name(), strlen(user_name()));
	add_field(out, command, strlen(command));
	add_field(out, event, strlen(event));
	add_field(out, details->buf, details->len);
	strbuf_addch(out, '\n');
}

void audit_add(const char *event, const char *fmt, ...)
{
	struct strbuf details = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&details, fmt, ap);
	va_end(ap);
	format_line(&pending, event, &details);
	strbuf_release(&details);
}

/* A "recover" event, put before the lines already pending. */
static void add_recover_event(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void add_recover_event(const char *fmt, ...)
{
	struct strbuf details = STRBUF_INIT, line = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&details, fmt, ap);
	va_end(ap);
	format_line(&line, "recover", &details);
	strbuf_addbuf(&line, &pending);
	strbuf_release(&pending);
	pending = line;
	strbuf_release(&details);
}

static int is_hash(const char *s, size_t len)
{
	size_t i;

	if (len != HASH_HEX)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/*
 * Check a log line (without its newline): six tab-separated fields, the
 * last one a hash. Sets *content to the length up to and including the tab
 * before HASH. 0, or -1 when malformed.
 */
static int line_parse(const char *line, size_t len, size_t *content)
{
	const char *p = line, *end = line + len, *tab = NULL;
	int fields = 1;

	while ((p = memchr(p, '\t', (size_t)(end - p)))) {
		fields++;
		tab = p++;
	}
	if (fields != AUDIT_FIELDS)
		return -1;
	*content = (size_t)(tab + 1 - line);
	return is_hash(tab + 1, (size_t)(end - tab - 1)) ? 0 : -1;
}

static void chain_init(struct chain *c, const char *prev)
{
	memcpy(c->prev, prev, HASH_HEX + 1);
	strbuf_init(&c->in, 0);
	strbuf_init(&c->hex, 0);
}

static void chain_release(struct chain *c)
{
	strbuf_release(&c->in);
	strbuf_release(&c->hex);
}

/* The HASH of a line with this content: sha256_hex(prev || content). */
static const char *chain_hash(struct chain *c, const char *content, size_t len)
{
	strbuf_reset(&c->in);
	strbuf_add(&c->in, c->prev, HASH_HEX);
	strbuf_add(&c->in, content, len);
	strbuf_reset(&c->hex);
	sha256_hex(c->in.buf, c->in.len, &c->hex);
	return c->hex.buf;
}

/* Read audit.head into h. HEAD_OK, HEAD_MISSING, HEAD_MALFORMED, or -1. */
static int head_read(const struct spool *sp, struct head *h)
{
	struct strbuf sb = STRBUF_INIT;
	char *path = spool_path(sp, AUDIT_HEAD);
	const char *p;
	long count = 0;
	int ret = HEAD_MALFORMED;

	h->count = 0;
	memcpy(h->hash, zero_hash, sizeof(h->hash));
	if (strbuf_read_file(&sb, path, 256) < 0) {
		if (errno == ENOENT)
			ret = HEAD_MISSING;
		else if (errno != EFBIG)
			ret = error_errno("cannot read '%s'", AUDIT_HEAD);
		goto out;
	}
	for (p = sb.buf; *p >= '0' && *p <= '9' && p - sb.buf < 18; p++)
		count = count * 10 + (*p - '0');
	if (p == sb.buf || *p != ' ' || sb.len != (size_t)(p - sb.buf) + 2 + HASH_HEX ||
	    !is_hash(p + 1, HASH_HEX) || sb.buf[sb.len - 1] != '\n')
		goto out;
	if (!count && memcmp(p + 1, zero_hash, HASH_HEX))
		goto out;
	h->count = count;
	memcpy(h->hash, p + 1, HASH_HEX);
	ret = HEAD_OK;
out:
	strbuf_release(&sb);
	free(path);
	return ret;
}

/*
 * The quick check made before every append: the log ends with a complete
 * line that carries the head's hash (or is empty and the head says 0).
 */
static int tail_matches(const char *path, const struct head *h)
{
	char buf[4096];
	struct stat st;
	size_t n, content, start;
	ssize_t r;
	int fd, ok = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT && !h->count;
	if (fstat(fd, &st) < 0)
		goto out;
	if (!st.st_size) {
		ok = !h->count;
		goto out;
	}
	n = st.st_size < (off_t)sizeof(buf) ? (size_t)st.st_size : sizeof(buf);
	r = pread(fd, buf, n, st.st_size - (off_t)n);
	if (r != (ssize_t)n || buf[n - 1] != '\n' || !h->count)
		goto out;
	for (start = n - 1; start > 0 && buf[start - 1] != '\n'; start--)
		;
	if (!start && (off_t)n < st.st_size)
		goto out;  /* a line longer than buf: let the full scan decide */
	if (line_parse(buf + start, n - 1 - start, &content) < 0)
		goto out;
	ok = !memcmp(buf + start + content, h->hash, HASH_HEX);
out:
	close(fd);
	return ok;
}

/* What a full reading of the log found, measured against a head. */
struct scan {
	long lines;                /* complete lines */
	char last[HASH_HEX + 1];   /* HASH of the last complete line */
	off_t end;                 /* just after the last complete line */
	off_t size;
	int head_found;            /* line <count> carries the head's hash */
	int chains;                /* and every later line chains from it */
};

static int log_scan(const char *path, const struct head *h, struct scan *s)
{
	struct chain c;
	char *line = NULL;
	size_t cap = 0, content;
	ssize_t len;
	FILE *f;

	memset(s, 0, sizeof(*s));
	memcpy(s->last, zero_hash, sizeof(s->last));
	s->head_found = !h->count && !memcmp(h->hash, zero_hash, HASH_HEX);
	s->chains = 1;
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : error_errno("cannot open '%s'", AUDIT_LOG);
	chain_init(&c, h->hash);
	while ((len = getline(&line, &cap, f)) > 0) {
		int ok;

		s->size += len;
		if (line[len - 1] != '\n')
			break;
		s->end = s->size;
		s->lines++;
		ok = !line_parse(line, (size_t)len - 1, &content);
		if (ok)
			memcpy(s->last, line + content, HASH_HEX);
		if (s->lines == h->count) {
			s->head_found = ok && !memcmp(line + content, h->hash, HASH_HEX);
		} else if (s->lines > h->count && s->head_found && s->chains) {
			if (ok && !memcmp(chain_hash(&c, line, content), line + content,
					  HASH_HEX))
				memcpy(c.prev, line + content, HASH_HEX);
			else
				s->chains = 0;
		}
	}
	free(line);
	chain_release(&c);
	if (ferror(f)) {
		fclose(f);
		return error_errno("cannot read '%s'", AUDIT_LOG);
	}
	fclose(f);
	return 0;
}

/* Cut an interrupted write off the end of the log. */
static int log_truncate(const char *path, const struct scan *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return error_errno("cannot open '%s'", AUDIT_LOG);
	if (ftruncate(fd, s->end) < 0 || fsync(fd) < 0) {
		error_errno("cannot truncate '%s'", AUDIT_LOG);
		close(fd);
		return -1;
	}
	if (close(fd) < 0)
		return error_errno("cannot close '%s'", AUDIT_LOG);
	msg_warn("'%s': removed an incomplete last line (%lld bytes) left by a crash",
		 AUDIT_LOG, (long long)(s->size - s->end));
	return 0;
}

static int head_write(const struct spool *sp, const struct head *h)
{
	struct strbuf sb = STRBUF_INIT;
	int ret;

	strbuf_addf(&sb, "%ld %s\n", h->count, h->hash);
	ret = spool_commit(sp, AUDIT_HEAD, sb.buf, sb.len);
	strbuf_release(&sb);
	return ret;
}

/*
 * Under the lock: make audit.head and the log agree after a crash (see
 * the top of this file). Sets *h to the state the next line chains from
 * and *state to what audit.head was. With for_flush, a missing head is
 * rebuilt and *sep says that the log ends inside a line that cannot be
 * removed, so the next write must start with a newline. 0, or -1.
 */
static int reconcile(const struct spool *sp, int for_flush, struct head *h, int *state,
		     int *sep)
{
	char *path = spool_path(sp, AUDIT_LOG);
	struct scan s;
	int ret = -1;

	*sep = 0;
	*state = head_read(sp, h);
	if (*state < 0)
		goto out;
	ret = 0;
	if (*state == HEAD_OK && tail_matches(path, h))
		goto out;
	ret = log_scan(path, h, &s);
	if (ret < 0)
		goto out;
	if (*state != HEAD_OK) {
		if (!for_flush || (!s.lines && !s.size))
			goto out;
		if (s.end < s.size && (ret = log_truncate(path, &s)) < 0)
			goto out;
		h->count = s.lines;
		memcpy(h->hash, s.last, sizeof(h->hash));
		msg_warn("'%s' %s: rebuilt from the last line of '%s' (%ld lines)",
			 AUDIT_HEAD, *state == HEAD_MISSING ? "missing" : "unreadable",
			 AUDIT_LOG, s.lines);
		add_recover_event("head=%s lines=%ld",
				  *state == HEAD_MISSING ? "missing" : "malformed", s.lines);
	} else if (s.lines >= h->count && s.head_found && s.chains) {
		long extra = s.lines - h->count;

		if (s.end < s.size && (ret = log_truncate(path, &s)) < 0)
			goto out;
		if (extra) {
			h->count = s.lines;
			memcpy(h->hash, s.last, sizeof(h->hash));
			if ((ret = head_write(sp, h)) < 0)
				goto out;
			msg_warn("'%s': accepted %ld lines written before a crash",
				 AUDIT_LOG, extra);
		}
		if (extra || s.end < s.size)
			add_recover_event("crash lines=%ld truncated=%lld", extra,
					  (long long)(s.size - s.end));
	} else if (for_flush) {
		msg_warn("'%s' does not match '%s' (run 'mimamori audit verify')",
			 AUDIT_LOG, AUDIT_HEAD);
		add_recover_event("head=mismatch lines=%ld head-lines=%ld", s.lines,
				  h->count);
		*sep = s.end < s.size;
	}
out:
	free(path);
	return ret;
}

/*
 * Append data to the log with one write and one fsync. On a failed write
 * the log is cut back to its old size, so nothing half-written stays.
 * Returns 0; -1 when nothing was written; -2 when the data was written but
 * may not be durable (both reported).
 */
static int log_append(const struct spool *sp, const struct strbuf *data)
{
	char *path = spool_path(sp, AUDIT_LOG), *dir = spool_path(sp, SPOOL_AUDIT);
	struct stat st;
	int fd, created = 0, ret = -1;

	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		created = 1;
	}
	if (fd < 0) {
		error_errno("cannot open '%s'", AUDIT_LOG);
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		error_errno("cannot stat '%s'", AUDIT_LOG);
		close(fd);
		goto out;
	}
	if (write_full(fd, data->buf, data->len) < 0) {
		error_errno("cannot write '%s'", AUDIT_LOG);
		if (ftruncate(fd, st.st_size) < 0)
			ret = -2;
		close(fd);
		goto out;
	}
	ret = -2;
	if (fsync(fd) < 0) {
		error_errno("cannot fsync '%s'", AUDIT_LOG);
		close(fd);
		goto out;
	}
	if (close(fd) < 0) {
		error_errno("cannot close '%s'", AUDIT_LOG);
		goto out;
	}
	if (created && fsync_dir(dir) < 0) {
		error_errno("cannot fsync '%s'", SPOOL_AUDIT);
		goto out;
	}
	ret = 0;
out:
	free(path);
	free(dir);
	return ret;
}

/* Append the pending lines, hashed from h, to out; h moves forward. */
static void hash_pending(struct head *h, struct strbuf *out)
{
	const char *p = pending.buf, *end = pending.buf + pending.len;
	struct chain c;

	chain_init(&c, h->hash);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)(nl - p);

		strbuf_add(out, p, len);
		memcpy(c.prev, chain_hash(&c, p, len), HASH_HEX);
		strbuf_add(out, c.prev, HASH_HEX);
		strbuf_addch(out, '\n');
		h->count++;
		p = nl + 1;
	}
	memcpy(h->hash, c.prev, sizeof(h->hash));
	chain_release(&c);
}

int audit_flush(void)
{
	const struct spool *sp = audit_spool;
	struct strbuf out = STRBUF_INIT;
	struct head h;
	char *dir;
	int lock = -1, state, sep, ret = -1, r;

	if (!pending.len)
		return 0;
	if (!sp)
		msg_panic("audit_flush() before audit_begin()");
	dir = spool_path(sp, SPOOL_AUDIT);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		error_errno("cannot create '%s'", SPOOL_AUDIT);
		goto out;
	}
	lock = spool_lock(sp, "audit");
	if (lock < 0)
		goto out;
	if (reconcile(sp, 1, &h, &state, &sep) < 0)
		goto out;
	if (sep)
		strbuf_addch(&out, '\n');
	hash_pending(&h, &out);
	r = log_append(sp, &out);
	if (r == -1)
		goto out;  /* nothing written: the lines stay pending */
	strbuf_reset(&pending);
	if (r < 0)
		goto out;  /* the next flush or verify moves the head */
	ret = head_write(sp, &h);
out:
	if (lock >= 0)
		spool_unlock(lock);
	strbuf_release(&out);
	free(dir);
	return ret;
}

/* Check every line from the first; 0, 1 with why set, or -1 (reported). */
static int verify_log(const struct spool *sp, const struct head *h, long *lines,
		      char *last, struct strbuf *why)
{
	char *path = spool_path(sp, AUDIT_LOG), *line = NULL;
	size_t cap = 0, content;
	struct chain c;
	ssize_t len;
	FILE *f;
	int ret = 0;

	*lines = 0;
	memcpy(last, zero_hash, HASH_HEX + 1);
	f = fopen(path, "re");
	free(path);
	if (!f)
		return errno == ENOENT ? 0 : error_errno("cannot open '%s'", AUDIT_LOG);
	chain_init(&c, zero_hash);
	while ((len = getline(&line, &cap, f)) > 0) {
		++*lines;
		if (line[len - 1] != '\n' ||
		    line_parse(line, (size_t)len - 1, &content) < 0) {
			strbuf_addf(why, "line %ld: malformed", *lines);
			ret = 1;
			break;
		}
		if (memcmp(chain_hash(&c, line, content), line + content, HASH_HEX)) {
			strbuf_addf(why, "line %ld: hash mismatch", *lines);
			ret = 1;
			break;
		}
		memcpy(c.prev, line + content, HASH_HEX);
		if (*lines == h->count)
			memcpy(last, c.prev, HASH_HEX);
	}
	if (!ret && ferror(f))
		ret = error_errno("cannot read '%s'", AUDIT_LOG);
	free(line);
	chain_release(&c);
	fclose(f);
	return ret;
}

/*
 * The log is checked under the lock, after the crash recovery described
 * at the top of this file. The reason is printed (as the header promises)
 * and also put in why when it is not NULL, without the file name.
 */
int audit_verify(const struct spool *sp, long *lines, struct strbuf *why)
{
	struct strbuf reason = STRBUF_INIT;
	char at_count[HASH_HEX + 1];
	struct head h;
	long n = 0;
	int lock, state, sep, ret = -1;

	lock = spool_lock(sp, "audit");
	if (lock < 0)
		goto out;
	if (reconcile(sp, 0, &h, &state, &sep) < 0)
		goto out;
	ret = verify_log(sp, &h, &n, at_count, &reason);
	if (ret)
		goto out;
	if (state == HEAD_MISSING && n)
		strbuf_addf(&reason, "'%s' missing", AUDIT_HEAD);
	else if (state == HEAD_MALFORMED)
		strbuf_addf(&reason, "'%s' malformed", AUDIT_HEAD);
	else if (n < h.count)
		strbuf_addf(&reason, "line %ld: missing (log ends early)", n + 1);
	else if (h.count && memcmp(at_count, h.hash, HASH_HEX))
		strbuf_addf(&reason, "line %ld: hash mismatch", h.count);
	else if (n > h.count)
		strbuf_addf(&reason, "line %ld: not counted in '%s'", h.count + 1,
			    AUDIT_HEAD);
	ret = reason.len ? 1 : 0;
out:
	if (lock >= 0)
		spool_unlock(lock);
	if (ret > 0) {
		error("%s: %s", AUDIT_LOG, reason.buf);
		if (why)
			strbuf_addbuf(why, &reason);
		ret = -1;
	}
	if (lines)
		*lines = n;
	strbuf_release(&reason);
	return ret;
}
