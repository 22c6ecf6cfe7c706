#ifndef FETCH_H
#define FETCH_H
#include "../commands.h"
#include "../lib/imap.h"

/*
 * The fetch stage (fetch.c): cmd_fetch() copies new mail from the IMAP
 * mailbox of the config into inbox/new.
 */

/*
 * For `watch`: a second session on the configured mailbox (password file
 * checked, logged in, mailbox selected) left in IDLE, so that new mail
 * can be noticed as it arrives (imap_idle_fd()) and fetched with
 * cmd_fetch(). Returns 0 with *out set; a sysexits code (reported) when
 * the mailbox cannot be opened; -1 (reported) when the server does not
 * offer IDLE. Without <imap> in the config, returns 0 with *out NULL.
 */
int fetch_idle_open(struct context *ctx, struct imap **out);

#endif
