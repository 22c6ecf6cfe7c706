#!/bin/sh
# Run every unit test binary and every end-to-end script; print the
# totals as "N passed, M failed" and exit non-zero on any failure.
#   sh tests/run.sh [BUILD-DIR] [SCRIPT...]
# (with scripts named, the unit tests run only when RUN_UNITS is set)
BUILD=${1:-build}
shift 2>/dev/null
cd "$(dirname "$0")/.." || exit 1
export BUILD
log=tests/trash/run.$$.log
mkdir -p tests/trash && : >"$log"

for t in "$BUILD"/unit/test_*; do
	[ -x "$t" ] || continue
	[ $# -gt 0 ] && [ -z "$RUN_UNITS" ] && continue
	"$t" 2>&1 | tee -a "$log"
done
if [ $# -gt 0 ]; then scripts="$*"; else scripts=$(ls tests/t[0-9]*.sh); fi
for s in $scripts; do
	start=$(date +%s)
	sh "$s" 2>&1 | tee -a "$log"
	echo "# $(basename "$s" .sh): $(($(date +%s) - start)) s" | tee -a "$log"
done
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
