#ifndef FILEIO_H
#define FILEIO_H
#include <sys/types.h>
#include <stddef.h>

/* Write all of buf, retrying on EINTR and short writes. 0 or -1/errno. */
int write_full(int fd, const void *buf, size_t len);
/* fsync() a directory so that renames and unlinks in it are durable. */
int fsync_dir(const char *dir);
/* mkdir -p with the given mode for every folder it creates. */
int mkdir_p(const char *path, mode_t mode);
/* "a" + "/" + "b", freshly allocated. */
char *path_join(const char *a, const char *b);
/* The folder part of path, freshly allocated ("." when there is none). */
char *path_dirname(const char *path);
/* The part after the last slash (a pointer into path). */
const char *path_basename(const char *path);
/*
 * Whether name can be used as one file name inside a spool folder: not
 * empty, at most 200 bytes, no slash, no control character, and not
 * starting with a dot (dot files are the program's temporary files).
 */
int name_is_safe(const char *name);

/*
 * A sorted list of strings (file names, ids). Items are owned by the list.
 */
struct strlist {
	char **items;
	size_t nr, alloc;
};
#define STRLIST_INIT { NULL, 0, 0 }
void strlist_add(struct strlist *l, const char *s);
void strlist_sort(struct strlist *l);
int strlist_has(const struct strlist *l, const char *s); /* l must be sorted */
void strlist_clear(struct strlist *l);

/*
 * The names in folder dir that are regular files (or anything, when
 * want_all), without dot files, sorted. A missing folder is an empty list.
 */
int dir_list(const char *dir, struct strlist *out, int want_all);

#endif
