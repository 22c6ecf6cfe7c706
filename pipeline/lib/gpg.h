#ifndef GPG_H
#define GPG_H
#include <stddef.h>
#include <time.h>
#include "../util/strbuf.h"

/*
 * The GPGME wrapper: the only module that includes <gpgme.h>.
 *
 * SECURITY: decides whether data is signed by a pinned key. Keys are
 * pinned by full fingerprint and never looked up on the network
 * (auto-key-retrieve off, no keyserver). Every signature check returns the
 * signatures found, so callers can demand exactly one.
 *
 * Functions return 0 or -1 with a one-line reason in `why` (no prefix).
 */

/* Use GnuPG home dir (absolute path). Once, before any other call. */
int gpg_init(const char *homedir, struct strbuf *why);
void gpg_release(void);

/* Whether fpr names a key in the keyring usable for encryption (and, with
 * secret, one whose secret part is here and can sign). */
int gpg_key_check(const char *fpr, int secret, struct strbuf *why);

/*
 * Look key fpr (and its subkeys, by which signatures name it) up ahead,
 * so that worker processes forked after it find it in the key cache
 * instead of each running gpg again (core/supervise.c). Silent.
 */
void gpg_key_warm(const char *fpr, int secret);

/*
 * Whether key fpr is in the keyring but has expired or was revoked (the
 * key, or every encryption subkey it has): an operator or agency whose
 * key lapsed, not a broken configuration.
 */
int gpg_key_lapsed(const char *fpr);

/*
 * The life of key fpr, for warnings ahead of time: when it stops being
 * usable to encrypt to (the earlier of its primary key's expiry and the
 * last expiry of its encryption subkeys; 0: never), and whether it has
 * expired or been revoked already (by gpg's own clock). An expired or
 * revoked key is described too. -1 with a reason when it is not in the
 * keyring.
 */
struct gpg_key_life {
	time_t expires;
	int expired;
	int revoked;
};
int gpg_key_life(const char *fpr, struct gpg_key_life *life, struct strbuf *why);

/*
 * Whether the secret part of key fpr is in the GnuPG home (its file under
 * private-keys-v1.d/) but gpg cannot use it now: gpg-agent was killed,
 * cannot be started or cannot be reached. Callers use it to tell a
 * temporary failure (exit 69, inputs left where they are) from a bad
 * input or a configuration error.
 */
int gpg_agent_down(const char *fpr);

/*
 * Encrypt to exactly the given recipients (full fingerprints, NULL
 * terminated; no default recipients, no "encrypt-to"), optionally signing
 * with signer_fpr (NULL: no signature). Binary output.
 */
int gpg_encrypt(const char *const *recipients, const char *signer_fpr, const void *in,
		size_t len, struct strbuf *out, struct strbuf *why);

struct gpg_sig {
	char fpr[64];          /* fingerprint of the signing (sub)key */
	char primary_fpr[64];  /* fingerprint of its primary key, "" if unknown */
	int valid;             /* good: see sig_good() in gpg.c (pinning, not
				  the web of trust, decides whom we trust) */
	char status[128];      /* gpgme's status text, for reasons */
	time_t created;        /* the signature's creation time, 0 if unknown */
};

struct gpg_sigs {
	struct gpg_sig *sig;
	size_t nr;
	int was_encrypted;     /* the data was encrypted (decrypt only) */
	int integrity_ok;      /* MDC/AEAD present and good (decrypt only) */
};
void gpg_sigs_release(struct gpg_sigs *s);

/* Decrypt (and verify any signature inside). Plaintext appended to out. */
int gpg_decrypt(const void *in, size_t len, struct strbuf *out, struct gpg_sigs *sigs,
		struct strbuf *why);
/*
 * Decrypt as a stream, for data too large to hold: the file open at in_fd
 * is decrypted (and any signature inside verified) by a child process,
 * and *out_fd reads the plaintext as it comes. The caller reads what it
 * wants, closes *out_fd (early if it likes: the decryption then fails),
 * and calls gpg_decrypt_finish() once, which waits for the child and
 * gives the outcome as gpg_decrypt() does. Until it says 0, nothing read
 * may be believed: integrity and signatures are known only at the end.
 */
struct gpg_stream;
int gpg_decrypt_start(int in_fd, struct gpg_stream **s, int *out_fd, struct strbuf *why);
int gpg_decrypt_finish(struct gpg_stream *s, struct gpg_sigs *sigs, struct strbuf *why);

/*
 * Encrypt as a stream, for data too large to hold (gpg_encrypt()'s rules):
 * a child process (gpg) encrypts whatever is written to *in_fd into the
 * file open at out_fd. A key that cannot be used makes it fail: the
 * reason comes from gpg_encrypt_finish() (-1 from the start only when
 * nothing could be started). The caller writes, closes *in_fd
 * (the end of the data), then calls gpg_encrypt_finish() once: 0 when the
 * whole of it was encrypted and signed. Writes to *in_fd fail (EPIPE) if
 * the child gave up: callers ignore SIGPIPE.
 */
struct gpg_enc_stream;
int gpg_encrypt_start(const char *const *recipients, const char *signer_fpr, int out_fd,
		      struct gpg_enc_stream **s, int *in_fd, struct strbuf *why);
int gpg_encrypt_finish(struct gpg_enc_stream *s, struct strbuf *why);
/* Verify a detached signature over exactly the bytes of data. */
int gpg_verify_detached(const void *data, size_t len, const void *sig, size_t siglen,
			struct gpg_sigs *sigs, struct strbuf *why);
/* Detached ASCII-armoured signature over data by signer_fpr. */
int gpg_sign_detached(const char *signer_fpr, const void *data, size_t len,
		      struct strbuf *sig, struct strbuf *why);

/*
 * The hash algorithm of the signature the last gpg_sign_detached() made,
 * as RFC 3156's micalg wants it after "pgp-" ("sha256", "sha512"), or
 * NULL when there is none.
 */
const char *gpg_last_sign_hash(void);

/*
 * Generate a passphrase-less ed25519/cv25519 key pair for uid (demo and
 * test installations only) and put its fingerprint in fpr.
 */
int gpg_generate_key(const char *uid, struct strbuf *fpr, struct strbuf *why);
/* ASCII-armoured public key of fpr appended to out. */
int gpg_export_public(const char *fpr, struct strbuf *out, struct strbuf *why);
/* Import keys (public or secret) from data. */
int gpg_import(const void *data, size_t len, struct strbuf *why);

#endif
