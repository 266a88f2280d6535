# spoold end to end on the pos workflow (document 001): created to processing to
# success; a failure retried once by itself, then failed; the admin's Set Ready
# reprocesses; temporary failures and timeouts; attempts and errors in show; moves by
# hand, allowed or not; one spoold per spool; reload; kick; a clean stop.
. "$SRCDIR/tests/e2e/lib.sh"
test_spool pos pos
rc 0 "spoold -n checks the configuration" $D -d "$P" -n
has "and says so" "$T/out" "workflow pos, 5 states, 5 transitions: configuration OK$"
echo 3002 >"$C/fail"
check "spoold starts and says it is ready" start_spoold "$P"

rc 0 "submit 3001" $S -d "$P" submit "$EX/pos/3001"
rc 0 "submit 3002" $S -d "$P" submit "$EX/pos/3002"
until_ "3001: created -> processing -> success" 20 in_state "$P" 3001 success
until_ "3002: fails, is retried once by itself, then lands in failed" 20 in_state "$P" 3002 failed
rc 0 "the history of 3001" $S -d "$P" history 3001
has "records the move to processing by the system" "$T/out" "system +created -> processing$"
has "and the attempt, with the node it ran on (the host's name)" "$T/out" "attempt 1 of 2: .*pos-send on [A-Za-z0-9._-]+$"
until_ "run/stats counts 1 success and 2 failures of the handler" 10 \
    sh -c "grep -qx 'runs ok 1' '$P/run/stats' && grep -qx 'runs failed 2' '$P/run/stats'"
has "and success" "$T/out" "system +processing -> success$"
rc 0 "show --json 3002" $S -d "$P" show --json 3002
json "it was tried twice, and says why it failed" "$T/out" "d['state'] == 'failed' and d['attempts'] == 2 and 'RTP|Connect: 502 Bad Gateway for order 3002' == d['last_error'] and 'POS: sending order 3002' in d['error_output']"
check "the POS saw 3002 twice" test "$(grep -cx 3002 "$C/sent.log")" -eq 2
check "as try 1 and try 2 (SPOOL_TRY)" sh -c "grep -x '3002 try [0-9]*' '$C/tries.log' | tr '\\n' ' ' | grep -qx '3002 try 1 3002 try 2 '"
rc 0 "its history" $S -d "$P" history 3002
has "says attempt 2 of 2 failed, and why" "$T/out" "attempt 2 of 2 failed: RTP\|Connect: 502 Bad Gateway for order 3002$"
has "and the move to failed" "$T/out" "system +processing -> failed  RTP"

: >"$C/fail"
rc 0 "the admin sets 3002 ready" $S -d "$P" set-ready 3002 -m "POS is back"
until_ "it is reprocessed and succeeds" 20 in_state "$P" 3002 success
rc 0 "show --json 3002 again" $S -d "$P" show --json 3002
json "three attempts over its life, no error now" "$T/out" "d['attempts'] == 3 and d['last_error'] is None"
rc 0 "history 3002" $S -d "$P" history 3002
has "the admin's move is recorded once, as the admin's" "$T/out" "admin:[^ ]+ +failed -> ready  POS is back$"
check "and nobody claims it was moved by hand" sh -c "! grep -Eq '^[^ ]+  hand ' '$T/out'"

# a temporary failure (exit 75) is tried again later and does not use up the retry
echo 3003 >"$C/tempfail"
rc 0 "submit 3003" $S -d "$P" submit --id 3003 "$EX/pos/3001"
until_ "3003 fails for now three times" 30 sh -c "[ \$(grep -cx 3003 '$C/sent.log') -ge 3 ]"
check "and stays in processing" in_state "$P" 3003 processing
: >"$C/tempfail"
until_ "then succeeds" 30 in_state "$P" 3003 success

# a handler that hangs is killed at the state's timeout
echo 3004 >"$C/hang"
rc 0 "submit 3004" $S -d "$P" submit --id 3004 "$EX/pos/3001"
until_ "3004 times out twice and fails" 30 in_state "$P" 3004 failed
rc 0 "show 3004" $S -d "$P" show --json 3004
json "the error says it timed out" "$T/out" "d['last_error'] == 'timed out after 2s'"
check "no handler is left running" sh -c "! pgrep -f 'handlers/pos-sen[d] 3004' >/dev/null"

# ls filters by status and date
rc 0 "ls --state success --since 2026-11-23" $S -d "$P" ls --state success --since 2026-11-23
lines "three successes placed that day (the examples' date)" "$T/out" 3
rc 0 "ls --state failed" $S -d "$P" ls --state failed
has "3004 is the one failed" "$T/out" "^3004 "

# moves by hand: spoold records them and runs the new state's actions
mv "$P/state/failed/3004.order" "$P/state/ready/"
: >"$C/hang"
until_ "a move by hand (failed -> ready) is handled" 20 in_state "$P" 3004 success
has "and recorded as by hand" "$P/orders/3004/history" "	hand	failed	ready	moved by hand$"
mv "$P/state/success/3001.order" "$P/state/created/"
until_ "a move the workflow forbids (success -> created) is not undone but handled" 20 in_state "$P" 3001 success
has "it is recorded, with the rule it broke" "$P/orders/3001/history" "	hand	success	created	moved by hand; the workflow does not let admin move it from success to created$"
has "and spoold warns, the line starting with the order's id" "$T/spoold.log" "^3001: warning: moved by hand from success to created, which the workflow does not allow$"
check "every log line about an order starts with its id" sh -c "! grep -Ev '^(spoold|[A-Za-z0-9_-][A-Za-z0-9._-]*): ' '$T/spoold.log'"

rc 75 "a second spoold on the same spool stops at once" $D -d "$P"
has "and says why" "$T/err" "another spoold \(pid [0-9]+\) runs on .*; this one stops$"

cp "$P/spool.conf" "$C/good.conf"
echo "colour = red" >>"$P/spool.conf"
kill -HUP "$SPOOLD_PID"
until_ "a reload with a bad spool.conf keeps the old one" 10 grep -q "reload failed; the old configuration stays in force" "$T/spoold.log"
has "and says what is wrong, with file, line and key" "$T/spoold.log" "spool.conf:[0-9]+: colour: unknown key"
mv "$P/state/success/3003.order" "$P/state/ready/"
until_ "spoold still works with the old one" 20 in_state "$P" 3003 success
cp "$C/good.conf" "$P/spool.conf"
kill -HUP "$SPOOLD_PID"
until_ "a good reload is taken" 10 grep -q "reloaded: workflow pos" "$T/spoold.log"
rc 0 "spoolctl kick" $S -d "$P" kick
until_ "asks spoold for a rescan" 10 grep -q "kicked: rescanning" "$T/spoold.log"
check "spoold stops cleanly on SIGTERM" stop_spoold
has "and says so" "$T/spoold.log" "spoold: stopped: "
rc 0 "the spool is clean" $S -d "$P" check

# spoold died after writing down a move it decided for an order that waited (its
# handler had succeeded) but before the rename: on restart the move is made, once
rc 0 "submit 3006" $S -d "$P" submit --id 3006 "$EX/pos/3001"
mv "$P/state/created/3006.order" "$P/state/processing/"
printf '%s\t3006\tsystem\tcreated\tprocessing\t\n' "$(date -u +%FT%TZ)" >>"$P/orders/3006/history"
printf 'spool-status 1\nstate: processing\nsince: %s\nstep: 1\nattempts: 1\n' "$(date -u +%FT%TZ)" >"$P/orders/3006/status"
printf '%s\t3006\tsystem\tprocessing\tsuccess\t\n' "$(date -u +%FT%TZ)" >>"$P/orders/3006/history"
: >"$C/sent.log"
check "spoold starts again" start_spoold "$P"
until_ "3006 is moved on to success" 20 in_state "$P" 3006 success
check "with one history line for that move, not two" test "$(grep -c '	system	processing	success' "$P/orders/3006/history")" -eq 1
check "and its handler did not run again" test ! -s "$C/sent.log"
has "spoold says it finished the move" "$T/spoold.log" "^3006: finishing the move to success begun before a restart$"
check "spoold stops" stop_spoold
rc 0 "the spool is clean at the end" $S -d "$P" check
done_testing
