# lib-lists.sh - helpers of the lists' scripts (t1000-t1015), sourced
# after lib.sh and tests/data/request/lib.sh:
#
#   lists_setup                     the demo, cooperators with an owner
#   lmail NAME RCPT [FROM] < BODY   a mail as receive --list stores it
#   dsn NAME RCPT ADDR STATUS ACTION [MSGID]   a DSN to RCPT about ADDR
#   confirm_addr ADDRESS            the Reply-To of the newest mail queued to it
#   lists_import N [LIST]           N members h0..h(N-1)@docomo.ne.jp, pledged

Q=demo/spool/queue
D=example.jp

lists_setup() {
	dispatch_setup &&
	sed -i "s|<list id=\"cooperators\" audience=\"community\" wards=\"\\*\" address=\"alert@example.jp\">|<list id=\"cooperators\" audience=\"community\" wards=\"*\" address=\"alert@example.jp\" owner=\"owner@example.jp\">|" demo/mimamori.xml &&
	grep -q "owner=\"owner@example.jp\"" demo/mimamori.xml &&
	mimamori --now $NOW check-config >/dev/null 2>&1
}

lmail() {
	{ printf 'From: %s\nTo: %s\nSubject: x\nMessage-ID: <%s@t>\n\n' "${3:-new@helper.jp}" "$2" "$1"; cat; } |
	ORIGINAL_RECIPIENT=$2 mimamori receive --list >/dev/null
}

dsn() {
	printf 'From: MAILER-DAEMON@relay.jp\nTo: %s\nSubject: Undelivered\nMIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary="b1"\n\n--b1\nContent-Type: text/plain\n\nfailed\n\n--b1\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; relay.jp\n\nFinal-Recipient: rfc822; %s\nAction: %s\nStatus: %s\n\n--b1\nContent-Type: text/rfc822-headers\n\nMessage-ID: <%s>\nSubject: x\n\n--b1--\n' "$2" "$3" "$5" "$4" "${6:-none@x}" |
	ORIGINAL_RECIPIENT=$2 mimamori receive --list >/dev/null
}

confirm_addr() {
	for e in $(ls -t $Q/env); do
		grep -q "^rcpt $1\$" $Q/env/$e || continue
		sed -n "s/^Reply-To: \(.*\)\r\$/\1/p" $Q/msg/$e | head -1
		return 0
	done
	return 1
}

lists_import() {
	{
		echo "address,name,pledge,charset"
		i=0
		while [ $i -lt $1 ]; do
			echo "h$i@docomo.ne.jp,協力者 $i,2026-04-01,"
			i=$((i + 1))
		done
	} >m.csv &&
	mimamori --now $NOW members import ${2:-cooperators} m.csv >import.out &&
	grep -qx "imported $1 member(s) into ${2:-cooperators}" import.out
}
