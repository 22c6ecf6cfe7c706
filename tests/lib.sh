# lib.sh - the end-to-end test library, after git's t/test-lib.sh.
#
#   . ./lib.sh
#   test_expect_success 'what it checks' '
#           mimamori intake >out &&
#           grep "^accepted" out
#   '
#   test_done
#
# Each script gets a fresh folder tests/trash/<script>/ (its working
# directory; kept when a test fails), a demo installation made with
# `mimamori init --demo` when it calls setup_demo, and `mimamori` on PATH.
# Every test body runs in a subshell with `set -e` off: chain with &&.
#
# No test compares a fixed date with the real clock: it passes --now, pins
# every command's clock with pin_clock ($MIMAMORI_NOW), or computes dates
# from today; make check-future (every clock two years ahead) is how that
# is checked.

TEST_NAME=$(basename "$0" .sh)
# The source tree: the folder above the script's (a script elsewhere, such
# as a benchmark in tests/bench/, sets LIB_TEST_SRC first).
TEST_SRC=${LIB_TEST_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$TEST_SRC/$BUILD ;; esac
TRASH=$TEST_SRC/tests/trash/$TEST_NAME
MIMAMORI_BIN=$BUILD/mimamori
export MIMAMORI_HOME=$TEST_SRC
# The demo's custodian node (see setup_demo); a test may override it.
MIMAMORI_CONFIG=$TRASH/demo/mimamori.xml
export MIMAMORI_CONFIG
DATA=$TEST_SRC/tests/data

test_count=0
test_failed=0
test_pids=

rm -rf "$TRASH"
mkdir -p "$TRASH" || exit 1
cd "$TRASH" || exit 1

mimamori() {
	"$MIMAMORI_BIN" "$@"
}

say() {
	printf '%s\n' "$*"
}

# The body runs in a function (so that its `return 1` ends the body, not
# the subshell), then what test_when_finished queued, newest first.
test_run_() {
	eval "$1"
}

test_expect_success() {
	test_count=$((test_count + 1))
	if (test_cleanup_=:
	    test_run_ "$2"
	    test_ret_=$?
	    eval "$test_cleanup_"
	    exit $test_ret_) >"$TRASH/.out.$test_count" 2>&1; then
		say "ok $test_count - $TEST_NAME: $1"
		# TEST_VERBOSE=1: what a passing test noted ("# ..." lines).
		[ -n "$TEST_VERBOSE" ] && grep "^# " "$TRASH/.out.$test_count"
	else
		test_failed=$((test_failed + 1))
		say "not ok $test_count - $TEST_NAME: $1"
		sed 's/^/#   /' "$TRASH/.out.$test_count"
		say "#   (body: $(printf '%s' "$2" | tr '\n' ' ' | cut -c1-300))"
	fi
}

# test_when_finished CMD...: run CMD when the test ends, passed or failed
# (git's): stop what the test started, remove what it made. Cleanups run
# newest first; one that fails fails the test. Call it in the body itself,
# not in a subshell of it.
test_when_finished() {
	test_cleanup_="{ $*
	} || { echo 'test_when_finished: a cleanup failed' >&2; test_ret_=1; }
	$test_cleanup_"
}

# test_stop_pid PID [SECONDS]: stop process PID (a child of the script,
# started at its top level) with SIGTERM, then SIGKILL if it is still
# there after SECONDS (default 60). Returns at once when it is gone. For
# test_when_finished, so that a test that fails before stopping what it
# started never leaves the script hanging in `wait`.
test_stop_pid() {
	kill -TERM "$1" 2>/dev/null || return 0
	limit=$((${2:-60} * 20))
	i=0
	while [ $i -lt $limit ]; do
		test_pid_gone "$1" && return 0
		sleep 0.05
		i=$((i + 1))
	done
	echo "test_stop_pid: $1 still running after ${2:-60} s: killed" >&2
	kill -KILL "$1" 2>/dev/null
	return 0
}

# test_pid_gone PID: PID has exited (a zombie not yet waited for counts).
test_pid_gone() {
	! kill -0 "$1" 2>/dev/null || grep -q "^[0-9]* ([^)]*) Z" /proc/$1/stat 2>/dev/null
}

# test_must_fail CMD...: CMD exits non-zero, but not by a signal.
test_must_fail() {
	"$@"
	code=$?
	if [ $code -eq 0 ]; then
		echo "test_must_fail: '$*' succeeded" >&2
		return 1
	elif [ $code -gt 128 ]; then
		echo "test_must_fail: '$*' died by signal $((code - 128))" >&2
		return 1
	fi
	return 0
}

# test_expect_code N CMD...: CMD exits with exactly N.
test_expect_code() {
	want=$1
	shift
	"$@"
	code=$?
	if [ $code -ne "$want" ]; then
		echo "test_expect_code: '$*' exited $code, wanted $want" >&2
		return 1
	fi
	return 0
}

test_cmp() {
	diff -u "$1" "$2"
}

# Fail with a message unless the file is absent.
test_path_is_missing() {
	if [ -e "$1" ]; then
		echo "'$1' exists" >&2
		return 1
	fi
}

# A demo installation in ./demo: the custodian node there, the other
# agencies' nodes under demo/nodes/ID. Made once per script, then copied
# from a cache per build so each script still gets fresh keyrings.
setup_demo() {
	# One cache per build of the binary (init's output follows the code).
	cache=$TEST_SRC/tests/trash/.demo-cache-$(stat -c %Y "$MIMAMORI_BIN")
	if [ ! -f "$cache/ok" ]; then
		rm -rf "$cache.$$" &&
		"$MIMAMORI_BIN" init "$cache.$$" --demo >/dev/null &&
		kill_agents "$cache.$$" &&
		touch "$cache.$$/ok" &&
		{ mv -T "$cache.$$" "$cache" 2>/dev/null || rm -rf "$cache.$$"; } || return 1
	fi
	rm -rf demo && cp -a "$cache" demo && rm -f demo/ok || return 1
	# gpg-agent sockets are per home: the copy starts its own.
	find demo -name 'S.*' -delete 2>/dev/null
	return 0
}

# pin_clock INSTANT: every command of the script runs at INSTANT
# ($MIMAMORI_NOW; a command's own --now still wins), so that the script's
# fixed dates (registration ids R2026-…, change dates) hold whatever day
# it runs. gpg keeps the real clock.
pin_clock() {
	MIMAMORI_NOW=$1
	export MIMAMORI_NOW
}

# Run mimamori as the node of agency ID of the demo.
node() {
	id=$1
	shift
	"$MIMAMORI_BIN" -c "$TRASH/demo/nodes/$id/mimamori.xml" "$@"
}

# Stop the gpg-agent of every GnuPG home under DIR (default: the script's
# folder), whatever its name: a home is a folder holding a keyring.
kill_agents() {
	for h in $(find "${1:-$TRASH}" \( -name pubring.kbx -o -name private-keys-v1.d \) \
			-printf '%h\n' 2>/dev/null | sort -u); do
		gpgconf --homedir "$h" --kill all 2>/dev/null
	done
	return 0
}

# A registration from the fixtures with its name-kana and birth date
# changed so that each call makes a different person:
#   make_registration N [file] > out.xml
make_registration() {
	n=$1
	src=${2:-$DATA/registration/valid-minimal.xml}
	sed -e "s|<name-kana>[^<]*</name-kana>|<name-kana>てすと $n</name-kana>|" \
	    -e "s|<name>\([^<]*\)</name>|<name>\1$n</name>|" \
	    -e "s|<birth-date>[^<]*</birth-date>|<birth-date>1940-01-$(printf %02d $((n % 28 + 1)))</birth-date>|" \
	    "$src"
}

# registration_doc KEY=VALUE...: a self-application registration document
# (the shape of $DATA/registration/valid-minimal.xml) with these values;
# the scripts that make people of their own make them here. Keys: name,
# kana, sex, birth, ward, address, home, mobile (left out when empty),
# places, consent (its date, also the interview's), center (default
# center-WARD-1), features (the XML inside <features>, left out when
# empty).
registration_doc() {
	rd_name="試験 試子" rd_kana="しけん ためこ" rd_sex=female rd_birth=1940-01-01
	rd_ward=chuo rd_address= rd_home=078-000-0000 rd_mobile= rd_places=試験公園
	rd_consent=2026-03-10 rd_center= rd_features=
	for rd_kv in "$@"; do
		case $rd_kv in
		name=*) rd_name=${rd_kv#*=} ;;
		kana=*) rd_kana=${rd_kv#*=} ;;
		sex=*) rd_sex=${rd_kv#*=} ;;
		birth=*) rd_birth=${rd_kv#*=} ;;
		ward=*) rd_ward=${rd_kv#*=} ;;
		address=*) rd_address=${rd_kv#*=} ;;
		home=*) rd_home=${rd_kv#*=} ;;
		mobile=*) rd_mobile=${rd_kv#*=} ;;
		places=*) rd_places=${rd_kv#*=} ;;
		consent=*) rd_consent=${rd_kv#*=} ;;
		center=*) rd_center=${rd_kv#*=} ;;
		features=*) rd_features=${rd_kv#*=} ;;
		*) echo "registration_doc: unknown key in '$rd_kv'" >&2; return 1 ;;
		esac
	done
	# The optional elements (a blank line when left out).
	[ -z "$rd_mobile" ] || rd_mobile="<phone kind=\"mobile\">$rd_mobile</phone>"
	[ -z "$rd_features" ] || rd_features="<features>$rd_features</features>"
	cat <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<registration xmlns="urn:mimamori:1">
  <basis>self-application</basis>
  <applicant kind="self"/>
  <person>
    <name>$rd_name</name>
    <name-kana>$rd_kana</name-kana>
    <sex>$rd_sex</sex>
    <birth-date>$rd_birth</birth-date>
    <address ward="$rd_ward">${rd_address:-神戸市試験町1-1}</address>
    <phone kind="home">$rd_home</phone>
    $rd_mobile
    <usual-places>$rd_places</usual-places>
    <previous-residences>明石市</previous-residences>
    $rd_features
  </person>
  <consent date="$rd_consent" share="yes" broadcast="yes" signed-by="person"/>
  <intake center="${rd_center:-center-$rd_ward-1}" staff="試験 職員" interview-date="$rd_consent"/>
</registration>
EOF
}

# For the kill -9 scripts. rand_ms N: 0..N-1 milliseconds, from the
# kernel's random source. now_ms: milliseconds since the epoch.
# sleep_ms N: sleep N milliseconds.
rand_ms() {
	r=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
	echo $((r % $1))
}

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

sleep_ms() {
	sleep "$(($1 / 1000)).$(printf %03d $(($1 % 1000)))"
}

# killed_run MAX_MS CMD...: run CMD in the background (its output added
# to crash.out and crash.err), kill -9 it after 0..MAX_MS ms; the kills
# that hit a live process are counted in $killed.
killed_run() {
	max=$1 && shift
	"$@" >>crash.out 2>>crash.err &
	pid=$!
	sleep_ms "$(rand_ms "$max")"
	kill -9 $pid 2>/dev/null && killed=$((killed + 1))
	wait $pid 2>/dev/null
	return 0
}

# timed CMD...: run CMD (output as killed_run's), its duration in ms in $took.
timed() {
	t0=$(now_ms) && "$@" >>crash.out 2>>crash.err && took=$(($(now_ms) - t0))
}

# small_disk SIZE: put a tmpfs of SIZE (2m, 8m...) at $MNT ($TRASH/small),
# unmounted when the script exits (after mail_stop_all, when lib-mail.sh
# is in); without root, the whole script is skipped.
small_disk() {
	MNT=$TRASH/small
	trap 'if command -v mail_stop_all >/dev/null 2>&1; then mail_stop_all; fi
	      cd "$TEST_SRC" 2>/dev/null; umount "$MNT" 2>/dev/null' EXIT
	if [ "$(id -u)" != 0 ] || ! mkdir -p "$MNT" ||
	   ! mount -t tmpfs -o size="$1",mode=0700 tmpfs "$MNT"; then
		say "ok 1 # skip $TEST_NAME: needs root to mount a tmpfs"
		test_done
	fi
}

# wait_for SECONDS CMD...: poll CMD every 50 ms until it succeeds. A limit,
# not a timing check: callers give a generous one (60 s), which costs
# nothing when the program works and survives a slow sanitizer build on a
# loaded machine.
wait_for() {
	limit=$(($1 * 20))
	shift
	i=0
	while [ $i -lt $limit ]; do
		"$@" && return 0
		sleep 0.05
		i=$((i + 1))
	done
	echo "wait_for: '$*' still false after $((limit / 20)) s" >&2
	return 1
}

# has_line PATTERN FILE: FILE exists and has a line matching PATTERN.
has_line() {
	grep -q "$1" "$2" 2>/dev/null
}

# Every file of the spool that holds the given bytes in clear.
spool_grep() {
	grep -rlF -- "$1" "${2:-demo/spool}" 2>/dev/null
}

test_done() {
	kill_agents "$TRASH"
	for p in $test_pids; do
		kill "$p" 2>/dev/null
	done
	passed=$((test_count - test_failed))
	say "# $TEST_NAME: $passed passed, $test_failed failed"
	if [ $test_failed -eq 0 ]; then
		cd "$TEST_SRC" || exit 1
		# small_disk's tmpfs first: rm cannot remove a mount point.
		[ -z "${MNT:-}" ] || umount "$MNT" 2>/dev/null
		rm -rf "$TRASH"
		exit 0
	fi
	exit 1
}
