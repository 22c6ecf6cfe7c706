#!/bin/sh
# The field path with a real Postfix: a throwaway instance on loopback
# whose alias pipes the request address to `mimamori receive` (run by
# Postfix as nobody, the node's one system user here), watch running as
# that user, and the alert arriving at smtp-sink. The request is handed
# to Postfix by SMTP, as an operator's mail client would through the
# organisation's MTA; Postfix's local delivers it by pipe, and receive
# stores it the Maildir way.
. "$(dirname "$0")/lib.sh"
. "$TEST_SRC/tests/lib-mail.sh"
. "$TEST_SRC/tests/lib-postfix.sh"
. "$DATA/request/lib.sh"

postfix_require

S=demo/spool
RUN_AS="setpriv --reuid=65534 --regid=65534 --clear-groups"

test_expect_success 'setup: the node owned by nobody, two signed requests' '
	dispatch_setup &&
	mkdir -p gen/demo/spool/inbox/new &&
	ln -s ../../demo/mimamori.xml ../../demo/operator gen/demo/ &&
	(cd gen && request pf1 area=) &&
	mv gen/demo/spool/inbox/new/pf1 pf1.eml &&
	(cd gen && request pf2 registration=R2026-999999) &&
	mv gen/demo/spool/inbox/new/pf2 pf2.eml &&
	kill_agents "$TRASH/demo" &&
	chmod 755 "$TRASH"
'

# The servers and watch run at the top level (test bodies are subshells).
sink_start sink && set_relay "$SINK_PORT" && chown -R nobody:nogroup demo &&
	postfix_start pf "requests: \"|$MIMAMORI_BIN -c $TRASH/demo/mimamori.xml receive\"
cooperators: \"|$MIMAMORI_BIN -c $TRASH/demo/mimamori.xml receive --list\""
started=$?
$RUN_AS env HOME="$TRASH" "$MIMAMORI_BIN" --now $NOW watch --interval 3600 \
	>watch.out 2>watch.err &
WATCH_PID=$!
test_pids="$test_pids $WATCH_PID"

sink_at_least() {
	test "$(sink_rcpt_count sink)" -ge "$1"
}

test_expect_success 'smtp-sink, Postfix and watch (as nobody) started' '
	test $started = 0 && test -n "$PF_PORT" &&
	wait_for 60 has_line "	watch	start" $S/audit/audit.log
'

test_expect_success 'a request mailed by SMTP reaches the helpers at smtp-sink' '
	postfix_inject ops@vendor.example.jp requests@example.jp pf1.eml &&
	wait_for 60 has_line "^accepted inbox/new/.*\.receive A2026-000001 7" watch.out &&
	wait_for 60 sink_at_least 7 &&
	grep -q "status=sent (delivered to command: $MIMAMORI_BIN" pf/maillog &&
	grep -q "	receive	store	input=inbox/new/" $S/audit/audit.log &&
	test -z "$(ls $S/inbox/new $S/inbox/tmp | grep -v :)" &&
	# the node stayed nobody'"'"'s
	test -z "$(find demo -user root | head -1)"
'

test_expect_success 'a rejected request: the operator gets the reply, Postfix nothing to bounce' '
	postfix_inject ops@vendor.example.jp requests@example.jp pf2.eml &&
	wait_for 60 has_line "^rejected inbox/new/.*\.receive: unknown registration" watch.out &&
	! grep -q "status=bounced" pf/maillog
'

test_expect_success 'the spool unwritable: Postfix defers the mail, nothing is lost' '
	chmod 000 $S/inbox/tmp &&
	postfix_inject ops@vendor.example.jp requests@example.jp pf2.eml &&
	wait_for 60 has_line "status=deferred (temporary failure" pf/maillog &&
	chmod 700 $S/inbox/tmp
'

kill "$WATCH_PID" 2>/dev/null
wait "$WATCH_PID" 2>/dev/null

# XVERP (mimamori-deliver(1)): deliver relays a list copy through this
# Postfix, whose transport for docomo.ne.jp fails it; the bounce comes
# back to the list's bounce address by Postfix's local and the alias above.

# ehlo_has WORD: Postfix's EHLO reply to us lists WORD.
ehlo_has() {
	python3 - "$PF_PORT" "$1" <<'PY'
import smtplib, sys
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=30)
s.ehlo('node.example.jp')
ok = s.has_extn(sys.argv[2])
s.quit()
sys.exit(0 if ok else 1)
PY
}

# list_copy QID: a copy on list cooperators for h1@docomo.ne.jp, relayed by Postfix.
list_copy() {
	printf "From: alerts@example.jp\nTo: alert@example.jp\nSubject: copy $1\n\nhello\n" >copy.txt &&
	QUEUE_SENDER=cooperators+bounces@example.jp QUEUE_LIST=cooperators QUEUE_VERP=yes \
		queue_mail $1 copy.txt h1@docomo.ne.jp &&
	chown -R nobody:nogroup demo &&
	$RUN_AS "$MIMAMORI_BIN" -c demo/pf.xml --now $NOW deliver >deliver.out &&
	grep -q "^sent queue/.* 1 sent, 0 failed, 0 deferred" deliver.out
}

# bounced_to ADDRESS: a bounce to ADDRESS reached listbox/new.
bounced_to() {
	grep -lx "X-Mimamori-Recipient: $1" $S/listbox/new/* >/dev/null 2>&1
}

test_expect_success 'lists: a member, the relay set to Postfix, recipient_delimiter' '
	$RUN_AS "$MIMAMORI_BIN" -c demo/mimamori.xml --now $NOW members add cooperators h1@docomo.ne.jp --pledge 2026-04-01 &&
	cp demo/mimamori.xml demo/pf.xml && set_relay "$PF_PORT" demo/pf.xml &&
	# docomo.ne.jp takes the mail, then fails it (EX_NOUSER): Postfix bounces
	postconf -c "$PF_DIR/etc" -M "nouser/unix=nouser unix - n n - - pipe user=nobody argv=/bin/sh -c {exit 67}" &&
	postconf -c "$PF_DIR/etc" -e "recipient_delimiter = +" \
		"transport_maps = inline:{ docomo.ne.jp=nouser: }" &&
	postfix -c "$PF_DIR/etc" reload >/dev/null
'

test_expect_success 'XVERP not offered to a client Postfix does not authorise: a plain MAIL FROM' '
	! ehlo_has xverp &&
	list_copy 20261121T010000-00000000000000a1 &&
	wait_for 60 bounced_to cooperators+bounces@example.jp &&
	grep -q "from=<cooperators+bounces@example.jp>" pf/maillog &&
	$RUN_AS "$MIMAMORI_BIN" -c demo/mimamori.xml --now $NOW listmail >lm.out &&
	grep "done listbox/new/.*: bounce: 1 counted" lm.out
'

test_expect_success 'XVERP accepted from an authorised client: the bounce names the member in its address' '
	postconf -c "$PF_DIR/etc" -e "smtpd_authorized_verp_clients = 127.0.0.1" &&
	postfix -c "$PF_DIR/etc" reload >/dev/null &&
	wait_for 30 ehlo_has xverp &&
	list_copy 20261121T010000-00000000000000a2 &&
	wait_for 60 bounced_to "cooperators+bounces+h1=docomo.ne.jp@example.jp" &&
	! grep "reject.*XVERP" pf/maillog &&
	$RUN_AS "$MIMAMORI_BIN" -c demo/mimamori.xml --now 2026-11-22T10:00:00+09:00 listmail >lm.out &&
	grep "done listbox/new/.*: bounce: 1 counted" lm.out &&
	$RUN_AS "$MIMAMORI_BIN" -c demo/mimamori.xml --now 2026-11-22T10:00:00+09:00 members list cooperators |
		grep "^cooperators h1@docomo.ne.jp active .*score 2"
'

test_done
