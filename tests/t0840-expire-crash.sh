#!/bin/sh
# kill -9 of expire at random instants, deliver running between the
# runs as in `run`: no reminder lost, none queued or delivered twice; no
# destruction lost; no waiting bundle left holding a destroyed record.
. "$(dirname "$0")/lib.sh"

RUNS=${CRASH_RUNS:-30}
PER=3

day() {
	date -u -d "2026-11-01 + $1 days" +%F
}
expiry() {
	date -u -d "$(day $1) + 2 years" +%F
}
remind_day() {
	date -u -d "$(expiry $1) - 60 days" +%F
}

# expire_killed DATE: run expire on DATE, killed after a random instant.
expire_killed() {
	killed_run 150 "$MIMAMORI_BIN" --now "$1" expire
}

test_expect_success "setup: $RUNS groups of $PER registered on successive days" '
	setup_demo &&
	g=1 && n=1 && while [ $g -le $RUNS ]; do
		i=0 && while [ $i -lt $PER ]; do
			make_registration $n >p$n.xml &&
			mimamori --now $(day $g) submit p$n.xml >/dev/null || return 1
			n=$((n + 1)) && i=$((i + 1))
		done
		mimamori --now $(day $g) intake >>intake.out || return 1
		g=$((g + 1))
	done &&
	test $(grep -c ^accepted intake.out) -eq $((RUNS * PER)) &&
	mimamori --now $(day $RUNS) export >/dev/null
'

test_expect_success "reminders: kill -9 at random over $RUNS runs, deliver between them" '
	killed=0 &&
	g=1 && while [ $g -le $RUNS ]; do
		expire_killed $(remind_day $g)
		# as run does: deliver (local Maildirs) before the next expire
		mimamori --now $(remind_day $g) deliver >/dev/null 2>>crash.err
		g=$((g + 1))
	done &&
	mimamori --now $(remind_day $RUNS) expire >>crash.out &&
	echo "killed=$killed of $RUNS" &&
	mimamori --now $(remind_day $RUNS) expire >again &&
	test_must_fail test -s again &&
	for id in $(sed -n "s/^accepted [^ ]* //p" intake.out); do
		c=0
		for e in $(ls demo/spool/queue/env); do
			grep -q "登録番号 $id " demo/spool/queue/msg/$e && c=$((c + 1))
		done
		c=$((c + $(grep -l "登録番号 $id " demo/spool/mail/*/new/* demo/spool/mail/*/cur/* \
			2>/dev/null | wc -l)))
		test $c -ge 1 || { echo "$id: no reminder"; return 1; }
		test $c -eq 1 || { echo "$id: $c reminders"; return 1; }
	done
'

test_expect_success "destruction: kill -9 at random over $RUNS runs, bundles waiting each time" '
	killed=0 &&
	g=1 && while [ $g -le $RUNS ]; do
		expire_killed $(expiry $g)
		mimamori --now $(expiry $g) export >/dev/null 2>>crash.err
		g=$((g + 1))
	done &&
	mimamori --now $(expiry $RUNS) expire >>crash.out &&
	echo "killed=$killed of $RUNS" &&
	for id in $(sed -n "s/^accepted [^ ]* //p" intake.out); do
		test_expect_code 65 mimamori --now $(expiry $RUNS) show $id 2>/dev/null || return 1
	done &&
	test -z "$(ls demo/spool/registry/records)" &&
	test_must_fail spool_grep "須磨 春子" demo/spool &&
	for f in demo/spool/work/bundles/*; do
		[ -f "$f" ] || continue
		test -f demo/spool/outgoing/$(sed -n "s/^to=//p" $f)/council-$(basename $f).tar.gpg ||
			return 1
		if grep -q "^R20" $f; then echo "$f holds records"; return 1; fi
	done &&
	mimamori audit verify
'

test_done
