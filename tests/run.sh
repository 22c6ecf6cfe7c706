#!/bin/sh
# Run every unit test binary and every end-to-end script; print the
# totals as "N passed, M failed" and exit non-zero on any failure.
#   sh tests/run.sh [BUILD-DIR] [SCRIPT...]
# (with scripts named, the unit tests run only when RUN_UNITS is set)
#
# Scripts run TEST_JOBS at a time (default: the number of processors).
# Each has its own trash folder, free ports and gpg-agents; its output is
# printed whole when it ends. TEST_JOBS=1 runs them one by one, each line
# as it comes.

# sh tests/run.sh --one DIR SCRIPT: one script, its output into DIR/NAME.
if [ "$1" = --one ]; then
	name=$(basename "$3" .sh)
	start=$(date +%s)
	{
		sh "$3" 2>&1
		echo "# $name: $(($(date +%s) - start)) s"
	} >"$2/$name"
	cat "$2/$name"
	exit 0
fi

BUILD=${1:-build}
shift 2>/dev/null
cd "$(dirname "$0")/.." || exit 1
export BUILD
jobs=${TEST_JOBS:-$(nproc 2>/dev/null || echo 1)}
log=tests/trash/run.$$.log
mkdir -p tests/trash && : >"$log"

for t in "$BUILD"/unit/test_*; do
	[ -x "$t" ] || continue
	[ $# -gt 0 ] && [ -z "$RUN_UNITS" ] && continue
	"$t" 2>&1 | tee -a "$log"
done
if [ $# -gt 0 ]; then scripts="$*"; else scripts=$(ls tests/t[0-9]*.sh); fi
if [ "$jobs" -le 1 ]; then
	for s in $scripts; do
		start=$(date +%s)
		sh "$s" 2>&1 | tee -a "$log"
		echo "# $(basename "$s" .sh): $(($(date +%s) - start)) s" | tee -a "$log"
	done
else
	outs=tests/trash/run.$$.d
	rm -rf "$outs" && mkdir "$outs" || exit 1
	printf '%s\n' $scripts | xargs -P "$jobs" -n 1 sh tests/run.sh --one "$outs"
	for s in $scripts; do
		cat "$outs/$(basename "$s" .sh)" 2>/dev/null ||
			echo "not ok - $(basename "$s" .sh): no output"
	done >>"$log"
	rm -rf "$outs"
fi
# Every script stops the gpg-agents it started: one left behind is a
# failure (it holds an inotify instance and memory until the machine stops).
# Only the agents of the scripts run here: another run may be going on.
homes=
for s in $scripts; do
	homes="$homes -e $(pwd)/tests/trash/$(basename "$s" .sh)/"
done
left=$(pgrep -a gpg-agent | grep -F $homes | cut -d' ' -f1)
if [ -n "$left" ]; then
	echo "not ok - gpg-agents left running by the tests: $(echo $left)" | tee -a "$log"
	pgrep -a gpg-agent | grep -F $homes | sed 's/^/#   /' | tee -a "$log"
	kill $left 2>/dev/null
fi
passed=$(grep -c '^ok ' "$log")
failed=$(grep -c '^not ok ' "$log")
echo "$passed passed, $failed failed"
cp "$log" tests/trash/run.log && rm -f "$log"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
