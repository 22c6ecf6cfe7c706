/*
 * exchange - the proof of replication (mimamori-exchange(1)): one line
 * per other agency with the last bundle written to it and its day, the
 * last one it acknowledged and the day that receipt came, the records
 * and deletions it has not acknowledged, and the days since the oldest
 * destruction it has not acknowledged. --csv: the same with a header.
 *
 * Reads the registry's index only (no record is decrypted); prints ids
 * of agencies, numbers and dates, never personal data.
 */
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include "exchange.h"
#include "../commands.h"
#include "../core/audit.h"
#include "../util/clock.h"
#include "../util/msg.h"
#include "../util/timeutil.h"

static void day_or_dash(struct registry *reg, const char *prefix, const char *agency,
			char *out)
{
	if (exchange_state_str(reg, prefix, agency))
		date_format(exchange_state_long(reg, prefix, agency), out);
	else
		strcpy(out, "-");
}

int cmd_exchange(int argc, char **argv, struct context *ctx)
{
	const struct config *cfg = &ctx->cfg;
	struct registry *reg;
	long today = clock_today();
	int csv = 0;
	size_t i;

	if (argc == 2 && !strcmp(argv[1], "--csv"))
		csv = 1;
	else if (argc != 1) {
		fprintf(stderr, "usage: mimamori exchange [--csv]\n");
		return EX_USAGE;
	}
	if (registry_open(&reg, cfg, &ctx->spool, 0) < 0)
		return EX_SOFTWARE;
	if (csv)
		printf("agency,written,written-date,acknowledged,acknowledged-date,"
		       "records-pending,deletions-pending,oldest-deletion-days\n");
	else
		printf("%-20s %8s %-10s %8s %-10s %8s %9s %6s\n", "agency", "written", "date",
		       "acked", "date", "records", "deletions", "oldest");
	for (i = 0; i < cfg->nr_agencies; i++) {
		const struct agency *a = &cfg->agencies[i];
		struct exchange_pending p;
		char wdate[11], adate[11], oldest[24];

		if (a == cfg->self)
			continue;
		day_or_dash(reg, "export-date", a->id, wdate);
		day_or_dash(reg, "ack-date", a->id, adate);
		exchange_pending(reg, a, &p);
		if (p.oldest_destroyed < 0)
			strcpy(oldest, "-");
		else
			snprintf(oldest, sizeof(oldest), "%ld", today - p.oldest_destroyed);
		printf(csv ? "%s,%ld,%s,%ld,%s,%zu,%zu,%s\n" :
			     "%-20s %8ld %-10s %8ld %-10s %8zu %9zu %6s\n",
		       a->id, exchange_state_long(reg, "export-n", a->id), wdate,
		       exchange_state_long(reg, "ack-n", a->id), adate, p.records, p.deletions,
		       oldest);
	}
	audit_add("exchange", "agencies=%zu", cfg->nr_agencies - 1);
	registry_close(reg);
	return 0;
}
