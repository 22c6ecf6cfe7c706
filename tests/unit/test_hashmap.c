/*
 * test_hashmap - util/hashmap.c: put, get, replace and remove, through
 * growth and tombstones, against a plain array of what should be there.
 */
#include "unit.h"
#include "util/hashmap.h"

#define KEYS 5000

static char keys[KEYS][16];
static int present[KEYS];   /* what the map should hold: value i + 1, or 0 */

static int check_all(const struct hashmap *map)
{
	size_t i, live = 0;

	for (i = 0; i < KEYS; i++) {
		void *v = hashmap_get(map, keys[i]);

		if (present[i] ? v != (void *)&present[i] : v != NULL) {
			fprintf(stderr, "  key %s: got %p\n", keys[i], v);
			return 0;
		}
		live += present[i] != 0;
	}
	return map->nr == live;
}

TEST(put_get_remove_through_growth)
{
	struct hashmap map = HASHMAP_INIT;
	unsigned seed = 20261122;
	size_t i, round;

	for (i = 0; i < KEYS; i++)
		snprintf(keys[i], sizeof(keys[i]), "R2026-%06zu", i);
	CHECK(hashmap_get(&map, keys[0]) == NULL);
	for (round = 0; round < 200000; round++) {
		seed = seed * 1103515245 + 12345;
		i = (seed >> 8) % KEYS;
		if ((seed >> 4) % 3) {
			hashmap_put(&map, keys[i], &present[i]);
			present[i] = 1;
		} else {
			hashmap_remove(&map, keys[i]);
			present[i] = 0;
		}
		if (round % 20000 == 0 && !check_all(&map)) {
			CHECK(0);
			break;
		}
	}
	CHECK(check_all(&map));
	/* Removed slots are reused: the table does not grow without end. */
	CHECK(map.size <= 16384);
	hashmap_clear(&map);
	CHECK(hashmap_get(&map, keys[1]) == NULL && map.nr == 0);
}

TEST(replace_keeps_one_entry)
{
	struct hashmap map = HASHMAP_INIT;
	static char a[] = "same", b[] = "same";
	int x, y;

	hashmap_put(&map, a, &x);
	hashmap_put(&map, b, &y);
	CHECK_INT(map.nr, 1);
	CHECK(hashmap_get(&map, "same") == &y);
	hashmap_remove(&map, "same");
	CHECK(map.nr == 0 && hashmap_get(&map, "same") == NULL);
	hashmap_remove(&map, "same");
	CHECK_INT(map.nr, 0);
	hashmap_clear(&map);
}

UNIT_MAIN(T(put_get_remove_through_growth), T(replace_keeps_one_entry))
