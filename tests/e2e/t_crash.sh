# The crash test: 5,000 orders through the pos workflow, with a handler that fails
# a third of the time, while spoold is killed with SIGKILL at random instants at
# least 50 times and started again.  In the end every order is in a final state
# (success, or failed after its retry) exactly once, its history is whole (each move
# starts where the last one ended and ends where the order is), no visit to
# processing had more attempts than the policy allows, and spoolctl check is clean.
. "$SRCDIR/tests/e2e/lib.sh"
C=$T/crash
P=$C/spool
N=${CRASH_ORDERS:-5000}
KILLS=${CRASH_KILLS:-55}
mkdir -p "$C"
workflow_for_tests pos "$SRCDIR/tests/e2e/handlers/pos-send" "$T/pos.conf"
sed -i 's/^uploads = none/uploads = none\nworkers = 8/' "$T/pos.conf"
rc 0 "init a pos spool" $S -d "$P" init "$T/pos.conf"
rc 0 "with $N orders in created" "$BUILD/tests/mkspool" "$P" "$N" created
echo 33 >"$C/failrate"

rnd() { od -An -N2 -tu2 /dev/urandom | tr -d ' '; }
started=0 killed=0
while [ $killed -lt "$KILLS" ]; do
	start_spoold "$P" || break
	started=$((started + 1))
	# a random instant within 0 to 0.4 s of work
	sleep "0.$(printf '%03d' $(($(rnd) % 400)))"
	kill_spoold
	killed=$((killed + 1))
done
check "spoold was started $started times and killed with SIGKILL $killed times" test $killed -ge 50
check "started once more" start_spoold "$P"
settled() {
	[ $(($(count_in "$P" created) + $(count_in "$P" processing) + $(count_in "$P" ready))) -eq 0 ]
}
until_ "every order reaches success or failed" 600 settled
check "spoold stops cleanly" stop_spoold
find "$P/state" -name '*.order' | sed 's|.*/state/\([^/]*\)/\(.*\)\.order$|\2 \1|' | sort >"$C/where"
lines "there are $N order files" "$C/where" "$N"
cut -d' ' -f1 "$C/where" | sort -u >"$C/ids"
lines "of $N different orders: each in exactly one state" "$C/ids" "$N"
check "all in success or failed" sh -c "! grep -Ev ' (success|failed)$' '$C/where'"
ok "$(grep -c ' success$' "$C/where") in success, $(grep -c ' failed$' "$C/where") in failed"
# Walk every history: each move starts where the one before ended; count attempts
# per visit to processing; print where the history says the order is.
awk -F'\t' -v max=2 '
function done_() { if (id != "") print id, cur }
FNR == 1 { done_(); id = $2; cur = ""; att = 0 }
NF != 6 { print "torn " FILENAME > "/dev/stderr"; bad = 1; next }
$4 != $5 {
	if (cur != "" && $4 != cur) { print "broken chain " FILENAME ": " $0 > "/dev/stderr"; bad = 1 }
	cur = $5
	if ($5 == "processing") att = 0
	next
}
$6 ~ /^attempt [0-9]+ of [0-9]+: / {
	if (++att > max) { print "too many attempts " FILENAME > "/dev/stderr"; bad = 1 }
}
END { done_(); exit bad }' "$P"/orders/*/history >"$C/told" 2>"$C/histerr"
check "every history is whole, and no visit had more than 2 attempts" test $? -eq 0 -a ! -s "$C/histerr"
head -3 "$C/histerr" | sed 's/^/#   /'
sort "$C/told" >"$C/told.sorted"
check "each history ends where its order is" cmp -s "$C/told.sorted" "$C/where"
rc 0 "spoolctl check is clean" $S -d "$P" check
lines "and says nothing" "$T/out" 0
done_testing
