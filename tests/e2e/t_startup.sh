# Start-up on a large spool (issue 16): spoold says it is ready after its first turn,
# long before the rescan of every order ends; what comes in or falls due meanwhile is
# served; the orders whose handlers ran when spoold was killed (run/work) are looked
# at first; a SIGKILL during the rescan loses nothing.  Nothing here is timed: the
# order of the log's lines and the files say it.
. "$SRCDIR/tests/e2e/lib.sh"
test_spool su pos 30s
N=${STARTUP_ORDERS:-20000}
rc 0 "$N orders in success, a state where nothing runs" "$BUILD/tests/mkspool" "$P" "$N" success
rc 0 "and 40 in created, where the POS handler runs" sh -c \
    "for i in \$(seq 1 40); do $S -d '$P' submit --id c\$i '$EX/pos/3001' || exit 1; done >/dev/null"

# the rescan that began at start is still under way
rescanning() { ! grep -q '^spoold: rescan after start done' "$T/spoold.log"; }

: >"$T/spoold.log"
check "spoold starts" start_spoold "$P"
check "it says it is ready before its rescan is done" rescanning
# submitted after ready, while the rescan goes on behind
rc 0 "submit 3002 while the rescan runs" $S -d "$P" submit "$EX/pos/3002"
until_ "3002 reaches success" 60 in_state "$P" 3002 success
check "while the rescan still runs" rescanning
until_ "the rescan ends" 300 grep -q '^spoold: rescan after start done' "$T/spoold.log"
has "the rescan looked at the orders of the busy states first" "$T/spoold.log" \
    '^spoold: rescan after start done: [0-9]+ orders looked at'
until_ "the 40 orders in created reach success" 120 sh -c "[ \$(find '$P/state/success' -name '*.order' | wc -l) -eq $((N + 41)) ]"

# run/work: a handler runs when spoold is killed; after the restart it runs again at once
echo h3 >"$C/hang"
rc 0 "submit h3, whose handler hangs" $S -d "$P" submit --id h3 "$EX/pos/3001"
until_ "its handler is running" 20 grep -qx h3 "$C/sent.log"
has "run/work names it" "$P/run/work" '^h3$'
kill_spoold
: >"$C/hang"
pkill -f "pos-send h3" 2>/dev/null
: >"$T/spoold.log"
check "spoold starts after a SIGKILL" start_spoold "$P"
until_ "h3 is tried again and succeeds" 60 in_state "$P" h3 success
check "before the rescan reached it" rescanning

# a SIGKILL during the rescan loses nothing: every order is there once, and check is clean
kill_spoold
: >"$T/spoold.log"
check "spoold starts again" start_spoold "$P"
rc 0 "submit h4 over its socket" $S -d "$P" submit --id h4 "$EX/pos/3001"
kill_spoold
check "killed during its rescan" rescanning
check "and started again" start_spoold "$P"
until_ "h4 reaches success" 60 in_state "$P" h4 success
check "every order is in exactly one state" sh -c \
    "[ \$(find '$P/state' -name '*.order' | wc -l) -eq $((N + 43)) ] &&
     [ \$(find '$P/state' -name '*.order' -printf '%f\n' | sort -u | wc -l) -eq $((N + 43)) ]"
check "spoold stops" stop_spoold
rc 0 "spoolctl check is clean" $S -d "$P" check
done_testing
