#ifndef HASHMAP_H
#define HASHMAP_H
#include <stddef.h>

/*
 * A map from NUL-terminated string keys to pointers, open addressing.
 * Keys are not copied: they must live as long as their entry (usually the
 * key is a field of the value).
 */
struct hashmap {
	struct hashmap_slot *slots;
	size_t size;   /* a power of two, or 0 */
	size_t nr;     /* live entries */
	size_t used;   /* live + deleted slots */
};
#define HASHMAP_INIT { NULL, 0, 0, 0 }

void *hashmap_get(const struct hashmap *map, const char *key);
/* Insert or replace. */
void hashmap_put(struct hashmap *map, const char *key, void *value);
void hashmap_remove(struct hashmap *map, const char *key);
void hashmap_clear(struct hashmap *map);

#endif
