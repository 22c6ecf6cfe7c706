#!/bin/sh
# The crash harness: every end-to-end script named tests/t*-crash.sh
# kills a stage with SIGKILL at random instants over CRASH_RUNS runs and
# checks mimamori-spool(5) invariants afterwards (each input in exactly one place,
# nothing lost, nothing applied twice, the audit chain intact).
#
#   sh tests/crash/run.sh BUILD-DIR [RUNS] [SCRIPT...]
#
# make check runs those scripts with their own small defaults (about 30
# runs each); make crash runs them all with CRASH_RUNS=200. The kill
# instants are drawn from /dev/urandom within each stage's measured
# duration; a failing run keeps its folder under tests/trash/ to look at.
BUILD=${1:-build}
RUNS=${2:-200}
shift 2 2>/dev/null
cd "$(dirname "$0")/../.." || exit 1
if [ $# -gt 0 ]; then scripts="$*"; else scripts=$(ls tests/t[0-9]*-crash.sh); fi
start=$(date +%s)
CRASH_RUNS=$RUNS nice -n 10 sh tests/run.sh "$BUILD" $scripts
ret=$?
echo "crash: $(echo $scripts | wc -w) scripts, CRASH_RUNS=$RUNS, $(( $(date +%s) - start )) s"
exit $ret
