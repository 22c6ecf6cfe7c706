# lib-postfix.sh - a throwaway Postfix instance on loopback for the tests,
# sourced after lib.sh and lib-mail.sh (root only: Postfix's master must
# start as root):
#
#   postfix_start pf 'requests: "|/path/mimamori -c CONF receive"'
#   postfix_inject FROM TO FILE     # one message by SMTP to $PF_PORT
#   postfix_stop                    # also run when the script exits
#
# Its own config, queue, data folder and log under ./pf; smtpd on a free
# 127.0.0.1 port; local delivery for example.jp through the alias map
# given (pipe commands run as nobody, Postfix's default_privs); no relay.
# It is stopped by the pid of the master it started.

PF_DIR=
PF_PORT=

postfix_usable() {
	[ "$(id -u)" = 0 ] && [ -x /usr/sbin/postfix ] && [ -x /usr/sbin/postalias ] &&
		[ -x /usr/lib/postfix/sbin/master ] && getent passwd postfix >/dev/null
}

# The script is skipped unless a Postfix instance can be started; what it
# starts is stopped when it exits.
postfix_require() {
	if ! postfix_usable; then
		say "ok 1 # skip $TEST_NAME: needs root and Postfix's master"
		test_done
	fi
	trap 'postfix_stop; mail_stop_all; kill_agents' EXIT
}


postfix_start() {
	PF_DIR=$TRASH/$1
	rm -rf "$PF_DIR" && mkdir -p "$PF_DIR/etc" "$PF_DIR/queue" "$PF_DIR/data" &&
	chown postfix "$PF_DIR/data" || return 1
	PF_PORT=$(free_port) || return 1
	cat >"$PF_DIR/etc/main.cf" <<EOT
compatibility_level = 3.6
queue_directory = $PF_DIR/queue
data_directory = $PF_DIR/data
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
shlib_directory = /usr/lib/postfix
mail_owner = postfix
setgid_group = postdrop
myhostname = node.example.jp
mydomain = example.jp
mydestination = example.jp
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
alias_maps = hash:$PF_DIR/etc/aliases
alias_database = hash:$PF_DIR/etc/aliases
local_recipient_maps = \$alias_maps
default_privs = nobody
maillog_file = $PF_DIR/maillog
maillog_file_prefixes = $PF_DIR
relayhost =
default_transport = error:no mail leaves this test
smtputf8_enable = no
biff = no
EOT
	cat >"$PF_DIR/etc/master.cf" <<EOT
127.0.0.1:$PF_PORT inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
local     unix  - n n - - local
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
EOT
	printf '%s\n' "$2" >"$PF_DIR/etc/aliases" &&
	postalias -c "$PF_DIR/etc" "$PF_DIR/etc/aliases" &&
	postfix -c "$PF_DIR/etc" start >"$PF_DIR/start.log" 2>&1 || {
		cat "$PF_DIR/start.log" "$PF_DIR/maillog" >&2 2>/dev/null; return 1; }
	wait_for 30 port_listens "$PF_PORT" || return 1
	# Its master's pid, to stop it by (also from the EXIT trap).
	wait_for 30 test -s "$PF_DIR/data/master.pid" 2>/dev/null ||
		wait_for 30 test -s "$PF_DIR/queue/pid/master.pid" || return 1
	PF_PID=$(cat "$PF_DIR/data/master.pid" "$PF_DIR/queue/pid/master.pid" 2>/dev/null |
		tr -d ' ' | head -1)
	echo "$PF_PID" >>"$MAIL_PIDS"
	echo "$PF_DIR" >"$MAIL_PIDS.postfix"
}

postfix_stop() {
	[ -n "$PF_DIR" ] || PF_DIR=$(cat "$MAIL_PIDS.postfix" 2>/dev/null)
	[ -n "$PF_DIR" ] && postfix -c "$PF_DIR/etc" stop >/dev/null 2>&1
	return 0
}

# postfix_inject FROM TO FILE: one SMTP transaction with the instance.
postfix_inject() {
	python3 - "$PF_PORT" "$1" "$2" "$3" <<'PY'
import smtplib, sys
port, frm, to, path = sys.argv[1:5]
s = smtplib.SMTP('127.0.0.1', int(port), timeout=30)
s.sendmail(frm, [to], open(path, 'rb').read())
s.quit()
PY
}
