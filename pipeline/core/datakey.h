#ifndef DATAKEY_H
#define DATAKEY_H
#include "../lib/seal.h"
#include "spool.h"
#include "config.h"

/*
 * The node's data key: 32 random bytes that seal everything the node keeps
 * at rest (lib/seal.h). It is stored only as registry/datakey.gpg,
 * encrypted with GnuPG to the node's own pinned key, so the registry opens
 * only where that key's secret part is. One gpg operation per process.
 *
 * datakey_get() unwraps it (making a new one on first use, when the
 * registry is still empty) and keeps it in locked memory until exit.
 */
int datakey_get(const struct config *cfg, const struct spool *sp,
		const unsigned char **key);

#endif
