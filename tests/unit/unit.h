/*
 * unit.h - a small harness for the C unit tests, one file per module.
 *
 *   TEST(parses_dates) { CHECK_INT(date_parse("2026-02-30", &d), -1); }
 *   UNIT_MAIN(T(parses_dates), ...)
 *
 * Each test runs in its own folder tests/trash/<file>/<test>/ (the
 * working directory during the test), removed when the test passes and
 * kept when it fails. CHECK_INT and CHECK_STR print both values when
 * they differ; CHECK is for the conditions that are not a comparison of
 * two values. Output: "ok - FILE: TEST" or "not ok - …" per test,
 * with the failed checks above it; the exit status is 1 when any failed.
 */
#ifndef UNIT_H
#define UNIT_H
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lib/xml.h"

struct unit_test {
	const char *name;
	void (*fn)(void);
};

static int unit_failed;

#define TEST(name) static void name(void)
#define T(fn) { #fn, fn }

#define CHECK(cond) \
	do { \
		if (!(cond)) { \
			fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
			unit_failed = 1; \
		} \
	} while (0)

/* a == b as integers; on failure both values are printed (libarchive's assertEqualInt). */
#define CHECK_INT(a, b) \
	do { \
		long long a_ = (a), b_ = (b); /* no cast: a pointer does not compile */ \
		if (a_ != b_) { \
			fprintf(stderr, "  %s:%d: %s == %s failed: %lld != %lld\n", __FILE__, \
				__LINE__, #a, #b, a_, b_); \
			unit_failed = 1; \
		} \
	} while (0)

/* a and b are equal strings (neither NULL); on failure both are printed. */
#define CHECK_STR(a, b) \
	do { \
		const char *a_ = (a), *b_ = (b); \
		if (!a_ || !b_ || strcmp(a_, b_)) { \
			fprintf(stderr, "  %s:%d: '%s' != '%s'\n", __FILE__, __LINE__, \
				a_ ? a_ : "(null)", b_ ? b_ : "(null)"); \
			unit_failed = 1; \
		} \
	} while (0)

#define CHECK_CONTAINS(hay, needle) \
	do { \
		const char *h_ = (hay), *n_ = (needle); \
		if (!h_ || !strstr(h_, n_)) { \
			fprintf(stderr, "  %s:%d: '%s' does not contain '%s'\n", __FILE__, \
				__LINE__, h_ ? h_ : "(null)", n_); \
			unit_failed = 1; \
		} \
	} while (0)

static int unit_rmrf(const char *path)
{
	char cmd[PATH_MAX * 3];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	return system(cmd);
}

static int unit_run(const struct unit_test *t, size_t n, const char *file)
{
	char top[PATH_MAX], dir[PATH_MAX * 2], base[128];

	/* dir holds both paths and the mkdir command: keep it below PATH_MAX * 3. */
	const char *slash = strrchr(file, '/');
	size_t i, failed = 0;

	snprintf(base, sizeof(base), "%s", slash ? slash + 1 : file);
	if (strrchr(base, '.'))
		*strrchr(base, '.') = '\0';
	if (!getcwd(top, sizeof(top)))
		return 2;
	xml_set_schema_dir(SRCDIR "/schemas");
	for (i = 0; i < n; i++) {
		snprintf(dir, sizeof(dir), "%s/tests/trash/%s/%s", SRCDIR, base, t[i].name);
		unit_rmrf(dir);
		snprintf(dir, sizeof(dir), "mkdir -p '%s/tests/trash/%s/%s'", SRCDIR, base,
			 t[i].name);
		if (system(dir) != 0)
			return 2;
		snprintf(dir, sizeof(dir), "%s/tests/trash/%s/%s", SRCDIR, base, t[i].name);
		if (chdir(dir) < 0)
			return 2;
		unit_failed = 0;
		t[i].fn();
		if (chdir(top) < 0)
			return 2;
		if (unit_failed) {
			failed++;
			printf("not ok - %s: %s (kept %s)\n", base, t[i].name, dir);
		} else {
			unit_rmrf(dir);
			printf("ok - %s: %s\n", base, t[i].name);
		}
		fflush(stdout);
	}
	return failed ? 1 : 0;
}

#define UNIT_MAIN(...) \
	int main(void) \
	{ \
		static const struct unit_test tests_[] = { __VA_ARGS__ }; \
		return unit_run(tests_, sizeof(tests_) / sizeof(tests_[0]), __FILE__); \
	}

#endif
