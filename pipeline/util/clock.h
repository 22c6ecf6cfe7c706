#ifndef CLOCK_H
#define CLOCK_H
#include <time.h>

/*
 * The clock every time-dependent rule reads: the real time, or the instant
 * given with --now (drills, replays, tests).
 */
void clock_set(time_t t);
time_t clock_now(void);
/* Today's date in Japan (days since the epoch, see util/timeutil.h). */
long clock_today(void);

#endif
