#ifndef GPG_INT_H
#define GPG_INT_H
#include <gpgme.h>
#include "gpg.h"

/*
 * What gpg.c (the context, keys, signatures, encryption in memory) and
 * gpg_stream.c (streamed decryption and encryption) share. Inside lib/
 * only: nothing else includes <gpgme.h>.
 */

/* The context of gpg_init() (NULL before it) and its GnuPG home. */
gpgme_ctx_t gpg_context(void);
const char *gpg_home(void);
/* -1 with a reason when gpg_init() was not called. */
int gpg_need_ctx(struct strbuf *why);
/* A full v4 (40) or v5 (64) hex fingerprint: never a name or a short id. */
int gpg_is_fpr(const char *s);
/*
 * The outcome of a decryption on the context that returned err: 0 with
 * the signatures in sigs, or -1 with the reason. No plaintext may be used
 * after -1.
 */
int gpg_decrypt_outcome(gpgme_error_t err, struct gpg_sigs *sigs, struct strbuf *why);

#endif
