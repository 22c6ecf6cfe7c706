# Helpers for the dispatch tests (sourced after tests/lib.sh, in $TRASH).
#
#   dispatch_setup            demo installation, the samples taken in on 2026-11-01
#   request NAME [k=v|k=]...  a signed request mail in demo/spool/inbox/new/NAME:
#                             default fields of an alert for 神戸 花子 (R2026-000003),
#                             k=v replaces or adds a field, k= removes it; options
#                             before NAME: --from ADDR, --encrypt, --key FPR
#   queue_dump                every queued message, decoded (mailtool.py queue)
#   rcpts_of ALERT            the envelope recipients of the alert's queued copies

NOW=2026-11-21T10:00:00+09:00
MAILTOOL="python3 $DATA/request/mailtool.py"

# The operator's and the node's fingerprints into OP and NODE.
dispatch_keys() {
	OP=$(sed -n 's/.*<operator key="\([0-9A-F]*\)".*/\1/p' demo/mimamori.xml)
	NODE=$(sed -n 's/.*<agency id="council"[^>]* key="\([0-9A-F]*\)".*/\1/p' demo/mimamori.xml)
	test -n "$OP" && test -n "$NODE"
}

dispatch_setup() {
	setup_demo &&
	dispatch_keys &&
	mimamori --now 2026-11-01 submit demo/samples/registration-*.xml >/dev/null &&
	mimamori --now 2026-11-01 intake >intake.out &&
	grep -q "registration-kobe-hanako.xml R2026-000003" intake.out &&
	grep -q "registration-agency-sharing.xml R2026-000001" intake.out
}

request() {
	dispatch_keys || return 1
	from=ops@vendor.example.jp key=$OP enc=
	while :; do
		case $1 in
		--from) from=$2; shift 2 ;;
		--key) key=$2; shift 2 ;;
		--encrypt) enc="--encrypt-to $NODE"; shift ;;
		*) break ;;
		esac
	done
	name=$1
	shift
	{
		printf '%s\n' "request-id=$name" "sent=2026-11-21T09:40:00+09:00" \
			"type=alert" "status=actual" "registration=R2026-000003" \
			"requester-name=神戸 太郎" "requester-relationship=長男" \
			"police-station=police-ikuta" "police-report-at=2026-11-21T09:30:00+09:00" \
			"missing-since=2026-11-21T07:00:00+09:00" "last-seen=三宮センター街 東口付近" \
			"clothing=紺色のジャンパー、灰色のズボン" "belongings=茶色の手提げかばん"
		for kv in "$@"; do printf '%s\n' "$kv"; done
	} | awk -F= '{ k = $1; v = substr($0, length(k) + 2); if (!(k in val)) order[n++] = k; val[k] = v }
		END { for (i = 0; i < n; i++) if (val[order[i]] != "") printf "%s: %s\n", order[i], val[order[i]] }' \
		>"form.$name" &&
	mimamori request-mail --gnupg-home demo/operator/gnupg --key "$key" --from "$from" \
		--to alerts@example.jp $enc --form "form.$name" -o "demo/spool/inbox/new/$name"
}

queue_dump() {
	$MAILTOOL queue demo/spool
}

rcpts_of() {
	for e in demo/spool/queue/env/*; do
		grep -q "^alert $1\$" "$e" && grep -q '^report ' "$e" && sed -n 's/^rcpt //p' "$e"
	done | sort
}
