# Hands on the tree while spoold runs: orders waiting for a worker that are removed
# or moved by hand hold nobody up; an order copied into a second state (an admin's
# cp where mv was meant, a restore from a backup) runs no handler, is said once,
# reported by check, and check --repair keeps the copy its history names.
. "$SRCDIR/tests/e2e/lib.sh"
C=$T/pos
P=$C/spool
mkdir -p "$C"
cat >"$T/pos-send" <<EOF
#!/bin/sh
echo "\$1" >>"$T/effects"
[ "\$1" = w1 ] && sleep 2
exit 0
EOF
chmod +x "$T/pos-send"
: >"$T/effects"
workflow_for_tests pos "$T/pos-send" "$T/pos.conf"
sed -i -e 's/^uploads = none/uploads = none\nworkers = 1/' -e 's/^timeout = .*/timeout = 60s/' \
    "$T/pos.conf"
rc 0 "init a pos spool with one worker" $S -d "$P" init "$T/pos.conf"
check "spoold starts" start_spoold "$P"

# ---- the wait for a worker --------------------------------------------------------
for id in w1 w2 w3 w4; do
	rc 0 "submit $id" $S -d "$P" submit --id $id "$EX/pos/3001"
done
until_ "w1 runs, alone" 20 grep -qx w1 "$T/effects"
until_ "w2, w3 and w4 wait in processing for the worker" 20 sh -c \
    "for i in w2 w3 w4; do test -f '$P/state/processing/'\$i.order || exit 1; done"
rc 0 "the admin removes w2, the first that waits" $S -d "$P" rm w2 -m "a duplicate"
check "and moves w3 away by hand" mv "$P/state/processing/w3.order" "$P/state/failed/"
until_ "w1 ends, and w4 gets the worker" 30 in_state "$P" w4 success
check "w1 succeeded too" in_state "$P" w1 success
check "w2 and w3 never ran their handler" sh -c "! grep -qx 'w[23]' '$T/effects'"
check "w3 stays in failed, moved by hand" in_state "$P" w3 failed
has "its history says so" "$P/orders/w3/history" "	hand	processing	failed	moved by hand"

# ---- an order in two states ------------------------------------------------------
rc 0 "submit t1" $S -d "$P" submit --id t1 "$EX/pos/3001"
until_ "t1 reaches success" 20 in_state "$P" t1 success
: >"$T/effects"
# a restore from last night's backup: the order file again in created, the next
# state of which runs the POS handler
check "t1 is copied into created (cp, where mv was meant)" cp -p "$P/state/success/t1.order" "$P/state/created/"
until_ "spoold says t1 is in two states" 20 grep -Eq "^t1: warning: is in two states \((success and created|created and success)\)" "$T/spoold.log"
rc 0 "a rescan looks at it again" $S -d "$P" kick
sleep 1
check "no handler ran for t1" test ! -s "$T/effects"
check "nor did it move: its history has its one visit to created, at its submit" test \
    "$(awk -F'\t' '$5 == "created"' "$P/orders/t1/history" | wc -l)" -eq 1
check "said once, not at every look" test "$(grep -c '^t1: .*two states' "$T/spoold.log")" -eq 1
rc 1 "spoolctl check reports it" $S -d "$P" check
has "as two-states" "$T/out" "two-states.*t1"
rc 0 "check --repair mends it" $S -d "$P" check --repair
check "t1 stays in success, the state its history names" in_state "$P" t1 success
check "the copy in created went to corrupt/" test -f "$P/corrupt/t1.order" -a ! -f "$P/state/created/t1.order"
check "with a reason" test -s "$P/corrupt/t1.order.reason"
has "and a history line" "$P/orders/t1/history" "	check	created	success	.*corrupt/t1.order"
rc 0 "spoolctl check is clean" $S -d "$P" check
sleep 1
check "nothing ran for t1 after the repair either" test ! -s "$T/effects"
check "spoold stops cleanly" stop_spoold
done_testing
