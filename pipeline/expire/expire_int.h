#ifndef EXPIRE_INT_H
#define EXPIRE_INT_H
#include "../commands.h"
#include "../util/fileio.h"

/*
 * The parts of expire shared between its files (not for other stages).
 */

/*
 * Step 4 of expire (expire.c): in the alert store, destroy the alerts of
 * registrations that are not in `active` (sorted ids of the active
 * records), close and destroy alerts open for more than
 * EXPIRE_ALERT_MAX_OPEN_DAYS, destroy closed alerts retention/@alert-data
 * after they closed; then remove the queued mails of every destroyed
 * alert. Prints "closed ID" and "destroyed ID alert-data" lines. 0, or -1
 * (reported).
 */
int expire_alerts(struct context *ctx, const struct strlist *active, size_t *destroyed);

/*
 * Step 5 of expire (expire_rejected.c): remove each input of rejected/,
 * with its reason, retention/@rejected after its rejection on the
 * program's clock. Prints "removed rejected/NAME rejected DATE" lines.
 * 0, or -1 (reported).
 */
int expire_rejected(struct context *ctx, size_t *removed);

#endif
