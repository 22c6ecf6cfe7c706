# lib-mail.sh - mail helpers for the end-to-end tests, sourced after lib.sh:
#
#   . ./lib.sh
#   . ./lib-mail.sh
#   sink_start sink            # smtp-sink on 127.0.0.1:$SINK_PORT, dumps in ./sink
#   set_relay "$SINK_PORT"     # <smtp host="127.0.0.1" port=…> in the demo config
#   queue_mail Q1 mail.txt a@example.jp b@example.jp
#   mimamori deliver &&
#   test "$(sink_rcpt_count sink)" = 2
#   sink_stop
#
# Every server started here listens on 127.0.0.1 only and is stopped by
# the pid it was started with: by sink_stop/peer_stop (from any test
# body: the pids are kept in files) and, for all of them, when the script
# exits (an EXIT trap; a script that sets its own must call
# mail_stop_all).

SINK_PID=
SINK_PORT=
SINK_DIR=
# Test bodies run in subshells: the pids of the servers started here are
# kept in files (outside the trash folder, which test_done removes) so
# that a later body can stop them and the script's exit stops them all.
if [ -n "$TEST_SRC" ]; then
	MAIL_PIDS=$TEST_SRC/tests/trash/.mail-pids.$$
	mkdir -p "$TEST_SRC/tests/trash"
else
	MAIL_PIDS=${TMPDIR:-/tmp}/.mimamori-mail-pids.$$
fi

# Stop every server this script started (at exit, and by hand).
mail_stop_all() {
	if [ -f "$MAIL_PIDS" ]; then
		while read -r p; do
			kill "$p" 2>/dev/null
		done <"$MAIL_PIDS"
		rm -f "$MAIL_PIDS" "$MAIL_PIDS.sink" "$MAIL_PIDS.peer" "$MAIL_PIDS.postfix"
	fi
	return 0
}
# (kill_agents, of lib.sh or bench.sh, is what their own EXIT traps run.)
trap 'mail_stop_all; if command -v kill_agents >/dev/null 2>&1; then kill_agents; fi' EXIT

# A TCP port on 127.0.0.1 nobody listens on (the kernel picks it).
free_port() {
	perl -MIO::Socket::INET -e '
		my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => 0,
					      Listen => 1) or exit 1;
		print $s->sockport, "\n";'
}

# Whether something accepts connections on 127.0.0.1:PORT.
port_listens() {
	perl -MIO::Socket::INET -e '
		IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $ARGV[0],
				      Timeout => 1) or exit 1;' "$1"
}

# sink_start DIR [SMTP-SINK-OPTION...]: start smtp-sink on a free loopback
# port, each mail transaction dumped as one file in DIR (made writable by
# the sink's user). Sets SINK_PORT, SINK_PID, SINK_DIR.
sink_start() {
	SINK_DIR=$1
	shift
	mkdir -p "$SINK_DIR" && chmod 1777 "$SINK_DIR" || return 1
	user=
	[ "$(id -u)" = 0 ] && user="-u nobody"
	try=0
	while [ $try -lt 10 ]; do
		SINK_PORT=$(free_port) || return 1
		# shellcheck disable=SC2086
		smtp-sink $user -d "$SINK_DIR/%M." "$@" "127.0.0.1:$SINK_PORT" 256 \
			>>"$TRASH/sink.log" 2>&1 &
		SINK_PID=$!
		i=0
		while [ $i -lt 50 ]; do
			if port_listens "$SINK_PORT"; then
				test_pids="$test_pids $SINK_PID"
				echo "$SINK_PID" >>"$MAIL_PIDS"
				echo "$SINK_PID" >"$MAIL_PIDS.sink"
				return 0
			fi
			kill -0 "$SINK_PID" 2>/dev/null || break
			sleep 0.05
			i=$((i + 1))
		done
		kill "$SINK_PID" 2>/dev/null
		wait "$SINK_PID" 2>/dev/null
		try=$((try + 1))
	done
	echo "sink_start: smtp-sink did not start" >&2
	return 1
}

# Stop the sink started last (by its pid), also from another test body.
sink_stop() {
	[ -n "$SINK_PID" ] || SINK_PID=$(cat "$MAIL_PIDS.sink" 2>/dev/null)
	if [ -n "$SINK_PID" ]; then
		kill "$SINK_PID" 2>/dev/null
		wait "$SINK_PID" 2>/dev/null
	fi
	rm -f "$MAIL_PIDS.sink"
	SINK_PID=
	return 0
}

# The envelope recipients of every dump in DIR, one a line, without <>,
# in the order received (a recipient sent twice is listed twice).
sink_rcpts() {
	for f in "${1:-$SINK_DIR}"/*; do
		[ -f "$f" ] || continue
		sed -n '/^X-Rcpt-Args: /{s/^X-Rcpt-Args: <\{0,1\}\([^> ]*\)>\{0,1\}.*/\1/p}
			/^Received: /q' "$f"
	done
}

# How many envelope recipients the dumps in DIR hold.
sink_rcpt_count() {
	sink_rcpts "$1" | wc -l | tr -d ' '
}

# How many mail transactions (dump files) DIR holds.
sink_mail_count() {
	find "${1:-$SINK_DIR}" -type f | wc -l | tr -d ' '
}

# sink_message FILE: the message as the client sent it (smtp-sink's own
# X- lines and its three-line Received: header removed).
sink_message() {
	awk 'done { print; next }
	     /^Received: / { skip = 3 }
	     skip { skip--; if (!skip) done = 1; next }' "$1"
}

# sink_decode FILE: the message's headers with RFC 2047 words decoded,
# then its text body with the transfer encoding undone, in UTF-8.
sink_decode() {
	sink_message "$1" | perl -MEncode -MMIME::Base64 -MMIME::QuotedPrint -e '
		local $/; my $m = <STDIN>; $m =~ s/\r\n/\n/g;
		my ($h, $b) = split /\n\n/, $m, 2; $b //= "";
		(my $u = $h) =~ s/\n[ \t]+/ /g;
		print encode("UTF-8", decode("MIME-Header", $h)), "\n\n";
		my ($cte) = $u =~ /^Content-Transfer-Encoding:\s*(\S+)/mi;
		my ($cs) = $u =~ /charset="?([^";\s]+)/i;
		$b = decode_base64($b) if $cte && lc $cte eq "base64";
		$b = decode_qp($b) if $cte && lc $cte eq "quoted-printable";
		$b = encode("UTF-8", decode($cs, $b)) if $cs && lc $cs ne "utf-8";
		print $b;'
}

# set_relay PORT [CONFIG]: deliver to 127.0.0.1:PORT (replaces any <smtp>).
set_relay() {
	cfg=${2:-$MIMAMORI_CONFIG}
	sed -i -e '/<smtp /d' \
	    -e "s|\(<sender [^>]*/>\)|\1\n  <smtp host=\"127.0.0.1\" port=\"$1\"/>|" "$cfg"
}

# unset_relay [CONFIG]: local Maildir delivery.
unset_relay() {
	sed -i '/<smtp /d' "${1:-$MIMAMORI_CONFIG}"
}

# queue_mail QID FILE [RCPT...]: queue FILE (LF or CRLF lines; sent with
# CRLF) to the recipients given, or read one a line from stdin when none
# is given, by writing queue/msg/QID then queue/env/QID as the queue's
# format says. QUEUE_SPOOL (default demo/spool), QUEUE_SENDER,
# QUEUE_TIME (default now), QUEUE_REPORT (an operator fingerprint),
# QUEUE_ALERT, QUEUE_LIST (a list id) and QUEUE_VERP (non-empty: "verp
# yes") change the envelope.
queue_mail() {
	qid=$1
	file=$2
	shift 2
	sp=${QUEUE_SPOOL:-demo/spool}
	mkdir -p "$sp/queue/msg" "$sp/queue/env" "$sp/queue/state" "$sp/tmp" &&
	sed 's/\r$//; s/$/\r/' "$file" >"$sp/tmp/q.$qid" &&
	mv "$sp/tmp/q.$qid" "$sp/queue/msg/$qid" || return 1
	{
		echo "sender ${QUEUE_SENDER:-alerts@example.jp}"
		echo "queued ${QUEUE_TIME:-$(date +%s)}"
		[ -n "$QUEUE_ALERT" ] && echo "alert $QUEUE_ALERT"
		[ -n "$QUEUE_REPORT" ] && echo "report $QUEUE_REPORT"
		[ -n "$QUEUE_LIST" ] && echo "list $QUEUE_LIST"
		[ -n "$QUEUE_VERP" ] && echo "verp yes"
		if [ $# -gt 0 ]; then
			for r in "$@"; do echo "rcpt $r"; done
		else
			sed 's/^/rcpt /'
		fi
	} >"$sp/tmp/e.$qid" &&
	chmod 600 "$sp/queue/msg/$qid" "$sp/tmp/e.$qid" &&
	mv "$sp/tmp/e.$qid" "$sp/queue/env/$qid"
}

# rcpt_list N [PREFIX]: N addresses PREFIX1@example.jp … one a line.
rcpt_list() {
	seq 1 "$1" | sed "s/.*/${2:-r}&@example.jp/"
}

# peer_start FILE [nopipelining]: a minimal SMTP server on a free loopback
# port, for what smtp-sink cannot do: refuse some recipients of one
# transaction. RCPT replies 550 to a local part starting with "bad", 451
# to one starting with "busy", 250 to the others; each completed DATA
# appends its accepted recipients to FILE, one a line. Sets PEER_PORT and
# PEER_PID; peer_stop stops it.
PEER_PID=
peer_start() {
	PEER_PORT=$(free_port) || return 1
	: >"$1"
	perl -MIO::Socket::INET -e '
		my ($port, $out, $nopipe) = @ARGV;
		my $l = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => $port,
					      Listen => 5, ReuseAddr => 1) or die "listen: $!";
		$| = 1; print "ready\n";
		while (my $c = $l->accept) {
			$c->autoflush(1);
			print $c "220 peer ESMTP\r\n";
			my @ok; my $mail = 0;
			while (my $line = <$c>) {
				$line =~ s/\r?\n$//;
				if ($line =~ /^EHLO/i) {
					print $c $nopipe ? "250 peer\r\n" : "250-peer\r\n250 PIPELINING\r\n";
				} elsif ($line =~ /^HELO/i) { print $c "250 peer\r\n";
				} elsif ($line =~ /^MAIL FROM:/i) { @ok = (); $mail = 1; print $c "250 2.1.0 ok\r\n";
				} elsif ($line =~ /^RCPT TO:<([^>]*)>/i) {
					my $a = $1;
					if (!$mail) { print $c "503 5.5.1 need MAIL\r\n" }
					elsif ($a =~ /^bad/) { print $c "550 5.1.1 <$a> no such user\r\n" }
					elsif ($a =~ /^busy/) { print $c "451 4.3.0 <$a> try later\r\n" }
					else { push @ok, $a; print $c "250 2.1.5 ok\r\n" }
				} elsif ($line =~ /^DATA/i) {
					if (!@ok) { print $c "554 5.5.1 no valid recipients\r\n"; next }
					print $c "354 go ahead\r\n";
					while (my $d = <$c>) { last if $d =~ /^\.\r?\n$/ }
					open(my $f, ">>", $out) or die; print $f "$_\n" for @ok; close $f;
					print $c "250 2.0.0 queued\r\n"; @ok = (); $mail = 0;
				} elsif ($line =~ /^RSET/i) { @ok = (); $mail = 0; print $c "250 ok\r\n";
				} elsif ($line =~ /^QUIT/i) { print $c "221 bye\r\n"; last;
				} else { print $c "502 5.5.2 unknown command\r\n" }
			}
			close $c;
		}' "$PEER_PORT" "$1" "$2" >"$TRASH/peer.ready" 2>>"$TRASH/peer.log" &
	PEER_PID=$!
	i=0
	while [ $i -lt 100 ]; do
		if grep -q ready "$TRASH/peer.ready" 2>/dev/null; then
			test_pids="$test_pids $PEER_PID"
			echo "$PEER_PID" >>"$MAIL_PIDS"
			echo "$PEER_PID" >"$MAIL_PIDS.peer"
			return 0
		fi
		kill -0 "$PEER_PID" 2>/dev/null || break
		sleep 0.05
		i=$((i + 1))
	done
	echo "peer_start: the SMTP peer did not start" >&2
	return 1
}

peer_stop() {
	[ -n "$PEER_PID" ] || PEER_PID=$(cat "$MAIL_PIDS.peer" 2>/dev/null)
	if [ -n "$PEER_PID" ]; then
		kill "$PEER_PID" 2>/dev/null
		wait "$PEER_PID" 2>/dev/null
	fi
	rm -f "$MAIL_PIDS.peer"
	PEER_PID=
	return 0
}

# add_list ID M CONFIG: a list ID (audience agency, every ward) of M
# members mNNNNN@ID.example.jp in CONFIG.
add_list() {
	python3 - "$1" "$2" "$3" <<-\PY
	import sys
	lid, m, cfg = sys.argv[1], int(sys.argv[2]), sys.argv[3]
	s = open(cfg, encoding="utf-8").read()
	members = "".join("      <member address=\"m%05d@%s.example.jp\" name=\"b\"/>\n" % (i, lid)
	                  for i in range(m))
	lst = ("    <list id=\"%s\" audience=\"agency\" wards=\"*\" address=\"%s@example.jp\">\n"
	       % (lid, lid) + members + "    </list>\n")
	s = s.replace("  </lists>", lst + "  </lists>")
	open(cfg, "w", encoding="utf-8").write(s)
	PY
}
