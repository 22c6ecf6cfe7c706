/*
 * datakey - the node's data key: 32 random bytes kept only as
 * registry/datakey.gpg, encrypted with GnuPG to the node's own pinned key.
 * Reads that file (making it on first use, when the registry is empty) and
 * keeps the key in libgcrypt's secure memory until exit.
 *
 * SECURITY: the data key opens every record the node holds. It exists in
 * clear only in locked memory, wiped at exit; the gpg plaintext buffer it
 * passes through is wiped at once. A missing key file beside existing
 * records is an error, never a reason to make a new key (which would leave
 * the records sealed under a key nobody has). Making the key happens under
 * the "datakey" lock, so two processes on a new spool cannot each make one
 * and seal data under the key the other then overwrites.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <gcrypt.h>
#include "datakey.h"
#include "../lib/gpg.h"
#include "../util/fileio.h"
#include "../util/msg.h"

#define DATAKEY_REL SPOOL_REGISTRY "/datakey.gpg"
#define DATAKEY_MAX 65536  /* a wrapped 32-byte key is a few hundred bytes */

static unsigned char *datakey;  /* secure memory, SEAL_KEY_LEN bytes */

static void datakey_wipe(void)
{
	if (datakey) {
		wipe(datakey, SEAL_KEY_LEN);
		gcry_free(datakey);
		datakey = NULL;
	}
}

static unsigned char *secure_key(void)
{
	unsigned char *p;

	seal_init();
	p = gcry_malloc_secure(SEAL_KEY_LEN);
	if (!p)
		msg_fatal("out of secure memory for the data key");
	return p;
}

/*
 * Unwrap the key file at path: 0, 1 when there is none, -1 (reported);
 * -2 (reported) when gpg could not decrypt it.
 */
static int datakey_read(const char *path)
{
	struct strbuf file = STRBUF_INIT, plain = STRBUF_INIT, why = STRBUF_INIT;
	struct gpg_sigs sigs;
	int ret = -1;

	if (strbuf_read_file(&file, path, DATAKEY_MAX) < 0) {
		if (errno == ENOENT)
			return 1;
		return error_errno("cannot read the data key '%s'", path);
	}
	strbuf_init(&plain, 2 * SEAL_KEY_LEN);
	if (gpg_decrypt(file.buf, file.len, &plain, &sigs, &why) < 0) {
		error("cannot open the data key '%s': %s", path, why.buf);
		ret = -2;
	} else if (plain.len != SEAL_KEY_LEN) {
		error("cannot open the data key '%s': it holds %zu bytes, not %d", path,
		      plain.len, SEAL_KEY_LEN);
	} else {
		unsigned char *key = secure_key();

		memcpy(key, plain.buf, SEAL_KEY_LEN);
		datakey = key;
		ret = 0;
	}
	gpg_sigs_release(&sigs);
	wipe(plain.buf, plain.len);
	strbuf_release(&plain);
	strbuf_release(&file);
	strbuf_release(&why);
	return ret;
}

/* Whether registry/records holds anything: 1, 0, or -1 (reported). */
static int records_exist(const struct spool *sp)
{
	struct strlist names = STRLIST_INIT;
	char *dir = spool_path(sp, SPOOL_RECORDS);
	int ret;

	if (dir_list(dir, &names, 1) < 0)
		ret = error_errno("cannot list '%s'", dir);
	else
		ret = names.nr > 0;
	strlist_clear(&names);
	free(dir);
	return ret;
}

/* Make a new key, wrap it to the node's own key and store it. */
static int datakey_create(const struct config *cfg, const struct spool *sp)
{
	struct strbuf wrapped = STRBUF_INIT, why = STRBUF_INIT;
	const char *to[2];
	unsigned char *key;
	char *dir;
	int ret = -1;

	switch (records_exist(sp)) {
	case 0:
		break;
	case 1:
		return error("data key '%s/" DATAKEY_REL "' missing but registry/records "
			     "holds records", sp->root);
	default:
		return -1;
	}
	if (!cfg->self || !cfg->self->key)
		return error("cannot make the data key: this node has no key configured");
	dir = spool_path(sp, SPOOL_REGISTRY);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		error_errno("cannot create '%s'", dir);
		free(dir);
		return -1;
	}
	free(dir);

	key = secure_key();
	random_bytes(key, SEAL_KEY_LEN);
	to[0] = cfg->self->key;
	to[1] = NULL;
	if (gpg_encrypt(to, NULL, key, SEAL_KEY_LEN, &wrapped, &why) < 0)
		error("cannot wrap the data key to '%s': %s", cfg->self->key, why.buf);
	else if (spool_commit(sp, DATAKEY_REL, wrapped.buf, wrapped.len) == 0)
		ret = 0;
	if (ret) {
		wipe(key, SEAL_KEY_LEN);
		gcry_free(key);
	} else {
		datakey = key;
	}
	strbuf_release(&wrapped);
	strbuf_release(&why);
	return ret;
}

int datakey_get(const struct config *cfg, const struct spool *sp,
		const unsigned char **key)
{
	static int registered;
	char *path;
	int r, lock;

	if (datakey) {
		*key = datakey;
		return 0;
	}
	if (!registered) {
		atexit(datakey_wipe);
		registered = 1;
	}
	path = spool_path(sp, DATAKEY_REL);
	r = datakey_read(path);
	if (r == -2) {
		/* gpg failed: asked again (gpg-agent may have been restarting),
		 * then a temporary failure (69) if the agent is what is down. */
		r = datakey_read(path);
		if (r == -2 && gpg_agent_down(cfg->self->key))
			msg_die(EX_UNAVAILABLE, "gpg-agent cannot be reached or started for '%s': "
				"the data key cannot be opened; nothing was done",
				cfg->gnupg_home);
	}
	if (r == 1) {
		/* none yet: make one, unless another process just did */
		lock = spool_lock(sp, "datakey");
		if (lock < 0) {
			free(path);
			return -1;
		}
		r = datakey_read(path);
		if (r == 1)
			r = datakey_create(cfg, sp);
		spool_unlock(lock);
	}
	free(path);
	if (r < 0)
		return -1;
	*key = datakey;
	return 0;
}
