#!/bin/sh
# An agency whose key expired is not a configuration error: check-config
# warns, export leaves that agency out (saying why) and writes the other
# bundles, and import rejects a bundle signed with that key and applies
# the one behind it.
. "$(dirname "$0")/lib.sh"
pin_clock 2026-11-21T12:00:00+09:00

fpr() {
	sed -n "s/.*id=\"$1\".*key=\"\([0-9A-F]*\)\".*/\1/p" demo/mimamori.xml
}

# lapse HOME ID: agency ID's key in HOME expires two seconds from now
# (the key and its subkeys), is given to the custodian's keyring, and has
# expired there once the test goes on.
lapse() {
	gpg --homedir "$1" --batch --yes --pinentry-mode loopback --passphrase "" \
		--quick-set-expire "$(fpr $2)" seconds=2 2>/dev/null &&
	gpg --homedir "$1" --batch --yes --pinentry-mode loopback --passphrase "" \
		--quick-set-expire "$(fpr $2)" seconds=2 "*" 2>/dev/null &&
	gpg --homedir "$1" --export "$(fpr $2)" | gpg --homedir demo/gnupg --batch --import 2>/dev/null &&
	sleep 3 &&
	gpg --homedir demo/gnupg --list-keys "$(fpr $2)" | grep -q expired
}

test_expect_success 'setup: registrations, ward-nada'"'"'s key expired at the custodian' '
	setup_demo &&
	mimamori submit demo/samples/*.xml >/dev/null && mimamori intake >/dev/null &&
	# signed by ward-nada while its key was good: it arrives after
	echo "<deletions xmlns=\"urn:mimamori:1\"/>" >empty.xml &&
	cp "$TEST_SRC/tests/craft-bundle.py" craft.py &&
	python3 craft.py w.tar ward-nada council 1 deletions.xml=empty.xml &&
	gpg --homedir demo/nodes/ward-nada/gnupg --batch --yes --trust-model always \
		--pinentry-mode loopback --passphrase "" --recipient "$(fpr council)" \
		--local-user "$(fpr ward-nada)" --encrypt --sign -o w.tar.gpg <w.tar 2>/dev/null &&
	lapse demo/nodes/ward-nada/gnupg ward-nada
'

test_expect_success 'check-config: a warning, not an error' '
	mimamori check-config >out 2>err &&
	cat err &&
	grep -q "warning: .*agency .ward-nada.*expired" err
'

test_expect_success 'export leaves ward-nada out, says why, writes the others' '
	mimamori export >out 2>err; code=$?
	cat out err &&
	test $code = 0 &&
	grep -q "^wrote outgoing/ward-chuo/" out &&
	grep -q "^wrote outgoing/vendor/" out &&
	test -z "$(ls demo/spool/outgoing/ward-nada 2>/dev/null)" &&
	grep -q "ward-nada" err
'

test_expect_success 'the next export still leaves it out: its changes stay pending' '
	test_expect_code 0 mimamori export >out 2>err &&
	grep -q "no bundle for .ward-nada.: key .* has expired" err &&
	test -z "$(ls demo/spool/outgoing/ward-nada 2>/dev/null)"
'

# At ward-nada, a bundle signed with its own (now expired) key is
# refused by the custodian's import; a good bundle behind it applies.
test_expect_success 'import: a bundle signed with the expired key is rejected, the next applied' '
	cp w.tar.gpg demo/spool/import/ward-nada-council-1.tar.gpg &&
	python3 craft.py c.tar ward-chuo council 1 deletions.xml=empty.xml &&
	gpg --homedir demo/nodes/ward-chuo/gnupg --batch --yes --trust-model always \
		--pinentry-mode loopback --passphrase "" --recipient "$(fpr council)" \
		--local-user "$(fpr ward-chuo)" --encrypt --sign -o demo/spool/import/ward-chuo-council-1.tar.gpg \
		<c.tar &&
	mimamori import >out 2>err; code=$?
	cat out err &&
	test $code = 0 &&
	grep -q "^accepted import/ward-chuo-council-1.tar.gpg" out &&
	grep -q "^rejected import/ward-nada-council-1.tar.gpg: .*signature" out &&
	test -f demo/spool/rejected/ward-nada-council-1.tar.gpg
'

test_done
