/*
 * fuzz.h - what the fuzz targets share.
 *
 * Each tests/fuzz/fuzz_NAME.c defines LLVMFuzzerTestOneInput() and is built
 * two ways:
 *   - make fuzz: with clang and libFuzzer (-fsanitize=fuzzer,address,
 *     undefined) into build-fuzz/fuzz/fuzz_NAME, run by tests/fuzz/run.sh
 *     on a copy of tests/fuzz/corpus/NAME/;
 *   - make units (so make check): with the normal compiler and replay.c
 *     into BUILD/unit/test_fuzz_NAME, which runs the target once on every
 *     file of tests/fuzz/corpus/NAME/ and tests/fuzz/regressions/NAME/
 *     (each in a child process, so a crash names its input).
 *
 * A target must not leak state from one input to the next, must never
 * exit, and checks the invariants it can state with FUZZ_CHECK(): a broken
 * invariant aborts, which both builds report as a failure.
 */
#ifndef FUZZ_H
#define FUZZ_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "util/clock.h"
#include "lib/seal.h"
#include "lib/xml.h"

#define FUZZ_CHECK(cond) \
	do { \
		if (!(cond)) { \
			fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, \
				__LINE__, #cond); \
			abort(); \
		} \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 2026-11-21 12:00 in Japan: the fixed clock of every target. */
#define FUZZ_NOW ((time_t)1795230000)

/* Once per process: schemas from the source tree, a fixed clock. */
static inline void fuzz_setup(void)
{
	static int done;

	if (done)
		return;
	done = 1;
	seal_init();
	xml_set_schema_dir(SRCDIR "/schemas");
	clock_set(FUZZ_NOW);
}

#endif
