#ifndef DELIVER_REPORT_H
#define DELIVER_REPORT_H
#include "deliver.h"
#include "../core/queue.h"

/*
 * The failure report of a finished queue entry whose envelope asks for
 * one (`report FPR`): a mail to that operator's configured address,
 * signed by the node and encrypted to the operator's key, naming each
 * failed recipient with the relay's last reply. It is added to batch b
 * (queued when b is committed) as QID-report; that QID goes to qid. When
 * QID-report is queued already (a run killed between queueing it and
 * removing the entry), nothing is added and qid is "". The report itself
 * asks for no report. 0, or -1 (reported). An operator missing from the
 * config is warned about and no report is made (0, qid "").
 */
int deliver_report_add(struct context *ctx, struct spool_batch *b, const struct qentry *e,
		       size_t sent, char *qid);

#endif
