# Several nodes on one spool, on the local file system of the test (so it runs
# everywhere; t_gluster does it on a real GlusterFS volume): SPOOLD_SHARED=1 makes
# spoold run shared here, as it does by itself on a network or FUSE file system.
# Without it a second spoold is refused; with it, nodes a and b share a pos spool,
# one leads, both run handlers under claims, the leader killed with SIGKILL is
# replaced, its claims are released and its orders run again, at least once and
# no more often than it had claimed; a node whose path to the spool is gone stops.
. "$SRCDIR/tests/e2e/lib.sh"
trap 'for p in ${PIDS:-}; do kill -KILL "$p" 2>/dev/null; done; kill_spoold; [ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
PIDS=

# the handler: a POS that takes 0.2 s and says which node ran it
cat >"$T/pos" <<EOF
#!/bin/sh
[ "\$1" != 7999 ] || exec sleep 60
sleep 0.2
echo "\$1 \$SPOOL_NODE" >>"$T/runs.log"
EOF
chmod +x "$T/pos"
C=$T/nodes
P=$C/spool
mkdir -p "$C"
workflow_for_tests pos "$T/pos" "$T/pos.conf"
rc 0 "init a pos spool" $S -d "$P" init "$T/pos.conf"

# ---- not shared: one spoold per spool --------------------------------------------
rc 64 "--node takes a name, not a path" $D -d "$P" --node 'a/../b'
has "and says what a name is" "$T/err" "--node takes 1 to 64 of"
check "spoold starts as node solo" start_spoold "$P" --node solo
rc 75 "on a local file system a second spoold, another node, is refused (75)" \
    $D -d "$P" --node other
has "and says another spoold runs" "$T/err" "another spoold"
rc 0 "spoolctl status" $S -d "$P" status
has "names the leader" "$T/out" "^leader: solo \\(pid [0-9]+\\)$"
check "spoold stops" stop_spoold
rc 0 "spoolctl status once it stopped" $S -d "$P" status
has "says none leads" "$T/out" "^leader: none"

# ---- shared: two nodes -------------------------------------------------------------
N=150
i=0
while [ $i -lt $N ]; do
	$S -d "$P" submit --id $((7001 + i)) "$EX/pos/3001" >/dev/null 2>>"$T/submit.err" || break
	i=$((i + 1))
done
check "$N orders submitted before the nodes start" test $i -eq $N

# start_node NAME: spoold as node NAME, its log $T/NAME.log, its pid in PID_NAME
start_node() {
	SPOOLD_SHARED=1 "$D" -d "$P" --node "$1" 2>>"$T/$1.log" &
	eval "PID_$1=$!"
	PIDS="$PIDS $!"
}
start_node a
until_ "node a leads" 20 grep -q "a: leading" "$T/a.log"
start_node b
until_ "node b follows" 20 grep -q "b: following (the leader is a)" "$T/b.log"
SPOOLD_SHARED=1 $D -d "$P" --node a >"$T/out" 2>"$T/err"
check "a second node a is refused (75)" test $? -eq 75
has "and says so" "$T/err" "another spoold runs as node a"
has "it says it runs shared" "$T/a.log" "a: on a shared file system \\(SPOOLD_SHARED=1\\): one of the nodes of "
until_ "both nodes have run handlers" 30 sh -c "grep -q ' a\$' '$T/runs.log' && grep -q ' b\$' '$T/runs.log'"
rc 0 "spoolctl status while both run" $S -d "$P" status --json
json "names a as the leader and both nodes, neither silent" "$T/out" \
    "d['leader'] == 'a' and sorted(n['name'] for n in d['nodes']) == ['a', 'b'] and not any(n['silent'] for n in d['nodes'])"

# the leader dies in the middle
kill -KILL "$PID_a"
killed=$(date +%s)
left=$((N - $(ls "$P/state/success" | wc -l)))
check "a was killed in the middle ($left orders not done yet)" test "$left" -gt 0
until_ "b takes the lead within 10 s" 10 grep -q "b: leading" "$T/b.log"
led=$(($(date +%s) - killed))
until_ "b releases the claims of the silent node a" 20 grep -q "b: node a is silent for [0-9]*s: released its [0-9]* claims" "$T/b.log"
until_ "all $N orders end in success" 120 sh -c "[ \$(ls '$P/state/success' | wc -l) -eq $N ]"
others=$(find "$P/state" -name '*.order' ! -path '*/success/*' ! -name 7999.order | wc -l)
check "and no order is in another state ($others)" test "$others" -eq 0
released=$(sed -n 's/.*b: node a is silent for [0-9]*s: released its \([0-9]*\) claims.*/\1/p' "$T/b.log" | awk '{s += $1} END {print s + 0}')
runs=$(wc -l <"$T/runs.log")
uniq=$(awk '{print $1}' "$T/runs.log" | sort -u | wc -l)
check "every order's handler ran ($uniq of $N)" test "$uniq" -eq $N
check "extra runs ($((runs - uniq))) are no more than a's released claims ($released)" \
    test $((runs - uniq)) -le "$released"
check "no claim is left" test -z "$(ls "$P/run/claims")"
id=$(awk '$2 == "b" {print $1; exit}' "$T/runs.log")
rc 0 "history of $id, which b ran" $S -d "$P" history "$id"
has "names the node of its attempt" "$T/out" "attempt [0-9] of 2: .*/pos on b$"
rc 0 "spoolctl status after the kill" $S -d "$P" status
has "names b as the leader" "$T/out" "^leader: b \\(pid $PID_b\\)$"
has "and a as silent" "$T/out" "^node a: heartbeat [0-9]+s ago, 0 claims, silent$"
check "b's heartbeat is fresh" grep -Eq "^node b: heartbeat [0-4]s ago" "$T/out"
echo "# b led within ${led}s of the kill (whole seconds); $runs runs for $N orders, $released claims released"

# an order moved by hand out of processing while its handler runs: the node that
# holds its claim stops the handler and lets the claim go
rc 0 "submit 7999, whose handler hangs" $S -d "$P" submit --id 7999 "$EX/pos/3001"
until_ "7999 is claimed" 20 test -f "$P/run/claims/7999"
holder=$(cut -d' ' -f1 "$P/run/claims/7999")
check "mv 7999 by hand to failed" mv "$P/state/processing/7999.order" "$P/state/failed/"
until_ "$holder stops its handler and lets the claim of 7999 go" 15 test ! -f "$P/run/claims/7999"
check "7999 stays in failed" test -f "$P/state/failed/7999.order"

# the way to the spool is gone (as after a umount -l): b stops, and says why
mv "$C" "$T/moved"
_i=0
while kill -0 "$PID_b" 2>/dev/null && [ $_i -lt 100 ]; do sleep 0.1; _i=$((_i + 1)); done
wait "$PID_b"
check "b stops with 75 when the spool's path is gone" test $? -eq 75
has "and says it lost the lead, and why" "$T/b.log" "b: lost the lead: the spool's path is gone .*; stopping"
grep -E "AddressSanitizer|LeakSanitizer|runtime error" "$T/a.log" "$T/b.log" >"$T/san" || true
lines "no sanitizer report in the nodes' logs" "$T/san" 0
done_testing
