#!/bin/sh
# receive, the MTA's delivery agent: one message on stdin stored in
# inbox/new (--list: listbox/new) the Maildir way; over 1 MiB stored whole
# in rejected/ with its reason, still 0; 75 whenever the spool cannot be
# written, so the MTA keeps the message and tries again.
. "$(dirname "$0")/lib.sh"
. "$DATA/request/lib.sh"

S=demo/spool

test_expect_success 'setup' '
	dispatch_setup &&
	mkdir gen && ln -s ../demo gen/demo &&
	mkdir -p gen2/demo/spool/inbox/new &&
	ln -s ../../demo/mimamori.xml ../../demo/operator gen2/demo/ &&
	(cd gen2 && request r1) &&
	mv gen2/demo/spool/inbox/new/r1 r1.eml
'

test_expect_success 'a message is stored in inbox/new, byte for byte, 0600' '
	mimamori receive <r1.eml >out 2>err &&
	test -z "$(cat err)" &&
	name=$(sed -n "s|^stored inbox/new/||p" out) &&
	test -n "$name" &&
	cmp r1.eml $S/inbox/new/$name &&
	test "$(stat -c %a $S/inbox/new/$name)" = 600 &&
	test -z "$(ls $S/inbox/tmp)" &&
	grep -q "	receive	store	input=inbox/new/$name size=$(wc -c <r1.eml)" $S/audit/audit.log
'

test_expect_success 'and dispatch takes it as any request' '
	mimamori --now $NOW dispatch >out &&
	grep -q "^accepted inbox/new/.*\.receive A2026-000001" out
'

test_expect_success 'receive --list stores into listbox/new' '
	printf "From: a@example.jp\nTo: helpers+subscribe@example.jp\n\nhi\n" >sub.eml &&
	env -u ORIGINAL_RECIPIENT RECIPIENT=helpers+subscribe@example.jp "$MIMAMORI_BIN" receive --list <sub.eml >out &&
	name=$(sed -n "s|^stored listbox/new/||p" out) &&
	{ printf "X-Mimamori-Recipient: helpers+subscribe@example.jp\n"; cat sub.eml; } >want.eml &&
	cmp want.eml $S/listbox/new/$name &&
	test -z "$(ls $S/inbox/new)"
'

test_expect_success 'over 1 MiB: stored whole in rejected/ with the reason, exit 0' '
	{ cat r1.eml; head -c 1100000 /dev/zero | tr "\0" "x"; } >big.eml &&
	mimamori receive <big.eml >out 2>err &&
	name=$(sed -n "s|^rejected inbox/new/\([^:]*\): too large (over 1048576 bytes)$|\1|p" out) &&
	test -n "$name" &&
	cmp big.eml $S/rejected/$name &&
	grep -q "^too large" $S/rejected/$name.reason &&
	test -z "$(ls $S/inbox/new)" && test -z "$(ls $S/inbox/tmp)" &&
	grep -q "	receive	reject	input=inbox/new/$name size=.* reason=too-large" $S/audit/audit.log
'

test_expect_success 'a leading mbox From_ line (Postfix local piping) is dropped' '
	{ echo "From ops@vendor.example.jp  Mon Dec  7 15:37:38 2026"; cat r1.eml; } >from.eml &&
	mimamori receive <from.eml >out &&
	name=$(sed -n "s|^stored inbox/new/||p" out) &&
	cmp r1.eml $S/inbox/new/$name &&
	rm $S/inbox/new/$name
'

test_expect_success 'an empty message is stored (dispatch rejects it later)' '
	mimamori receive </dev/null >out &&
	grep -q "^stored inbox/new/" out &&
	rm -f $S/inbox/new/*
'

test_expect_success 'the spool cannot be written: 75, nothing left' '
	rmdir $S/inbox/tmp && echo x >$S/inbox/tmp &&
	test_expect_code 75 mimamori receive <r1.eml >out 2>err &&
	grep -q "cannot create" err &&
	test -z "$(ls $S/inbox/new)" &&
	rm $S/inbox/tmp
'

test_expect_success 'no configuration: 75 too (the MTA keeps the message)' '
	MIMAMORI_CONFIG=$TRASH/nothing.xml test_expect_code 75 mimamori receive <r1.eml 2>err &&
	grep -q "cannot read config" err
'

test_expect_success 'a full disk: 75, nothing left behind' '
	if [ "$(id -u)" != 0 ]; then echo "# skipped: needs root for a tmpfs"; exit 0; fi
	mkdir -p small && mount -t tmpfs -o size=256k,mode=0700 tmpfs small &&
	cp -a $S small/spool 2>/dev/null
	sed "s|<spool>[^<]*</spool>|<spool>$TRASH/small/spool</spool>|" demo/mimamori.xml >small.xml &&
	rm -rf small/spool/registry small/spool/audit/* &&
	head -c 200000 /dev/urandom >fill && cp fill small/fill 2>/dev/null
	test_expect_code 75 mimamori -c small.xml receive <r1.eml >out 2>err
	code=$?
	ls small/spool/inbox/new small/spool/inbox/tmp >left 2>&1
	umount small
	cat err && test $code = 0 && grep -q "No space left" err && test -z "$(grep -v ":$" left | grep -v "^$")"
'

test_done
