#!/bin/sh
# A full disk (mimamori-design(7) and mimamori(1)): the spool on a 2 MiB tmpfs. intake of a
# batch that does not fit stops with 74, rejects nothing for it, leaves
# every input waiting or accepted, nothing half-written; after space is
# freed a rerun finishes. The same for export and import, and submit.
# Needs root (mount).
. "$(dirname "$0")/lib.sh"
# Registration ids and dates below are of 2026: the clock is pinned there.
pin_clock 2026-11-21T12:00:00+09:00

small_disk 2m

# A registration with a photo of about KB kilobytes (JPEG magic, random).
photo_registration() {
	n=$1 kb=$2
	{ printf '\377\330\377\340'; head -c $((kb * 1024)) /dev/urandom; } | base64 -w0 >photo.b64
	echo >>photo.b64
	make_registration "$n" "$DATA/registration/valid-minimal.xml" |
		awk '/<\/person>/ { getline p <"photo.b64"; close("photo.b64")
			sub(/<\/person>/, "<photo type=\"image/jpeg\">" p "</photo></person>") } { print }'
}

# Files of the spool (outside the registry) that are temporary leftovers.
leftovers() {
	find demo/spool/tmp -type f 2>/dev/null
	find demo/spool -name '*.tmp*' -o -name '.tmp*' 2>/dev/null
}

test_expect_success 'setup: the demo spool on a 2 MiB tmpfs' '
	setup_demo &&
	cp -a demo/spool/. "$MNT"/ &&
	rm -rf demo/spool && ln -s "$MNT" demo/spool &&
	mimamori submit demo/samples/registration-kobe-hanako.xml >/dev/null &&
	mimamori intake >out &&
	grep -q "^accepted incoming/registration-kobe-hanako.xml R2026-000001" out &&
	i=1 && while [ $i -le 7 ]; do
		photo_registration $i 150 >big-$i.xml || return 1
		i=$((i + 1))
	done &&
	mimamori submit big-*.xml >/dev/null &&
	test $(ls demo/spool/incoming | wc -l) -eq 7 &&
	df -k "$MNT"
'

test_expect_success 'intake of a batch that does not fit: exit 74, nothing rejected' '
	test_expect_code 74 mimamori intake >out 2>err &&
	cat out err &&
	grep -q "No space left on device" err &&
	test -z "$(ls demo/spool/rejected)" &&
	! grep -q ^rejected out
'

test_expect_success 'every input is waiting or accepted, nothing half-written' '
	waiting=$( (ls demo/spool/incoming; ls demo/spool/work/intake) | wc -l) &&
	accepted=$(grep -c ^accepted out || :) &&
	echo "waiting=$waiting accepted=$accepted" &&
	test $((waiting + accepted)) -eq 7 &&
	test $waiting -gt 0 &&
	test -z "$(leftovers)" &&
	for rid in $(sed -n "s/^accepted [^ ]* //p" out); do
		mimamori show $rid >/dev/null || return 1
	done &&
	mimamori show R2026-000001 >/dev/null &&
	mimamori audit verify
'

test_expect_success 'a second run on the full disk changes nothing and still says 74' '
	ls demo/spool/incoming demo/spool/work/intake >before &&
	test_expect_code 74 mimamori intake >out2 2>err2 &&
	! grep -q ^rejected out2 &&
	test -z "$(ls demo/spool/rejected)" &&
	test -z "$(leftovers)" &&
	ls demo/spool/incoming demo/spool/work/intake | sed "s/^[0-9a-f]\{16\}-//" | sort >after &&
	sed "s/^[0-9a-f]\{16\}-//" before | sort | test_cmp - after
'

test_expect_success 'after space is freed the rerun finishes: each person once' '
	mount -o remount,size=32m "$MNT" &&
	mimamori intake >out3 2>err3 &&
	cat out3 &&
	test -z "$(ls demo/spool/incoming)" &&
	test -z "$(ls demo/spool/work/intake)" &&
	test -z "$(ls demo/spool/rejected)" &&
	test $(ls demo/spool/registry/records | sed "s/\.[0-9]*$//" | sort -u | wc -l) -eq 8 &&
	for i in 1 2 3 4 5 6 7; do
		test $(for f in $(ls demo/spool/registry/records); do
			mimamori show ${f%.*}; done | grep -c "<name-kana>てすと $i</name-kana>") -eq 1 ||
			{ echo "person $i not registered once" >&2; return 1; }
	done &&
	mimamori audit verify
'

test_expect_success 'export on a full disk: 74, then a rerun writes every bundle once' '
	mount -o remount,size=$(( $(df -k --output=used "$MNT" | tail -1) + 40 ))k "$MNT" &&
	test_expect_code 74 mimamori export >out 2>err &&
	cat out err &&
	test -z "$(leftovers)" &&
	mount -o remount,size=32m "$MNT" &&
	mimamori export >out2 2>err2 &&
	cat out2 &&
	test -z "$(ls demo/spool/work/export)" &&
	test $(ls demo/spool/outgoing/vendor | wc -l) -eq 1 &&
	mimamori export >out3 && ! grep -q ^wrote out3 &&
	cp demo/spool/outgoing/vendor/*.tar.gpg demo/nodes/vendor/spool/import/ &&
	node vendor import >imp &&
	! grep -q ^rejected imp &&
	test $(ls demo/nodes/vendor/spool/registry/records | sed "s/\.[0-9]*$//" | sort -u | wc -l) -eq 8 &&
	mimamori audit verify
'

# submit copies on several threads: one copy that does not fit stops it,
# nothing of its batch is submitted, and no copy is left in tmp/.
test_expect_success 'submit on a full disk: 74, nothing of the batch in incoming/, no copy left' '
	i=11 && while [ $i -le 18 ]; do
		photo_registration $i 150 >sub-$i.xml || return 1
		i=$((i + 1))
	done &&
	mount -o remount,size=$(( $(df -k --output=used "$MNT" | tail -1) + 600 ))k "$MNT" &&
	ls demo/spool/incoming >before &&
	test_expect_code 74 mimamori submit sub-*.xml >out 2>err &&
	cat err &&
	grep -q "No space left on device" err &&
	! test -s out &&
	ls demo/spool/incoming | test_cmp before - &&
	test -z "$(leftovers)" &&
	mount -o remount,size=32m "$MNT" &&
	mimamori submit sub-*.xml >out2 &&
	test $(grep -c "^submitted incoming/sub-1[1-8].xml$" out2) -eq 8 &&
	for i in 11 12 13 14 15 16 17 18; do
		cmp sub-$i.xml demo/spool/incoming/sub-$i.xml || return 1
	done
'

test_done
