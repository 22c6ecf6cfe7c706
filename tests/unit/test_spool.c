/*
 * test_spool - the spool's one way of writing (core/spool.c): a commit
 * leaves the whole file or nothing, 0600, nothing in tmp/; a batch is
 * invisible until its commit and leaves nothing when dropped; claims
 * (tokens, the rename, the name back, the removal); rejections with their
 * reason and a free name; locks.
 */
#include "unit.h"
#include "core/spool.h"
#include "lib/seal.h"
#include "util/fileio.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

static struct spool sp;

static int setup(void)
{
	char cwd[PATH_MAX - 16], root[PATH_MAX];

	seal_init();
	if (!getcwd(cwd, sizeof(cwd)))
		return -1;
	snprintf(root, sizeof(root), "%s/spool", cwd);
	return spool_open(&sp, root);
}

/* The number of files in spool folder rel. */
static long count(const char *rel)
{
	struct strlist names = STRLIST_INIT;
	char *dir = spool_path(&sp, rel);
	long n = dir_list(dir, &names, 1) < 0 ? -1 : (long)names.nr;

	strlist_clear(&names);
	free(dir);
	return n;
}

/* The content of spool file rel, or "(missing)". */
static const char *content(const char *rel, struct strbuf *sb)
{
	char *p = spool_path(&sp, rel);

	strbuf_reset(sb);
	if (strbuf_read_file(sb, p, 1 << 20) < 0) {
		strbuf_reset(sb);
		strbuf_addstr(sb, "(missing)");
	}
	free(p);
	return sb->buf;
}

static long mode_of(const char *rel)
{
	char *p = spool_path(&sp, rel);
	struct stat st;
	long m = stat(p, &st) < 0 ? -1 : (long)(st.st_mode & 07777);

	free(p);
	return m;
}

TEST(commit_whole_file_or_nothing)
{
	struct strbuf sb = STRBUF_INIT;

	if (setup() < 0) {
		CHECK(0);
		return;
	}
	CHECK_INT(mode_of("incoming"), 0700);
	CHECK_INT(spool_commit(&sp, "incoming/a.xml", "hello\n", 6), 0);
	CHECK_STR(content("incoming/a.xml", &sb), "hello\n");
	CHECK_INT(mode_of("incoming/a.xml"), 0600);
	CHECK_INT(count("tmp"), 0);
	/* A second commit replaces the file whole. */
	CHECK_INT(spool_commit(&sp, "incoming/a.xml", "bye\n", 4), 0);
	CHECK_STR(content("incoming/a.xml", &sb), "bye\n");
	/* A folder that does not exist: an error, and no temporary file left. */
	CHECK_INT(spool_commit(&sp, "nowhere/a.xml", "x", 1), -1);
	CHECK_INT(count("tmp"), 0);
	CHECK_INT(spool_exists(&sp, "nowhere/a.xml"), 0);
	strbuf_release(&sb);
	spool_release(&sp);
}

static int produce_fails(void *ctx, int fd)
{
	(void)ctx;
	if (write(fd, "half", 4) != 4)
		return -1;
	return -1;
}

static int produce_ok(void *ctx, int fd)
{
	const char *s = ctx;

	return write(fd, s, strlen(s)) == (ssize_t)strlen(s) ? 0 : -1;
}

TEST(commit_stream_failure_leaves_nothing)
{
	struct strbuf sb = STRBUF_INIT;

	if (setup() < 0) {
		CHECK(0);
		return;
	}
	CHECK_INT(spool_commit(&sp, "outgoing/b", "old", 3), 0);
	CHECK_INT(spool_commit_stream(&sp, "outgoing/b", produce_fails, NULL), -1);
	CHECK_STR(content("outgoing/b", &sb), "old");
	CHECK_INT(count("tmp"), 0);
	CHECK_INT(spool_commit_stream(&sp, "outgoing/b", produce_ok, "new"), 0);
	CHECK_STR(content("outgoing/b", &sb), "new");
	strbuf_release(&sb);
	spool_release(&sp);
}

TEST(batch_invisible_until_commit)
{
	struct spool_batch b;
	struct strbuf sb = STRBUF_INIT;
	const char *pending;

	if (setup() < 0) {
		CHECK(0);
		return;
	}
	CHECK_INT(spool_commit(&sp, "incoming/old", "old", 3), 0);
	CHECK_INT(spool_commit(&sp, "incoming/gone", "gone", 4), 0);
	spool_batch_init(&b, &sp);
	CHECK_INT(spool_batch_write(&b, "outgoing/one", "1", 1), 0);
	CHECK_INT(spool_batch_write(&b, "outgoing/one", "2", 1), 0);
	CHECK_INT(spool_batch_create(&b, "registry/records/R.1", "r", 1), 0);
	spool_batch_rename(&b, "incoming/old", "outgoing/old");
	spool_batch_unlink(&b, "incoming/gone");
	spool_batch_unlink(&b, "incoming/never-was");
	/* Nothing is in place yet but the created file; the last write is pending. */
	CHECK_INT(spool_exists(&sp, "outgoing/one"), 0);
	CHECK_INT(spool_exists(&sp, "incoming/old"), 1);
	pending = spool_batch_pending(&b, "outgoing/one");
	CHECK(pending != NULL);
	if (pending)
		CHECK_STR(content(pending, &sb), "2");
	CHECK(spool_batch_pending(&b, "outgoing/other") == NULL);
	CHECK_INT(spool_batch_commit(&b), 0);
	/* Applied in order: the later write wins. */
	CHECK_STR(content("outgoing/one", &sb), "2");
	CHECK_STR(content("outgoing/old", &sb), "old");
	CHECK_STR(content("registry/records/R.1", &sb), "r");
	CHECK_INT(spool_exists(&sp, "incoming/old"), 0);
	CHECK_INT(spool_exists(&sp, "incoming/gone"), 0);
	CHECK_INT(count("tmp"), 0);
	/* The batch is empty after a commit; a second commit does nothing. */
	CHECK_INT(spool_batch_commit(&b), 0);

	/* Dropped: its temporary and created files go, nothing else moves. */
	CHECK_INT(spool_batch_write(&b, "outgoing/two", "2", 1), 0);
	CHECK_INT(spool_batch_create(&b, "registry/records/R.2", "r", 1), 0);
	spool_batch_rename(&b, "outgoing/old", "incoming/back");
	spool_batch_release(&b);
	CHECK_INT(count("tmp"), 0);
	CHECK_INT(spool_exists(&sp, "outgoing/two"), 0);
	CHECK_INT(spool_exists(&sp, "registry/records/R.2"), 0);
	CHECK_INT(spool_exists(&sp, "outgoing/old"), 1);

	/* A rename that fails fails the commit; what was not renamed is removed. */
	spool_batch_init(&b, &sp);
	CHECK_INT(spool_batch_write(&b, "outgoing/three", "3", 1), 0);
	spool_batch_rename(&b, "incoming/absent", "outgoing/absent");
	CHECK_INT(spool_batch_write(&b, "outgoing/four", "4", 1), 0);
	CHECK_INT(spool_batch_commit(&b), -1);
	CHECK_INT(spool_exists(&sp, "outgoing/three"), 1);
	CHECK_INT(spool_exists(&sp, "outgoing/four"), 0);
	CHECK_INT(count("tmp"), 0);
	spool_batch_release(&b);
	strbuf_release(&sb);
	spool_release(&sp);
}

/* Files written behind: all there at the commit, removed on a failure or a release. */
TEST(batch_written_behind)
{
	struct spool_batch b;
	struct strbuf sb = STRBUF_INIT, rel = STRBUF_INIT;
	const char *pending;
	size_t len;
	int i;

	if (setup() < 0) {
		CHECK(0);
		return;
	}
	spool_batch_init(&b, &sp);
	for (i = 0; i < 500; i++) {
		strbuf_reset(&rel);
		strbuf_addf(&rel, "registry/records/W%d.1", i);
		strbuf_reset(&sb);
		strbuf_addf(&sb, "record %d", i);
		len = sb.len;
		spool_batch_create_async(&b, rel.buf, strbuf_detach(&sb, NULL), len);
	}
	/* Read back before the commit: written by then. */
	pending = spool_batch_pending(&b, "registry/records/W499.1");
	CHECK(pending != NULL);
	if (pending)
		CHECK_STR(content(pending, &sb), "record 499");
	spool_batch_create_async(&b, "registry/records/W500.1", xstrdup("last"), 4);
	CHECK_INT(spool_batch_commit(&b), 0);
	CHECK_INT(count("registry/records"), 501);
	CHECK_STR(content("registry/records/W7.1", &sb), "record 7");
	CHECK_STR(content("registry/records/W500.1", &sb), "last");

	/* One that cannot be created fails the commit, which removes the others
	 * (and leaves alone the file that was there). */
	spool_batch_create_async(&b, "registry/records/X.1", xstrdup("x1"), 2);
	spool_batch_create_async(&b, "registry/records/W7.1", xstrdup("again"), 5);
	spool_batch_create_async(&b, "registry/records/X.2", xstrdup("x2"), 2);
	CHECK_INT(spool_batch_commit(&b), -1);
	CHECK_INT(spool_exists(&sp, "registry/records/X.1"), 0);
	CHECK_INT(spool_exists(&sp, "registry/records/X.2"), 0);
	CHECK_STR(content("registry/records/W7.1", &sb), "record 7");
	/* The batch goes on after that. */
	spool_batch_create_async(&b, "registry/records/X.3", xstrdup("x3"), 2);
	CHECK_INT(spool_batch_commit(&b), 0);
	CHECK_STR(content("registry/records/X.3", &sb), "x3");

	/* Dropped: what was written behind is removed. */
	spool_batch_create_async(&b, "registry/records/X.4", xstrdup("x4"), 2);
	spool_batch_release(&b);
	CHECK_INT(spool_exists(&sp, "registry/records/X.4"), 0);
	strbuf_release(&sb);
	strbuf_release(&rel);
	spool_release(&sp);
}

TEST(claims)
{
	char t1[SPOOL_TOKEN_LEN + 1], t2[SPOOL_TOKEN_LEN + 1], back[SPOOL_TOKEN_LEN + 1];
	struct strbuf rel = STRBUF_INIT, sb = STRBUF_INIT;
	const char *name;
	size_t i;

	if (setup() < 0) {
		CHECK(0);
		return;
	}
	spool_claim_token(t1);
	spool_claim_token(t2);
	CHECK_INT(strlen(t1), SPOOL_TOKEN_LEN);
	for (i = 0; i < SPOOL_TOKEN_LEN; i++)
		CHECK(strchr("0123456789abcdef", t1[i]) != NULL);
	CHECK(strcmp(t1, t2) != 0);

	CHECK_INT(spool_commit(&sp, "incoming/r-1.xml", "doc", 3), 0);
	CHECK(mkdir("spool/work/intake", 0700) == 0);
	strbuf_addf(&rel, "work/intake/%s-r-1.xml", t1);
	CHECK_INT(spool_claim(&sp, "incoming", "r-1.xml", rel.buf), 0);
	CHECK_INT(spool_exists(&sp, "incoming/r-1.xml"), 0);
	CHECK_STR(content(rel.buf, &sb), "doc");
	/* Taken already (by another process): -1, silently. */
	CHECK_INT(spool_claim(&sp, "incoming", "r-1.xml", "work/intake/x-r-1.xml"), -1);

	name = spool_claim_name(rel.buf + strlen("work/intake/"), back);
	CHECK_STR(name, "r-1.xml");
	CHECK_STR(back, t1);
	CHECK(spool_claim_name("short-name", back) == NULL);
	CHECK(spool_claim_name("0123456789abcdef", back) == NULL);
	CHECK(spool_claim_name("0123456789abcdefXr", back) == NULL);

	spool_claim_done(&sp, rel.buf);
	CHECK_INT(spool_exists(&sp, rel.buf), 0);
	spool_claim_done(&sp, rel.buf);   /* a missing one is fine */
	strbuf_release(&rel);
	strbuf_release(&sb);
	spool_release(&sp);
}

TEST(reject_keeps_input_and_reason)
{
	struct strbuf as = STRBUF_INIT, sb = STRBUF_INIT;

	if (setup() < 0) {
		CHECK(0);
		return;
	}
	CHECK_INT(spool_commit(&sp, "incoming/bad.xml", "<x", 2), 0);
	CHECK_INT(spool_reject(&sp, "incoming/bad.xml", "bad.xml", "not XML", &as), 0);
	CHECK_STR(as.buf, "bad.xml");
	CHECK_STR(content("rejected/bad.xml", &sb), "<x");
	CHECK_STR(content("rejected/bad.xml.reason", &sb), "not XML\n");
	CHECK_INT(mode_of("rejected/bad.xml"), 0600);
	CHECK_INT(spool_exists(&sp, "work/rejected/bad.xml"), 1);
	/* The same name again: NAME.1.ext, the first is kept. */
	CHECK_INT(spool_commit(&sp, "incoming/bad.xml", "<y", 2), 0);
	CHECK_INT(spool_reject(&sp, "incoming/bad.xml", "bad.xml", "again", &as), 0);
	CHECK_STR(as.buf, "bad.1.xml");
	CHECK_STR(content("rejected/bad.1.xml", &sb), "<y");
	CHECK_STR(content("rejected/bad.1.xml.reason", &sb), "again\n");
	CHECK_STR(content("rejected/bad.xml", &sb), "<x");
	strbuf_release(&as);
	strbuf_release(&sb);
	spool_release(&sp);
}

TEST(locks)
{
	int fd;

	if (setup() < 0) {
		CHECK(0);
		return;
	}
	CHECK_INT(spool_lock_busy(&sp, "intake"), 0);
	fd = spool_lock(&sp, "intake");
	CHECK(fd >= 0);
	CHECK_INT(mode_of("lock/intake"), 0600);
	CHECK_INT(spool_lock_busy(&sp, "intake"), 1);
	CHECK_INT(spool_lock_busy(&sp, "dispatch"), 0);
	spool_unlock(fd);
	CHECK_INT(spool_lock_busy(&sp, "intake"), 0);
	spool_release(&sp);
}

UNIT_MAIN(T(commit_whole_file_or_nothing), T(commit_stream_failure_leaves_nothing),
	  T(batch_invisible_until_commit), T(batch_written_behind), T(claims), T(reject_keeps_input_and_reason),
	  T(locks))
