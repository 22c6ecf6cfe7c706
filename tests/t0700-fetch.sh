#!/bin/sh
# fetch copies new mail from a real dovecot on loopback into inbox/new,
# marks it seen (or deletes it), never fetches a message twice, leaves a
# message over 1 MiB on the server with its reason in rejected/, and says
# 69 when the server is down.
. "$(dirname "$0")/lib.sh"
. "$TEST_SRC/tests/lib-imap.sh"

S=demo/spool

# dovecot runs at the top level: test bodies are subshells.
imap_start || { echo "Bail out! cannot start dovecot"; exit 1; }

test_expect_success 'setup: demo' '
	setup_demo &&
	for i in 1 2 3; do mail_text $i >m$i.eml || return 1; done
'

test_expect_success 'without <imap> fetch does nothing and exits 0' '
	imap_append m1.eml &&
	mimamori fetch >out 2>err &&
	test ! -s out && test ! -s err &&
	test -z "$(ls $S/inbox/new)" &&
	imap_list >flags && cat flags &&
	test "$(cat flags)" = "1 "
'

test_expect_success 'a password file readable by others is refused with 78' '
	imap_config &&
	chmod 644 demo/imap.pw &&
	test_expect_code 78 mimamori fetch >out 2>err &&
	cat err &&
	grep -q "imap.pw.*group or others" err &&
	test -z "$(ls $S/inbox/new)" &&
	test_expect_code 78 mimamori check-config >out 2>err &&
	cat out err &&
	grep -q "imap.pw.*group or others" out err &&
	chmod 600 demo/imap.pw &&
	mimamori check-config >out 2>err
'

test_expect_success 'a wrong password is refused with 78' '
	echo wrong >demo/imap.pw &&
	test_expect_code 78 mimamori fetch >out 2>err &&
	cat err &&
	grep -q "login" err &&
	imap_config
'

test_expect_success 'new messages arrive in inbox/new and are marked seen' '
	imap_append m2.eml m3.eml &&
	mimamori fetch >out 2>err &&
	cat out err &&
	v=$(sed -n "s/^fetched inbox\/new\/imap-\([0-9]*\)-1$/\1/p" out) &&
	test -n "$v" &&
	printf "fetched inbox/new/imap-$v-%s\n" 1 2 3 >expect &&
	test_cmp expect out &&
	for i in 1 2 3; do
		tr -d "\r" <m$i.eml >want && tr -d "\r" <$S/inbox/new/imap-$v-$i >got &&
		test_cmp want got || return 1
	done &&
	test "$(stat -c %a $S/inbox/new/imap-$v-1)" = 600 &&
	imap_list >flags &&
	printf "%s \\\\Seen\n" 1 2 3 >expect &&
	test_cmp expect flags &&
	grep -c "	fetch	fetch	input=inbox/new/imap-" $S/audit/audit.log >n &&
	test "$(cat n)" = 3 &&
	! grep -q "test 1\|ops@example" $S/audit/audit.log &&
	mimamori audit verify
'

test_expect_success 'a second fetch fetches nothing' '
	mimamori fetch >out 2>err &&
	test ! -s out &&
	test "$(ls $S/inbox/new | wc -l)" = 3
'

test_expect_success 'a message seen again after a crash is not fetched twice' '
	# As if fetch died between the copy and the flag: unflag 1-3 on the
	# server. 1 has been read by dispatch (inbox/cur), 2 is claimed by
	# dispatch, 3 is still in new; and the state file is gone too.
	IMAP_PY_CODE="M.uid(\"STORE\", \"1:3\", \"-FLAGS\", \"(\\\\Seen)\")" imap_py &&
	imap_list | grep -c Seen >n; test "$(cat n)" = 0 &&
	v=$(ls $S/inbox/new | sed -n "s/^imap-\([0-9]*\)-1$/\1/p") &&
	mv $S/inbox/new/imap-$v-1 "$S/inbox/cur/imap-$v-1:2,S" &&
	mkdir -p $S/work/dispatch &&
	mv $S/inbox/new/imap-$v-2 $S/work/dispatch/0123456789abcdef-imap-$v-2 &&
	rm -f $S/fetch/state &&
	mimamori fetch >out 2>err &&
	cat out err &&
	test ! -s out &&
	test "$(ls $S/inbox/new)" = imap-$v-3 &&
	imap_list >flags &&
	printf "%s \\\\Seen\n" 1 2 3 >expect &&
	test_cmp expect flags &&
	# and with only the state file to go by
	IMAP_PY_CODE="M.uid(\"STORE\", \"1:3\", \"-FLAGS\", \"(\\\\Seen)\")" imap_py &&
	rm -rf $S/inbox/cur/* $S/work/dispatch/* $S/inbox/new/* &&
	mimamori fetch >out 2>err &&
	test ! -s out &&
	test -z "$(ls $S/inbox/new)" &&
	imap_list >flags && test_cmp expect flags
'

test_expect_success 'a message over 1 MiB is not fetched, and is reported' '
	{ mail_text big && head -c 1100000 /dev/zero | tr "\0" "x" | fold -w 76; } >big.eml &&
	mail_text 5 >m5.eml &&
	imap_append big.eml m5.eml &&
	mimamori fetch >out 2>err &&
	cat out err &&
	v=$(sed -n "s/^fetched inbox\/new\/imap-\([0-9]*\)-5$/\1/p" out) &&
	grep -q "^rejected inbox/new/imap-$v-4: too large: [0-9]* bytes (the limit is 1048576)" out &&
	test_path_is_missing $S/inbox/new/imap-$v-4 &&
	grep -q "too large" $S/rejected/imap-$v-4.reason &&
	grep -q "^Subject: test big" $S/rejected/imap-$v-4 &&
	test "$(wc -c <$S/rejected/imap-$v-4)" -lt 1000 &&
	imap_list >flags &&
	grep -q "^4 .*Seen" flags &&
	mimamori fetch >out 2>err &&
	test ! -s out
'

test_expect_success 'with after="delete" fetched messages are expunged, big ones kept' '
	imap_config delete &&
	mail_text 6 >m6.eml &&
	imap_append m6.eml &&
	IMAP_PY_CODE="M.uid(\"STORE\", \"4\", \"-FLAGS\", \"(\\\\Seen)\")" imap_py &&
	rm -f $S/fetch/state &&
	mimamori fetch >out 2>err &&
	cat out err &&
	grep -q "^fetched inbox/new/imap-[0-9]*-6$" out &&
	test "$(wc -l <out)" = 1 &&
	imap_list >flags && cat flags &&
	! grep -q "^6 " flags &&
	grep -q "^4 .*Seen" flags &&
	! grep -q "^4 .*Deleted" flags
'

test_expect_success 'server down: 69, and nothing changes' '
	imap_stop &&
	mail_text 7 >m7.eml &&
	ls -R $S >before &&
	test_expect_code 69 mimamori fetch >out 2>err &&
	cat err &&
	grep -q "cannot connect to 127.0.0.1:$IMAP_PORT" err &&
	test ! -s out &&
	ls -R $S >after &&
	test_cmp before after
'

test_done
