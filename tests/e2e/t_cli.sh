# spoolctl end to end: every command, its output, and its exit codes.
. "$SRCDIR/tests/e2e/lib.sh"
P=$T/print

rc 64 "no command is a usage error" $S
rc 64 "no spool is a usage error" $S ls
has "the usage error says what is missing" "$T/err" "give -d SPOOL or set SPOOL_DIR"
rc 64 "an unknown option is a usage error" $S -d "$P" ls --bogus
rc 66 "an unknown workflow is not found" $S -d "$T/x" init no-such-workflow
rc 0 "init print" $S -d "$P" init print
rc 65 "init twice is refused" $S -d "$P" init print
has "init twice says why" "$T/err" "is a spool already"
rc 66 "a missing spool is not found" $S -d "$T/nowhere" ls

for id in 1001 1002 1003; do
	rc 0 "submit example $id" $S -d "$P" submit "$EX/print/$id"
	has "submit prints the id $id" "$T/out" "^$id\$"
done
rc 0 "submit --id gives another id" $S -d "$P" submit --id 1001-again "$EX/print/1001"
has "submit --id prints the new id" "$T/out" "^1001-again\$"
has "and its history names the bundle's id" "$P/orders/1001-again/history" "submitted \(the bundle's id is 1001\)$"
rc 65 "submit of an existing id is refused" $S -d "$P" submit "$EX/print/1001"
lines "the refusal is one line" "$T/err" 1
has "the refusal names the order and why" "$T/err" "^spoolctl: 1001: order exists already in queued$"
rc 65 "a bundle for another workflow is refused" $S -d "$P" submit "$EX/pos/3001"
has "and says which" "$T/err" "is for workflow 'pos', this spool runs 'print'"
rc 66 "a missing bundle is not found" $S -d "$P" submit "$T/none"

export SPOOL_DIR="$P"
rc 0 "ls" $S ls
lines "ls lists four orders" "$T/out" 4
has "ls shows id, state and placed time" "$T/out" "^1002 +unpaid +2026-11-21T16:02:11Z$"
rc 0 "ls --state queued" $S ls --state queued
lines "two orders are queued" "$T/out" 2
rc 0 "ls --state 2 (a status code)" $S ls --state 2
lines "code 2 is queued" "$T/out" 2
rc 64 "ls --state of no such state" $S ls --state nowhere
rc 0 "ls --since" $S ls --since 2026-11-21
lines "two orders since the 21st" "$T/out" 2
rc 0 "ls --until a day includes that day" $S ls --until 2026-11-20
lines "two orders until the 20th" "$T/out" 2
rc 0 "ls --since --until" $S ls --since 2026-11-21T00:00:00Z --until 2026-11-22T00:00:00Z
has "the 21st holds 1002" "$T/out" "^1002 "
lines "and only 1002" "$T/out" 1
rc 64 "a bad date is a usage error" $S ls --since yesterday
rc 64 "a bare number is not a date" $S ls --since 2026
rc 0 "a duration back from now is" $S ls --since 3650d
lines "(all four)" "$T/out" 4
rc 0 "ls --search on the customer, any case" $S ls --search MEI
has "finds Mei Chen's order" "$T/out" "^1003 "
lines "and only hers" "$T/out" 1
rc 0 "ls --search on the id" $S ls --search again
has "finds 1001-again" "$T/out" "^1001-again "
rc 0 "ls -l shows the customer" $S ls -l --state unpaid
has "ls -l line" "$T/out" "^1002 +unpaid .*Tomás Álvarez$"
rc 0 "ls --json" $S ls --json
json "ls --json is a list of orders" "$T/out" "len(d) == 4 and {o['id'] for o in d} == {'1001', '1002', '1003', '1001-again'} and d[0]['code'] == 2"

rc 0 "show" $S show 1001
has "show gives the state and code" "$T/out" "^state +queued \(Queued, code 2\)$"
has "show gives the items" "$T/out" "^  1 +photobook-a4 +x1  4 pages  \"Holiday 2026\"$"
has "show gives the files" "$T/out" "^  items/1/page-004.pdf"
has "show gives the history" "$T/out" "admin:.* - -> queued  submitted$"
rc 0 "show --json" $S show --json 1003
json "show --json has state, items, attempts, files and history" "$T/out" "d['state'] == 'uploading' and d['code'] is None and d['items'][0]['upload'] == 'incomplete' and d['attempts'] == 0 and d['last_error'] is None and any(f['path'] == 'items/1/page-001.pdf' for f in d['files']) and d['history'][0]['to'] == 'uploading'"
# what spoold keeps beside an order: attempts, due time and the last error
printf 'spool-status 1\nstate: uploading\nattempts: 2\ndue: 2026-11-30T10:00:00Z\nerror: page 2 missing\n' >"$P/orders/1003/status"
rc 0 "show with a status" $S show 1003
has "shows the attempts" "$T/out" "^attempts +2$"
has "shows the last error" "$T/out" "^last error page 2 missing$"
has "shows when it is due" "$T/out" "^due +2026-11-30T10:00:00Z$"
rc 0 "show --json with a status" $S show --json 1003
json "has attempts, due and last_error" "$T/out" "d['attempts'] == 2 and d['last_error'] == 'page 2 missing' and d['due'] == '2026-11-30T10:00:00Z'"
printf 'spool-status 1\nstate: uploading\nattempts: x\n' >"$P/orders/1003/status"
rc 0 "a broken status file does not stop show" $S show 1003
has "but is named" "$T/err" "orders/1003/status: line 3: bad value for 'attempts'"
rm "$P/orders/1003/status"
rc 66 "show of no such order" $S show 4242
has "says so" "$T/err" "^spoolctl: 4242: no such order$"
rc 64 "show of a bad id" $S show ../etc
rc 64 "mv of a bad id" $S mv ../etc queued
rc 64 "rm of a bad id" $S rm .hidden
rc 64 "submit --id of a bad id" $S submit --id a/b "$EX/print/1001"
rc 64 "a negative code is no state" $S ls --state -1

rc 0 "mv along the workflow (payment arrived)" $S mv 1002 queued -m "bank transfer in"
rc 0 "history" $S history 1002
has "history records the admin and the comment" "$T/out" "admin:[^ ]+ +unpaid -> queued  bank transfer in$"
rc 77 "mv the workflow refuses" $S mv 1001 shipping
lines "the refusal is one line" "$T/err" 1
has "it names the order, the states and the actor" "$T/err" "^spoolctl: 1001: the workflow does not let admin move it from queued to shipping$"
rc 0 "the order stayed" $S ls --state queued --search 1001
has "1001 is still queued" "$T/out" "^1001 "
rc 66 "mv of no such order" $S mv 4242 queued
rc 64 "mv to no such state" $S mv 1001 nowhere
rc 0 "mv to where it is already" $S mv 1001 queued
has "says it is there already" "$T/err" "1001: already in queued"
rc 0 "a named transition through do" $S do process 1001 1001-again
rc 0 "and as a command of its own" $S ship 1001 -m "on the truck"
rc 0 "history --json" $S history --json 1001
json "history --json lists the moves" "$T/out" "[e['to'] for e in d] == ['queued', 'processing', 'shipping'] and d[2]['comment'] == 'on the truck'"
rc 77 "a transition that does not start here" $S pay 1001
has "says so" "$T/err" "transition 'pay' does not start from shipping"
rc 64 "an unknown command" $S frobnicate 1001
rc 0 "reorder (the store's and the admin's)" $S reorder 1001
rc 77 "a locked order cannot be closed" $S close 1001
has "says it is locked" "$T/err" "1001: locked while in reordering"
rc 77 "nor removed" $S rm 1001
rc 66 "several at once: one fails, the rest move" $S mv 1003 4242 cancelled
rc 0 "(look)" $S ls --state cancelled
has "1003 was cancelled" "$T/out" "^1003 "

mv "$P/state/processing/1001-again.order" "$P/state/failed/"
rc 0 "a move by hand is seen at once" $S show --json 1001-again
json "show follows the file" "$T/out" "d['state'] == 'failed' and d['code'] == 10"

rc 0 "rm" $S rm 1001-again -m "customer recalled it"
rc 66 "a removed order is gone" $S show 1001-again
has "the global history records the removal" "$P/history" "	1001-again	admin:[^	]+	failed	-	removed: customer recalled it$"
check "its files are gone" test ! -e "$P/orders/1001-again"

rc 0 "stats" $S stats
has "stats counts per state" "$T/out" "^queued +2 +1 "
has "stats has a total" "$T/out" "^total +3$"
rc 0 "stats --json" $S stats --json
json "stats --json" "$T/out" "sum(s['count'] for s in d) == 3 and [s for s in d if s['state'] == 'reordering'][0]['count'] == 1"
rc 0 "workflow --json" $S workflow --json
json "workflow --json lists states and transitions" "$T/out" "len(d['states']) == 9 and any(t['name'] == 'ship' and 'printer' in t['actors'] for t in d['transitions'])"
rc 0 "check of a clean spool" $S check
lines "prints nothing" "$T/out" 0

cp "$P/state/shipping/1002.order" "$P/state/failed/" 2>/dev/null || cp "$P/state/queued/1002.order" "$P/state/failed/"
mkdir "$P/orders/9999"
rc 1 "check finds damage" $S check --json
json "check --json lists it" "$T/out" "d['count'] == 2 and {p['kind'] for p in d['problems']} == {'two-states', 'orphan'}"
rc 0 "check --repair mends the orphan and the duplicate" $S check --repair
has "the duplicate keeps its history's copy" "$T/out" "^two-states +state/\*/1002.order: in queued and failed; the copy in queued stays \(its history's\), the other goes to corrupt/ -- repaired$"
check "the copy in failed went to corrupt/" test -f "$P/corrupt/1002.order"
check "the order stays in queued" test -f "$P/state/queued/1002.order"
check "the orphan went to corrupt/" test -d "$P/corrupt/9999"
rc 0 "then check is clean" $S check
mv "$P/state/queued/1002.order" "$P/state/shipping/"
cp "$P/state/shipping/1002.order" "$P/state/failed/"
rc 65 "an order in two states is not moved" $S mv 1002 queued
has "and says why" "$T/err" "^spoolctl: 1002: is in 2 states; left alone \(run spoolctl check\)$"
rc 1 "a duplicate whose history names neither state is not repaired" $S check --repair
has "it is left to a person" "$T/out" "in shipping and failed; its history names neither, but queued: a person must choose"
rm "$P/state/failed/1002.order"
rc 0 "then check is clean" $S check
chmod o+w "$P/state/queued"
rc 78 "a spool with a world-writable folder is refused" $S ls
has "and says which" "$T/err" "folder state/queued: writable by everyone"
rc 0 "check --repair fixes the mode" $S check --repair
rc 0 "ls works again" $S ls
cp "$P/spool.conf" "$T/spool.conf.good"
echo "colour = red" >>"$P/spool.conf"
rc 78 "a bad spool.conf is a configuration error" $S ls
has "naming file, line and key" "$T/err" "spool.conf:[0-9]+: colour: unknown key in \[queue covers\]"
rc 78 "for check too" $S check
cp "$T/spool.conf.good" "$P/spool.conf"
printf '[spool]\nversion = 1\nworkflow = x\nentry = a\n[state a]\nfinal = maybe\n' >"$T/bad.conf"
rc 65 "init from a bad workflow file" $S -d "$T/bad" init "$T/bad.conf"
has "names the file, line and key" "$T/err" "bad.conf:6: final: expected yes or no"
check "and makes no spool" test ! -e "$T/bad/spool.conf"
done_testing
