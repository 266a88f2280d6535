# The fault injector itself (tests/fault/faultinj.c): spoolctl-fault and spoold-fault
# fail the write system calls that SPOOL_FAULTS and SPOOL_FAULTS_FILE name, only
# those, as often as the rules say, and log each one; a bad rule stops them at start.
# What spool then does about a fault is tested elsewhere; here only the tool.
. "$SRCDIR/tests/e2e/lib.sh"
F=$BUILD/tests/spoolctl-fault
C=$T/pos
P=$C/spool
L=$C/faults.log
mkdir -p "$C"
unset SPOOL_FAULTS SPOOL_FAULTS_FILE SPOOL_FAULTS_LOG

# nz DESC COMMAND...: the command fails (any non-zero exit); stderr in $T/err
nz() {
	_d=$1
	shift
	if "$@" >"$T/out" 2>"$T/err"; then not_ok "$_d (it succeeded)"; else ok "$_d"; fi
}

# faulty RULES COMMAND...: run COMMAND with SPOOL_FAULTS=RULES, logging to a fresh $L
faulty() {
	_r=$1
	shift
	rm -f "$L"
	SPOOL_FAULTS=$_r SPOOL_FAULTS_LOG=$L "$@"
}

# to_failed ID...: put orders in failed by hand, from wherever they are (spoold is not
# running), so that the admin may move them to ready
to_failed() {
	for _id; do
		mv "$P"/state/*/"$_id.order" "$P/state/failed/" 2>/dev/null
	done
}

workflow_for_tests pos "$SRCDIR/tests/e2e/handlers/pos-send" "$T/pos.conf"
rc 0 "init a pos spool" $S -d "$P" init "$T/pos.conf"
rc 0 "submit 3001" $S -d "$P" submit "$EX/pos/3001"
for id in 3002 3003; do
	rc 0 "submit $id" $S -d "$P" submit --id $id "$EX/pos/3001"
done
to_failed 3001 3002 3003

# ---- one rule, once ------------------------------------------------------------------
nz "a move whose rename fails with EIO fails" faulty 'renameat2:*/state/*:EIO:0:1' \
    "$F" -d "$P" mv 3001 ready
has "with the errno's message" "$T/err" "Input/output error"
check "the order has not moved" in_state "$P" 3001 failed
lines "the log has one line" "$L" 1
has "naming the call, the target path and the errno" "$L" \
    "^[0-9]+ renameat2 $P/state/ready/3001\.order EIO$"
rc 0 "the same command without the fault moves it" "$F" -d "$P" mv 3001 ready
check "it is in ready" in_state "$P" 3001 ready
rc 0 "with only a log and no rules" env SPOOL_FAULTS_LOG="$C/none.log" "$F" -d "$P" show 3001
check "nothing is injected" test ! -s "$C/none.log"

# ---- SKIP and COUNT ------------------------------------------------------------------
to_failed 3001
nz "SKIP 1 COUNT 1 over three moves" faulty 'renameat2:*/state/*:EIO:1:1' \
    "$F" -d "$P" mv 3001 3002 3003 ready
check "the first matching call is let through" in_state "$P" 3001 ready
check "the second fails" in_state "$P" 3002 failed
check "the third is let through" in_state "$P" 3003 ready
lines "one line in the log" "$L" 1
has "for the second" "$L" " renameat2 $P/state/ready/3002\.order EIO$"

to_failed 3001 3002 3003
nz "COUNT 2" faulty 'renameat2:*/state/*:ENOSPC:0:2' "$F" -d "$P" mv 3001 3002 3003 ready
check "fails the first two" sh -c "[ -f '$P/state/failed/3001.order' ] && [ -f '$P/state/failed/3002.order' ]"
check "and not the third" in_state "$P" 3003 ready
lines "two lines in the log" "$L" 2
has "the errno by its name" "$L" " renameat2 $P/state/ready/3002\.order ENOSPC$"

to_failed 3003
nz "COUNT * after SKIP 1" faulty 'renameat2:*/state/*:28:1:*' "$F" -d "$P" mv 3001 3002 3003 ready
check "lets the first through" in_state "$P" 3001 ready
check "and fails every one after it" sh -c "[ -f '$P/state/failed/3002.order' ] && [ -f '$P/state/failed/3003.order' ]"
has "(an errno given as a number)" "$L" " renameat2 $P/state/ready/3003\.order ENOSPC$"

# the source of a rename counts too
nz "a rule may name the source of a rename" faulty 'renameat2:*/state/failed/3002.order:EIO' \
    "$F" -d "$P" mv 3002 ready
has "and the log names the source" "$L" " renameat2 $P/state/failed/3002\.order EIO$"

# ---- CALL '*', and what counts -------------------------------------------------------
nz "a '*' CALL fails whatever write-side call comes first on the path" \
    faulty '*:*/state/ready/*:EROFS:0:*' "$F" -d "$P" mv 3002 ready
has "with its message" "$T/err" "Read-only file system"
check "the order has not moved" in_state "$P" 3002 failed
has "the log names the real call" "$L" "^[0-9]+ renameat2 $P/state/ready/3002\.order EROFS$"
nz "'*' also reaches the opens that write" faulty '*:*/orders/3002/history:EDQUOT:0:*' \
    "$F" -d "$P" mv 3002 ready
has "(the history file's open)" "$L" "^[0-9]+ openat(_beneath)? $P/orders/3002/history EDQUOT$"
rc 0 "opens that only read are never failed" \
    faulty 'openat:*:EIO:0:*;openat_beneath:*:EIO:0:*;*:*/spool.conf:EIO:0:*' \
    "$F" -d "$P" show 3002
check "and nothing is logged" test ! -s "$L"
nz "read fails when it is named" faulty 'read:*/spool.conf:EIO' "$F" -d "$P" show 3002
has "(the configuration's read)" "$L" "^[0-9]+ read $P/spool\.conf EIO$"
rc 0 "a rule that matches nothing" faulty 'renameat2:*/nowhere/*:EIO:0:*;fsync:/elsewhere/*:EIO' \
    "$F" -d "$P" mv 3002 ready
check "injects nothing" test ! -s "$L"
check "and the move is done" in_state "$P" 3002 ready

# a short write: half is written, then the errno, as a full disk does
nz "a short write fails a submission" faulty 'write:*/.pub.*:ENOSPC:0:1:short' \
    "$F" -d "$P" submit --id 3004 "$EX/pos/3001"
has "with ENOSPC" "$T/err" "No space left on device"
check "3004 is not there" test ! -e "$P/orders/3004"
lines "one line" "$L" 1
has "that says it was short" "$L" "^[0-9]+ write $P/tmp/.*\.pub\.[^ ]+ ENOSPC short$"

# ---- SPOOL_FAULTS_FILE between two commands -----------------------------------------
R=$C/rules
to_failed 3001
printf '# the disk is full now\nrenameat2:*/state/ready/*:ENOSPC:0:*\n' >"$C/rules.new"
mv "$C/rules.new" "$R"
rm -f "$L"
export SPOOL_FAULTS_FILE="$R" SPOOL_FAULTS_LOG="$L"
nz "a rule from SPOOL_FAULTS_FILE fails the move" "$F" -d "$P" mv 3001 ready
check "which has not happened" in_state "$P" 3001 failed
has "it is logged" "$L" " renameat2 $P/state/ready/3001\.order ENOSPC$"
: >"$C/rules.new"
mv "$C/rules.new" "$R"
rc 0 "with the file emptied the same command moves it" "$F" -d "$P" mv 3001 ready
lines "and nothing more is logged" "$L" 1
to_failed 3001
rm -f "$R"
rc 0 "a missing file means no rules" "$F" -d "$P" mv 3001 ready
unset SPOOL_FAULTS_FILE SPOOL_FAULTS_LOG

# ---- bad rules stop the program at start ---------------------------------------------
to_failed 3001
for bad in 'renameat2:*/state/*:ENOSAPC' 'renameat:*:EIO' 'time:*:EIO' 'fsync:*' \
    'fsync::EIO' 'fsync:*:EIO:x' 'fsync:*:EIO:0:two' 'fsync:*:EIO:0:1:2:3' \
    'fsync:*:EIO:short' 'write:*:EIO:0:1:long' 'fsync:*:EIO;oops'; do
	rc 64 "refused: $bad" env SPOOL_FAULTS="$bad" "$F" -d "$P" mv 3001 ready
	has "with a clear message" "$T/err" "^spool-faultinj: SPOOL_FAULTS line 1: rule '[^']*': "
done
check "nothing was moved by them" in_state "$P" 3001 failed
rc 64 "an unknown ERRNO says so" env SPOOL_FAULTS='fsync:*:ENOSAPC' "$F" -d "$P" ls
has "in its message" "$T/err" "rule 'fsync:\*:ENOSAPC': unknown ERRNO"
printf 'fsync:*:EIO\n# fine so far\nrenameat2:*:EIO:-1\n' >"$R"
rc 64 "a bad rule in SPOOL_FAULTS_FILE at start" env SPOOL_FAULTS_FILE="$R" "$F" -d "$P" ls
has "names the file and line" "$T/err" "^spool-faultinj: $R line 3: rule 'renameat2:\*:EIO:-1': SKIP is not a number$"
rc 64 "a log that cannot be written" env SPOOL_FAULTS='fsync:*:EIO' \
    SPOOL_FAULTS_LOG="$C/no/such/dir/log" "$F" -d "$P" ls
has "says so" "$T/err" "^spool-faultinj: cannot open SPOOL_FAULTS_LOG $C/no/such/dir/log: No such file or directory$"
rc 0 "comments, blank rules and a quoted ':' are fine" env \
    SPOOL_FAULTS="$(printf '# a comment; not a rule\n ; fsync:*\\:nothing*:EIO ;\n')" "$F" -d "$P" ls

# ---- spoold-fault --------------------------------------------------------------------
# spoold fails two status writes; what it then does is the engine's business: here only
# that the faults were injected, where meant, and spoold lives.
D=$BUILD/tests/spoold-fault
P=$C/spool2
rc 0 "init another pos spool for it" $S -d "$P" init "$T/pos.conf"
export SPOOL_FAULTS='renameat2:*/orders/*/status:ENOSPC:0:2' SPOOL_FAULTS_LOG="$L"
export SPOOL_FAULTS_FILE="$R"
rm -f "$L" "$R"
check "spoold-fault starts and says it is ready" start_spoold "$P"
unset SPOOL_FAULTS SPOOL_FAULTS_LOG SPOOL_FAULTS_FILE
rc 0 "submit 3005" $S -d "$P" submit --id 3005 "$EX/pos/3001"
rc 0 "submit 3006" $S -d "$P" submit --id 3006 "$EX/pos/3001"
until_ "two status writes are failed" 20 sh -c "[ \$(grep -c '^[0-9]* renameat2 $P/orders/300[56]/status ENOSPC\$' '$L') -ge 2 ]"
lines "and no more (COUNT 2)" "$L" 2
check "spoold is alive" kill -0 "$SPOOLD_PID"

# rules that change under the running spoold
printf 'renameat2:*/state/success/3007.order:EIO:0:1\n' >"$C/rules.new"
mv "$C/rules.new" "$R"
# the tool looks at the file at most every 50 ms (its documented bound), then at once
sleep 0.1
rc 0 "submit 3007 with the file in place" $S -d "$P" submit --id 3007 "$EX/pos/3001"
until_ "its move to success is failed" 20 grep -q " renameat2 $P/state/success/3007\.order EIO\$" "$L"
rm -f "$R"
sleep 0.1
rc 0 "submit 3008 with the file gone" $S -d "$P" submit --id 3008 "$EX/pos/3001"
until_ "3008 reaches success" 20 in_state "$P" 3008 success
check "with no fault" sh -c "! grep -q '/3008' '$L'"
check "spoold is still alive" kill -0 "$SPOOLD_PID"
check "spoold stops" stop_spoold
done_testing
