#!/bin/sh
# One hostile or unlucky request never stops dispatch: oversized or
# deeply nested headers are refused before the MIME parser sees them, an
# operator whose key expired or was revoked gets its request rejected
# without a reply, a replayed request (accepted or rejected the first
# time) is rejected as a replay; and each time the valid request behind
# it in the same run is accepted, dispatch exiting 0.
. "$(dirname "$0")/lib.sh"
. "$DATA/request/lib.sh"

# run_dispatch [WHEN]: dispatch exits 0 (not 70, 75, nor by a signal).
run_dispatch() {
	mimamori --now ${1:-$NOW} dispatch >out 2>err
	code=$?
	test $code = 0 || { echo "dispatch exited $code"; cat out err; return 1; }
}

# rejected NAME REASON...: NAME was rejected with each REASON, kept in
# rejected/ with them, nothing left claimed.
rejected() {
	name=$1
	shift
	grep "^rejected inbox/new/$name: " out >line || { echo "$name not rejected:"; cat out; return 1; }
	for r in "$@"; do
		grep -q -F -- "$r" line || { echo "no '$r' in: $(cat line)"; return 1; }
		grep -q -F -- "$r" demo/spool/rejected/$name.reason || return 1
	done &&
	test -f demo/spool/rejected/$name &&
	test_path_is_missing demo/spool/inbox/new/$name &&
	test -z "$(ls demo/spool/work/dispatch)"
}

# accepted NAME ALERT: NAME was accepted for ALERT.
accepted() {
	grep -q "^accepted inbox/new/$1 $2 " out || { echo "$1 not accepted for $2:"; cat out err; return 1; }
}

# pad_header FILE COUNT KIB: COUNT header fields of KIB KiB each (folded
# into short lines) put in front of the mail's own headers.
pad_header() {
	python3 -c '
import sys
f, count, kib = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
raw = open(f, "rb").read()
pad = b""
for i in range(count):
    field = b"X-Pad-%d: x" % i
    while len(field) < kib * 1024:
        field += b"\r\n " + b"a" * 72
    pad += field + b"\r\n"
open(f, "wb").write(pad + raw)
' "$@"
}

# unsigned NAME FROM: a plain mail with the form of form.keep in inbox/new.
unsigned() {
	{
		printf "From: %s\r\nTo: alerts@example.jp\r\nSubject: request\r\n" "$2" &&
		printf "Content-Type: text/plain; charset=UTF-8\r\n\r\n" &&
		sed "s/\$/\r/" form.keep
	} >demo/spool/inbox/new/$1
}

# A key for a second operator: gen_op HOME ADDRESS [EXPIRY] -> fingerprint
# (made at the time $FAKED, when set).
gen_op() {
	mkdir -p -m 700 $1 &&
	gpg --homedir $1 --batch --passphrase "" ${FAKED:+--faked-system-time $FAKED} \
		--quick-gen-key "operator <$2>" future-default default ${3:-never} 2>/dev/null &&
	gpg --homedir $1 --with-colons --list-keys "$2" 2>/dev/null |
		awk -F: "/^fpr/ { print \$10; exit }"
}

# add_op FPR ADDRESS HOME: a configured operator, its public key in the
# node's keyring (written name= first, so that dispatch_keys still finds
# only the demo's operator).
add_op() {
	gpg --homedir $3 --export --armor $1 2>/dev/null >pub.asc &&
	gpg --homedir demo/gnupg --batch --import pub.asc 2>/dev/null &&
	sed "s|</operators>|  <operator name=\"二番 当番\" key=\"$1\" address=\"$2\"/>\n  </operators>|" \
		demo/mimamori.xml >cfg.new &&
	mv cfg.new demo/mimamori.xml
}

# request_as HOME FPR FROM NAME [k=v]...: as request, signed by FPR of HOME.
request_as() {
	home=$1 fpr=$2 addr=$3
	shift 3
	request "$@" &&
	mimamori request-mail --gnupg-home $home --key $fpr --from $addr \
		--to alerts@example.jp --form form.$1 -o demo/spool/inbox/new/$1
}

# No message in the queue is for ADDRESS.
nothing_for() {
	! grep -rq "^rcpt $1\$" demo/spool/queue/env
}

test_expect_success 'setup: demo installation, samples taken in' '
	dispatch_setup &&
	request keep && rm demo/spool/inbox/new/keep
'

test_expect_success 'From: with 104,000 nested parentheses: rejected, the next request accepted' '
	python3 -c "import sys; sys.stdout.buffer.write(b\"From: \" + b\"(\" * 104000 + b\"\\r\\nTo: alerts@example.jp\\r\\nSubject: x\\r\\n\\r\\nhello\\r\\n\")" \
		>demo/spool/inbox/new/h1 &&
	request v1 &&
	run_dispatch &&
	rejected h1 "header nested too deeply" &&
	accepted v1 A2026-000001
'

test_expect_success '33 nested parentheses in a signed mail: rejected; 32 are read' '
	request h2 request-id=h2 type=update notes=追加 &&
	sed "1s/^From: \(.*\)\r\$/From: \1 $(printf "%033d" 0 | tr 0 "(")x$(printf "%033d" 0 | tr 0 ")")\r/" \
		demo/spool/inbox/new/h2 >h2 && mv h2 demo/spool/inbox/new/h2 &&
	grep -q "^From: ops@vendor.example.jp ((((" demo/spool/inbox/new/h2 &&
	request v2 request-id=v2 type=update notes=追加 &&
	sed "1s/^From: \(.*\)\r\$/From: \1 $(printf "%032d" 0 | tr 0 "(")x$(printf "%032d" 0 | tr 0 ")")\r/" \
		demo/spool/inbox/new/v2 >v2 && mv v2 demo/spool/inbox/new/v2 &&
	run_dispatch &&
	rejected h2 "header nested too deeply" &&
	accepted v2 A2026-000001
'

test_expect_success 'a 200 KiB header field on a signed request: rejected, the next accepted' '
	request h3 request-id=h3 type=update notes=追加 &&
	pad_header demo/spool/inbox/new/h3 1 200 &&
	request v3 request-id=v3 type=update notes=追加 &&
	run_dispatch &&
	rejected h3 "header too large" &&
	accepted v3 A2026-000001
'

test_expect_success 'a 300 KiB header section of small fields: rejected, the next accepted' '
	request h4 request-id=h4 type=update notes=追加 &&
	pad_header demo/spool/inbox/new/h4 30 10 &&
	request v4 request-id=v4 type=update notes=追加 &&
	run_dispatch &&
	rejected h4 "header too large" &&
	accepted v4 A2026-000001
'

test_expect_success 'a 2 MiB mail: rejected unread, the next accepted' '
	request h5 request-id=h5 type=update notes=追加 &&
	head -c 2097152 /dev/zero | tr "\0" a >>demo/spool/inbox/new/h5 &&
	request v5 request-id=v5 type=update notes=追加 &&
	run_dispatch &&
	rejected h5 "too large" &&
	accepted v5 A2026-000001
'

test_expect_success 'setup: an operator whose key has expired, one whose key was revoked' '
	past=$(date -u -d "3 days ago" +%Y%m%dT%H%M%S) &&
	XK=$(FAKED=$past gen_op opx/gnupg expired-op@vendor.example.jp 1d) &&
	test -n "$XK" &&
	echo "faked-system-time $past" >opx/gnupg/gpg.conf &&
	add_op $XK expired-op@vendor.example.jp opx/gnupg &&
	RK=$(gen_op opr/gnupg revoked-op@vendor.example.jp) &&
	test -n "$RK" &&
	add_op $RK revoked-op@vendor.example.jp opr/gnupg &&
	sed "s/^:-----/-----/" opr/gnupg/openpgp-revocs.d/$RK.rev >rev.asc &&
	gpg --homedir demo/gnupg --batch --import rev.asc 2>/dev/null &&
	gpg --homedir demo/gnupg --list-keys $XK 2>/dev/null | grep -q expired &&
	gpg --homedir demo/gnupg --list-keys $RK 2>/dev/null | grep -q revoked &&
	echo $XK >xk && echo $RK >rk
'

test_expect_success 'check-config warns about both keys and exits 0' '
	mimamori check-config >cc.out 2>cc.err &&
	grep "warning: .*operator .expired-op@vendor.example.jp.*expired" cc.err &&
	grep "warning: .*operator .revoked-op@vendor.example.jp.*revoked" cc.err &&
	grep -q "is fine" cc.out
'

test_expect_success 'expired operator key: its requests rejected without a reply, the next accepted' '
	request_as opx/gnupg $(cat xk) expired-op@vendor.example.jp h6 type=update notes=追加 &&
	unsigned h7 expired-op@vendor.example.jp &&
	request v6 request-id=v6 type=update notes=追加 &&
	replies=$(grep -l "^rcpt ops@vendor.example.jp\$" demo/spool/queue/env/* | wc -l) &&
	run_dispatch &&
	rejected h6 "bad signature" "no reply" "expired" &&
	rejected h7 "not signed" "no reply" "expired" &&
	accepted v6 A2026-000001 &&
	nothing_for expired-op@vendor.example.jp &&
	test $(grep -l "^rcpt ops@vendor.example.jp\$" demo/spool/queue/env/* | wc -l) = $((replies + 1))
'

test_expect_success 'revoked operator key: its requests rejected without a reply, the next accepted' '
	request_as opr/gnupg $(cat rk) revoked-op@vendor.example.jp h8 type=update notes=追加 &&
	unsigned h9 revoked-op@vendor.example.jp &&
	request v7 request-id=v7 type=update notes=追加 &&
	run_dispatch &&
	rejected h8 "bad signature" "no reply" "revoked" &&
	rejected h9 "not signed" "no reply" "revoked" &&
	accepted v7 A2026-000001 &&
	nothing_for revoked-op@vendor.example.jp
'

test_expect_success 'a rejected found replayed after an alert opened: rejected as a replay' '
	request f1 type=found registration=R2026-000002 requester-name= police-station=police-nada \
		sent=2026-11-21T07:50:00+09:00 police-report-at= missing-since= &&
	cp demo/spool/inbox/new/f1 f1.copy &&
	run_dispatch 2026-11-21T08:00:00+09:00 &&
	rejected f1 "no alert is open for this registration" &&
	request a1 registration=R2026-000002 requester-name= police-station=police-nada &&
	run_dispatch &&
	accepted a1 A2026-000002 &&
	cp f1.copy demo/spool/inbox/new/f1again &&
	run_dispatch 2026-11-21T11:00:00+09:00 &&
	rejected f1again "replay of a request seen on 2026-11-21" &&
	request u1 type=update notes=追加 registration=R2026-000002 requester-name= police-station=police-nada &&
	run_dispatch 2026-11-21T11:00:00+09:00 &&
	accepted u1 A2026-000002
'

test_expect_success 'a rejected alert replayed after a found: rejected as a replay' '
	request a2 registration=R2026-000002 requester-name= police-station=police-nada &&
	cp demo/spool/inbox/new/a2 a2.copy &&
	run_dispatch &&
	rejected a2 "an alert is already open" &&
	request f2 type=found registration=R2026-000002 requester-name= police-station=police-nada &&
	run_dispatch &&
	accepted f2 A2026-000002 &&
	cp a2.copy demo/spool/inbox/new/a2again &&
	run_dispatch 2026-11-21T11:00:00+09:00 &&
	rejected a2again "replay of a request seen on 2026-11-21" &&
	test -z "$(ls demo/spool/alerts | grep A2026-000003)"
'

test_expect_success 'audit: one reject event per rejected input, chain intact' '
	test $(grep -c "	dispatch	reject	" demo/spool/audit/audit.log) = $(ls demo/spool/rejected | grep -v "\.reason$" | wc -l) &&
	mimamori audit verify
'

test_done
