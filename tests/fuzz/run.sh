#!/bin/sh
# Run each libFuzzer target for a while, one at a time, niced (the
# machine is shared): make fuzz calls this after building them.
#   sh tests/fuzz/run.sh BUILD-DIR SECONDS [TARGET...]
# The working corpus is BUILD-DIR/corpus/NAME (seeded from
# tests/fuzz/corpus/NAME, which is not written to); crashing inputs land
# in BUILD-DIR/crashes/NAME/. Exit 1 when any target found one.
BUILD=${1:-build-fuzz}
SECONDS_EACH=${2:-60}
shift 2 2>/dev/null
cd "$(dirname "$0")/../.." || exit 1
if [ $# -gt 0 ]; then
	targets="$*"
else
	targets=$(ls tests/fuzz/fuzz_*.c | sed 's|.*/fuzz_\(.*\)\.c|\1|')
fi
found=0
for t in $targets; do
	bin=$BUILD/fuzz/fuzz_$t
	[ -x "$bin" ] || { echo "fuzz: no $bin (make fuzz builds it)" >&2; exit 1; }
	mkdir -p "$BUILD/corpus/$t" "$BUILD/crashes/$t"
	dict=
	[ -f "tests/fuzz/$t.dict" ] && dict="-dict=tests/fuzz/$t.dict"
	echo "fuzz: $t for ${SECONDS_EACH}s"
	ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
	UBSAN_OPTIONS=print_stacktrace=1 \
	nice -n 10 "$bin" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
		-max_len=65536 -print_final_stats=1 $dict \
		-artifact_prefix="$BUILD/crashes/$t/" \
		"$BUILD/corpus/$t" "tests/fuzz/corpus/$t" >"$BUILD/fuzz-$t.log" 2>&1
	grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+ *DONE)' \
		"$BUILD/fuzz-$t.log" | sed "s/^/fuzz: $t: /"
	n=$(ls "$BUILD/crashes/$t" | wc -l)
	if [ "$n" -gt 0 ]; then
		echo "fuzz: $t: $n crashing inputs in $BUILD/crashes/$t/ (log: $BUILD/fuzz-$t.log)"
		found=1
	fi
done
exit $found
