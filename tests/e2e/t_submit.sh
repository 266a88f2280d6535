# Submissions handed to spoold over run/submit.sock (issue 16): spoolctl submit uses
# the socket while spoold runs, and writes the spool itself when it does not; many
# bundles in one call; an answered submission is on disk even if spoold is killed
# right after; a stale socket or a dead helper costs nothing; the actor is the peer's,
# whatever a client claims; requests it cannot read get an error, not a crash.
. "$SRCDIR/tests/e2e/lib.sh"
test_spool sb pos 30s
SOCK=$P/run/submit.sock

# bundles b1..b6 of distinct ids; b4 is no valid bundle
for i in 1 2 3 4 5 6; do
	mkdir -p "$C/b$i"
	sed "s/ id=\"3001\"/ id=\"m$i\"/" "$EX/pos/3001/order.xml" >"$C/b$i/order.xml"
done
sed -i 's/<customer>/<customer><age>9<\/age>/' "$C/b4/order.xml"
check "the bundles have their own ids" grep -q 'id="m1"' "$C/b1/order.xml"

rc 0 "without spoold, submit writes the spool itself" $S -d "$P" submit "$C/b1"
check "there is no socket" test ! -e "$SOCK"
check "spoold starts" start_spoold "$P"
check "and listens on run/submit.sock" test -S "$SOCK"
check "for the spool's group only" test "$(stat -c %a "$SOCK")" = 660
rc 0 "submit through spoold" $S -d "$P" submit "$C/b2"
has "prints the id" "$T/out" '^m2$'
has "spoold took it over its socket" "$T/spoold.log" '^m2: submitted over submit.sock by admin:'
has "the history names the admin" "$P/orders/m2/history" "	admin:$(id -un)	-	created	submitted$"
until_ "and m2 goes on like any order" 30 in_state "$P" m2 success

rc 65 "many bundles in one call, one of them bad" $S -d "$P" submit "$C/b3" "$C/b4" "$C/b5"
check "each good one's id, in order" test "$(cat "$T/out")" = "$(printf 'm3\nm5')"
has "the bad one's reason, as submit says it" "$T/err" "bundle $C/b4: order.xml:[0-9]+: .*age"
check "the good ones are in" sh -c "test -f '$P/state/created/m3.order' -o -f '$P/orders/m3/history' && test -d '$P/orders/m5'"
check "the bad one is not" test ! -e "$P/orders/m4"
rc 65 "an id in use is refused through spoold too" $S -d "$P" submit "$C/b3"
has "with submit's message" "$T/err" "m3: order exists already"
rc 66 "a bundle that is not there" $S -d "$P" submit "$C/nothing"
has "is named" "$T/err" "bundle $C/nothing: No such file or directory"

# hostile and forged requests, straight to the socket
cat >"$T/raw.py" <<'EOF'
import os, socket, sys
sock, msg, fdpath = sys.argv[1], sys.argv[2].encode().decode('unicode_escape'), sys.argv[3]
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.settimeout(30)
s.connect(sock)
if fdpath == "-":
    s.send(msg.encode())
else:
    fd = os.open(fdpath, os.O_RDONLY | os.O_DIRECTORY)
    socket.send_fds(s, [msg.encode()], [fd])
print(s.recv(4096).decode())
EOF
rc 0 "a request with no bundle" python3 "$T/raw.py" "$SOCK" 'submit\nx\n\nnone' -
has "is answered with an error" "$T/out" '^err [0-9]+ spoold: a request it cannot read'
rc 0 "a request of garbage" python3 "$T/raw.py" "$SOCK" 'GET / HTTP/1.0\r\n\r\n' "$C/b6"
has "too" "$T/out" '^err [0-9]+ spoold: a request it cannot read'
rc 0 "a bad id" python3 "$T/raw.py" "$SOCK" 'submit\nx\n../../etc\nb6' "$C/b6"
has "too" "$T/out" '^err [0-9]+ '
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
	# nobody, in the spool's group by its process only: it may submit, as itself
	chmod a+x "$(dirname "$T")" "$T" "$C"
	chmod -R a+rX "$C/b6"
	rc 0 "another user claims to be admin:boss" setpriv --reuid=65534 --regid="$(stat -c %g "$P")" \
	    --clear-groups /usr/bin/python3 "$T/raw.py" "$SOCK" 'submit\nadmin:boss\nf1\nb6' "$C/b6"
	has "is answered" "$T/out" '^ok f1 created$'
	has "but the history names who it is" "$P/orders/f1/history" "	admin:$(id -un 65534)	-	created	submitted"
	n=7
else
	n=6
	skip "another user claims to be admin:boss" "needs root and setpriv"
fi
check "spoold still runs" kill -0 "$SPOOLD_PID"

# durable when answered: spoold killed right after the answer
rc 0 "submit m6" $S -d "$P" submit "$C/b6"
kill_spoold
check "killed right after the answer, m6 is in a state" sh -c "ls '$P'/state/*/m6.order"
check "whole" test -f "$P/orders/m6/order.xml"
check "and nothing is left half done" sh -c "[ -z \"\$(ls '$P/run/intent')\" ]"
# what a spoold killed while its helper was not looking leaves: a socket nobody listens on
[ -S "$SOCK" ] || python3 -c "import socket; socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET).bind('$SOCK')"
check "a stale socket" test -S "$SOCK"
rc 0 "a stale socket: submit writes the spool itself" $S -d "$P" submit --id m7 "$C/b6"
has "and prints the id" "$T/out" '^m7$'
check "spoold starts again" start_spoold "$P"
until_ "every order reaches success" 60 sh -c "[ \$(ls '$P/state/success' | wc -l) -eq $n ]"
check "spoold stops" stop_spoold
check "and takes its socket away" test ! -e "$SOCK"
rc 0 "spoolctl check is clean" $S -d "$P" check
done_testing
