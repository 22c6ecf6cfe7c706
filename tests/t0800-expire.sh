#!/bin/sh
# expire: reminders 60 days before expiry, once per validity period;
# destruction on the expiry date in the registry, in bundles not yet
# collected and, through the next bundles, at every agency; a cancellation
# through the same path. Every check looks for the person's name, kana and
# phones in every file of every spool.
. "$(dirname "$0")/lib.sh"

AGENCIES="ward-chuo ward-nada center-chuo-1 center-nada-1 police-ikuta police-nada vendor"
CHUO="ward-chuo center-chuo-1 police-ikuta vendor"

# person N: a registration in chuo with a name, kana and phones of its own.
person() {
	n=$1
	registration_doc name="満了 試子$n" kana="まんりょう ためこ$n" \
		birth=1940-02-$(printf %02d "$n") address="神戸市中央区試験通$n-1-1" \
		home=078-555-$(printf %04d "$n") mobile=090-5555-$(printf %04d "$n")
}

# change N ID DATE: a change of person N's record (a new usual place).
change() {
	{
		echo "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
		echo "<change xmlns=\"urn:mimamori:1\"><id>$2</id><date>$3</date>"
		person "$1" | sed -n "/<person>/,/<\/person>/p" | sed "s/試験公園/試験公園と駅前/"
		echo "</change>"
	}
}

# leaks N [SPOOL...]: list every file that holds person N's data in clear.
leaks() {
	n=$1 && shift
	for s in "$@"; do
		spool_grep "満了 試子$n" "$s"
		spool_grep "まんりょう ためこ$n" "$s"
		spool_grep "555-$(printf %04d "$n")" "$s"
		spool_grep "5555-$(printf %04d "$n")" "$s"
	done
	return 0
}

all_spools() {
	echo demo/spool
	for a in $AGENCIES; do echo demo/nodes/$a/spool; done
}

# Carry every bundle to its agency and import it there; carry the
# receipts the agencies write back to the custodian.
deliver() {
	for a in $AGENCIES; do
		for f in demo/spool/outgoing/$a/*.tar.gpg; do
			[ -f "$f" ] || continue
			cp "$f" demo/nodes/$a/spool/import/ && rm "$f" || return 1
		done
		node $a --now "$1" import >>import-$a.out || return 1
		node $a --now "$1" export >>export-$a.out || return 1
		for f in demo/nodes/$a/spool/outgoing/council/*.tar.gpg; do
			[ -f "$f" ] || continue
			cp "$f" demo/spool/import/ && rm "$f" || return 1
		done
	done
	mimamori --now "$1" import >>import-council.out
}

test_must_be_empty() {
	if [ -s "$1" ]; then
		echo "'$1' is not empty:" >&2
		cat "$1" >&2
		return 1
	fi
}

envs() {
	ls demo/spool/queue/env 2>/dev/null | wc -l
}

test_expect_success 'setup: three people in chuo, sent to every agency' '
	setup_demo &&
	person 1 >p1.xml && person 2 >p2.xml && person 3 >p3.xml &&
	mimamori --now 2026-11-21 submit p1.xml p2.xml >/dev/null &&
	mimamori --now 2026-11-21 intake >out &&
	mimamori --now 2027-06-01 submit p3.xml >/dev/null &&
	mimamori --now 2027-06-01 intake >>out &&
	cat out &&
	grep -q "^accepted incoming/p1.xml R2026-000001" out &&
	grep -q "^accepted incoming/p2.xml R2026-000002" out &&
	grep -q "^accepted incoming/p3.xml R2027-000001" out &&
	mimamori --now 2027-06-01 export >out &&
	deliver 2027-06-01 &&
	for a in $CHUO; do
		node $a show R2026-000002 >/dev/null || return 1
	done
'

test_expect_success '61 days before expiry: nothing' '
	mimamori --now 2028-09-21 expire >out &&
	test_must_be_empty out &&
	test $(envs) -eq 0
'

test_expect_success '60 days before: one reminder each to the intake center, by id only' '
	mimamori --now 2028-09-22 expire >out &&
	printf "reminded R2026-000001\nreminded R2026-000002\n" >expect &&
	sort out >sorted && test_cmp expect sorted &&
	test $(envs) -eq 2 &&
	for e in demo/spool/queue/env/*; do
		grep -qx "rcpt center-chuo-1@example.jp" $e || return 1
		test $(grep -c ^rcpt $e) -eq 1 || return 1
	done &&
	cat demo/spool/queue/msg/* >mails &&
	grep -q "R2026-000001" mails && grep -q "R2026-000002" mails &&
	grep -q "2028-11-21" mails && grep -q "Registration R2026-000002 expires on 2028-11-21" mails &&
	grep -q "^To: center-chuo-1@example.jp" mails &&
	test -z "$(leaks 1 demo/spool/queue)" && test -z "$(leaks 2 demo/spool/queue)" &&
	test_must_fail grep -q R2027-000001 mails &&
	grep -q "remind.*id=R2026-000001 expires=2028-11-21 to=center-chuo-1" \
		demo/spool/audit/audit.log
'

test_expect_success 'no reminder twice for one expiry' '
	mimamori --now 2028-09-22 expire >out &&
	test_must_be_empty out &&
	mimamori --now 2028-10-30 expire >out &&
	test_must_be_empty out &&
	test $(envs) -eq 2
'

test_expect_success 'a renewal of R1, changes of R2 and R3 waiting in bundles' '
	sed "s/2028-02-01/2028-10-01/g" $DATA/registration/renewal.xml >renew.xml &&
	change 2 R2026-000002 2028-10-01 >c2.xml &&
	change 3 R2027-000001 2028-10-01 >c3.xml &&
	mimamori --now 2028-10-01 submit renew.xml c2.xml c3.xml >/dev/null &&
	mimamori --now 2028-10-01 intake >out &&
	test $(grep -c ^accepted out) -eq 3 &&
	mimamori --now 2028-10-01 export >out &&
	cat out &&
	grep -q "^wrote outgoing/ward-chuo/council-ward-chuo-2.tar.gpg 3 records" out &&
	grep -q "R2026-000002" demo/spool/work/bundles/ward-chuo-2
'

test_expect_success 'the day before its expiry date the record is still valid' '
	mimamori --now 2028-11-20 expire >out &&
	test_must_be_empty out &&
	mimamori --now 2028-11-20 show R2026-000002 >/dev/null &&
	test -f demo/spool/outgoing/ward-chuo/council-ward-chuo-2.tar.gpg
'

test_expect_success 'after expiry: gone from the registry and from waiting bundles' '
	ls demo/spool/registry/records/R2026-000002.* &&
	mimamori --now 2028-11-22 expire >out &&
	echo "destroyed R2026-000002 expired" >expect &&
	test_cmp expect out &&
	test_expect_code 65 mimamori --now 2028-11-22 show R2026-000002 2>err &&
	grep -q "destroyed on 2028-11-22 (expired)" err &&
	test -z "$(ls demo/spool/registry/records | grep R2026-000002)" &&
	for a in $CHUO; do
		test_path_is_missing demo/spool/outgoing/$a/council-$a-2.tar.gpg || return 1
	done &&
	test_path_is_missing demo/spool/work/bundles/ward-chuo-2 &&
	test -z "$(leaks 2 demo/spool)" &&
	grep -q "destroy.*id=R2026-000002 reason=expired" demo/spool/audit/audit.log &&
	grep -q "withdraw.*to=ward-chuo seq=2" demo/spool/audit/audit.log &&
	mimamori --now 2028-11-22 expire >out && test_must_be_empty out
'

test_expect_success 'the next bundles carry the deletion and the withdrawn changes' '
	mimamori --now 2028-11-22 export >out &&
	cat out &&
	grep -q "^wrote outgoing/ward-chuo/council-ward-chuo-3.tar.gpg 2 records, 1 deletions" out &&
	grep -q "^wrote outgoing/police-ikuta/council-police-ikuta-3.tar.gpg 2 records, 1 deletions" out &&
	deliver 2028-11-22 &&
	for a in $CHUO; do
		test_expect_code 65 node $a --now 2028-11-22 show R2026-000002 2>/dev/null ||
			return 1
		node $a --now 2028-11-22 show R2027-000001 | grep -q "試験公園と駅前" || return 1
		node $a --now 2028-11-22 show R2026-000001 | grep -q "expires=\"2030-10-01\"" ||
			return 1
		test -z "$(ls demo/nodes/$a/spool/registry/records | grep R2026-000002)" ||
			return 1
	done &&
	test -z "$(leaks 2 $(all_spools))"
'

test_expect_success 'a cancellation (death) destroys the record at once, everywhere' '
	change 3 R2027-000001 2028-11-23 | sed "s/試験公園と駅前/試験公園と病院/" >c3b.xml &&
	mimamori --now 2028-11-23 submit c3b.xml >/dev/null &&
	mimamori --now 2028-11-23 intake >out && grep -q ^accepted out &&
	mimamori --now 2028-11-23 export >out &&
	test -f demo/spool/outgoing/vendor/council-vendor-4.tar.gpg &&
	sed "s/R2026-000001/R2027-000001/; s/2026-09-30/2028-11-24/; s/facility/death/" \
		$DATA/registration/cancellation.xml >cancel.xml &&
	mimamori --now 2028-11-24 submit cancel.xml >/dev/null &&
	mimamori --now 2028-11-24 intake >out && grep -q ^accepted out &&
	mimamori --now 2028-11-24 expire >out &&
	test_must_be_empty out &&
	test_path_is_missing demo/spool/outgoing/vendor/council-vendor-4.tar.gpg &&
	test -z "$(leaks 3 demo/spool)" &&
	mimamori --now 2028-11-24 export >out &&
	grep -q "^wrote outgoing/vendor/council-vendor-5.tar.gpg 0 records, 1 deletions" out &&
	deliver 2028-11-24 &&
	for a in $CHUO; do
		test_expect_code 65 node $a --now 2028-11-24 show R2027-000001 2>err.$a ||
			return 1
		grep -q "(death)" err.$a || return 1
	done &&
	test -z "$(leaks 3 $(all_spools))" &&
	mimamori --now 2028-11-24 stats --csv >stats &&
	grep -q "^chuo,1,0,0,1,0,0,0,1," stats
'

test_expect_success 'a renewed record gets the reminder of its new period, once' '
	mimamori --now 2030-08-01 expire >out && test_must_be_empty out &&
	mimamori --now 2030-08-02 expire >out &&
	echo "reminded R2026-000001" >expect && test_cmp expect out &&
	test $(grep -l "2030-10-01" demo/spool/queue/msg/* | wc -l) -eq 1 &&
	mimamori --now 2030-09-30 expire >out && test_must_be_empty out &&
	mimamori --now 2030-10-01 expire >out &&
	echo "destroyed R2026-000001 expired" >expect && test_cmp expect out &&
	test -z "$(leaks 1 demo/spool)"
'

test_expect_success 'a copy held by an agency expires there too' '
	node vendor --now 2030-10-02 show R2026-000001 >/dev/null &&
	node vendor --now 2030-10-02 expire >out &&
	echo "destroyed R2026-000001 expired" >expect && test_cmp expect out &&
	test -z "$(leaks 1 demo/nodes/vendor/spool)" &&
	test $(ls demo/nodes/vendor/spool/queue/env | wc -l) -eq 0
'

test_expect_success 'the audit logs hold ids, never persons, and verify' '
	test -z "$(leaks 1 demo/spool/audit)" &&
	mimamori audit verify && node vendor audit verify
'

test_done
