#ifndef SEAL_H
#define SEAL_H
#include <stddef.h>
#include "../util/strbuf.h"

/*
 * The libgcrypt wrapper: hashes, keyed hashes, randomness, and sealing
 * (authenticated encryption) of data at rest.
 *
 * SECURITY: holds the node's data key in memory (locked, wiped on release).
 *
 * Sealed format (all of it authenticated):
 *
 *   "MMS1"  4 bytes magic and version
 *   nonce   12 bytes, random per seal
 *   ct      ciphertext, as long as the plaintext
 *   tag     16 bytes (AES-256-GCM)
 *
 * The associated data `aad` (e.g. "record:R2026-000001") binds a sealed
 * file to its role and name, so a sealed file moved or renamed to stand
 * for another one does not open.
 */
#define SEAL_KEY_LEN 32
#define SEAL_OVERHEAD (4 + 12 + 16)
#define SHA256_LEN 32

void seal_init(void);  /* once, before anything else here */

void sha256(const void *data, size_t len, unsigned char out[SHA256_LEN]);
/* Lowercase hex SHA-256 appended to out. */
void sha256_hex(const void *data, size_t len, struct strbuf *out);
void hmac_sha256(const unsigned char *key, size_t keylen, const void *data, size_t len,
		 unsigned char out[SHA256_LEN]);
/*
 * The program's one random source (libgcrypt's): random_bytes() for keys,
 * random_nonce() for nonces, claim tokens, Message-IDs, boundaries and
 * request-ids.
 */
void random_bytes(void *buf, size_t len);  /* strong randomness */
void random_nonce(void *buf, size_t len);  /* for nonces and names */
void wipe(void *buf, size_t len);          /* that the compiler keeps */

/* Append the sealed form of in to out. 0, or -1 (libgcrypt failure, reported). */
int seal(const unsigned char key[SEAL_KEY_LEN], const char *aad, const void *in,
	 size_t len, struct strbuf *out);
/*
 * Seal buf's contents in place (the sealed form replaces the plaintext,
 * no second copy is made). 0; or -1 (reported), buf wiped and emptied.
 */
int seal_in_place(const unsigned char key[SEAL_KEY_LEN], const char *aad, struct strbuf *buf);
/*
 * Seal in[0..len) into a new buffer of just the sealed size (*out,
 * malloc'ed, *outlen bytes), encrypting straight from in: no other copy
 * of the plaintext is made. 0; or -1 (reported), *out NULL.
 */
int seal_to(const unsigned char key[SEAL_KEY_LEN], const char *aad, const void *in,
	    size_t len, char **out, size_t *outlen);

/*
 * Seal a stream, for data too large to hold twice (the registry index):
 * fill() appends the next plaintext to chunk and returns 1, or 0 at the
 * end (-1: fail); out() is given the sealed bytes in order (the same
 * format as seal()) and returns 0 or -1. Plaintext is wiped from chunk
 * once sealed. 0, or -1 (a libgcrypt failure reported; a callback's own).
 */
typedef int seal_fill_fn(void *ctx, struct strbuf *chunk);
typedef int seal_out_fn(void *ctx, const void *data, size_t len);
int seal_stream(const unsigned char key[SEAL_KEY_LEN], const char *aad, seal_fill_fn *fill,
		seal_out_fn *out, void *ctx);

/*
 * Append the plaintext to out. -1 when the data is not sealed, truncated,
 * altered, or sealed under another key or aad (no message is printed: the
 * caller says what it was opening).
 */
int unseal(const unsigned char key[SEAL_KEY_LEN], const char *aad, const void *in,
	   size_t len, struct strbuf *out);
/* Unseal buf's contents in place. 0; or -1 as unseal(), buf wiped and emptied. */
int unseal_in_place(const unsigned char key[SEAL_KEY_LEN], const char *aad, struct strbuf *buf);

#endif
