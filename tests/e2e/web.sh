# Shared by the spoolweb tests (t_web, t_browser): start and stop spoolweb on a free
# loopback port (as nobody when the test runs as root, since spoolweb refuses root),
# and talk to its API with curl, keeping each user's cookie and CSRF token.
# Source it after lib.sh.  Every wait is bounded.
W=${SPOOLWEB:-$BUILD/spoolweb}
WEB_PID=
WEB_PORT=
WEB_URL=

# web_free_port: a port nothing listens on, chosen by the kernel
web_free_port() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# web_as_root: true when the test runs as root (then spoolweb runs as nobody)
web_as_root() { [ "$(id -u)" -eq 0 ]; }

# web_init SPOOL WORKFLOW: spoolctl init, shared with nogroup when root so that
# spoolweb as nobody can read and write it; the test's folder is opened for nobody
web_init() {
	if web_as_root; then
		chmod 0711 "$T"
		case $T in /tmp/*/*) chmod o+x "$(dirname "$T")" ;; esac
		_d=$(dirname "$1")
		while [ "$_d" != "$T" ] && [ "$_d" != / ]; do chmod o+x "$_d"; _d=$(dirname "$_d"); done
		rc 0 "init a $2 spool shared with nogroup" $S -d "$1" init "$2" --group nogroup
	else
		rc 0 "init a $2 spool" $S -d "$1" init "$2"
	fi
}

# web_start SPOOL...: start spoolweb on a free port and wait until it answers, at
# most 30 s; its log is $T/web.log.  With WEB_TLS="CERT KEY" it serves TLS.
web_start() {
	WEB_PORT=$(web_free_port)
	WEB_URL=http://127.0.0.1:$WEB_PORT
	_args=
	for _sp in "$@"; do _args="$_args -d $_sp"; done
	if [ -n "${WEB_TLS:-}" ]; then
		set -- $WEB_TLS
		_args="$_args --tls-cert $1 --tls-key $2"
		WEB_URL=https://127.0.0.1:$WEB_PORT
	fi
	if web_as_root; then
		# shellcheck disable=SC2086
		setpriv --reuid=nobody --regid=nogroup --clear-groups \
		    "$W" $_args -l "127.0.0.1:$WEB_PORT" 2>>"$T/web.log" &
	else
		# shellcheck disable=SC2086
		"$W" $_args -l "127.0.0.1:$WEB_PORT" 2>>"$T/web.log" &
	fi
	WEB_PID=$!
	_end=$(($(date +%s) + 30))
	while ! curl -s -k -o /dev/null --max-time 2 "$WEB_URL/"; do
		if ! kill -0 "$WEB_PID" 2>/dev/null || [ "$(date +%s)" -ge "$_end" ]; then
			echo "# spoolweb did not answer on $WEB_URL; its log:"
			tail -20 "$T/web.log" | sed 's/^/#   /'
			return 1
		fi
		sleep 0.05
	done
}

# web_stop: SIGTERM, and its exit status (0 is the contract), at most 10 s
web_stop() {
	[ -n "$WEB_PID" ] || return 0
	kill -TERM "$WEB_PID" 2>/dev/null
	_i=0
	while kill -0 "$WEB_PID" 2>/dev/null && [ $_i -lt 200 ]; do sleep 0.05; _i=$((_i + 1)); done
	if kill -0 "$WEB_PID" 2>/dev/null; then
		echo "# spoolweb did not exit on SIGTERM within 10 s"
		kill -KILL "$WEB_PID" 2>/dev/null
	fi
	wait "$WEB_PID"
	_rc=$?
	WEB_PID=
	return $_rc
}

# web_orders SPOOL: start spoold on the print spool SPOOL and submit the examples
# 1001 (paid: queued, its jobs published), 1002 and 1003, and 1004: 1002 placed later
# by someone else
web_orders() {
	cp -R "$EX/print/1002" "$T/b1004"
	sed -i -e 's|<placed>.*</placed>|<placed>2026-11-25T10:00:00Z</placed>|' \
	    -e 's|Tomás Álvarez|Zoë Weber|g' -e 's|tomas@example.org|zoe@example.de|' "$T/b1004/order.xml"
	check "spoold starts" start_spoold "$1"
	for _id in 1001 1002 1003; do rc 0 "submit $_id" $S -d "$1" submit "$EX/print/$_id"; done
	rc 0 "submit 1004" $S -d "$1" submit --id 1004 "$T/b1004"
}

# web_user SPOOL NAME ROLE PASSWORD [QUEUE]: a spoolweb user
web_user() {
	if [ -n "${5:-}" ]; then
		rc 0 "user $2 ($3 of $5)" $S -d "$1" user add "$2" --role "$3" --queue "$5"
	else
		rc 0 "user $2 ($3)" $S -d "$1" user add "$2" --role "$3"
	fi
	rc 0 "its password" sh -c "printf '%s\n' '$4' | $S -d '$1' user passwd '$2'"
}

# wreq NAME METHOD PATH [JSON] [TOKEN]: a request as NAME's session (cookie jar
# $T/NAME.jar; NAME "-" for none); POSTs carry X-CSRF-Token, NAME's token unless
# TOKEN is given ("none" sends no header).  Prints the status code; the body is in
# $T/body, the headers in $T/hdr.
wreq() {
	_name=$1 _m=$2 _path=$3 _data=${4:-} _tok=${5:-}
	set -- -s -k --path-as-is --max-time 20 -o "$T/body" -D "$T/hdr" -w '%{http_code}' -X "$_m"
	[ "$_name" = - ] || set -- "$@" -b "$T/$_name.jar" -c "$T/$_name.jar"
	if [ "$_m" = POST ]; then
		[ -n "$_tok" ] || _tok=$(cat "$T/$_name.csrf" 2>/dev/null)
		[ "$_tok" = none ] || set -- "$@" -H "X-CSRF-Token: $_tok"
		[ -n "$_data" ] || _data='{}'
		set -- "$@" -H 'Content-Type: application/json' --data-binary "$_data"
	fi
	curl "$@" "$WEB_URL$_path"
}

# is_code DESC WANT METHOD...: wreq answers WANT (one code, or codes as "404|403")
is_code() {
	_d=$1 _want=$2
	shift 2
	_got=$(wreq "$@")
	if printf '%s\n' "$_got" | grep -Eqx "$_want"; then
		ok "$_d"
	else
		not_ok "$_d (HTTP $_got, want $_want: $(head -c 200 "$T/body"))"
	fi
}

# web_login NAME USER PASSWORD [SPOOL]: log in through the API (to SPOOL, when
# given); the cookie goes to $T/NAME.jar, the CSRF token to $T/NAME.csrf, the answer
# to $T/NAME.login and its headers to $T/NAME.hdr.  Prints the status code.
web_login() {
	rm -f "$T/$1.jar" "$T/$1.csrf"
	_body=$(/usr/bin/python3 -c 'import json,sys; d={"user": sys.argv[1], "password": sys.argv[2]}
if len(sys.argv) > 3: d["spool"] = sys.argv[3]
print(json.dumps(d))' "$2" "$3" ${4:+"$4"})
	curl -s -k --max-time 20 -o "$T/$1.login" -D "$T/$1.hdr" -w '%{http_code}' -c "$T/$1.jar" \
	    -H 'Content-Type: application/json' --data-binary "$_body" "$WEB_URL/api/login"
	/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["csrf"])' \
	    "$T/$1.login" >"$T/$1.csrf" 2>/dev/null || rm -f "$T/$1.csrf"
}

# header FILE NAME: the value of a header (the last one of that name), without CR
header() {
	tr -d '\r' <"$1" | sed -n "s/^$2:[[:space:]]*//Ip" | tail -1
}
