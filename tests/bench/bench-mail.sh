# B3 (fan-out) and B4 (latency) of tests/bench/README.md, sourced by bench.sh after B2
# (it uses bench.sh's say, row, calc, run_timed, die, $W, $BIN, $CFG, $N).
#
# B3: one alert-sized list copy queued for BENCH_N recipients (written into
# queue/msg + queue/env directly, the queue's format in core/queue.h, with
# the list's envelope sender cooperators+bounces@example.jp and "verp yes"
# as dispatch queues them: XVERP goes out when the relay offers it), sent
# by `mimamori deliver` to smtp-sink on loopback; the baseline is Postfix's
# smtp-source pushing the same number of recipients to the same sink over
# one connection in transactions of 1,000 (deliver's transaction size,
# Postfix's default recipient limit). Then 100,000 recipients for the
# memory target.
#
# B4: tests/t0740-watch-latency.sh (watch running, 50 signed requests
# renamed into inbox/new one after the other, 1,000 list members each,
# time to the first transaction of alert recipients at smtp-sink); its
# p50/p99 are taken into the table.
. "$SRC/tests/lib-mail.sh"
TRASH=$W
test_pids=
B3_SENDER=cooperators+bounces@example.jp

# A plain-text alert of about the size dispatch renders (synthetic text).
b3_message() {
	printf 'From: =?UTF-8?B?6auY6b2i6ICF5a6J5b+D55m76Yyy5LqL5qWt?= <alerts@example.jp>\n'
	printf 'To: alert@example.jp\n'
	printf 'Subject: =?UTF-8?B?44CQ6KGM5pa55LiN5piO6ICF5oOF5aCx44CR?=\n'
	printf 'Date: Sat, 21 Nov 2026 09:45:00 +0900\n'
	printf 'Message-ID: <bench.b3@example.jp>\n'
	printf 'MIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\n'
	printf 'Content-Transfer-Encoding: 8bit\nAuto-Submitted: auto-generated\n'
	printf 'List-Id: <cooperators.example.jp>\n'
	printf 'List-Unsubscribe: <mailto:cooperators+unsubscribe@example.jp>\n\n'
	i=0
	while [ $i -lt 12 ]; do
		printf '行方不明者の情報です。三宮センター街の東口付近で最後に目撃されました。紺色のジャンパー。\n'
		i=$((i + 1))
	done
}

b3_run() {
	n=$1 qid=$2
	rm -rf "$W/sink" && sink_start "$W/sink" || die "smtp-sink did not start"
	set_relay "$SINK_PORT" "$CFG"
	seq 1 "$n" | sed 's/.*/m&@bench.example.jp/' |
		QUEUE_SPOOL=$W/demo/spool QUEUE_SENDER=$B3_SENDER QUEUE_LIST=cooperators QUEUE_VERP=yes \
		queue_mail "$qid" "$W/b3-message.txt" ||
		die "cannot queue the B3 message"
	sync
	run_timed "$qid" "$BIN" deliver || die "deliver exited $?: $(tail -n 3 "$W/$qid.err")"
	grep -qx "sent queue/$qid $n sent, 0 failed, 0 deferred" "$W/$qid.out" ||
		die "deliver did not send all: $(cat "$W/$qid.out")"
	got=$(sink_rcpt_count "$W/sink")
	[ "$got" = "$n" ] || die "the sink got $got recipients, not $n"
}

say ""
say "B3 fan-out: one alert to $N recipients through smtp-sink on 127.0.0.1"
"$BIN" deliver >"$W/b3-probe.out" 2>"$W/b3-probe.err"
if grep -q "not implemented" "$W/b3-probe.err" || ! command -v smtp-sink >/dev/null ||
   ! command -v smtp-source >/dev/null; then
	say "B3: skipped (deliver not built, or Postfix's smtp-sink/smtp-source missing)"
	row "B3 fan-out" "skipped" "-" "-" "-" "-" "-"
else
	b3_message >"$W/b3-message.txt"
	b3_run "$N" B3
	B3_T=$T B3_RSS=$RSS
	say "  ours:     $B3_T s, $(sink_mail_count "$W/sink") transactions, peak RSS $((B3_RSS / 1024)) MiB"
	rm -rf "$W/sink"/*
	per=1000
	[ "$N" -lt $per ] && per=$N
	t0=$(now)
	smtp-source -d -m $(( (N + per - 1) / per )) -r $per -F "$W/b3-message.txt" \
		-f $B3_SENDER -t m@bench.example.jp "127.0.0.1:$SINK_PORT" \
		>"$W/b3-base.out" 2>&1 || die "smtp-source failed: $(tail -n 3 "$W/b3-base.out")"
	B3_BASE=$(calc "$(now) - $t0")
	got=$(sink_rcpt_count "$W/sink")
	say "  baseline: $B3_BASE s (smtp-source -d -m $(( (N + per - 1) / per )) -r $per, one connection; the sink got $got recipients)"
	B3_RATIO=$(calc "$B3_T / $B3_BASE")
	say "  ratio:    ${B3_RATIO}x the baseline's time (target <= 2x and <= 1 s)"
	met=no
	[ "$(calc "$B3_RATIO <= 2 && $B3_T <= 1")" = 1.000 ] && met=yes
	row "B3 fan-out $N" "$B3_T s" "$B3_BASE s" "${B3_RATIO}x time" "$((B3_RSS / 1024)) MiB" "<=2x, <=1 s" $met
	sink_stop
	b3_run 100000 B3X
	say "  100,000 recipients: $T s, peak RSS $((RSS / 1024)) MiB (target <= 64 MiB)"
	met=no
	[ "$RSS" -le 65536 ] && met=yes
	row "B3 fan-out 100000" "$T s" "-" "-" "$((RSS / 1024)) MiB" "<=64 MiB" $met
	sink_stop
	rm -rf "$W/sink"
fi

say ""
say "B4 latency: watch, 50 requests landing in inbox/new, 1,000 recipients each"
if [ "${BENCH_B4:-1}" = 0 ]; then
	say "B4: skipped (BENCH_B4=0)"
	row "B4 latency" "skipped" "-" "-" "-" "-" "-"
elif grep -q "not implemented yet" "$SRC/pipeline/watch/watch.c" "$SRC/pipeline/dispatch/dispatch.c" ||
   [ ! -f "$SRC/tests/t0740-watch-latency.sh" ]; then
	say "B4: skipped (watch or dispatch not built)"
	row "B4 latency" "skipped" "-" "-" "-" "-" "-"
else
	BUILD=$BUILD B4_REQUESTS=${BENCH_B4_REQUESTS:-50} B4_RECIPIENTS=${BENCH_B4_RECIPIENTS:-1000} \
		sh "$SRC/tests/t0740-watch-latency.sh" >"$W/b4.out" 2>&1
	line=$(grep -m 1 'B4 latency:' "$W/b4.out" | sed 's/^# //')
	if grep -q '^not ok' "$W/b4.out" || [ -z "$line" ]; then
		say "  B4: FAILED (tests/t0740-watch-latency.sh):"
		grep -A 5 '^not ok' "$W/b4.out" | head -n 20
		row "B4 latency" "failed" "-" "-" "-" "p50<=150, p99<=400 ms" no
	else
		say "  $line"
		p50=$(echo "$line" | sed -n 's/.*p50 \([0-9.]*\) ms.*/\1/p')
		p99=$(echo "$line" | sed -n 's/.*p99 \([0-9.]*\) ms.*/\1/p')
		met=no
		[ "$(calc "$p50 <= 150 && $p99 <= 400")" = 1.000 ] && met=yes
		row "B4 latency" "p50 $p50 ms, p99 $p99 ms" "-" "-" "-" "p50<=150, p99<=400 ms" $met
	fi
fi

say ""
say "B4 field: requests by SMTP through a throwaway Postfix (alias pipe to receive), watch running"
if [ "${BENCH_B4:-1}" = 0 ]; then
	say "B4 field: skipped (BENCH_B4=0)"
	row "B4 field" "skipped" "-" "-" "-" "-" "-"
else
	BUILD=$BUILD B4F_REQUESTS=${BENCH_B4_REQUESTS:-50} B4F_RECIPIENTS=${BENCH_B4_RECIPIENTS:-1000} \
		sh "$SRC/tests/bench/b4-field.sh" >"$W/b4f.out" 2>&1
	line=$(grep -m 1 'B4 field:' "$W/b4f.out" | sed 's/^# //')
	if grep -q '# skip' "$W/b4f.out"; then
		say "  B4 field: skipped ($(grep -m 1 '# skip' "$W/b4f.out" | sed 's/.*# skip //'))"
		row "B4 field" "skipped" "-" "-" "-" "-" "-"
	elif grep -q '^not ok' "$W/b4f.out" || [ -z "$line" ]; then
		say "  B4 field: FAILED (tests/bench/b4-field.sh):"
		grep -A 5 '^not ok' "$W/b4f.out" | head -n 20
		row "B4 field" "failed" "-" "-" "-" "minus baseline p50<=150, p99<=400 ms" no
	else
		say "  $line"
		o50=$(echo "$line" | sed -n 's/.*ours p50 \([0-9.]*\) ms.*/\1/p')
		o99=$(echo "$line" | sed -n 's/.*ours p50 [0-9.]* ms, p99 \([0-9.]*\) ms.*/\1/p')
		b50=$(echo "$line" | sed -n 's/.*Maildir p50 \([0-9.]*\) ms.*/\1/p')
		d50=$(echo "$line" | sed -n 's/.*minus baseline p50 \(-*[0-9.]*\) ms.*/\1/p')
		d99=$(echo "$line" | sed -n 's/.*minus baseline p50 -*[0-9.]* ms, p99 \(-*[0-9.]*\) ms.*/\1/p')
		met=no
		[ "$(calc "$d50 <= 150 && $d99 <= 400")" = 1.000 ] && met=yes
		row "B4 field" "p50 $o50 ms, p99 $o99 ms" "Maildir p50 $b50 ms" \
			"minus: p50 $d50, p99 $d99 ms" "-" "minus baseline p50<=150, p99<=400 ms" $met
	fi
fi
