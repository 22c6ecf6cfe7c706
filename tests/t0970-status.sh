#!/bin/sh
# status [--check]: the node at a glance, and what needs a person named one
# line each with exit 75: an input waiting or a claim left by a dead run
# for more than 5 minutes, a deferred recipient, a key expiring within 30
# days; exit 0 when all is well. Ages are made with --now (the program's
# clock), never by waiting.
. "$(dirname "$0")/lib.sh"
. "$TEST_SRC/tests/lib-mail.sh"

SP=demo/spool
setup_demo || exit 1

# An instant N minutes (or "+N days") from now, as --now takes it.
later() {
	date -d "$1" -Iseconds
}

test_expect_success 'an idle node: every part shown, nothing needs a person, exit 0' '
	mimamori status >out 2>err &&
	cat out &&
	! test -s err &&
	grep "^node council (custodian) at " out &&
	grep -x "intake: 0 waiting in incoming/, 0 claimed in work/intake/" out &&
	grep -x "import: 0 waiting in import/, 0 claimed in work/import/" out &&
	grep -x "dispatch: 0 waiting in inbox/new/, 0 claimed in work/dispatch/" out &&
	grep -x "queue: 0 messages, 0 recipients (0 deferred, 0 not tried yet)" out &&
	grep -x "alerts: 0 open, 0 held for approval" out &&
	grep "^agencies: unacknowledged changes are not tracked yet" out &&
	grep "^keys: 9 checked (node, 7 agencies, 1 operator): 0 to see to" out &&
	grep "^rejected: 0 in the last 24 hours" out &&
	grep -x "nothing needs a person" out &&
	! grep "^attention:" out
'

test_expect_success '--check on an idle node prints nothing and exits 0' '
	mimamori status --check >out 2>err &&
	! test -s out && ! test -s err
'

test_expect_success 'a bad option is a usage error' '
	test_expect_code 64 mimamori status --verbose >out 2>err &&
	grep "usage: mimamori status \[--check\]" err
'

test_expect_success 'an input just submitted waits, but needs nobody yet' '
	mimamori submit "$DATA/registration/valid-minimal.xml" >/dev/null &&
	mimamori status >out &&
	grep -x "intake: 1 waiting in incoming/, 0 claimed in work/intake/" out &&
	mimamori status --check >out &&
	! test -s out
'

test_expect_success 'waiting more than 5 minutes (by --now): --check names it, exit 75' '
	test_expect_code 75 mimamori --now "$(later "+10 minutes")" status --check >out &&
	cat out &&
	test $(wc -l <out) -eq 1 &&
	grep -x "attention: intake: 1 input waiting in incoming/ for more than 5 minutes (the oldest, .valid-minimal.xml., for 10 minutes)" out &&
	mimamori intake >/dev/null &&
	mimamori --now "$(later "+10 minutes")" status --check >out &&
	! test -s out
'

test_expect_success 'a claim left by a dead run, older than 5 minutes: named, exit 75' '
	mkdir -p $SP/work/dispatch &&
	printf "From: x\n\nbody\n" >$SP/work/dispatch/0123456789abcdef-1700000000.M1P1.host &&
	mimamori status --check >out &&
	! test -s out &&
	test_expect_code 75 mimamori --now "$(later "+7 minutes")" status --check >out &&
	cat out &&
	grep -x "attention: dispatch: 1 claim in work/dispatch/ older than 5 minutes and no dispatch running (the oldest, .0123456789abcdef-1700000000.M1P1.host., claimed 7 minutes ago; the next run takes it up)" out &&
	mimamori --now "$(later "+7 minutes")" status >out &&
	grep -x "dispatch: 0 waiting in inbox/new/, 1 claimed in work/dispatch/" out
'

test_expect_success 'the same claim while dispatch holds its lock: at work, not named' '
	mkdir -p $SP/lock && touch $SP/lock/dispatch &&
	flock $SP/lock/dispatch sh -c "
		$MIMAMORI_BIN --now \"$(later "+7 minutes")\" status --check >out.check;
		echo \$? >rc.check;
		$MIMAMORI_BIN --now \"$(later "+7 minutes")\" status >out.status" &&
	test "$(cat rc.check)" = 0 &&
	! test -s out.check &&
	grep -x "dispatch: 0 waiting in inbox/new/, 1 claimed in work/dispatch/ (dispatch is running)" out.status &&
	rm $SP/work/dispatch/0123456789abcdef-1700000000.M1P1.host
'

test_expect_success 'a deferred recipient: shown in the queue, --check names it, exit 75' '
	peer_start peer.got &&
	set_relay "$PEER_PORT" &&
	printf "From: alerts@example.jp\nTo: undisclosed-recipients:;\nSubject: test\n\nhello\n" >mail.txt &&
	queue_mail Q1 mail.txt ok1@example.jp busy1@example.jp &&
	test_expect_code 75 mimamori deliver >out &&
	grep -x "sent queue/Q1 1 sent, 0 failed, 1 deferred" out &&
	mimamori status >out &&
	cat out &&
	grep "^queue: 1 message, 2 recipients (1 deferred, 0 not tried yet), the oldest queued .* (less than a minute ago)$" out &&
	grep -x "attention: queue: 1 recipient deferred in 1 message (the oldest, queue/Q1, queued less than a minute ago; deliver retries, and fails them 24 hours after queueing)" out &&
	test_expect_code 75 mimamori status --check >out &&
	test $(wc -l <out) -eq 1 &&
	grep "^attention: queue: 1 recipient deferred" out
'

test_expect_success 'status reads the queue without changing it' '
	ls -l --time-style=+%s $SP/queue/env $SP/queue/msg $SP/queue/state >before &&
	md5sum $SP/queue/state/Q1 >>before &&
	mimamori status >/dev/null &&
	ls -l --time-style=+%s $SP/queue/env $SP/queue/msg $SP/queue/state >after &&
	md5sum $SP/queue/state/Q1 >>after &&
	test_cmp before after
'

test_expect_success 'the queue emptied: nothing needs a person again' '
	peer_stop &&
	rm $SP/queue/env/Q1 $SP/queue/msg/Q1 $SP/queue/state/Q1 &&
	mimamori status --check >out &&
	! test -s out
'

test_expect_success 'a rejected input counts for 24 hours' '
	mimamori submit "$DATA/registration/bad-enum-sex.xml" >/dev/null &&
	mimamori intake >/dev/null &&
	ls $SP/rejected/*.reason &&
	mimamori status >out &&
	grep "^rejected: 1 in the last 24 hours" out &&
	mimamori --now "$(later "+25 hours")" status >out &&
	grep "^rejected: 0 in the last 24 hours" out &&
	mimamori status --check >out &&
	! test -s out
'

fpr=$(sed -n 's|.*id="ward-nada".* key="\([0-9A-F]*\)".*|\1|p' "$MIMAMORI_CONFIG")

# expire_nada DURATION: the ward office's key (primary and subkeys) made
# to expire DURATION from now, and imported into the custodian's keyring.
expire_nada() {
	gpg -q --homedir demo/nodes/ward-nada/gnupg --quick-set-expire "$fpr" "$1" &&
	gpg -q --homedir demo/nodes/ward-nada/gnupg --quick-set-expire "$fpr" "$1" "*" &&
	gpg -q --homedir demo/nodes/ward-nada/gnupg --export "$fpr" >nada.pub &&
	gpg -q --homedir demo/gnupg --import nada.pub
}

test_expect_success 'a key expiring in 40 days needs nobody yet' '
	test ${#fpr} -eq 40 &&
	expire_nada 40d &&
	mimamori status --check >out &&
	! test -s out
'

test_expect_success '... but does 15 days later (by --now): named with its date, exit 75' '
	test_expect_code 75 mimamori --now "$(later "+15 days")" status --check >out &&
	cat out &&
	grep -x "attention: key: agency .ward-nada.: key $fpr expires on $(TZ=Asia/Tokyo date -d "+40 days" +%Y-%m-%d), in 25 days" out
'

test_expect_success 'a key expiring within 30 days: --check names it, exit 75' '
	expire_nada 10d &&
	test_expect_code 75 mimamori status --check >out &&
	cat out &&
	test $(wc -l <out) -eq 1 &&
	grep -x "attention: key: agency .ward-nada.: key $fpr expires on $(TZ=Asia/Tokyo date -d "+10 days" +%Y-%m-%d), in 10 days" out &&
	mimamori status >out &&
	grep "^keys: 9 checked (node, 7 agencies, 1 operator): 1 to see to" out
'

test_expect_success 'status is audited with counts, never a name' '
	grep "	status	status	" $SP/audit/audit.log >lines &&
	test $(wc -l <lines) -ge 10 &&
	grep "check=1 .*deferred=1 .*attention=1" lines &&
	grep "keys-attention=1" lines &&
	! grep -e "valid-minimal" -e "0123456789abcdef" -e "ward-nada" -e "Q1" -e "@" lines &&
	mimamori audit verify
'

test_done
