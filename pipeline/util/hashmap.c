/*
 * hashmap - string-keyed open-addressing hash table (FNV-1a, linear
 * probing, tombstones, grown at 70% load). A slot is two pointers: a
 * removed entry's key is the address of `tombstone`, so that the 100,000
 * entries of a large registry's two maps take 4 MB each, not 6.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "hashmap.h"
#include "xalloc.h"

struct hashmap_slot {
	const char *key;  /* NULL: empty; tombstone: removed */
	void *value;
};

static const char tombstone[1];

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static struct hashmap_slot *find(const struct hashmap *map, const char *key)
{
	size_t i, mask = map->size - 1;

	if (!map->size)
		return NULL;
	for (i = hash_str(key) & mask;; i = (i + 1) & mask) {
		struct hashmap_slot *s = &map->slots[i];

		if (!s->key)
			return NULL;
		if (s->key != tombstone && !strcmp(s->key, key))
			return s;
	}
}

void *hashmap_get(const struct hashmap *map, const char *key)
{
	struct hashmap_slot *s = find(map, key);

	return s ? s->value : NULL;
}

static void grow(struct hashmap *map)
{
	struct hashmap_slot *old = map->slots;
	size_t i, oldsize = map->size;

	map->size = oldsize ? oldsize * 2 : 64;
	while (map->nr * 10 >= map->size * 5)
		map->size *= 2;
	map->slots = xcalloc(map->size, sizeof(*map->slots));
	map->nr = map->used = 0;
	for (i = 0; i < oldsize; i++)
		if (old[i].key && old[i].key != tombstone)
			hashmap_put(map, old[i].key, old[i].value);
	free(old);
}

void hashmap_put(struct hashmap *map, const char *key, void *value)
{
	struct hashmap_slot *s = find(map, key);
	size_t i, mask;

	if (s) {
		s->key = key;
		s->value = value;
		return;
	}
	if ((map->used + 1) * 10 >= map->size * 7)
		grow(map);
	mask = map->size - 1;
	for (i = hash_str(key) & mask; map->slots[i].key && map->slots[i].key != tombstone;
	     i = (i + 1) & mask)
		;
	if (!map->slots[i].key)
		map->used++;
	map->slots[i].key = key;
	map->slots[i].value = value;
	map->nr++;
}

void hashmap_remove(struct hashmap *map, const char *key)
{
	struct hashmap_slot *s = find(map, key);

	if (!s)
		return;
	s->key = tombstone;
	s->value = NULL;
	map->nr--;
}

void hashmap_clear(struct hashmap *map)
{
	free(map->slots);
	map->slots = NULL;
	map->size = map->nr = map->used = 0;
}
