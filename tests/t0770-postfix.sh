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
	postfix_start pf "requests: \"|$MIMAMORI_BIN -c $TRASH/demo/mimamori.xml receive\""
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
test_done
