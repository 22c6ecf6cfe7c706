/*
 * test_archive - lib/archive.c: pax archives made and read in memory,
 * and every kind of hostile entry refused with its name.
 */
#include <archive.h>
#include <archive_entry.h>
#include "unit.h"
#include "lib/archive.h"
#include "util/strbuf.h"

static la_ssize_t sb_write(struct archive *a, void *data, const void *buf, size_t len)
{
	strbuf_add(data, buf, len);
	(void)a;
	return (la_ssize_t)len;
}

/* A hostile archive made straight with libarchive: one entry of the given
 * type, name, size (data of that many 'x'), link target. */
static void craft(struct strbuf *out, const char *name, unsigned type, size_t size,
		  const char *symlink, const char *hardlink)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	char *data = malloc(size + 1);

	memset(data, 'x', size);
	archive_write_set_format_pax(a);
	archive_write_open(a, out, NULL, sb_write, NULL);
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, 0600);
	if (symlink)
		archive_entry_set_symlink(e, symlink);
	if (hardlink)
		archive_entry_set_hardlink(e, hardlink);
	if (type == AE_IFCHR)
		archive_entry_set_rdev(e, 0x0103);
	archive_entry_set_size(e, type == AE_IFREG ? (la_int64_t)size : 0);
	archive_write_header(a, e);
	if (type == AE_IFREG && size)
		archive_write_data(a, data, size);
	archive_write_close(a);
	archive_write_free(a);
	archive_entry_free(e);
	free(data);
}

static int only_records(const char *name, void *cb)
{
	(void)cb;
	return !strcmp(name, "manifest.xml") || !strncmp(name, "records/", 8);
}

/* Read and expect a refusal mentioning what. */
static void expect_refused(const struct strbuf *tar, const struct tar_limits *lim,
			   const char *what)
{
	struct tar_contents c = TAR_CONTENTS_INIT;
	struct strbuf why = STRBUF_INIT;

	CHECK(tar_read(tar->buf, tar->len, lim, only_records, NULL, &c, &why) < 0);
	CHECK_CONTAINS(why.buf, what);
	CHECK_INT(c.nr, 0);
	strbuf_release(&why);
	tar_contents_release(&c);
}

TEST(round_trip)
{
	struct tar_file files[3] = {
		{ "manifest.xml", "<manifest/>", 11, 0 },
		{ "records/R2026-000001.xml", "<record>一</record>", 0, 0 },
		{ "records/empty.xml", "", 0, 0 },
	};
	struct strbuf tar = STRBUF_INIT, why = STRBUF_INIT;
	struct tar_contents c = TAR_CONTENTS_INIT;

	files[1].len = strlen(files[1].data);
	CHECK_INT(tar_create(files, 3, 1700000000, &tar, &why), 0);
	CHECK(tar.len > 0 && tar.len % 512 == 0);
	CHECK_INT(tar_read(tar.buf, tar.len, NULL, only_records, NULL, &c, &why), 0);
	CHECK_INT(c.nr, 3);
	CHECK(tar_contents_find(&c, "manifest.xml") != NULL);
	CHECK_STR(tar_contents_find(&c, "records/R2026-000001.xml")->data, files[1].data);
	CHECK(tar_contents_find(&c, "records/empty.xml")->len == 0);
	CHECK(tar_contents_find(&c, "other") == NULL);
	tar_contents_release(&c);
	strbuf_release(&tar);
	strbuf_release(&why);
}

TEST(names)
{
	CHECK(tar_name_is_safe("records/R2026-000001.xml"));
	CHECK(tar_name_is_safe("manifest.xml"));
	CHECK(!tar_name_is_safe(""));
	CHECK(!tar_name_is_safe("/etc/x"));
	CHECK(!tar_name_is_safe("../x"));
	CHECK(!tar_name_is_safe("records/../../x"));
	CHECK(!tar_name_is_safe("records//x"));
	CHECK(!tar_name_is_safe("records/"));
	CHECK(!tar_name_is_safe("./x"));
	CHECK(!tar_name_is_safe("records/.."));
}

TEST(hostile_names)
{
	struct strbuf tar = STRBUF_INIT;

	craft(&tar, "../x", AE_IFREG, 3, NULL, NULL);
	expect_refused(&tar, NULL, "entry '../x': not a plain relative name");
	strbuf_reset(&tar);
	craft(&tar, "/etc/x", AE_IFREG, 3, NULL, NULL);
	expect_refused(&tar, NULL, "entry '/etc/x'");
	strbuf_reset(&tar);
	craft(&tar, "records/../../x", AE_IFREG, 3, NULL, NULL);
	expect_refused(&tar, NULL, "entry 'records/../../x'");
	strbuf_reset(&tar);
	craft(&tar, "other.xml", AE_IFREG, 3, NULL, NULL);
	expect_refused(&tar, NULL, "entry 'other.xml': not a name a bundle may hold");
	strbuf_release(&tar);
}

TEST(hostile_types)
{
	struct strbuf tar = STRBUF_INIT;

	craft(&tar, "records/a.xml", AE_IFLNK, 0, "/etc/passwd", NULL);
	expect_refused(&tar, NULL, "entry 'records/a.xml': a symbolic link");
	strbuf_reset(&tar);
	craft(&tar, "records/b.xml", AE_IFREG, 0, NULL, "manifest.xml");
	expect_refused(&tar, NULL, "entry 'records/b.xml': a hard link");
	strbuf_reset(&tar);
	craft(&tar, "records/c.xml", AE_IFCHR, 0, NULL, NULL);
	expect_refused(&tar, NULL, "a character device");
	strbuf_reset(&tar);
	craft(&tar, "records/d.xml", AE_IFIFO, 0, NULL, NULL);
	expect_refused(&tar, NULL, "a FIFO");
	strbuf_reset(&tar);
	craft(&tar, "records", AE_IFDIR, 0, NULL, NULL);
	expect_refused(&tar, NULL, "a folder");
	strbuf_release(&tar);
}

TEST(caps)
{
	struct tar_file files[4] = {
		{ "records/1", "aaaa", 4, 0 }, { "records/2", "bbbb", 4, 0 },
		{ "records/3", "cccccccccc", 10, 0 }, { "records/4", "d", 1, 0 },
	};
	struct tar_limits three = { 3, 0, 0 }, small = { 0, 8, 0 }, total = { 0, 0, 15 };
	struct strbuf tar = STRBUF_INIT, why = STRBUF_INIT;

	CHECK_INT(tar_create(files, 4, 0, &tar, &why), 0);
	expect_refused(&tar, &three, "more than 3 entries");
	expect_refused(&tar, &small, "entry 'records/3': larger than 8 bytes");
	expect_refused(&tar, &total, "more than 15 bytes");
	strbuf_release(&tar);
	strbuf_release(&why);
}

TEST(truncated_and_garbage)
{
	struct tar_file files[2] = {
		{ "records/1", NULL, 5000, 0 }, { "records/2", "b", 1, 0 },
	};
	struct strbuf tar = STRBUF_INIT, why = STRBUF_INIT, cut = STRBUF_INIT;
	char *big = malloc(5000);

	memset(big, 'a', 5000);
	files[0].data = big;
	CHECK_INT(tar_create(files, 2, 0, &tar, &why), 0);
	strbuf_add(&cut, tar.buf, 2000);
	expect_refused(&cut, NULL, "truncated");
	strbuf_reset(&cut);
	strbuf_add(&cut, tar.buf, 300);
	expect_refused(&cut, NULL, "");
	strbuf_reset(&cut);
	strbuf_addstr(&cut, "this is not a tar archive at all, just some text");
	expect_refused(&cut, NULL, "");
	strbuf_release(&cut);
	strbuf_release(&tar);
	strbuf_release(&why);
	free(big);
}

TEST(duplicates)
{
	struct tar_file files[2] = { { "records/1", "a", 1, 0 }, { "records/1", "b", 1, 0 } };
	struct strbuf tar = STRBUF_INIT, why = STRBUF_INIT;

	CHECK_INT(tar_create(files, 2, 0, &tar, &why), 0);
	expect_refused(&tar, NULL, "entry 'records/1': present twice");
	strbuf_release(&tar);
	strbuf_release(&why);
}

UNIT_MAIN(T(round_trip), T(names), T(hostile_names), T(hostile_types), T(caps),
	  T(truncated_and_garbage), T(duplicates))
