/*
 * archive - pax tar archives in memory, on libarchive (see archive.h).
 * Writes the archives of outgoing bundles and reads those of incoming
 * ones; nothing here touches the disk.
 *
 * SECURITY: tar_read() parses archives from other agencies. It never
 * extracts: entries are read into memory under caps counted before the
 * data is taken (entry count, declared and actual entry size, running
 * total), and anything that is not a regular file with a plain relative
 * name allowed by the caller (links, devices, FIFOs, folders, sparse
 * files, absolute names, "..") is refused with the entry named.
 */
#include <archive.h>
#include <archive_entry.h>
#include <stdarg.h>
#include <stdint.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "archive.h"
#include "seal.h"
#include "../util/fileio.h"
#include "../util/msg.h"
#include "../util/xalloc.h"

void tar_contents_release(struct tar_contents *c)
{
	size_t i;

	for (i = 0; i < c->nr; i++) {
		wipe(c->files[i].data, c->files[i].len);
		free(c->files[i].data);
		free(c->files[i].name);
	}
	free(c->files);
	hashmap_clear(&c->by_name);
	c->files = NULL;
	c->nr = c->alloc = 0;
}

struct tar_file *tar_contents_find(const struct tar_contents *c, const char *name)
{
	uintptr_t pos = (uintptr_t)hashmap_get(&c->by_name, name);

	return pos ? &c->files[pos - 1] : NULL;
}

int tar_name_is_safe(const char *name)
{
	const char *p = name, *slash;

	if (!*name || *name == '/')
		return 0;
	for (;;) {
		size_t n;

		slash = strchr(p, '/');
		n = slash ? (size_t)(slash - p) : strlen(p);
		if (!n || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		if (!slash)
			return 1;
		p = slash + 1;
	}
}

/* Writing: libarchive hands us blocks, we append them to a strbuf. */
static la_ssize_t write_cb(struct archive *a, void *data, const void *buf, size_t len)
{
	strbuf_add(data, buf, len);
	(void)a;
	return (la_ssize_t)len;
}

static int fail(struct strbuf *why, struct archive *a, const char *what)
{
	const char *s = a ? archive_error_string(a) : NULL;

	strbuf_reset(why);
	if (s)
		strbuf_addf(why, "%s: %s", what, s);
	else
		strbuf_addstr(why, what);
	return -1;
}

int tar_create(const struct tar_file *files, size_t nr, long long mtime,
	       struct strbuf *out, struct strbuf *why)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	size_t i, oldlen = out->len;
	int ret = -1;

	if (!a || !e)
		msg_fatal("out of memory");
	if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(a, 10240) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
	    archive_write_open(a, out, NULL, write_cb, NULL) != ARCHIVE_OK) {
		fail(why, a, "cannot start an archive");
		goto done;
	}
	for (i = 0; i < nr; i++) {
		archive_entry_clear(e);
		archive_entry_set_pathname_utf8(e, files[i].name);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0600);
		archive_entry_set_size(e, (la_int64_t)files[i].len);
		archive_entry_set_mtime(e, (time_t)mtime, 0);
		if (archive_write_header(a, e) != ARCHIVE_OK ||
		    (files[i].len &&
		     archive_write_data(a, files[i].data, files[i].len) !=
			     (la_ssize_t)files[i].len)) {
			fail(why, a, "cannot add to the archive");
			goto done;
		}
	}
	if (archive_write_close(a) != ARCHIVE_OK) {
		fail(why, a, "cannot finish the archive");
		goto done;
	}
	ret = 0;
done:
	archive_entry_free(e);
	archive_write_free(a);
	if (ret && out->len > oldlen) {
		wipe(out->buf + oldlen, out->len - oldlen);
		strbuf_setlen(out, oldlen);
	}
	return ret;
}

struct tar_writer {
	struct archive *a;
	struct archive_entry *e;
	long long mtime;
};

int tar_writer_open(int fd, long long mtime, struct tar_writer **wp, struct strbuf *why)
{
	struct tar_writer *w = xcalloc(1, sizeof(*w));

	w->a = archive_write_new();
	w->e = archive_entry_new();
	w->mtime = mtime;
	if (!w->a || !w->e)
		msg_fatal("out of memory");
	*wp = w;
	if (archive_write_set_format_pax_restricted(w->a) != ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(w->a, 10240) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(w->a, 1) != ARCHIVE_OK ||
	    archive_write_open_fd(w->a, fd) != ARCHIVE_OK) {
		fail(why, w->a, "cannot start an archive");
		return -1;
	}
	return 0;
}

int tar_writer_add(struct tar_writer *w, const char *name, const void *data, size_t len,
		   struct strbuf *why)
{
	archive_entry_clear(w->e);
	archive_entry_set_pathname_utf8(w->e, name);
	archive_entry_set_filetype(w->e, AE_IFREG);
	archive_entry_set_perm(w->e, 0600);
	archive_entry_set_size(w->e, (la_int64_t)len);
	archive_entry_set_mtime(w->e, (time_t)w->mtime, 0);
	if (archive_write_header(w->a, w->e) != ARCHIVE_OK ||
	    (len && archive_write_data(w->a, data, len) != (la_ssize_t)len))
		return fail(why, w->a, "cannot add to the archive"), -1;
	return 0;
}

int tar_writer_close(struct tar_writer *w, int finish, struct strbuf *why)
{
	int ret = 0;

	if (!w)
		return 0;
	if (finish && archive_write_close(w->a) != ARCHIVE_OK)
		ret = -1, fail(why, w->a, "cannot finish the archive");
	archive_entry_free(w->e);
	archive_write_free(w->a);
	free(w);
	return ret;
}

/* Why an entry of this type is refused. */
static const char *type_name(const struct archive_entry *e)
{
	if (archive_entry_hardlink((struct archive_entry *)e))
		return "a hard link";
	switch (archive_entry_filetype((struct archive_entry *)e)) {
	case AE_IFREG:
		return NULL;
	case AE_IFLNK:
		return "a symbolic link";
	case AE_IFDIR:
		return "a folder";
	case AE_IFCHR:
		return "a character device";
	case AE_IFBLK:
		return "a block device";
	case AE_IFIFO:
		return "a FIFO";
	case AE_IFSOCK:
		return "a socket";
	default:
		return "not a regular file";
	}
}

/* Names go into reasons: keep them printable and short. */
static void add_name(struct strbuf *why, const char *name)
{
	size_t i;

	for (i = 0; name[i] && i < 120; i++)
		strbuf_addch(why, (unsigned char)name[i] < 0x20 || name[i] == 0x7f ? '?' : name[i]);
	if (name[i])
		strbuf_addstr(why, "...");
}

static int entry_fail(struct strbuf *why, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int entry_fail(struct strbuf *why, const char *name, const char *fmt, ...)
{
	va_list ap;

	strbuf_reset(why);
	strbuf_addstr(why, "entry '");
	add_name(why, name);
	strbuf_addstr(why, "': ");
	va_start(ap, fmt);
	strbuf_vaddf(why, fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * An entry's data, read straight into a buffer of the size its header
 * declares (entry_check() capped it; libarchive hands out no more): no
 * copy on the way, and no growing, which would leave plaintext behind in
 * freed memory. Still capped as it comes, whatever the header said.
 */
static int read_data(struct archive *a, const char *name, size_t size, size_t max,
		     size_t room, struct tar_file *f, struct strbuf *why)
{
	struct strbuf data = STRBUF_INIT;
	la_ssize_t n;

	strbuf_grow(&data, size <= max && size <= room ? size : 0);
	for (;;) {
		if (data.alloc - data.len <= 1)
			strbuf_grow(&data, 65536);
		n = archive_read_data(a, data.buf + data.len, data.alloc - data.len - 1);
		if (n <= 0)
			break;
		if (data.len + (size_t)n > max || data.len + (size_t)n > room) {
			int over_max = data.len + (size_t)n > max;

			wipe(data.buf, data.alloc);
			strbuf_release(&data);
			if (over_max)
				return entry_fail(why, name, "larger than %zu bytes", max);
			return entry_fail(why, name, "the archive holds more than %zu bytes",
					  room);
		}
		strbuf_setlen(&data, data.len + (size_t)n);
	}
	if (n < 0) {
		const char *s = archive_error_string(a);

		wipe(data.buf, data.alloc);
		strbuf_release(&data);
		return entry_fail(why, name, "truncated or damaged archive%s%s",
				  s ? ": " : "", s ? s : "");
	}
	f->data = strbuf_detach(&data, &f->len);
	return 0;
}

/*
 * The checks every entry's header passes before a byte of its data is
 * read: a usable name, at most max_entries, a regular file, a safe name
 * that allowed() accepts, not seen before, not sparse, at most max_size
 * bytes. 0 with *namep and *sizep set, or -1 with a reason.
 */
static int entry_check(struct archive_entry *e, size_t nr, size_t max_entries,
		       size_t max_size, int (*allowed)(const char *name, void *cb_data),
		       void *cb_data, const struct hashmap *seen, const char **namep,
		       la_int64_t *sizep, struct strbuf *why)
{
	const char *name = archive_entry_pathname_utf8(e), *type;
	la_int64_t size;

	if (!name)
		name = archive_entry_pathname(e);
	if (!name || !*name)
		return entry_fail(why, "", "no usable name");
	if (nr >= max_entries) {
		strbuf_reset(why);
		strbuf_addf(why, "more than %zu entries", max_entries);
		return -1;
	}
	if ((type = type_name(e)))
		return entry_fail(why, name, "%s", type);
	if (!tar_name_is_safe(name))
		return entry_fail(why, name, "not a plain relative name");
	if (allowed && !allowed(name, cb_data))
		return entry_fail(why, name, "not a name a bundle may hold");
	if (hashmap_get(seen, name))
		return entry_fail(why, name, "present twice");
	if (archive_entry_sparse_count(e) > 0)
		return entry_fail(why, name, "a sparse file");
	size = archive_entry_size_is_set(e) ? archive_entry_size(e) : 0;
	if (size < 0 || (unsigned long long)size > max_size)
		return entry_fail(why, name, "larger than %zu bytes", max_size);
	*namep = name;
	*sizep = size;
	return 0;
}

int tar_read(const void *buf, size_t len, const struct tar_limits *lim,
	     int (*allowed)(const char *name, void *cb_data), void *cb_data,
	     struct tar_contents *out, struct strbuf *why)
{
	size_t max_entries = lim && lim->max_entries ? lim->max_entries : TAR_MAX_ENTRIES;
	size_t max_size = lim && lim->max_entry_size ? lim->max_entry_size : TAR_MAX_ENTRY_SIZE;
	size_t max_total = lim && lim->max_total ? lim->max_total : TAR_MAX_TOTAL;
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	size_t total = 0;
	int r, ret = -1;

	if (!a)
		msg_fatal("out of memory");
	archive_read_support_format_tar(a);
	archive_read_support_filter_none(a);
	if (archive_read_open_memory(a, buf, len) != ARCHIVE_OK) {
		fail(why, a, "not a tar archive");
		goto done;
	}
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *name = NULL;
		struct tar_file *f;
		la_int64_t size;

		if (entry_check(e, out->nr, max_entries, max_size, allowed, cb_data,
				&out->by_name, &name, &size, why) < 0)
			goto done;
		if ((size_t)size > max_total - total) {
			strbuf_reset(why);
			strbuf_addf(why, "the archive holds more than %zu bytes", max_total);
			goto done;
		}
		ALLOC_GROW(out->files, out->nr + 1, out->alloc);
		f = &out->files[out->nr];
		memset(f, 0, sizeof(*f));
		if (read_data(a, name, (size_t)size, max_size, max_total - total, f, why) < 0)
			goto done;
		if (f->len != (size_t)size) {
			wipe(f->data, f->len);
			free(f->data);
			entry_fail(why, name, "truncated or damaged archive");
			goto done;
		}
		f->name = xstrdup(name);
		out->nr++;
		hashmap_put(&out->by_name, f->name, (void *)(uintptr_t)out->nr);
		total += f->len;
	}
	if (r != ARCHIVE_EOF) {
		fail(why, a, out->nr || r == ARCHIVE_FATAL ? "truncated or damaged archive"
							   : "not a tar archive");
		goto done;
	}
	ret = 0;
done:
	archive_read_free(a);
	if (ret)
		tar_contents_release(out);
	return ret;
}

/*
 * Streaming: libarchive pulls blocks from the descriptor through
 * stream_read(), which counts every byte against the input cap; past it
 * the read fails, and so does the archive.
 */
#define STREAM_BLOCK 65536

struct stream_src {
	int fd;
	unsigned long long read, max;
	int over;
	char block[STREAM_BLOCK];
};

static ssize_t stream_fill(struct stream_src *src)
{
	ssize_t n;

	do
		n = read(src->fd, src->block, sizeof(src->block));
	while (n < 0 && errno == EINTR);
	if (n > 0) {
		src->read += (unsigned long long)n;
		if (src->read > src->max) {
			src->over = 1;
			return -1;
		}
	}
	return n;
}

static la_ssize_t stream_read(struct archive *a, void *data, const void **buf)
{
	struct stream_src *src = data;
	ssize_t n = stream_fill(src);

	*buf = src->block;
	if (n < 0) {
		archive_set_error(a, src->over ? EFBIG : errno, "%s",
				  src->over ? "input over the cap" : "cannot read");
		return -1;
	}
	return (la_ssize_t)n;
}

/* Read the rest of the stream, counted, and throw it away. */
static void stream_drain(struct stream_src *src)
{
	while (!src->over && stream_fill(src) > 0)
		;
}

int tar_read_stream(int fd, const struct tar_limits *lim, unsigned long long max_input,
		    int (*allowed)(const char *name, void *cb_data), tar_entry_fn *fn,
		    void *cb_data, struct strbuf *why)
{
	size_t max_entries = lim && lim->max_entries ? lim->max_entries : TAR_MAX_ENTRIES;
	size_t max_size = lim && lim->max_entry_size ? lim->max_entry_size : TAR_MAX_ENTRY_SIZE;
	struct stream_src *src = xcalloc(1, sizeof(*src));
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	struct hashmap seen = HASHMAP_INIT;
	struct strlist names = STRLIST_INIT;
	size_t nr = 0;
	int r, ret = -1;

	if (!a)
		msg_fatal("out of memory");
	src->fd = fd;
	src->max = max_input;
	archive_read_support_format_tar(a);
	archive_read_support_filter_none(a);
	if (archive_read_open(a, src, NULL, stream_read, NULL) != ARCHIVE_OK) {
		fail(why, a, "not a tar archive");
		goto done;
	}
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *name = NULL;
		struct tar_file f;
		la_int64_t size;
		int stop;

		if (entry_check(e, nr, max_entries, max_size, allowed, cb_data, &seen, &name,
				&size, why) < 0)
			goto done;
		memset(&f, 0, sizeof(f));
		if (read_data(a, name, (size_t)size, max_size, max_size, &f, why) < 0)
			goto done;
		if (f.len != (size_t)size) {
			wipe(f.data, f.len);
			free(f.data);
			entry_fail(why, name, "truncated or damaged archive");
			goto done;
		}
		strlist_add(&names, name);
		hashmap_put(&seen, names.items[names.nr - 1], (void *)1);
		nr++;
		f.name = (char *)name;
		stop = fn(cb_data, &f);
		if (f.data) {
			wipe(f.data, f.len);
			free(f.data);
		}
		if (stop) {
			ret = TAR_STOPPED;
			goto done;
		}
	}
	if (r != ARCHIVE_EOF) {
		fail(why, a, nr || r == ARCHIVE_FATAL ? "truncated or damaged archive"
						      : "not a tar archive");
		goto done;
	}
	ret = 0;
done:
	archive_read_free(a);
	/* The rest (padding, or what follows a refused entry) is read too,
	 * so that the writer can finish and its signature be checked. */
	stream_drain(src);
	if (src->over) {
		strbuf_reset(why);
		strbuf_addf(why, "over %llu GiB once decrypted", max_input >> 30);
		ret = TAR_OVER;
	}
	hashmap_clear(&seen);
	strlist_clear(&names);
	free(src);
	return ret;
}
