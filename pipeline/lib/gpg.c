/*
 * gpg - the GPGME wrapper: encryption, decryption, signatures and the few
 * key operations the program needs, on the GnuPG home dir named in the
 * config. The only file that includes <gpgme.h>. Reads and writes only the
 * keyring (through gpg) and memory.
 *
 * SECURITY: this module decides whether data comes from a pinned key and
 * who can read what we send. Keys are named only by full fingerprint and
 * checked to be primary keys, so no user id or short key id ever selects
 * a key. Key listings are local, gpg runs with --disable-dirmngr (offline
 * mode), so nothing is looked up on the network whatever gpg.conf says.
 * Encryption goes to exactly the given keys (no encrypt-to, no default
 * recipient). The pinentry is never asked: loopback mode without a
 * passphrase callback makes a protected key an error. Decryption without
 * integrity protection (no MDC, no AEAD) is an error, and no plaintext of
 * a failed decryption is handed out. Plaintext is written straight into
 * the caller's buffer and wiped there on failure.
 *
 * GPGME ignores SIGPIPE for the whole process once initialised. The
 * streamed decryption and encryption are in gpg_stream.c.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <gpgme.h>
#include "gpg.h"
#include "gpg_int.h"
#include "seal.h"
#include "../util/xalloc.h"

#define GPGME_MIN_VERSION "1.13.0"
#define GPG_MIN_VERSION "2.2.0"

static gpgme_ctx_t ctx;
static char *home;   /* the GnuPG home of gpg_init() */

/*
 * Keys looked up recently: each lookup runs gpg once (about 10 ms), and a
 * signed encryption or a signature check needs two. Entries live a minute
 * (revocations imported by another process are seen after that) and all
 * go when we change the keyring ourselves. Failed lookups are not kept.
 */
#define KEY_CACHE_MAX 32
#define KEY_CACHE_TTL 60
static struct cached_key {
	char name[72];
	int secret;
	gpgme_key_t key;
	time_t when;
} key_cache[KEY_CACHE_MAX];
static size_t key_cache_nr;

/* A full v4 (40) or v5 (64) hex fingerprint: never a name or a short id. */
int gpg_is_fpr(const char *s)
{
	size_t n = 0;

	if (!s)
		return 0;
	for (; s[n]; n++)
		if (!isxdigit((unsigned char)s[n]))
			return 0;
	return n == 40 || n == 64;
}

int gpg_need_ctx(struct strbuf *why)
{
	if (!ctx)
		return strbuf_fail(why, "gpg_init() was not called");
	return 0;
}

gpgme_ctx_t gpg_context(void)
{
	return ctx;
}

const char *gpg_home(void)
{
	return home;
}

/* Whether dotted version v is at least min (major.minor.micro). */
static int version_at_least(const char *v, const char *min)
{
	int a[3] = { 0, 0, 0 }, b[3] = { 0, 0, 0 }, i;

	if (!v || sscanf(v, "%d.%d.%d", &a[0], &a[1], &a[2]) < 1)
		return 0;
	sscanf(min, "%d.%d.%d", &b[0], &b[1], &b[2]);
	for (i = 0; i < 3; i++)
		if (a[i] != b[i])
			return a[i] > b[i];
	return 1;
}

static void key_cache_drop(size_t i)
{
	gpgme_key_unref(key_cache[i].key);
	memmove(key_cache + i, key_cache + i + 1,
		(key_cache_nr - i - 1) * sizeof(*key_cache));
	key_cache_nr--;
}

static void key_cache_clear(void)
{
	while (key_cache_nr)
		key_cache_drop(key_cache_nr - 1);
}

static void cache_put(const char *name, int secret, gpgme_key_t key, time_t now)
{
	if (strlen(name) >= sizeof(key_cache->name))
		return;
	if (key_cache_nr == KEY_CACHE_MAX)
		key_cache_drop(0);
	snprintf(key_cache[key_cache_nr].name, sizeof(key_cache->name), "%s", name);
	key_cache[key_cache_nr].secret = secret;
	key_cache[key_cache_nr].when = now;
	gpgme_key_ref(key);
	key_cache[key_cache_nr++].key = key;
}

/* gpgme_get_key() through the cache; the caller unrefs *key. */
static gpgme_error_t lookup_key(const char *name, int secret, gpgme_key_t *key)
{
	time_t now = time(NULL);
	gpgme_error_t err;
	size_t i;

	for (i = 0; i < key_cache_nr; i++) {
		struct cached_key *c = &key_cache[i];

		if (c->secret != secret || strcasecmp(c->name, name))
			continue;
		if (now >= c->when && now - c->when < KEY_CACHE_TTL) {
			gpgme_key_ref(c->key);
			*key = c->key;
			return 0;
		}
		key_cache_drop(i);
		break;
	}
	*key = NULL;
	err = gpgme_get_key(ctx, name, key, secret);
	if (err || !*key)
		return err;
	cache_put(name, secret, *key, now);
	return 0;
}

void gpg_release(void)
{
	key_cache_clear();
	if (ctx) {
		gpgme_release(ctx);
		ctx = NULL;
	}
}

int gpg_init(const char *homedir, struct strbuf *why)
{
	gpgme_engine_info_t info;
	gpgme_error_t err;

	if (!homedir || homedir[0] != '/')
		return strbuf_fail(why, "the GnuPG home '%s' is not an absolute path",
			    homedir ? homedir : "");
	if (!gpgme_check_version(GPGME_MIN_VERSION))
		return strbuf_fail(why, "GPGME %s is older than %s", gpgme_check_version(NULL),
			    GPGME_MIN_VERSION);
	err = gpgme_engine_check_version(GPGME_PROTOCOL_OpenPGP);
	if (err)
		return strbuf_fail(why, "no usable gpg: %s", gpgme_strerror(err));
	if (mkdir(homedir, 0700) < 0 && errno != EEXIST)
		return strbuf_fail(why, "cannot create the GnuPG home '%s': %s", homedir,
			    strerror(errno));

	gpg_release();
	free(home);
	home = xstrdup(homedir);
	err = gpgme_new(&ctx);
	if (err) {
		ctx = NULL;
		return strbuf_fail(why, "cannot start GPGME: %s", gpgme_strerror(err));
	}
	err = gpgme_set_protocol(ctx, GPGME_PROTOCOL_OpenPGP);
	if (!err)
		err = gpgme_ctx_set_engine_info(ctx, GPGME_PROTOCOL_OpenPGP, NULL, homedir);
	if (!err)
		err = gpgme_set_keylist_mode(ctx, GPGME_KEYLIST_MODE_LOCAL);
	if (!err)
		err = gpgme_set_pinentry_mode(ctx, GPGME_PINENTRY_MODE_LOOPBACK);
	if (err) {
		gpg_release();
		return strbuf_fail(why, "cannot set up GPGME for '%s': %s", homedir,
			    gpgme_strerror(err));
	}
	gpgme_set_armor(ctx, 0);
	gpgme_set_textmode(ctx, 0);
	gpgme_set_offline(ctx, 1);  /* gpg --disable-dirmngr: no network at all */

	info = gpgme_ctx_get_engine_info(ctx);
	while (info && info->protocol != GPGME_PROTOCOL_OpenPGP)
		info = info->next;
	if (!info || !version_at_least(info->version, GPG_MIN_VERSION)) {
		gpg_release();
		return strbuf_fail(why, "gpg %s is older than %s",
			    info && info->version ? info->version : "(unknown)",
			    GPG_MIN_VERSION);
	}
	return 0;
}

/*
 * Look up the key whose primary fingerprint is fpr (with secret: its
 * secret listing). A subkey's fingerprint does not name a key here.
 */
static int get_key(const char *fpr, int secret, gpgme_key_t *key, struct strbuf *why)
{
	gpgme_error_t err;

	*key = NULL;
	if (!gpg_is_fpr(fpr))
		return strbuf_fail(why, "'%s' is not a full fingerprint", fpr ? fpr : "");
	err = lookup_key(fpr, secret, key);
	if (gpgme_err_code(err) == GPG_ERR_EOF)
		return strbuf_fail(why, "no %skey '%s' in the keyring", secret ? "secret " : "", fpr);
	if (err) {
		*key = NULL;
		return strbuf_fail(why, "cannot look up key '%s': %s", fpr, gpgme_strerror(err));
	}
	if (!(*key)->subkeys || !(*key)->subkeys->fpr ||
	    strcasecmp((*key)->subkeys->fpr, fpr)) {
		gpgme_key_unref(*key);
		*key = NULL;
		return strbuf_fail(why, "'%s' is not the fingerprint of a primary key", fpr);
	}
	return 0;
}

static int subkey_usable(gpgme_subkey_t s)
{
	return !s->revoked && !s->expired && !s->disabled && !s->invalid;
}

static int key_state(const char *fpr, gpgme_key_t key, struct strbuf *why)
{
	if (key->revoked)
		return strbuf_fail(why, "key '%s' is revoked", fpr);
	if (key->expired)
		return strbuf_fail(why, "key '%s' has expired", fpr);
	if (key->disabled)
		return strbuf_fail(why, "key '%s' is disabled", fpr);
	if (key->invalid)
		return strbuf_fail(why, "key '%s' is not valid", fpr);
	return 0;
}

static int can_encrypt(const char *fpr, gpgme_key_t key, struct strbuf *why)
{
	gpgme_subkey_t s;

	if (key_state(fpr, key, why))
		return -1;
	for (s = key->subkeys; s; s = s->next)
		if (s->can_encrypt && subkey_usable(s))
			return 0;
	return strbuf_fail(why, "key '%s' has no usable encryption key", fpr);
}

/* key is a secret listing. */
static int can_sign(const char *fpr, gpgme_key_t key, struct strbuf *why)
{
	gpgme_subkey_t s;

	if (key_state(fpr, key, why))
		return -1;
	for (s = key->subkeys; s; s = s->next)
		if (s->can_sign && s->secret && subkey_usable(s))
			return 0;
	return strbuf_fail(why, "key '%s' has no usable signing key with its secret part here", fpr);
}

int gpg_key_check(const char *fpr, int secret, struct strbuf *why)
{
	gpgme_key_t key;
	int ret;

	if (gpg_need_ctx(why) || get_key(fpr, 0, &key, why))
		return -1;
	ret = can_encrypt(fpr, key, why);
	gpgme_key_unref(key);
	if (ret || !secret)
		return ret;
	if (get_key(fpr, 1, &key, why))
		return -1;
	ret = can_sign(fpr, key, why);
	gpgme_key_unref(key);
	return ret;
}

int gpg_key_life(const char *fpr, struct gpg_key_life *life, struct strbuf *why)
{
	gpgme_key_t key;
	gpgme_subkey_t s;
	time_t last_enc = -1;
	int usable_enc = 0;

	memset(life, 0, sizeof(*life));
	if (gpg_need_ctx(why) || get_key(fpr, 0, &key, why))
		return -1;
	for (s = key->subkeys; s; s = s->next) {
		if (!s->can_encrypt || s->revoked || s->disabled || s->invalid)
			continue;
		if (!s->expired)
			usable_enc = 1;
		if (last_enc != 0)
			last_enc = s->expires ? (s->expires > last_enc ? s->expires : last_enc) : 0;
	}
	life->expires = key->subkeys->expires;
	if (last_enc > 0 && (!life->expires || last_enc < life->expires))
		life->expires = last_enc;
	life->revoked = key->revoked;
	life->expired = key->expired || (last_enc > 0 && !usable_enc);
	gpgme_key_unref(key);
	return 0;
}

int gpg_key_lapsed(const char *fpr)
{
	struct strbuf why = STRBUF_INIT;
	struct gpg_key_life life;
	int lapsed;

	lapsed = !gpg_key_life(fpr, &life, &why) && (life.expired || life.revoked);
	strbuf_release(&why);
	return lapsed;
}

int gpg_agent_down(const char *fpr)
{
	struct strbuf why = STRBUF_INIT, path = STRBUF_INIT;
	gpgme_keylist_mode_t mode;
	gpgme_key_t key = NULL;
	gpgme_error_t err;
	struct stat st;
	int down = 0;

	if (!ctx || !home || !gpg_is_fpr(fpr))
		return 0;
	/* The public key with its keygrips (not from the cache: those have none). */
	mode = gpgme_get_keylist_mode(ctx);
	gpgme_set_keylist_mode(ctx, mode | GPGME_KEYLIST_MODE_WITH_KEYGRIP);
	err = gpgme_get_key(ctx, fpr, &key, 0);
	gpgme_set_keylist_mode(ctx, mode);
	if (err || !key)
		return 0;
	if (key->subkeys && key->subkeys->keygrip) {
		strbuf_addf(&path, "%s/private-keys-v1.d/%s.key", home, key->subkeys->keygrip);
		if (stat(path.buf, &st) == 0) {
			/* The secret part is there: can gpg use it now (asked
			 * again, not from the cache)? */
			gpgme_key_t sec;
			size_t i;

			for (i = key_cache_nr; i-- > 0;)
				if (key_cache[i].secret && !strcasecmp(key_cache[i].name, fpr))
					key_cache_drop(i);

			down = get_key(fpr, 1, &sec, &why) < 0;
			if (!down)
				gpgme_key_unref(sec);
		}
	}
	gpgme_key_unref(key);
	strbuf_release(&why);
	strbuf_release(&path);
	return down;
}

/* Set the one signer of the next operation (checked for signing). */
static int set_signer(const char *fpr, struct strbuf *why)
{
	gpgme_key_t key;
	gpgme_error_t err;

	gpgme_signers_clear(ctx);
	if (get_key(fpr, 1, &key, why))
		return -1;
	if (can_sign(fpr, key, why)) {
		gpgme_key_unref(key);
		return -1;
	}
	err = gpgme_signers_add(ctx, key);
	gpgme_key_unref(key);
	if (err)
		return strbuf_fail(why, "cannot sign with key '%s': %s", fpr, gpgme_strerror(err));
	return 0;
}

/* Output data objects write straight into a strbuf. */
static gpgme_ssize_t sb_write(void *handle, const void *buf, size_t size)
{
	strbuf_add(handle, buf, size);
	return (gpgme_ssize_t)size;
}

static struct gpgme_data_cbs sb_cbs = { NULL, sb_write, NULL, NULL };

/* Input data reading in (not copied), output data appending to out. */
static int data_pair(const void *in, size_t len, gpgme_data_t *din, struct strbuf *out,
		     gpgme_data_t *dout, struct strbuf *why)
{
	gpgme_error_t err;

	*din = *dout = NULL;
	err = gpgme_data_new_from_mem(din, in, len, 0);
	if (!err)
		err = gpgme_data_new_from_cbs(dout, &sb_cbs, out);
	if (err) {
		gpgme_data_release(*din);
		*din = NULL;
		return strbuf_fail(why, "cannot set up GPGME data: %s", gpgme_strerror(err));
	}
	return 0;
}

/* Forget what a failed operation wrote to out after oldlen. */
static void out_undo(struct strbuf *out, size_t oldlen)
{
	if (out->len > oldlen) {
		wipe(out->buf + oldlen, out->len - oldlen);
		strbuf_setlen(out, oldlen);
	}
}

/* The reason an encryption failed, naming a refused recipient or signer. */
static int encrypt_failed(gpgme_error_t err, struct strbuf *why)
{
	gpgme_encrypt_result_t er = gpgme_op_encrypt_result(ctx);
	gpgme_sign_result_t sr = gpgme_op_sign_result(ctx);

	if (er && er->invalid_recipients)
		return strbuf_fail(why, "cannot encrypt to '%s': %s",
			    er->invalid_recipients->fpr ? er->invalid_recipients->fpr : "?",
			    gpgme_strerror(er->invalid_recipients->reason));
	if (sr && sr->invalid_signers)
		return strbuf_fail(why, "cannot sign with '%s': %s",
			    sr->invalid_signers->fpr ? sr->invalid_signers->fpr : "?",
			    gpgme_strerror(sr->invalid_signers->reason));
	return strbuf_fail(why, "cannot encrypt: %s", gpgme_strerror(err));
}

int gpg_encrypt(const char *const *recipients, const char *signer_fpr, const void *in,
		size_t len, struct strbuf *out, struct strbuf *why)
{
	gpgme_encrypt_flags_t flags = GPGME_ENCRYPT_ALWAYS_TRUST | GPGME_ENCRYPT_NO_ENCRYPT_TO;
	gpgme_key_t *keys;
	gpgme_data_t din = NULL, dout = NULL;
	gpgme_error_t err;
	gpgme_sign_result_t sr;
	size_t i, n = 0, oldlen = out->len;
	int ret = -1;

	if (gpg_need_ctx(why))
		return -1;
	while (recipients && recipients[n])
		n++;
	if (!n)
		return strbuf_fail(why, "no recipients");
	keys = xcalloc(n + 1, sizeof(*keys));
	for (i = 0; i < n; i++)
		if (get_key(recipients[i], 0, &keys[i], why) ||
		    can_encrypt(recipients[i], keys[i], why))
			goto done;
	if (signer_fpr && set_signer(signer_fpr, why))
		goto done;
	if (data_pair(in, len, &din, out, &dout, why))
		goto done;
	if (signer_fpr)
		err = gpgme_op_encrypt_sign(ctx, keys, flags, din, dout);
	else
		err = gpgme_op_encrypt(ctx, keys, flags, din, dout);
	if (err) {
		encrypt_failed(err, why);
		goto done;
	}
	if (signer_fpr) {
		sr = gpgme_op_sign_result(ctx);
		if (!sr || sr->invalid_signers || !sr->signatures || sr->signatures->next) {
			strbuf_fail(why, "cannot sign with '%s'", signer_fpr);
			goto done;
		}
	}
	ret = 0;
done:
	gpgme_data_release(dout);
	gpgme_data_release(din);
	gpgme_signers_clear(ctx);
	for (i = 0; i < n; i++)
		if (keys[i])
			gpgme_key_unref(keys[i]);
	free(keys);
	if (ret)
		out_undo(out, oldlen);
	return ret;
}

void gpg_sigs_release(struct gpg_sigs *s)
{
	free(s->sig);
	memset(s, 0, sizeof(*s));
}

void gpg_key_warm(const char *fpr, int secret)
{
	gpgme_key_t key = NULL;
	gpgme_subkey_t sub;
	time_t now = time(NULL);

	if (!gpg_is_fpr(fpr) || lookup_key(fpr, secret, &key) || !key)
		return;
	/* Signatures name their subkey: found by that name too. */
	for (sub = key->subkeys ? key->subkeys->next : NULL; sub; sub = sub->next) {
		size_t i;
		int have = 0;

		if (!sub->fpr)
			continue;
		for (i = 0; i < key_cache_nr; i++)
			if (key_cache[i].secret == secret && !strcasecmp(key_cache[i].name, sub->fpr))
				have = 1;
		if (!have)
			cache_put(sub->fpr, secret, key, now);
	}
	gpgme_key_unref(key);
}

/* The primary fingerprint of the key holding (sub)key fpr, "" if unknown. */
static void primary_of(const char *fpr, char *primary, size_t size)
{
	gpgme_key_t key = NULL;
	gpgme_subkey_t s;

	primary[0] = '\0';
	if (!gpg_is_fpr(fpr) || lookup_key(fpr, 0, &key) || !key)
		return;
	for (s = key->subkeys; s; s = s->next)
		if (s->fpr && !strcasecmp(s->fpr, fpr))
			break;
	if (s && key->subkeys->fpr)
		snprintf(primary, size, "%s", key->subkeys->fpr);
	gpgme_key_unref(key);
}

/*
 * Whether a signature counts. Trust comes from the configuration, which
 * pins each key by fingerprint, not from the web of trust: a key imported
 * from another agency has "unknown" validity in gpg's eyes, and GPGME sets
 * GPGME_SIGSUM_VALID only for fully valid keys. So a signature counts when
 * GPGME says VALID, or when it is GREEN or cryptographically good (status
 * 0) without any of the flags that say otherwise: red, key revoked or
 * expired, signature expired, key missing, CRL trouble, bad policy, system
 * error. The caller then demands the pinned primary fingerprint.
 */
static int sig_good(gpgme_signature_t g)
{
	const gpgme_sigsum_t bad = GPGME_SIGSUM_RED | GPGME_SIGSUM_KEY_REVOKED |
				   GPGME_SIGSUM_KEY_EXPIRED | GPGME_SIGSUM_SIG_EXPIRED |
				   GPGME_SIGSUM_KEY_MISSING | GPGME_SIGSUM_CRL_MISSING |
				   GPGME_SIGSUM_CRL_TOO_OLD | GPGME_SIGSUM_BAD_POLICY |
				   GPGME_SIGSUM_SYS_ERROR;

	if (g->status != GPG_ERR_NO_ERROR || (g->summary & bad) || g->wrong_key_usage)
		return 0;
	return 1;
}

static void fill_sigs(struct gpg_sigs *sigs)
{
	gpgme_verify_result_t vr = gpgme_op_verify_result(ctx);
	gpgme_signature_t g;
	size_t n = 0;

	if (!vr)
		return;
	for (g = vr->signatures; g; g = g->next)
		n++;
	if (!n)
		return;
	sigs->sig = xcalloc(n, sizeof(*sigs->sig));
	for (g = vr->signatures; g; g = g->next) {
		struct gpg_sig *s = &sigs->sig[sigs->nr++];

		snprintf(s->fpr, sizeof(s->fpr), "%s", g->fpr ? g->fpr : "");
		primary_of(g->fpr, s->primary_fpr, sizeof(s->primary_fpr));
		s->valid = sig_good(g);
		s->created = (time_t)g->timestamp;
		snprintf(s->status, sizeof(s->status), "%s", gpgme_strerror(g->status));
	}
}

/*
 * Whether the message was known to be without integrity protection: gpg
 * says so for legacy ciphers, and GPGME names the mode of any other
 * cipher used without MDC or AEAD "PGPCFB".
 */
static int no_integrity(gpgme_decrypt_result_t dr)
{
	const char *algo = dr ? dr->symkey_algo : NULL;
	size_t n = algo ? strlen(algo) : 0;

	if (dr && dr->legacy_cipher_nomdc)
		return 1;
	return n >= 7 && !strcmp(algo + n - 7, ".PGPCFB");
}

/*
 * The outcome of a decryption that returned err: 0 with the signatures in
 * sigs, or -1 with the reason. No plaintext may be used after -1.
 */
int gpg_decrypt_outcome(gpgme_error_t err, struct gpg_sigs *sigs, struct strbuf *why)
{
	gpgme_decrypt_result_t dr = gpgme_op_decrypt_result(ctx);

	sigs->was_encrypted = 1;
	sigs->integrity_ok = !err && dr && dr->symkey_algo && !no_integrity(dr);
	if (!sigs->integrity_ok) {
		if (no_integrity(dr))
			return strbuf_fail(why, "cannot decrypt: the message is not integrity protected");
		return strbuf_fail(why, "cannot decrypt: %s",
			    gpgme_strerror(err ? err : gpg_error(GPG_ERR_DECRYPT_FAILED)));
	}
	fill_sigs(sigs);
	return 0;
}

int gpg_decrypt(const void *in, size_t len, struct strbuf *out, struct gpg_sigs *sigs,
		struct strbuf *why)
{
	gpgme_data_t din, dout;
	gpgme_error_t err;
	size_t oldlen = out->len;

	memset(sigs, 0, sizeof(*sigs));
	if (gpg_need_ctx(why) || data_pair(in, len, &din, out, &dout, why))
		return -1;
	err = gpgme_op_decrypt_verify(ctx, din, dout);
	gpgme_data_release(dout);
	gpgme_data_release(din);
	if (gpg_decrypt_outcome(err, sigs, why) < 0) {
		out_undo(out, oldlen);
		return -1;
	}
	return 0;
}

int gpg_verify_detached(const void *data, size_t len, const void *sig, size_t siglen,
			struct gpg_sigs *sigs, struct strbuf *why)
{
	gpgme_data_t dsig, dtext;
	gpgme_error_t err;

	memset(sigs, 0, sizeof(*sigs));
	if (gpg_need_ctx(why))
		return -1;
	dsig = dtext = NULL;
	err = gpgme_data_new_from_mem(&dsig, sig, siglen, 0);
	if (!err)
		err = gpgme_data_new_from_mem(&dtext, data, len, 0);
	if (err) {
		gpgme_data_release(dsig);
		return strbuf_fail(why, "cannot set up GPGME data: %s", gpgme_strerror(err));
	}
	err = gpgme_op_verify(ctx, dsig, dtext, NULL);
	gpgme_data_release(dtext);
	gpgme_data_release(dsig);
	if (err)
		return strbuf_fail(why, "cannot verify the signature: %s", gpgme_strerror(err));
	fill_sigs(sigs);
	return 0;
}

int gpg_sign_detached(const char *signer_fpr, const void *data, size_t len,
		      struct strbuf *sig, struct strbuf *why)
{
	gpgme_data_t din, dout;
	gpgme_error_t err;
	gpgme_sign_result_t sr;
	size_t oldlen = sig->len;
	int ret = -1;

	if (gpg_need_ctx(why) || set_signer(signer_fpr, why))
		return -1;
	if (data_pair(data, len, &din, sig, &dout, why)) {
		gpgme_signers_clear(ctx);
		return -1;
	}
	gpgme_set_armor(ctx, 1);
	err = gpgme_op_sign(ctx, din, dout, GPGME_SIG_MODE_DETACH);
	gpgme_set_armor(ctx, 0);
	gpgme_signers_clear(ctx);
	gpgme_data_release(dout);
	gpgme_data_release(din);
	sr = gpgme_op_sign_result(ctx);
	if (err)
		strbuf_fail(why, "cannot sign with '%s': %s", signer_fpr, gpgme_strerror(err));
	else if (!sr || sr->invalid_signers || !sr->signatures || sr->signatures->next)
		strbuf_fail(why, "cannot sign with '%s'", signer_fpr);
	else
		ret = 0;
	if (ret)
		out_undo(sig, oldlen);
	return ret;
}

const char *gpg_last_sign_hash(void)
{
	static char name[16];
	gpgme_sign_result_t sr;
	const char *algo;
	size_t i;

	if (!ctx)
		return NULL;
	sr = gpgme_op_sign_result(ctx);
	if (!sr || !sr->signatures)
		return NULL;
	algo = gpgme_hash_algo_name(sr->signatures->hash_algo);
	if (!algo || strlen(algo) >= sizeof(name))
		return NULL;
	for (i = 0; algo[i]; i++)
		name[i] = tolower((unsigned char)algo[i]);
	name[i] = '\0';
	return name;
}

int gpg_generate_key(const char *uid, struct strbuf *fpr, struct strbuf *why)
{
	unsigned int flags = GPGME_CREATE_NOPASSWD | GPGME_CREATE_NOEXPIRE;
	gpgme_genkey_result_t gr;
	gpgme_key_t key;
	gpgme_error_t err;
	char *primary;
	size_t i;

	if (gpg_need_ctx(why))
		return -1;
	key_cache_clear();
	err = gpgme_op_createkey(ctx, uid, "ed25519", 0, 0, NULL,
				 flags | GPGME_CREATE_SIGN | GPGME_CREATE_CERT);
	gr = gpgme_op_genkey_result(ctx);
	if (err || !gr || !gpg_is_fpr(gr->fpr))
		return strbuf_fail(why, "cannot create a key for '%s': %s", uid,
			    gpgme_strerror(err ? err : gpg_error(GPG_ERR_GENERAL)));
	primary = xstrdup(gr->fpr);
	for (i = 0; primary[i]; i++)
		primary[i] = (char)toupper((unsigned char)primary[i]);
	if (get_key(primary, 1, &key, why)) {
		free(primary);
		return -1;
	}
	err = gpgme_op_createsubkey(ctx, key, "cv25519", 0, 0, flags | GPGME_CREATE_ENCR);
	gpgme_key_unref(key);
	key_cache_clear();
	if (err) {
		strbuf_fail(why, "cannot add an encryption key to '%s': %s", primary,
		     gpgme_strerror(err));
		free(primary);
		return -1;
	}
	strbuf_reset(fpr);
	strbuf_addstr(fpr, primary);
	free(primary);
	return 0;
}

int gpg_export_public(const char *fpr, struct strbuf *out, struct strbuf *why)
{
	gpgme_key_t keys[2] = { NULL, NULL };
	gpgme_data_t dout;
	gpgme_error_t err;
	size_t oldlen = out->len;

	if (gpg_need_ctx(why) || get_key(fpr, 0, &keys[0], why))
		return -1;
	err = gpgme_data_new_from_cbs(&dout, &sb_cbs, out);
	if (err) {
		gpgme_key_unref(keys[0]);
		return strbuf_fail(why, "cannot set up GPGME data: %s", gpgme_strerror(err));
	}
	gpgme_set_armor(ctx, 1);
	err = gpgme_op_export_keys(ctx, keys, 0, dout);
	gpgme_set_armor(ctx, 0);
	gpgme_data_release(dout);
	gpgme_key_unref(keys[0]);
	if (!err && out->len == oldlen)
		err = gpg_error(GPG_ERR_NO_DATA);
	if (err) {
		strbuf_setlen(out, oldlen);
		return strbuf_fail(why, "cannot export key '%s': %s", fpr, gpgme_strerror(err));
	}
	return 0;
}

int gpg_import(const void *data, size_t len, struct strbuf *why)
{
	gpgme_data_t din;
	gpgme_error_t err;
	gpgme_import_result_t ir;
	gpgme_import_status_t st;

	if (gpg_need_ctx(why))
		return -1;
	err = gpgme_data_new_from_mem(&din, data, len, 0);
	if (err)
		return strbuf_fail(why, "cannot set up GPGME data: %s", gpgme_strerror(err));
	key_cache_clear();
	err = gpgme_op_import(ctx, din);
	gpgme_data_release(din);
	if (err)
		return strbuf_fail(why, "cannot import keys: %s", gpgme_strerror(err));
	ir = gpgme_op_import_result(ctx);
	if (!ir || !ir->considered)
		return strbuf_fail(why, "no keys found to import");
	for (st = ir->imports; st; st = st->next)
		if (st->result)
			return strbuf_fail(why, "cannot import key '%s': %s", st->fpr ? st->fpr : "?",
				    gpgme_strerror(st->result));
	if (ir->not_imported)
		return strbuf_fail(why, "%d of %d keys not imported", ir->not_imported,
			    ir->considered);
	return 0;
}
