#!/bin/sh
# deliver killed with SIGKILL at random instants: after a rerun every
# recipient got the mail, and no more recipients than one SMTP
# transaction (1,000) got it twice.
. "$(dirname "$0")/lib.sh"
. "$TEST_SRC/tests/lib-mail.sh"

SP=demo/spool
N=3000
# make check: 20 relay rounds and 5 local ones; make crash: CRASH_RUNS of
# each kind in all (a quarter of them local).
ROUNDS=${CRASH_RUNS:-20}
LOCAL_ROUNDS=$((ROUNDS / 4))
[ $LOCAL_ROUNDS -ge 5 ] || LOCAL_ROUNDS=5
[ -n "$CRASH_RUNS" ] && ROUNDS=$((ROUNDS - LOCAL_ROUNDS))

setup_demo || exit 1
printf 'From: alerts@example.jp\nTo: undisclosed-recipients:;\nSubject: crash\n\nbody\n' >mail.txt

# Milliseconds since the epoch.
ms() {
	date +%s%3N
}

# The sink takes a second before it answers each DATA: on an idle machine
# the five transactions of a run otherwise pass in about 15 ms, and a kill
# at a random instant would almost never land between two of them.
test_expect_success 'setup: a sink and the time of one uninterrupted run' '
	sink_start sink -w 1 &&
	set_relay "$SINK_PORT" &&
	rcpt_list $N base- | queue_mail BASE mail.txt &&
	t0=$(ms) && mimamori deliver >out && t1=$(ms) &&
	echo $((t1 - t0)) >run-ms &&
	echo "# one run of $N recipients: $(cat run-ms) ms" &&
	test "$(sink_rcpts sink | grep -c "^base-")" = $N
'

test_expect_success "$ROUNDS runs killed at random instants, then rerun" '
	span=$(( $(cat run-ms) + 20 )) &&
	killed=0 && midway=0 && i=0 &&
	while [ $i -lt $ROUNDS ]; do
		i=$((i + 1))
		rcpt_list $N "k$i-" | queue_mail K$i mail.txt || return 1
		mimamori deliver >first 2>&1 &
		pid=$!
		r=$(od -An -N2 -tu2 /dev/urandom | tr -d " ")
		if [ $((i % 2)) = 0 ]; then
			# even rounds: a random instant within 10 ms of the first
			# recorded transaction (the run then has 4 more to go)
			n=0
			while [ ! -s $SP/queue/state/K$i ] && [ $n -lt 400 ] &&
			      kill -0 $pid 2>/dev/null; do
				sleep 0.005; n=$((n + 1))
			done
			d=$((10 * r / 65535))
		else
			d=$((span * r / 65535))
		fi
		sleep "$((d / 1000)).$(printf %03d $((d % 1000)))"
		kill -9 $pid 2>/dev/null
		wait $pid 2>/dev/null
		if ! grep -q "^sent queue/K$i " first; then
			killed=$((killed + 1))
			[ -s $SP/queue/state/K$i ] && midway=$((midway + 1))
		fi
		done_before=$(cat $SP/queue/state/K$i 2>/dev/null | wc -l)
		mimamori deliver >out 2>err || { cat err; return 1; }
		test_path_is_missing $SP/queue/env/K$i || return 1
		sink_rcpts sink | grep "^k$i-" >got
		uniq=$(sort -u got | wc -l)
		dups=$(( $(wc -l <got) - uniq ))
		echo "# round $i: $done_before outcomes recorded before the kill; $uniq recipients, $dups duplicates"
		[ "$uniq" -eq $N ] || { echo "round $i: only $uniq of $N recipients got it"; return 1; }
		[ "$dups" -le 1000 ] || { echo "round $i: $dups duplicates"; return 1; }
	done &&
	echo "# $killed of $ROUNDS runs killed while running, $midway of them while sending" &&
	# The even rounds aim between two transactions: three of them at least
	# (all of them when there are fewer, as in make check-asan).
	want=$((ROUNDS / 2)) && { [ $want -le 3 ] || want=3; } &&
	[ $killed -ge $((ROUNDS / 4)) ] && [ $midway -ge $want ]
'

test_expect_success "local Maildirs: $LOCAL_ROUNDS runs killed at random instants, then rerun" '
	unset_relay &&
	i=0 &&
	while [ $i -lt $LOCAL_ROUNDS ]; do
		i=$((i + 1))
		rcpt_list 2000 "m$i-" | queue_mail M$i mail.txt || return 1
		mimamori deliver >first 2>&1 &
		pid=$!
		r=$(od -An -N2 -tu2 /dev/urandom | tr -d " ")
		d=$((200 + 1500 * r / 65535))
		sleep "$((d / 1000)).$(printf %03d $((d % 1000)))"
		kill -9 $pid 2>/dev/null
		wait $pid 2>/dev/null
		before=$(cat $SP/queue/state/M$i 2>/dev/null | wc -l)
		mimamori deliver >out 2>err || { cat err; return 1; }
		test_path_is_missing $SP/queue/env/M$i || return 1
		boxes=$(ls -d $SP/mail/m$i-* | wc -l)
		copies=$(find $SP/mail/m$i-*/new -type f | wc -l)
		echo "# local round $i: $before outcomes recorded before the kill; $boxes Maildirs, $((copies - boxes)) duplicates"
		[ "$boxes" -eq 2000 ] || return 1
		[ $(find $SP/mail/m$i-*/new -type f | sed "s|/new/.*||" | sort -u | wc -l) -eq 2000 ] || return 1
		[ $((copies - boxes)) -le 1000 ] || return 1
	done
'

test_expect_success 'after the crashes: queue empty, audit chain intact' '
	test -z "$(find $SP/queue -type f)" &&
	mimamori audit verify
'

sink_stop
test_done
