# lib-imap.sh - a throwaway IMAP server (Debian's dovecot) on loopback for
# the fetch tests. Source it after lib.sh.
#
#   imap_start                 dovecot on 127.0.0.1:$IMAP_PORT, user "requests"
#                              with password "secret-pw", Maildir under
#                              $TRASH/imap/mail; its pid is $IMAP_PID
#   imap_append FILE...        APPEND each message to INBOX (python3 imaplib)
#   imap_list                  "UID FLAGS" per message of INBOX, one a line
#   imap_config [after]        add <imap> (and imap.pw, 0600) to the demo config
#   imap_stop                  stop it by its pid
#
# Everything lives in $TRASH/imap: the config, base_dir and state_dir, the
# log (dovecot.log) and the mail (owned by nobody: dovecot refuses to act
# as root for a mail user).

IMAP_DIR=$TRASH/imap
IMAP_USER=requests
IMAP_PASS=secret-pw

# A free TCP port on loopback (the kernel picks it).
imap_free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

imap_start() {
	IMAP_PORT=$(imap_free_port) || return 1
	rm -rf "$IMAP_DIR" && mkdir -p "$IMAP_DIR/run" "$IMAP_DIR/state" "$IMAP_DIR/mail" || return 1
	chown nobody:nogroup "$IMAP_DIR/mail" || return 1
	printf '%s:{PLAIN}%s:65534:65534::%s::\n' "$IMAP_USER" "$IMAP_PASS" \
		"$IMAP_DIR/mail/$IMAP_USER" >"$IMAP_DIR/passwd"
	cat >"$IMAP_DIR/dovecot.conf" <<EOF
protocols = imap
listen = 127.0.0.1
base_dir = $IMAP_DIR/run
state_dir = $IMAP_DIR/state
log_path = $IMAP_DIR/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
login_trusted_networks = 127.0.0.0/8
first_valid_uid = 1
mail_location = maildir:$IMAP_DIR/mail/%u
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $IMAP_DIR/passwd
}
userdb {
  driver = passwd-file
  args = username_format=%u $IMAP_DIR/passwd
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $IMAP_PORT
  }
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
  inet_listener pop3 {
    port = 0
  }
}
EOF
	dovecot -F -c "$IMAP_DIR/dovecot.conf" >>"$IMAP_DIR/dovecot.log" 2>&1 &
	IMAP_PID=$!
	test_pids="$test_pids $IMAP_PID"
	# Wait until it answers (at most 10 s).
	i=0
	while [ $i -lt 100 ]; do
		if python3 - "$IMAP_PORT" <<'PY' 2>/dev/null
import imaplib, sys
imaplib.IMAP4("127.0.0.1", int(sys.argv[1])).logout()
PY
		then
			return 0
		fi
		kill -0 "$IMAP_PID" 2>/dev/null || break
		sleep 0.1
		i=$((i + 1))
	done
	echo "dovecot did not start:" >&2
	cat "$IMAP_DIR/dovecot.log" >&2
	return 1
}

imap_stop() {
	[ -n "$IMAP_PID" ] || return 0
	kill "$IMAP_PID" 2>/dev/null
	# dovecot -F exits once its children are gone.
	i=0
	while kill -0 "$IMAP_PID" 2>/dev/null && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -9 "$IMAP_PID" 2>/dev/null
	IMAP_PID=
	return 0
}

# imap_py 'python code using M (a logged-in IMAP4 with INBOX selected)'
imap_py() {
	python3 - "$IMAP_PORT" "$IMAP_USER" "$IMAP_PASS" "$@" <<PY
import imaplib, sys
M = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
M.login(sys.argv[2], sys.argv[3])
M.select("INBOX")
args = sys.argv[4:]
$IMAP_PY_CODE
M.logout()
PY
}

imap_append() {
	IMAP_PY_CODE='
for f in args:
    typ, _ = M.append("INBOX", None, None, open(f, "rb").read())
    assert typ == "OK", typ
' imap_py "$@"
}

# "UID (FLAGS)" for every message in INBOX, e.g. "1 \Seen".
imap_list() {
	IMAP_PY_CODE='
import re
typ, data = M.uid("FETCH", "1:*", "(FLAGS)")
for d in data:
    if not d:
        continue
    d = d.decode() if isinstance(d, bytes) else d[0].decode()
    m = re.search(r"UID (\d+)", d)
    f = re.search(r"FLAGS \(([^)]*)\)", d)
    if m:
        print(m.group(1), f.group(1) if f else "")
' imap_py
}

# Add <imap> to the demo's config (before <agencies>), with its password
# file; imap_config delete: after="delete".
imap_config() {
	cfg=${2:-demo/mimamori.xml}
	after=
	[ "$1" = delete ] && after=' after="delete"'
	printf '%s\n' "$IMAP_PASS" >"$(dirname "$cfg")/imap.pw" &&
	chmod 600 "$(dirname "$cfg")/imap.pw" &&
	sed -i "/<imap /d; s|^\( *\)<agencies>|\1<imap host=\"127.0.0.1\" port=\"$IMAP_PORT\" user=\"$IMAP_USER\" password-file=\"imap.pw\"$after/>\n\1<agencies>|" "$cfg"
}

# A small mail: mail_text N > file
mail_text() {
	printf 'From: ops@example.jp\r\nTo: requests@example.jp\r\nSubject: test %s\r\nMessage-ID: <m%s@example.jp>\r\n\r\nbody %s\r\n' "$1" "$1" "$1"
}
