/*
 * test_audit - the hash-chained audit log: writing, verifying, finding the
 * first edited, removed or reordered line, and recovering after a crash
 * between the append and the head update. Works in a spool/ folder in the
 * test's own directory.
 */
#include <fcntl.h>
#include <time.h>
#include "unit.h"
#include "core/audit.h"
#include "util/clock.h"
#include "core/spool.h"
#include "util/fileio.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#define LOG  "spool/audit/audit.log"
#define HEAD "spool/audit/audit.head"

static char cwd[PATH_MAX];

static void setup(struct spool *sp)
{
	CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
	sp->root = path_join(cwd, "spool");
	CHECK_INT(mkdir("spool", 0700), 0);
	CHECK_INT(mkdir("spool/tmp", 0700), 0);
	CHECK_INT(mkdir("spool/lock", 0700), 0);
	audit_begin(sp, "intake");
}

static void teardown(struct spool *sp)
{
	free(sp->root);
	sp->root = NULL;
}

/* Write n lines through the public interface, one flush for all. */
static void write_lines(int n, int first)
{
	int i;

	for (i = 0; i < n; i++)
		audit_add("accept", "path=incoming/%d.xml id=R2026-%06d", first + i,
			  first + i);
	CHECK_INT(audit_flush(), 0);
}

static char *slurp(const char *path)
{
	struct strbuf sb = STRBUF_INIT;

	if (strbuf_read_file(&sb, path, 1 << 20) < 0)
		return NULL;
	return strbuf_detach(&sb, NULL);
}

static void spit(const char *path, const char *data)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	CHECK(fd >= 0);
	CHECK_INT(write_full(fd, data, strlen(data)), 0);
	CHECK_INT(close(fd), 0);
}

/* The log's lines (with their newlines), for tampering. */
struct lines {
	char *item[64];
	int nr;
};

static void lines_read(struct lines *l)
{
	char *all = slurp(LOG), *p = all, *nl;

	l->nr = 0;
	CHECK(all != NULL);
	while (p && *p && l->nr < 64) {
		nl = strchr(p, '\n');
		if (!nl)
			nl = p + strlen(p) - 1;
		l->item[l->nr++] = xstrndup(p, (size_t)(nl + 1 - p));
		p = nl + 1;
	}
	free(all);
}

static void lines_write(struct lines *l)
{
	struct strbuf sb = STRBUF_INIT;
	int i;

	for (i = 0; i < l->nr; i++) {
		strbuf_addstr(&sb, l->item[i]);
		free(l->item[i]);
	}
	spit(LOG, sb.buf);
	strbuf_release(&sb);
}

/* Verify; 0 when intact, else -1 and the reason in why. */
static int verify(const struct spool *sp, long *n, struct strbuf *why)
{
	strbuf_reset(why);
	return audit_verify(sp, n, why);
}

TEST(empty_spool_is_intact)
{
	struct spool sp;
	struct strbuf why = STRBUF_INIT;
	long n = -1;

	setup(&sp);
	CHECK(audit_flush() == 0);  /* nothing pending: nothing written */
	CHECK(access(LOG, F_OK) < 0);
	CHECK_INT(verify(&sp, &n, &why), 0);
	CHECK_INT(n, 0);
	strbuf_release(&why);
	teardown(&sp);
}

TEST(writes_chained_lines)
{
	struct spool sp;
	struct strbuf why = STRBUF_INIT;
	struct stat st;
	struct lines l;
	char *head, *tab;
	long n = 0;
	int i, tabs;

	setup(&sp);
	write_lines(3, 1);
	write_lines(2, 4);
	CHECK_INT(verify(&sp, &n, &why), 0);
	CHECK_INT(n, 5);
	CHECK(stat(LOG, &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK(stat("spool/audit", &st) == 0 && (st.st_mode & 0777) == 0700);
	lines_read(&l);
	CHECK_INT(l.nr, 5);
	for (i = 0; i < l.nr; i++) {
		const char *p;

		for (tabs = 0, p = l.item[i]; *p; p++)
			tabs += *p == '\t';
		CHECK_INT(tabs, 5);
		CHECK(strstr(l.item[i], "Z\t") == l.item[i] + 19);
		CHECK_CONTAINS(l.item[i], "\tintake\taccept\tpath=incoming/");
	}
	CHECK_CONTAINS(l.item[3], "id=R2026-000004\t");
	/* The head holds the count and the last line's hash. */
	tab = strrchr(l.item[4], '\t');
	head = slurp(HEAD);
	CHECK(head && !strncmp(head, "5 ", 2) && !strncmp(head + 2, tab + 1, 65));
	free(head);
	lines_write(&l);
	strbuf_release(&why);
	teardown(&sp);
}

TEST(details_cannot_break_lines)
{
	struct spool sp;
	struct strbuf why = STRBUF_INIT;
	struct lines l;
	long n = 0;

	setup(&sp);
	audit_add("reject", "path=%s", "incoming/a\tb\nc\rd.xml");
	CHECK_INT(audit_flush(), 0);
	lines_read(&l);
	CHECK_INT(l.nr, 1);
	CHECK_CONTAINS(l.item[0], "\treject\tpath=incoming/a?b?c?d.xml\t");
	lines_write(&l);
	CHECK_INT(verify(&sp, &n, &why), 0);
	CHECK_INT(n, 1);
	strbuf_release(&why);
	teardown(&sp);
}

TEST(finds_edited_line)
{
	struct spool sp;
	struct strbuf why = STRBUF_INIT;
	struct lines l;
	long n;

	setup(&sp);
	write_lines(6, 1);
	lines_read(&l);
	*strstr(l.item[1], "R2026-000002") = 'X';
	lines_write(&l);
	CHECK(verify(&sp, &n, &why) < 0);
	CHECK_STR(why.buf, "line 2: hash mismatch");
	strbuf_release(&why);
	teardown(&sp);
}

TEST(finds_edited_hash)
{
	struct spool sp;
	struct strbuf why = STRBUF_INIT;
	struct lines l;
	char *h;
	long n;

	setup(&sp);
	write_lines(4, 1);
	lines_read(&l);
	h = strrchr(l.item[2], '\t') + 1;
	*h = *h == '0' ? '1' : '0';
	lines_write(&l);
	CHECK(verify(&sp, &n, &why) < 0);
	CHECK_STR(why.buf, "line 3: hash mismatch");
	strbuf_release(&why);
	teardown(&sp);
}

TEST(finds_deleted_line)
{
	struct spool sp;
	struct strbuf why = STRBUF_INIT;
	struct lines l;
	long n;

	setup(&sp);
	write_lines(6, 1);
	lines_read(&l);
	free(l.item[2]);
	memmove(&l.item[2], &l.item[3], sizeof(l.item[0]) * 3);
	l.nr--;
	lines_write(&l);
	CHECK(verify(&sp, &n, &why) < 0);
	CHECK_STR(why.buf, "line 3: hash mismatch");
	strbuf_release(&why);
	teardown(&sp);
}

TEST(finds_swapped_lines)
{
	struct spool sp;
	struct strbuf why = STRBUF_INIT;
	struct lines l;
	char *tmp;
	long n;

	setup(&sp);
	write_lines(6, 1);
	lines_read(&l);
	tmp = l.item[2];
	l.item[2] = l.item[3];
	l.item[3] = tmp;
	lines_write(&l);
	CHECK(verify(&sp, &n, &why) < 0);
	CHECK_STR(why.buf, "line 3: hash mismatch");
	strbuf_release(&why);
	teardown(&sp);
}

TEST(finds_deleted_last_line)
{
	struct spool sp;
	struct strbuf why = STRBUF_INIT;
	struct lines l;
	long n;

	setup(&sp);
	write_lines(5, 1);
	lines_read(&l);
	free(l.item[--l.nr]);
	lines_write(&l);
	CHECK(verify(&sp, &n, &why) < 0);
	CHECK_STR(why.buf, "line 5: missing (log ends early)");
	CHECK_INT(n, 4);
	/* Writing on does not hide it. */
	write_lines(1, 6);
	CHECK(verify(&sp, &n, &why) < 0);
	CHECK_STR(why.buf, "line 5: hash mismatch");
	strbuf_release(&why);
	teardown(&sp);
}

TEST(finds_appended_lines)
{
	struct spool sp;
	struct strbuf why = STRBUF_INIT;
	struct lines l;
	long n;

	setup(&sp);
	write_lines(5, 1);
	lines_read(&l);
	/* A copy of line 5 (a valid-looking line, with a hash) after it. */
	l.item[l.nr] = xstrdup(l.item[4]);
	l.nr++;
	lines_write(&l);
	CHECK(verify(&sp, &n, &why) < 0);
	CHECK_STR(why.buf, "line 6: hash mismatch");

	lines_read(&l);
	free(l.item[--l.nr]);
	l.item[l.nr++] = xstrdup("2026-01-01T00:00:00Z\troot\tshow\tshow\tid=R1\n");
	lines_write(&l);
	CHECK(verify(&sp, &n, &why) < 0);
	CHECK_STR(why.buf, "line 6: malformed");
	strbuf_release(&why);
	teardown(&sp);
}

TEST(finds_lines_and_head_removed)
{
	struct spool sp;
	struct strbuf why = STRBUF_INIT;
	long n;

	setup(&sp);
	write_lines(3, 1);
	CHECK_INT(unlink(HEAD), 0);
	CHECK(verify(&sp, &n, &why) < 0);
	CHECK_CONTAINS(why.buf, "audit.head' missing");
	strbuf_release(&why);
	teardown(&sp);
}

TEST(recovers_from_crash_before_head_write)
{
	struct spool sp;
	struct strbuf why = STRBUF_INIT;
	char *head, *newhead;
	long n;

	setup(&sp);
	write_lines(4, 1);
	head = slurp(HEAD);
	CHECK(head != NULL);
	/* Lines appended, then the process died before the head moved. */
	write_lines(3, 5);
	spit(HEAD, head);
	write_lines(1, 8);
	CHECK_INT(verify(&sp, &n, &why), 0);
	CHECK(n == 9);  /* 8 lines and the "recover" event */
	newhead = slurp(HEAD);
	CHECK(newhead && !strncmp(newhead, "9 ", 2));
	free(newhead);

	/* verify alone moves the head forward as well. */
	write_lines(2, 9);
	spit(HEAD, head);
	CHECK_INT(verify(&sp, &n, &why), 0);
	CHECK_INT(n, 11);
	newhead = slurp(HEAD);
	CHECK(newhead && !strncmp(newhead, "11 ", 3));
	free(newhead);
	CHECK(audit_flush() == 0);  /* the "recover" event */
	CHECK_INT(verify(&sp, &n, &why), 0);
	CHECK_INT(n, 12);
	free(head);
	strbuf_release(&why);
	teardown(&sp);
}

TEST(recovers_from_interrupted_write)
{
	struct spool sp;
	struct strbuf why = STRBUF_INIT;
	struct lines l;
	const char *torn = "2026-01-01T00:00:00Z\troot\tin";  /* 28 bytes */
	int fd;
	long n;

	setup(&sp);
	write_lines(3, 1);
	fd = open(LOG, O_WRONLY | O_APPEND);
	CHECK(fd >= 0);
	CHECK_INT(write_full(fd, torn, strlen(torn)), 0);
	close(fd);
	write_lines(1, 4);
	CHECK_INT(verify(&sp, &n, &why), 0);
	CHECK_INT(n, 5);
	lines_read(&l);
	CHECK_CONTAINS(l.item[3], "\trecover\tcrash lines=0 truncated=28\t");
	CHECK_CONTAINS(l.item[4], "id=R2026-000004");
	lines_write(&l);
	strbuf_release(&why);
	teardown(&sp);
}

TEST(rebuilds_missing_head_from_log)
{
	struct spool sp;
	struct strbuf why = STRBUF_INIT;
	long n;

	setup(&sp);
	write_lines(3, 1);
	CHECK_INT(unlink(HEAD), 0);
	write_lines(1, 4);
	CHECK_INT(verify(&sp, &n, &why), 0);
	CHECK_INT(n, 5);
	strbuf_release(&why);
	teardown(&sp);
}

/* Last: the clock cannot be unset, only put back to the real time. */
TEST(records_the_now_clock)
{
	struct spool sp;
	struct strbuf why = STRBUF_INIT;
	struct lines l;
	long n;

	setup(&sp);
	clock_set(time(NULL) - 30 * 86400);
	audit_add("show", "id=R2026-000001");
	clock_set(time(NULL));
	audit_add("show", "id=R2026-000002");
	CHECK_INT(audit_flush(), 0);
	lines_read(&l);
	CHECK_INT(l.nr, 2);
	CHECK_CONTAINS(l.item[0], "\tid=R2026-000001 now=");
	CHECK(!strstr(l.item[1], "now="));
	lines_write(&l);
	CHECK_INT(verify(&sp, &n, &why), 0);
	strbuf_release(&why);
	teardown(&sp);
}

UNIT_MAIN(T(empty_spool_is_intact), T(writes_chained_lines), T(details_cannot_break_lines),
	  T(finds_edited_line), T(finds_edited_hash), T(finds_deleted_line),
	  T(finds_swapped_lines), T(finds_deleted_last_line), T(finds_appended_lines),
	  T(finds_lines_and_head_removed), T(recovers_from_crash_before_head_write),
	  T(recovers_from_interrupted_write), T(rebuilds_missing_head_from_log),
	  T(records_the_now_clock))
