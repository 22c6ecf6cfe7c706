#!/bin/sh
# kill -9 of dispatch at random instants while alerts are held and then
# approved: each hold ends as one held alert with nothing queued to
# members, each approval sends its alert once (each recipient queued
# once, one CAP document), one reply per request.
. "$(dirname "$0")/lib.sh"
. "$DATA/request/lib.sh"

RUNS=${CRASH_RUNS:-12}
HOLD=2026-11-21T10:00:00+09:00
APPROVE=2026-11-21T10:30:00+09:00

dispatch_keys() {
	OP=$(sed -n 's/.*<operator key="\([0-9A-F]*\)".*/\1/p' demo/mimamori.xml | head -1)
	NODE=$(sed -n 's/.*<agency id="council"[^>]* key="\([0-9A-F]*\)".*/\1/p' demo/mimamori.xml)
	test -n "$OP" && test -n "$NODE"
}

# kill_loop PREFIX NOW: each mail PREFIXi in turn, dispatch killed at random.
kill_loop() {
	run=1 && killed=0 &&
	while [ $run -le $RUNS ]; do
		cp mails/$1$run demo/spool/inbox/new/ &&
		killed_run 300 "$MIMAMORI_BIN" --now $2 dispatch
		run=$((run + 1))
	done &&
	echo "runs=$RUNS killed=$killed" &&
	mimamori --now $2 dispatch >>crash.out 2>>crash.err &&
	grep -v "lines written before a crash" crash.err >err.other;
	{ ! test -s err.other || { sort err.other | uniq -c; false; }; }
}

member_envs() {
	grep -l "^report " demo/spool/queue/env/* 2>/dev/null | wc -l
}

test_expect_success "setup: $RUNS registrations, a second operator, approval required" '
	dispatch_setup &&
	mkdir -m 700 op2 &&
	gpg --homedir op2 --batch --passphrase "" --quick-gen-key "second <ops2@vendor.example.jp>" future-default default never 2>/dev/null &&
	K2=$(gpg --homedir op2 --with-colons --list-keys ops2@vendor.example.jp | awk -F: "/^fpr/ { print \$10; exit }") &&
	gpg --homedir op2 --export --armor $K2 | gpg --homedir demo/gnupg --batch --import 2>/dev/null &&
	sed -i "s|</operators>|  <operator key=\"$K2\" name=\"見守り 副当番\" address=\"ops2@vendor.example.jp\"/>\n  </operators>|; s|<agencies>|<requests approval=\"second-operator\"/>\n  <agencies>|" demo/mimamori.xml &&
	mkdir regs mails &&
	for i in $(seq 1 $RUNS); do
		make_registration $i >regs/r$i.xml || return 1
	done &&
	mimamori --now 2026-11-01 submit regs/*.xml >/dev/null &&
	mimamori --now 2026-11-01 intake >intake.out &&
	for i in $(seq 1 $RUNS); do
		id=$(grep "incoming/r$i.xml " intake.out | cut -d" " -f3) &&
		request hold$i registration=$id requester-name= requester-relationship= &&
		mv demo/spool/inbox/new/hold$i mails/ &&
		printf "request-id: ap%s\nsent: 2026-11-21T10:20:00+09:00\ntype: approve\nalert: A2026-%06d\n" $i $i >form.ap$i &&
		mimamori request-mail --gnupg-home op2 --key $K2 --from ops2@vendor.example.jp \
			--to alerts@example.jp --form form.ap$i -o mails/approve$i || return 1
	done
'

test_expect_success "holds, kill -9 at random instants: each held once, nothing for members" '
	kill_loop hold $HOLD &&
	test -z "$(ls demo/spool/inbox/new)" &&
	test -z "$(ls demo/spool/work/dispatch)" &&
	test -z "$(ls demo/spool/rejected)" &&
	test $(member_envs) -eq 0 &&
	test $(grep -l "^rcpt ops@vendor" demo/spool/queue/env/* | wc -l) -eq $RUNS &&
	test $(ls demo/spool/alerts | grep -c "^A2026-") -eq $RUNS &&
	! ls demo/spool/feed | grep -q "^A2026"
'

test_expect_success "approvals, kill -9 at random instants: each alert sent once" '
	: >crash.out && : >crash.err &&
	kill_loop approve $APPROVE &&
	test -z "$(ls demo/spool/inbox/new)" &&
	test -z "$(ls demo/spool/work/dispatch)" &&
	test -z "$(ls demo/spool/rejected)" &&
	for e in $(grep -l "^report " demo/spool/queue/env/*); do
		test -f demo/spool/queue/msg/$(basename $e) || return 1
		sed -n "s/^alert //p" $e
	done | sort -u >alerts &&
	test $(wc -l <alerts) -eq $RUNS &&
	for a in $(cat alerts); do
		rcpts_of $a >r.$a &&
		test $(wc -l <r.$a) -gt 0 &&
		test -z "$(uniq -d r.$a)" || return 1
		test -f demo/spool/feed/$a.1.xml || return 1
		! test -f demo/spool/feed/$a.2.xml || return 1
	done &&
	test $(grep -l "^rcpt ops2@vendor" demo/spool/queue/env/* | wc -l) -eq $RUNS &&
	test $(grep -c "<entry>" demo/spool/feed/index.atom) -eq $RUNS
'

test_expect_success 'the audit chain is intact' '
	mimamori audit verify
'

test_done
