#!/bin/sh
# The relay drops the connection at every step of a transaction: after
# RCPT, after DATA, in the middle of the message, before the final reply.
# deliver exits 75, every recipient is deferred, nothing is lost; when
# the relay is back, each recipient gets exactly one copy (mimamori-deliver(1)).
. "$(dirname "$0")/lib.sh"
. "$TEST_SRC/tests/lib-mail.sh"

SP=demo/spool
setup_demo || exit 1
# A message of a few hundred lines, so that a drop mid-DATA is mid-message.
{
	printf 'From: alerts@example.jp\nTo: undisclosed-recipients:;\nSubject: drop test\n\n'
	seq 1 400 | sed 's/^/line /'
} >mail.txt

later() {
	date -u -d "+$1 minutes" +%Y-%m-%dT%H:%M:%SZ
}

state_count() {
	cut -f3 "$SP/queue/state/$1" 2>/dev/null | grep -c "^$2\$"
}

# drop_start LINES: an SMTP peer that accepts everything, then closes the
# connection after LINES lines of the message (no reply to DATA's end).
DROP_PID=
drop_start() {
	DROP_PORT=$(free_port 7) || return 1
	perl -MIO::Socket::INET -e '
		my ($port, $lines) = @ARGV;
		my $l = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => $port,
					      Listen => 5, ReuseAddr => 1) or die "listen: $!";
		$| = 1; print "ready\n";
		while (my $c = $l->accept) {
			$c->autoflush(1);
			print $c "220 drop ESMTP\r\n";
			while (my $line = <$c>) {
				if ($line =~ /^EHLO/i) { print $c "250-drop\r\n250 PIPELINING\r\n" }
				elsif ($line =~ /^DATA/i) {
					print $c "354 go ahead\r\n";
					my $n = 0;
					while (<$c>) { last if ++$n >= $lines }
					last;
				}
				elsif ($line =~ /^QUIT/i) { print $c "221 bye\r\n"; last }
				else { print $c "250 ok\r\n" }
			}
			close $c;
		}' "$DROP_PORT" "$1" >"$TRASH/drop.ready" 2>>"$TRASH/drop.log" &
	DROP_PID=$!
	test_pids="$test_pids $DROP_PID"
	i=0
	while [ $i -lt 100 ]; do
		grep -q ready "$TRASH/drop.ready" 2>/dev/null && return 0
		kill -0 "$DROP_PID" 2>/dev/null || break
		sleep 0.05
		i=$((i + 1))
	done
	return 1
}

drop_stop() {
	[ -n "$DROP_PID" ] && kill "$DROP_PID" 2>/dev/null && wait "$DROP_PID" 2>/dev/null
	DROP_PID=
	return 0
}

# try QID: queue 20 recipients, deliver: 75, all 20 deferred, queue kept.
try() {
	rcpt_list 20 "$1-" | queue_mail "$1" mail.txt &&
	test_expect_code 75 mimamori deliver >out 2>err &&
	cat out err &&
	grep -qx "sent queue/$1 0 sent, 0 failed, 20 deferred" out &&
	test "$(state_count $1 deferred)" = 20 &&
	test -f $SP/queue/env/$1 && test -f $SP/queue/msg/$1
}

test_expect_success 'dropped after RCPT: 75, every recipient deferred' '
	sink_start sink -q rcpt && set_relay "$SINK_PORT" &&
	try R1
	ret=$?
	sink_stop
	return $ret
'

test_expect_success 'dropped after DATA, before 354: 75, deferred' '
	sink_start sink -q data && set_relay "$SINK_PORT" &&
	try D1
	ret=$?
	sink_stop
	return $ret
'

test_expect_success 'dropped in the middle of the message: 75, deferred' '
	drop_start 100 && set_relay "$DROP_PORT" &&
	try M1 &&
	grep -q "connection" $SP/queue/state/M1
	ret=$?
	drop_stop
	return $ret
'

test_expect_success 'dropped after the final dot, before the reply: 75, deferred' '
	sink_start sink -q . && set_relay "$SINK_PORT" &&
	try E1
	ret=$?
	sink_stop
	return $ret
'

test_expect_success 'relay back: each recipient once, the whole message' '
	rm -rf sink && sink_start sink && set_relay "$SINK_PORT" &&
	mimamori --now "$(later 30)" deliver >out &&
	cat out &&
	for q in R1 D1 M1 E1; do
		grep -qx "sent queue/$q 20 sent, 0 failed, 0 deferred" out || return 1
		test_path_is_missing $SP/queue/env/$q || return 1
	done &&
	test "$(sink_rcpt_count sink)" = 80 &&
	test "$(sink_rcpts sink | sort -u | wc -l)" = 80 &&
	for f in sink/*; do
		grep -q "^line 400" $f || { echo "$f is cut short" >&2; return 1; }
	done &&
	mimamori audit verify
	ret=$?
	sink_stop
	return $ret
'

test_done
