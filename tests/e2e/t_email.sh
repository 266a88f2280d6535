# spoold end to end on the email workflow (document 000): delayed payment waits
# until cleared; products that schedule themselves do; an item waits for its
# recipient list; the admin schedules, reverts and processes; the handler sends, and
# success goes to sent, failure to failed; retry goes back to pending; archive; and
# the ten-minute rule (three seconds here) moves an item nobody completed to sent.
. "$SRCDIR/tests/e2e/lib.sh"
# the handler's timeout longer than the ten-minute rule, as in the shipped file
test_spool email email 20s
check "spoold starts" start_spoold "$P" -v
# -v logs every look; an order waiting for a person leaves no other trace
looked_at() { grep -q "^$1: debug: look in " "$T/spoold.log"; }

rc 0 "submit 2003 (delayed payment)" $S -d "$P" submit "$EX/email/2003"
until_ "spoold has seen it" 10 looked_at 2003
check "it waits in delayed-payment" in_state "$P" 2003 delayed-payment
rc 0 "the clearing service clears the payment" $S -d "$P" clear-payment 2003
until_ "2003 is now pending" 10 in_state "$P" 2003 pending
check "and stays there: its product does not schedule itself" sh -c "sleep 0.3; test -f '$P/state/pending/2003.order'"

rc 0 "submit 2001 (Schedule Order Automatically)" $S -d "$P" submit "$EX/email/2001"
until_ "2001 goes from pending to scheduled by itself" 10 in_state "$P" 2001 scheduled
has "the system did it, naming the option" "$P/orders/2001/history" "	system	pending	scheduled	auto-schedule$"

rc 0 "submit 2002 (recipient list from USAData)" $S -d "$P" submit "$EX/email/2002"
until_ "spoold has seen it" 10 looked_at 2002
check "it waits in pending-recipients" in_state "$P" 2002 pending-recipients
# written as a user of the spool's group does, group read-write (else check says so)
(umask 007; printf 'email,name\nana@example.com,Ana\n' >"$P/orders/2002/.recipients.csv")
mv "$P/orders/2002/.recipients.csv" "$P/orders/2002/recipients.csv"
until_ "the list arrives and 2002 moves to pending" 10 in_state "$P" 2002 pending
has "because of the file" "$P/orders/2002/history" "	system	pending-recipients	pending	recipients.csv is there$"

rc 0 "schedule 2003" $S -d "$P" schedule 2003
rc 0 "revert 2003" $S -d "$P" revert 2003
check "it is pending again" in_state "$P" 2003 pending
rc 0 "schedule 2003 again" $S -d "$P" schedule 2003
rc 77 "process is not the admin's from pending" $S -d "$P" process 2002
rc 0 "process 2003" $S -d "$P" process 2003
until_ "it is sent and lands in sent" 10 in_state "$P" 2003 sent
check "the producer sent it once" test "$(grep -cx 2003 "$C/sent.log")" -eq 1
has "success is the system's move" "$P/orders/2003/history" "	system	sending	sent	$"

echo 2001 >"$C/fail"
rc 0 "process 2001, which the producer fails" $S -d "$P" process 2001
until_ "2001 fails and lands in failed" 10 in_state "$P" 2001 failed
rc 0 "show --json 2001" $S -d "$P" show --json 2001
json "with the producer's error" "$T/out" "d['last_error'] == 'uProduce: job 4711 failed: font Helvetica Neue missing' and d['attempts'] == 1"
: >"$C/fail"
rc 0 "retry 2001" $S -d "$P" retry 2001
until_ "it goes back to pending and, scheduling itself, to scheduled" 10 in_state "$P" 2001 scheduled
rc 0 "process 2001 again" $S -d "$P" process 2001
until_ "this time it is sent" 10 in_state "$P" 2001 sent
rc 0 "archive 2003" $S -d "$P" archive 2003
check "2003 is archived" in_state "$P" 2003 archived
rc 77 "archive is only from sent" $S -d "$P" archive 2002

# the ten-minute rule: an item in progress that nobody completed moves on by itself
echo 2004 >"$C/hang"
rc 0 "submit 2004" $S -d "$P" submit --id 2004 "$EX/email/2001"
until_ "2004 schedules itself" 10 in_state "$P" 2004 scheduled
rc 0 "process 2004, whose production never finishes" $S -d "$P" process 2004
until_ "after the timer (3s here) it is in sent" 15 in_state "$P" 2004 sent
has "the timer moved it" "$P/orders/2004/history" "	system	sending	sent	after 3s in sending$"
until_ "and the hung producer was stopped" 10 sh -c "! pgrep -f 'handlers/email-sen[d] 2004' >/dev/null"
check "spoold stops cleanly" stop_spoold
rc 0 "the spool is clean" $S -d "$P" check
done_testing
