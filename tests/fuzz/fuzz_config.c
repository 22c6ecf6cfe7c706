/*
 * fuzz_config - the configuration loader: config_load() of a file (the
 * input, written to a temporary file) against config.xsd and its value
 * checks, then the lookups every command makes (agencies by id and name,
 * operators, wards, pledges).
 *
 * The config is written by the installation's administrator, not by an
 * outsider, but a typo must give a problem line (exit 78), never a crash.
 * Invariants (FUZZ_CHECK): a config that does not load has at least one
 * problem line; one that loads has a node agency among its agencies.
 */
#include <string.h>
#include <unistd.h>
#include "fuzz.h"
#include "core/config.h"
#include "util/fileio.h"

static char path[64];

static void remove_file(void)
{
	unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg;
	struct strbuf problems = STRBUF_INIT;
	FILE *f;
	size_t i, j;

	fuzz_setup();
	if (!path[0]) {
		snprintf(path, sizeof(path), "/tmp/fuzz-config-%ld.xml", (long)getpid());
		atexit(remove_file);
	}
	f = fopen(path, "w");
	FUZZ_CHECK(f);
	FUZZ_CHECK(fwrite(data, 1, size, f) == size);
	FUZZ_CHECK(fclose(f) == 0);
	memset(&cfg, 0, sizeof(cfg));
	if (config_load(&cfg, path, &problems) < 0) {
		FUZZ_CHECK(problems.len > 0);
	} else {
		FUZZ_CHECK(cfg.self && config_agency(&cfg, cfg.self->id) == cfg.self);
		for (i = 0; i < cfg.nr_agencies; i++) {
			const struct agency *a = &cfg.agencies[i];

			FUZZ_CHECK(config_agency(&cfg, a->id) != NULL);
			FUZZ_CHECK(config_agency_by_name(&cfg, a->name) != NULL);
			for (j = 0; j < cfg.wards.nr; j++)
				wards_has(&a->wards, cfg.wards.items[j]);
		}
		for (i = 0; i < cfg.nr_operators; i++)
			FUZZ_CHECK(config_operator(&cfg, cfg.operators[i].key) != NULL);
		for (i = 0; i < cfg.nr_lists; i++)
			for (j = 0; j < cfg.lists[i].nr_members; j++)
				member_pledged(&cfg.lists[i].members[j], clock_today());
	}
	config_release(&cfg);
	strbuf_release(&problems);
	return 0;
}
