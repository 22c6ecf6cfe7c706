#!/bin/sh
# The configuration: check-config on the demo, each kind of problem it
# must name (exit 78), other commands refusing a broken config without
# touching the spool, where the config is looked for, and `init`.
. "$(dirname "$0")/lib.sh"

# bad_config NAME SED-EXPR: demo/NAME.xml, a copy of the custodian's config
# with one edit (kept beside it, so its relative paths still work). Fails
# if the edit changed nothing, so a test cannot pass on an unedited copy.
bad_config() {
	sed -e "$2" demo/mimamori.xml >"demo/$1.xml" &&
	! cmp -s demo/mimamori.xml "demo/$1.xml"
}

# check_bad NAME TEXT [GLOBAL-OPTIONS...]: check-config on demo/NAME.xml
# exits 78, prints no "is fine" line, and names the problem on stderr.
check_bad() {
	name=$1 text=$2
	shift 2
	test_expect_code 78 mimamori -c "demo/$name.xml" "$@" check-config \
		>"$name.out" 2>"$name.err" &&
	cat "$name.err" &&
	! test -s "$name.out" &&
	grep -F -- "$text" "$name.err" &&
	grep -F "demo/$name.xml" "$name.err"
}

# check_warn NAME TEXT [GLOBAL-OPTIONS...]: check-config on demo/NAME.xml
# exits 0 with its "is fine" line counting warnings, and names TEXT on a
# "warning: " line of stderr (and no error line).
check_warn() {
	name=$1 text=$2
	shift 2
	mimamori -c "demo/$name.xml" "$@" check-config >"$name.out" 2>"$name.err" &&
	cat "$name.err" &&
	grep "is fine: .* ([0-9]* warnings*)$" "$name.out" &&
	grep -F -- "$text" "$name.err" | grep "^warning: .*demo/$name.xml" &&
	! grep -v "^warning: " "$name.err"
}

# A fingerprint of the snapshot of the spool: every path, size and mtime.
spool_state() {
	find demo/spool -exec stat -c '%n %s %Y %a' {} + | sort
}

test_expect_success 'setup: demo installation' '
	setup_demo &&
	test -f demo/mimamori.xml &&
	ls demo/nodes/*/mimamori.xml >nodes &&
	test $(wc -l <nodes) -ge 7
'

test_expect_success 'the demo config of the custodian passes check-config' '
	mimamori check-config >out 2>err &&
	! test -s err &&
	grep "^config .*demo/mimamori.xml. is fine: 8 agencies, 1 operators, 3 lists$" out
'

test_expect_success 'the demo config of every other node passes check-config' '
	for c in demo/nodes/*/mimamori.xml; do
		mimamori -c "$c" check-config >out 2>err &&
		! test -s err &&
		grep "^config .*$c. is fine" out || { echo "failed: $c"; cat err; exit 1; }
	done
'

test_expect_success 'an unknown element is an error naming it' '
	bad_config elem "s|<spool>|<colour>red</colour><spool>|" &&
	check_bad elem "<colour>"
'

test_expect_success 'an unknown attribute is an error naming it' '
	bad_config attr "s|<node agency=\"council\"/>|<node agency=\"council\" colour=\"red\"/>|" &&
	check_bad attr "unknown attribute" &&
	grep -F "colour" attr.err
'

test_expect_success 'every schema problem is printed, one line each' '
	bad_config three "s|<node agency=\"council\"/>|<node agency=\"council\" colour=\"red\"/>|;s|<sender |<sender size=\"9\" |;s|</lists>|</lists><shade/>|" &&
	check_bad three "colour" &&
	grep -F "size" three.err &&
	grep -F "<shade>" three.err &&
	test $(wc -l <three.err) -eq 3
'

test_expect_success 'an unknown agency kind is an error naming it' '
	bad_config kind "s|kind=\"mail-vendor\"|kind=\"newspaper\"|" &&
	check_bad kind "newspaper"
'

test_expect_success 'a list naming an unknown ward is an error naming list and ward' '
	bad_config ward "s|wards=\"nada\" address=\"alert-agency-nada|wards=\"nada kita\" address=\"alert-agency-nada|" &&
	check_bad ward "unknown ward '"'"'kita'"'"'" &&
	grep -F "agencies-nada" ward.err
'

test_expect_success 'a community member without pledge is a warning naming the address' '
	bad_config nopledge "s|\(address=\"helper2@example.jp\" name=\"[^\"]*\"\) pledge=\"[^\"]*\"|\1|" &&
	check_warn nopledge "helper2@example.jp" &&
	grep "helper2@example.jp.*pledge" nopledge.err &&
	! grep helper1@example.jp nopledge.err
'

test_expect_success 'a pledge after --now is in the future: a warning naming it' '
	bad_config future "s|pledge=\"2025-10-01\"|pledge=\"2026-09-01\"|" &&
	check_warn future "commissioner-chuo@example.jp" --now 2026-08-01 &&
	grep "2026-09-01.*future" future.err &&
	mimamori -c demo/future.xml --now 2026-09-02 check-config >out 2>err &&
	grep "is fine: .* lists$" out &&
	! test -s err
'

test_expect_success 'the demo pledges are in the future before 2026-04-01 (warnings)' '
	check_warn mimamori "helper1@example.jp" --now 2026-03-01 &&
	grep -F "helper2@example.jp" mimamori.err &&
	! grep -F "commissioner-chuo@example.jp" mimamori.err
'

test_expect_success 'a key not in the keyring is named with its agency' '
	fpr=$(sed -n "s|.*id=\"ward-nada\".* key=\"\([0-9A-F]*\)\".*|\1|p" demo/mimamori.xml) &&
	test ${#fpr} -eq 40 &&
	bad_config key "s|$fpr|7E57ABCDEF0123456789ABCDEF0123456789ABCD|" &&
	check_bad key "7E57ABCDEF0123456789ABCDEF0123456789ABCD" &&
	grep "ward-nada.*not\|ward-nada.*no key" key.err
'

test_expect_success 'the node agency not listed in <agencies> is an error' '
	bad_config node "s|<node agency=\"council\"/>|<node agency=\"city-hall\"/>|" &&
	check_bad node "city-hall" &&
	grep "not listed" node.err
'

test_expect_success 'two lists sharing one address: a warning naming both' '
	addr=$(sed -n "s|.*<list id=\"cooperators\".* address=\"\([^\"]*\)\".*|\1|p" demo/mimamori.xml) &&
	test -n "$addr" &&
	bad_config sameaddr "s|\(<list id=\"agencies-chuo\".* address=\"\)[^\"]*\"|\1$addr\"|" &&
	check_warn sameaddr "the same address" &&
	grep "agencies-chuo" sameaddr.err | grep "cooperators" | grep -F "$addr"
'

test_expect_success 'an agency key expiring within 30 days: a warning with its date' '
	fpr=$(sed -n "s|.*id=\"ward-nada\".* key=\"\([0-9A-F]*\)\".*|\1|p" demo/mimamori.xml) &&
	test ${#fpr} -eq 40 &&
	gpg -q --homedir demo/nodes/ward-nada/gnupg --quick-set-expire "$fpr" 10d &&
	gpg -q --homedir demo/nodes/ward-nada/gnupg --quick-set-expire "$fpr" 10d "*" &&
	gpg -q --homedir demo/nodes/ward-nada/gnupg --export "$fpr" >nada.pub &&
	mkdir -m 700 demo/gnupg2 && cp -a demo/gnupg/. demo/gnupg2/ && rm -f demo/gnupg2/S.* &&
	gpg -q --homedir demo/gnupg2 --import nada.pub &&
	bad_config soon "s|<gnupg-home>gnupg</gnupg-home>|<gnupg-home>gnupg2</gnupg-home>|" &&
	check_warn soon "$fpr" &&
	grep "ward-nada.*expires on $(TZ=Asia/Tokyo date -d "+10 days" +%Y-%m-%d)" soon.err &&
	grep "in 10 days" soon.err &&
	mimamori -c demo/soon.xml --now "$(date -d "+20 days" -Iseconds)" check-config 2>later.err &&
	grep "^warning: .*ward-nada.*expired on" later.err
'

test_expect_success 'an operator key that has expired is a warning' '
	ofpr=$(sed -n "s|.*<operator key=\"\([0-9A-F]*\)\".*|\1|p" demo/mimamori.xml) &&
	test ${#ofpr} -eq 40 &&
	gpg -q --homedir demo/operator/gnupg --quick-set-expire "$ofpr" seconds=1 &&
	gpg -q --homedir demo/operator/gnupg --export "$ofpr" >op.pub &&
	sleep 2 &&
	gpg -q --homedir demo/gnupg2 --import op.pub &&
	bad_config opexp "s|<gnupg-home>gnupg</gnupg-home>|<gnupg-home>gnupg2</gnupg-home>|" &&
	check_warn opexp "$ofpr" &&
	grep "operator.*expired" opexp.err
'

test_expect_success 'a member address listed twice in a list is an error' '
	bad_config dupmember "s|<member address=\"helper2@example.jp\"|<member address=\"Helper1@example.jp\"|" &&
	check_bad dupmember "listed twice" &&
	grep -i "helper1@example.jp" dupmember.err
'

test_expect_success 'an agency id listed twice is an error naming it' '
	bad_config dupagency "s|id=\"ward-nada\"|id=\"ward-chuo\"|" &&
	check_bad dupagency "ward-chuo" &&
	grep "twice" dupagency.err
'

test_expect_success 'a DOCTYPE in the config is refused, and its entity not read' '
	bad_config doctype "1a<!DOCTYPE config [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>" &&
	sed -i "s|name=\"見守り 当番\"|name=\"\&x;\"|" demo/doctype.xml &&
	grep -F "&x;" demo/doctype.xml &&
	check_bad doctype "DOCTYPE" &&
	! grep -F "$(head -n 1 /etc/passwd)" doctype.err doctype.out
'

test_expect_success 'every problem is printed, not only the first' '
	sed -e "s|pledge=\"2025-10-01\"|pledge=\"2027-01-01\"|" \
	    -e "s|wards=\"nada\" address=\"alert-agency-nada|wards=\"kita\" address=\"alert-agency-nada|" \
	    demo/mimamori.xml >demo/two.xml &&
	check_bad two "kita" --now 2026-06-01 &&
	grep "commissioner-chuo@example.jp.*future" two.err &&
	test $(wc -l <two.err) -eq 2
'

test_expect_success 'a missing config file is a configuration error' '
	test_expect_code 78 mimamori -c demo/none.xml check-config >out 2>err &&
	! test -s out &&
	grep "none.xml" err
'

test_expect_success 'no config anywhere: ./mimamori.xml is looked for and missing' '
	mkdir -p empty &&
	(cd empty && unset MIMAMORI_CONFIG &&
	 test_expect_code 78 mimamori check-config >../out 2>../err) &&
	! test -s out &&
	grep "mimamori.xml" err
'

# Each command other than check-config refuses a broken config the same
# way, before it opens the spool: nothing in it changes, not even the audit
# log.
test_expect_success 'intake on a broken config exits 78 and leaves the spool alone' '
	cp "$DATA/registration/valid-minimal.xml" demo/spool/incoming/waiting.xml &&
	spool_state >before &&
	for c in elem attr kind node dupagency doctype none; do
		test_expect_code 78 mimamori -c demo/$c.xml intake >out 2>err &&
		! test -s out && test -s err &&
		grep "^mimamori: intake: " err || { echo "config $c"; exit 1; }
	done &&
	spool_state >after &&
	test_cmp before after &&
	test -f demo/spool/incoming/waiting.xml
'

test_expect_success 'submit and show on a broken config exit 78 and change nothing' '
	spool_state >before &&
	test_expect_code 78 mimamori -c demo/elem.xml submit "$DATA/registration/valid-self.xml" >out 2>err &&
	! test -s out && grep "<colour>" err &&
	test_expect_code 78 mimamori -c demo/node.xml show R2026-000001 >out 2>err &&
	! test -s out && grep "city-hall" err &&
	test_expect_code 78 mimamori -c demo/doctype.xml audit verify >out 2>err &&
	! test -s out && grep "DOCTYPE" err &&
	spool_state >after &&
	test_cmp before after
'

test_expect_success 'intake when the node key is not in the keyring exits 78, spool unchanged' '
	fpr=$(sed -n "s|.*id=\"council\".* key=\"\([0-9A-F]*\)\".*|\1|p" demo/mimamori.xml) &&
	test ${#fpr} -eq 40 &&
	bad_config nokey "s|$fpr|7E57ABCDEF0123456789ABCDEF0123456789ABCD|" &&
	check_bad nokey "7E57ABCDEF0123456789ABCDEF0123456789ABCD" &&
	spool_state >before &&
	test_expect_code 78 mimamori -c demo/nokey.xml intake >out 2>err &&
	! test -s out &&
	grep "7E57ABCDEF0123456789ABCDEF0123456789ABCD" err &&
	spool_state >after &&
	test_cmp before after
'

# submit only copies files into incoming/: it needs no key, and a
# document can wait there while the keyring is mended.
test_expect_success 'submit works without the node key; intake then refuses and it waits' '
	make_registration 7 >nokey-doc.xml &&
	mimamori -c demo/nokey.xml submit nokey-doc.xml >out &&
	grep -x "submitted incoming/nokey-doc.xml" out &&
	test_expect_code 78 mimamori -c demo/nokey.xml intake >out 2>err &&
	! test -s out &&
	cmp nokey-doc.xml demo/spool/incoming/nokey-doc.xml &&
	rm demo/spool/incoming/nokey-doc.xml
'

# Where the config is looked for: -c, then $MIMAMORI_CONFIG, then
# ./mimamori.xml. Each runner-up is broken, so using it would fail.
test_expect_success 'setup: configs with absolute paths in three places' '
	rm -f demo/spool/incoming/waiting.xml &&
	mkdir -p where/cwd where/env where/opt &&
	for d in cwd env opt; do
		sed -e "s|<spool>spool</spool>|<spool>$TRASH/demo/spool</spool>|" \
		    -e "s|<gnupg-home>gnupg</gnupg-home>|<gnupg-home>$TRASH/demo/gnupg</gnupg-home>|" \
		    demo/mimamori.xml >where/$d/mimamori.xml &&
		grep -F "<spool>$TRASH/demo/spool</spool>" where/$d/mimamori.xml || exit 1
	done &&
	sed "s|<spool>|<colour/><spool>|" where/env/mimamori.xml >where/env/broken.xml &&
	sed "s|<spool>|<colour/><spool>|" where/cwd/mimamori.xml >where/cwd/broken.xml
'

test_expect_success './mimamori.xml is used without -c and $MIMAMORI_CONFIG' '
	(cd where/cwd && unset MIMAMORI_CONFIG && mimamori check-config >../../out) &&
	grep "^config .$TRASH/where/cwd/mimamori.xml. is fine" out
'

test_expect_success '$MIMAMORI_CONFIG beats ./mimamori.xml' '
	cp where/cwd/broken.xml where/env/cwd-mimamori.xml &&
	mkdir -p where/envrun && cp where/cwd/broken.xml where/envrun/mimamori.xml &&
	(cd where/envrun && MIMAMORI_CONFIG=$TRASH/where/env/mimamori.xml &&
	 export MIMAMORI_CONFIG && mimamori check-config >../../out) &&
	grep "^config .$TRASH/where/env/mimamori.xml. is fine" out &&
	(cd where/envrun && unset MIMAMORI_CONFIG &&
	 test_expect_code 78 mimamori check-config >/dev/null 2>&1)
'

test_expect_success '-c beats $MIMAMORI_CONFIG and ./mimamori.xml' '
	(cd where/envrun && MIMAMORI_CONFIG=$TRASH/where/env/broken.xml &&
	 export MIMAMORI_CONFIG &&
	 mimamori -c ../opt/mimamori.xml check-config >../../out &&
	 test_expect_code 78 mimamori check-config >/dev/null 2>&1) &&
	grep "^config .$TRASH/where/envrun/../opt/mimamori.xml. is fine" out
'

test_expect_success '-c beats $MIMAMORI_CONFIG for other commands too' '
	(MIMAMORI_CONFIG=$TRASH/where/env/broken.xml && export MIMAMORI_CONFIG &&
	 test_expect_code 78 mimamori intake >/dev/null 2>&1 &&
	 mimamori -c where/opt/mimamori.xml intake >out 2>err) &&
	! test -s out && ! test -s err
'

test_expect_success 'paths inside the config are relative to its folder' '
	mkdir -p elsewhere &&
	(cd elsewhere && mimamori -c ../demo/mimamori.xml check-config >../out) &&
	grep "is fine" out &&
	(cd elsewhere && mimamori -c ../demo/mimamori.xml intake >../out 2>../err) &&
	! test -e elsewhere/spool &&
	! test -s out && ! test -s err
'

test_expect_success 'init DIR makes a config that passes check-config' '
	mimamori init plain >out &&
	grep "plain/mimamori.xml" out &&
	test -f plain/mimamori.xml &&
	test -d plain/spool/incoming &&
	test "$(stat -c %a plain/mimamori.xml)" = 600 &&
	mimamori -c plain/mimamori.xml check-config >out 2>err &&
	! test -s err &&
	grep "plain/mimamori.xml. is fine: 1 agencies" out
'

test_expect_success 'init DIR refuses to overwrite an existing config' '
	cp plain/mimamori.xml before.xml &&
	test_must_fail mimamori init plain >out 2>err &&
	grep "exists" err &&
	test_cmp before.xml plain/mimamori.xml
'

test_done
