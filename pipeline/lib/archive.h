#ifndef ARCHIVE_WRAP_H
#define ARCHIVE_WRAP_H
#include <stddef.h>
#include "../util/hashmap.h"
#include "../util/strbuf.h"

/*
 * The libarchive wrapper: the only module that includes <archive.h>.
 *
 * Bundles between agencies are pax tar archives made and read in memory:
 * nothing from an archive is ever extracted to the disk.
 *
 * SECURITY: tar_read() parses archives made by other agencies (hostile
 * until proven otherwise). It accepts regular files only, with names that
 * are relative, free of "." and ".." and empty components, and allowed by
 * the caller; every entry, its size and the total are capped.
 */

/* The largest archive content we accept (mimamori-import(1)). */
#define TAR_MAX_ENTRIES     100000
#define TAR_MAX_TOTAL       ((size_t)4 << 30)
#define TAR_MAX_ENTRY_SIZE  ((size_t)512 << 20)

/* One file of an archive. */
struct tar_file {
	char *name;
	char *data;    /* NUL-terminated for convenience; len bytes */
	size_t len;
	int mark;      /* free for the caller's use, 0 after tar_read() */
};

/* Files read from an archive, owned by it. */
struct tar_contents {
	struct tar_file *files;
	size_t nr, alloc;
	struct hashmap by_name;   /* name -> position + 1 */
};
#define TAR_CONTENTS_INIT { NULL, 0, 0, HASHMAP_INIT }
/* Wipe and free what was read. */
void tar_contents_release(struct tar_contents *c);
/* The file named name, or NULL. */
struct tar_file *tar_contents_find(const struct tar_contents *c, const char *name);

struct tar_limits {
	size_t max_entries;     /* 0: TAR_MAX_ENTRIES */
	size_t max_entry_size;  /* 0: TAR_MAX_ENTRY_SIZE */
	size_t max_total;       /* 0: TAR_MAX_TOTAL */
};

/*
 * Append a pax tar archive of the files (name, data, len; regular files,
 * mode 0600, owner 0, modification time mtime) to out. 0, or -1 with the
 * reason in why.
 */
int tar_create(const struct tar_file *files, size_t nr, long long mtime,
	       struct strbuf *out, struct strbuf *why);

/*
 * The same archive written as a stream to fd, one file at a time:
 * tar_writer_open(), tar_writer_add() for each file, tar_writer_close()
 * (finish 0: give up, the archive is left incomplete; the writer is freed
 * either way). 0, or -1 with the reason in why.
 */
struct tar_writer;
int tar_writer_open(int fd, long long mtime, struct tar_writer **w, struct strbuf *why);
int tar_writer_add(struct tar_writer *w, const char *name, const void *data, size_t len,
		   struct strbuf *why);
int tar_writer_close(struct tar_writer *w, int finish, struct strbuf *why);

/*
 * Read the tar archive in buf (len bytes) into out, within lim (NULL: the
 * caps above), accepting only regular files whose name passes the checks
 * above and allowed(name, cb_data) (NULL: any safe name). Returns 0; or
 * -1 with a one-line reason naming the entry in why ("entry '../x': not a
 * relative path inside the bundle", "entry 'a': a symbolic link", "truncated
 * archive") and out left empty.
 */
int tar_read(const void *buf, size_t len, const struct tar_limits *lim,
	     int (*allowed)(const char *name, void *cb_data), void *cb_data,
	     struct tar_contents *out, struct strbuf *why);

/*
 * Read a tar archive as a stream from fd, one entry in memory at a time:
 * each entry passing the checks of tar_read() is handed to fn (name, data
 * and len; the data is wiped and freed after, unless fn keeps it: it then
 * sets f->data to NULL, and wipes and frees it itself), which returns 0
 * to go on or non-zero to stop. The name lives until the reading ends. Entry names may not repeat. Whatever way it ends,
 * the rest of the stream is read and thrown away, so the writer can
 * finish; every byte counts against max_input.
 *
 * Returns 0 at the end of a good archive; TAR_STOPPED when fn said stop;
 * TAR_OVER (why: "over N GiB once decrypted") when the stream was longer
 * than max_input, whatever else happened; -1 with the reason in why.
 */
#define TAR_STOPPED  1
#define TAR_OVER     (-2)
typedef int tar_entry_fn(void *cb_data, struct tar_file *f);
int tar_read_stream(int fd, const struct tar_limits *lim, unsigned long long max_input,
		    int (*allowed)(const char *name, void *cb_data), tar_entry_fn *fn,
		    void *cb_data, struct strbuf *why);

/* Whether name is a safe relative path: no leading '/', no empty, "." or
 * ".." component. */
int tar_name_is_safe(const char *name);

#endif
