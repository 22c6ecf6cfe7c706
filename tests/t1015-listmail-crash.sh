#!/bin/sh
# kill -9 of listmail at random instants (mimamori-listmail(1), Crash
# safety): every input of listbox/new ends in exactly one place, each
# subscriber gets one confirmation mail, no bounce counts twice, and the
# sealed member store stays readable and whole.
. "$(dirname "$0")/lib.sh"
. "$DATA/request/lib.sh"
. "$TEST_SRC/tests/lib-lists.sh"

RUNS=${CRASH_RUNS:-25}

# stage NAME RCPT FROM < BODY: an input as receive --list writes it, kept aside.
stage() {
	{ printf 'X-Mimamori-Recipient: %s\nFrom: %s\nTo: %s\nSubject: x\nMessage-ID: <%s@t>\n\n' "$2" "$3" "$2" "$1"; cat; } >mails/$1
}

test_expect_success "setup: 20 members, $RUNS subscriptions, bounces and forged confirmations" '
	lists_setup &&
	lists_import 20 &&
	mkdir mails &&
	for i in $(seq 1 $RUNS); do
		echo hi | stage sub$i cooperators+subscribe@$D s$i@helper.jp &&
		echo x | stage fc$i cooperators+confirm-0123456789abcdef0123456$(printf %x $((i % 16)))@$D f$i@x.jp &&
		dsn d$i cooperators+bounces@$D h$((i % 20))@docomo.ne.jp 5.1.1 failed &&
		mv demo/spool/listbox/new/* mails/d$i || return 1
	done &&
	test $(ls mails | wc -l) = $((3 * RUNS))
'

test_expect_success "kill -9 at random instants over $RUNS runs" '
	run=1 && killed=0 &&
	while [ $run -le $RUNS ]; do
		cp mails/sub$run mails/fc$run mails/d$run demo/spool/listbox/new/ &&
		killed_run 400 "$MIMAMORI_BIN" --now $NOW listmail
		run=$((run + 1))
	done &&
	echo "# runs=$RUNS killed=$killed" &&
	test $killed -gt 0 &&
	"$MIMAMORI_BIN" --now $NOW listmail >>crash.out 2>>crash.err &&
	grep -v "lines written before a crash" crash.err >err.other;
	{ ! test -s err.other || { sort err.other | uniq -c; false; }; }
'

test_expect_success 'every input is in exactly one place' '
	test -z "$(ls demo/spool/listbox/new)" &&
	test -z "$(ls demo/spool/work/listmail)" &&
	test -z "$(ls demo/spool/inbox/new)" &&
	test $(ls demo/spool/rejected/*.reason | wc -l) -eq $RUNS &&
	for i in $(seq 1 $RUNS); do
		test -f demo/spool/rejected/fc$i || return 1
		grep -q "unknown or used confirmation token" demo/spool/rejected/fc$i.reason || return 1
	done &&
	! ls demo/spool/rejected | grep -q "^sub\|^d[0-9]"
'

test_expect_success 'one confirmation per subscriber, every envelope with its message' '
	for i in $(seq 1 $RUNS); do
		test $(grep -l "^rcpt s$i@helper.jp\$" $Q/env/* | wc -l) = 1 || {
			echo "s$i@helper.jp: $(grep -l "^rcpt s$i@helper.jp\$" $Q/env/* | wc -l) confirmations"; return 1; }
	done &&
	for e in $Q/env/*; do
		test -f $Q/msg/$(basename $e) || return 1
	done
'

test_expect_success 'the member store is whole: 20 members, each bounced member scored once' '
	mimamori --now $NOW members list cooperators --csv >l &&
	test $(grep -c "^cooperators,h[0-9]*@docomo.ne.jp," l) = 20 &&
	for k in $(seq 0 19); do
		n=$(seq 1 $RUNS | awk -v k=$k "\$1 % 20 == k" | wc -l)
		if [ $n -gt 0 ]; then want=1; else want=0; fi
		grep -q "^cooperators,h$k@docomo.ne.jp,[^,]*,active,2026-04-01,$want\$" l || {
			grep "^cooperators,h$k@" l; return 1; }
	done &&
	for i in $(seq 1 $RUNS); do
		c=$(confirm_addr s$i@helper.jp) && echo x | lmail c$i "$c" s$i@helper.jp || return 1
	done &&
	mimamori --now $NOW listmail >out &&
	test $(grep -c "confirm: subscribed (pending)" out) = $RUNS &&
	test $(mimamori --now $NOW members list cooperators | grep -c "@helper.jp pending") = $RUNS
'

# Killed after its commit, before its claim is moved (at the lstat()
# that looks for a free name in rejected/): the next run finishes it from
# the commit's note, then commits another input, which replaces the
# notes; the finished claim is not taken up again later in that run.
test_expect_success 'an input finished after a kill is not taken up again later in the run' '
	echo x | stage late1 cooperators+confirm-0123456789abcdef0123457a@$D l1@x.jp &&
	echo x | stage late2 cooperators+confirm-0123456789abcdef0123457b@$D l2@x.jp &&
	cp mails/late1 demo/spool/listbox/new/ &&
	{ strace -f -qq -o /dev/null -P "$(pwd)/demo/spool/rejected/late1" \
		-e trace=%stat,%lstat,%fstat -e inject=%stat,%lstat,%fstat:signal=KILL \
		"$MIMAMORI_BIN" --now $NOW listmail >late.1 2>late.err; true; } &&
	ls demo/spool/work/listmail | grep -q -- "-late1\$" &&
	! test -f demo/spool/rejected/late1 &&
	cp mails/late2 demo/spool/listbox/new/ &&
	mimamori --now $NOW listmail >late.2 &&
	grep "^rejected listbox/new/late" late.2 >lines &&
	test $(grep -c "/late1:" lines) = 1 &&
	test $(grep -c "/late2:" lines) = 1 &&
	grep -q "unknown or used confirmation token" demo/spool/rejected/late1.reason &&
	test -z "$(ls demo/spool/work/listmail)"
'

test_expect_success 'the audit chain is intact' '
	mimamori audit verify
'

test_done
