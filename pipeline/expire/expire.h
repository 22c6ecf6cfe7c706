#ifndef EXPIRE_H
#define EXPIRE_H
#include "../commands.h"

/*
 * expire - the lifecycle rules of mimamori-expire(1), applied at clock_today():
 *
 *  - an active record on or after its expiry date is destroyed
 *    (registry_destroy(), reason "expired": a tombstone stays);
 *  - every destroyed record (expired, cancelled, or deleted by a bundle)
 *    is purged from the spool files that may still hold it: outgoing
 *    bundles not yet collected (through the id lists export keeps in
 *    work/bundles/, see exchange/exchange.h) and, when the alert store
 *    exists, its alerts and their queued mails;
 *  - a record of this node's own (not an imported copy) within
 *    retention/@reminder of its expiry gets one reminder mail to its
 *    intake center's address, once per expiry date (reg_entry.reminded);
 *  - alert data is destroyed retention/@alert-data after its alert
 *    closed; an alert open for more than 30 days is closed and destroyed.
 *
 * Prints "destroyed ID REASON", "reminded ID", "closed ALERT-ID" lines.
 * Returns a sysexits code (0 when everything was done).
 */
int expire_run(struct context *ctx);

/* Days after which an alert that was never closed is closed and destroyed. */
#define EXPIRE_ALERT_MAX_OPEN_DAYS 30

#endif
