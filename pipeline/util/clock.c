/*
 * clock - the program's notion of "now" (real, or set with --now).
 */
#include "clock.h"
#include "timeutil.h"

static time_t fixed;
static int is_fixed;

void clock_set(time_t t)
{
	fixed = t;
	is_fixed = 1;
}

time_t clock_now(void)
{
	return is_fixed ? fixed : time(NULL);
}

long clock_today(void)
{
	return date_of(clock_now());
}
