# A real SMTP server on loopback for the end-to-end tests (aiosmtpd, tests/e2e/smtpd.py):
# each mail it takes is a file in $M.  Source after lib.sh; start_smtpd starts it,
# and the EXIT trap set here stops it (with spoold).
PY=/usr/bin/python3
M=$T/mails
mkdir -p "$M"
PORT=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
SMTPD_PID=

start_smtpd() {
	rm -f "$T/smtpd.ready"
	$PY "$SRCDIR/tests/e2e/smtpd.py" --port "$PORT" --dir "$M" --ready "$T/smtpd.ready" \
	    --max-seconds 300 2>>"$T/smtpd.log" &
	SMTPD_PID=$!
	until_ "the SMTP server listens on 127.0.0.1:$PORT" 20 test -f "$T/smtpd.ready"
}
stop_smtpd() {
	[ -n "$SMTPD_PID" ] && kill "$SMTPD_PID" 2>/dev/null && wait "$SMTPD_PID" 2>/dev/null
	SMTPD_PID=
	return 0
}
trap 'stop_smtpd; kill_spoold; [ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT

# the mails that arrived for an order (its id is in every subject here)
mails_for() { grep -l "^Subject: .*\b$1\b" "$M"/*.eml 2>/dev/null; }
count_for() { mails_for "$1" | wc -l; }
# arrived SUBJECT: a mail with that subject (a basic regex) is there
arrived() { grep -l "^Subject: $1" "$M"/*.eml 2>/dev/null | grep -q .; }
first() { grep -l "^Subject: $1" "$M"/*.eml | head -1; }
# a mail's headers, and its plain-text body decoded from quoted-printable
headers() { sed -n '2,/^\r\{0,1\}$/p' "$1" | tr -d '\r'; }
body() { $PY -c 'import email, email.policy, sys; m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default); print(m.get_body(preferencelist=("plain",)).get_content(), end="")' "$1"; }
# mailcheck DESC FILE [ARGS]: the mail, parsed by Python's email package, is as
# tests/e2e/mailcheck.py ARGS says; what does not hold is shown
mailcheck() {
	_d=$1
	shift
	if $PY "$SRCDIR/tests/e2e/mailcheck.py" "$@" >"$T/mailcheck" 2>&1; then
		ok "$_d"
	else
		not_ok "$_d"
		sed 's/^/#   /' "$T/mailcheck" | head -8
	fi
}

mail_conf() { # spool.conf with a [mail] section for this server
	cat "$1"
	cat <<EOF

[mail]
relay = 127.0.0.1
port = $PORT
from = shop@print.example
reply_to = help@print.example
admin = admin@print.example
superuser = root@print.example
details_url = https://shop.print.example/orders/{order_id}
order_url = https://office.print.example/orders/{order_id}
helo = mail.print.example
retry = 1s
lifetime = 1h
EOF
}

