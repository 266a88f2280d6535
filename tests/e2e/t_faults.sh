# The fault table, end to end: the real spoold, built with the fault injector
# (tests/fault/faultinj.c), has ENOSPC and then EIO injected at every write site of
# the engine's path while orders flow: the status file, the history, a move, the
# publish of a print job, the error element written into a printer's job.xml, and a
# mail put into the outbox.  Each fault lasts a few seconds, then the disk "heals".
# At each site nothing is lost and nothing is doubled: every handler ran once per
# order, every order ends where its workflow says, each history line that tells of
# one event is there once, each job and each mail is there once, and check is clean.
. "$SRCDIR/tests/e2e/lib.sh"
FAULTD=$BUILD/tests/spoold-fault
D=$FAULTD
export SPOOL_FAULTS_FILE="$T/rules" SPOOL_FAULTS_LOG="$T/faults.log"
: >"$T/rules"
: >"$T/faults.log"

# fault RULE: from now on (the injector looks at the file every 50 ms)
fault() { printf '%s\n' "$1" >"$T/rules"; sleep 0.2; }
healed() { : >"$T/rules"; sleep 0.2; }
# injected N PATTERN: the injector's log has at least N lines matching PATTERN
injected() { [ "$(grep -c -- "$2" "$T/faults.log")" -ge "$1" ]; }
# once FILE PATTERN: exactly one line of FILE matches
once() { [ "$(grep -c -- "$2" "$1")" -eq 1 ]; }

# ---- the pos workflow: status, history, move ------------------------------------
C=$T/pos
P=$C/spool
mkdir -p "$C"
cat >"$T/pos-send" <<EOF
#!/bin/sh
echo "\$1" >>"$T/effects"
sleep 0.3
exit 0
EOF
chmod +x "$T/pos-send"
: >"$T/effects"
workflow_for_tests pos "$T/pos-send" "$T/pos.conf"
sed -i 's/^timeout = .*/timeout = 60s/' "$T/pos.conf"
rc 0 "init a pos spool" $S -d "$P" init "$T/pos.conf"
check "spoold (with the fault injector) starts" start_spoold "$P"

# pos_site NAME ERRNO RULE: three orders, the fault on while they move, then healed
pos_site() {
	_name=$1 _err=$2 _rule=$3
	_ids="$_name-$_err-1 $_name-$_err-2 $_name-$_err-3"
	: >"$T/faults.log"
	fault "$_rule"
	for _id in $_ids; do
		$S -d "$P" submit --id "$_id" "$EX/pos/3001" >/dev/null || not_ok "submit $_id"
	done
	until_ "$_name, $_err: the fault is injected" 20 injected 1 "$_err"
	sleep 2
	healed
	for _id in $_ids; do
		until_ "$_name, $_err: $_id reaches success once the disk heals" 30 in_state "$P" "$_id" success
		_h=$P/orders/$_id/history
		check "$_name, $_err: $_id was sent to the POS once" test "$(grep -cx "$_id" "$T/effects")" -eq 1
		check "$_name, $_err: $_id's history tells of each event once" sh -c "
		    [ \$(awk -F'\t' '\$4 == \"created\" && \$5 == \"processing\"' '$_h' | wc -l) -eq 1 ] &&
		    [ \$(grep -c 'attempt 1 of 2: ' '$_h') -eq 1 ] &&
		    [ \$(grep -c 'attempt 1 succeeded' '$_h') -eq 1 ] &&
		    [ \$(awk -F'\t' '\$4 == \"processing\" && \$5 == \"success\"' '$_h' | wc -l) -eq 1 ] &&
		    ! grep -q interrupted '$_h'"
	done
}
for e in ENOSPC EIO; do
	pos_site status $e "renameat2:*/orders/*/status:$e:0:*"
	pos_site history $e "write:*/orders/*/history:$e:0:*"
	# moves into processing and out of it; not the submit's commit into created, which
	# spoold's submit helper makes when spoolctl hands it the bundle
	pos_site move $e "renameat2:*/state/processing/*:$e:0:*"
done
has "spoold said what it could not write, with the order's id" "$T/spoold.log" \
    '^status-EIO-[0-9]: warning: cannot write orders/status-EIO-[0-9]/status: Input/output error'
has "and when it wrote it after all" "$T/spoold.log" '^status-EIO-[0-9]: written now, after [0-9]+ tr'
check "a disk error was said once per order, not once per try" sh -c \
    "[ \$(grep -c '^status-EIO-1: warning: cannot write' '$T/spoold.log') -eq 1 ]"
rc 0 "spoolctl check is clean" $S -d "$P" check
check "spoold stops cleanly" stop_spoold

# ---- the print workflow: publish, the error element in job.xml, the outbox -------
C=$T/print
P=$C/spool
mkdir -p "$C"
rc 0 "init a print spool" $S -d "$P" init print
# mail goes nowhere: a relay that is never there; what counts is what is queued
cat >>"$P/spool.conf" <<EOF

[mail]
relay = 127.0.0.1
port = 9
from = shop@example.com
admin = admin@example.com
EOF
: >"$T/spoold.log"
check "spoold (with the fault injector) starts on it" start_spoold "$P"

# print_order ID: submitted, and its jobs in the hot folders
print_order() {
	$S -d "$P" submit --id "$1" "$EX/print/1001" >/dev/null || not_ok "submit $1"
}
mails() { ls "$P/outbox/new" "$P/outbox/sent" 2>/dev/null | grep -c "^$1\.[0-9]*\.$2"; }
# mailed ID KEY: exactly one message of that event in the outbox (new or sent)
mailed() { [ "$(mails "$1" "$2")" -eq 1 ]; }
for e in ENOSPC EIO; do
	# publish: the job folders' renames into the hot folders fail
	: >"$T/faults.log"
	fault "renameat2:*/hot/*:$e:0:*"
	print_order "pub-$e"
	until_ "publish, $e: the fault is injected" 30 injected 1 "renameat2 .*/hot/"
	sleep 2
	healed
	until_ "publish, $e: both jobs are published once the disk heals" 30 test -f \
	    "$P/hot/press/pub-$e-2-press/job.xml" -a -f "$P/hot/covers/pub-$e-1-covers/pub-$e-1-cover.pdf"
	h=$P/orders/pub-$e/history
	check "publish, $e: each job is said published once" sh -c \
	    "[ \$(grep -c 'job pub-$e-1-press published' '$h') -eq 1 ] && [ \$(grep -c 'job pub-$e-2-press published' '$h') -eq 1 ]"
	check "publish, $e: no half-made job folder is left" sh -c "! ls -A '$P/hot/press' '$P/hot/covers' | grep -q '^\\.'"
	check "publish, $e: the tries a full disk stopped did not count" sh -c \
	    "! grep -q 'failed after' '$h' && ! test -f '$P/state/failed/pub-$e.order'"
	until_ "publish, $e: the order's status mail is queued once" 20 mailed "pub-$e" "queued-v1-n"

	# the error element: a printer jumps from Queued to Shipping, and its refusal
	# cannot be written into job.xml for a while
	j=$P/hot/press/pub-$e-1-press/job.xml
	until_ "joberr, $e: job.xml of pub-$e-1-press is there" 20 test -f "$j"
	: >"$T/faults.log"
	fault "renameat2:*/pub-$e-1-press/job.xml:$e:0:*"
	sed -i 's|<OrderStatus>[0-9]*</OrderStatus>|<OrderStatus>3</OrderStatus>|' "$j"
	until_ "joberr, $e: the fault is injected" 20 injected 1 "job.xml $e"
	sleep 2
	healed
	until_ "joberr, $e: the refusal is written once the disk heals" 30 grep -q OrderStatusError "$j"
	check "joberr, $e: one error element, and the valid status back" sh -c \
	    "[ \$(grep -c '<OrderStatusError' '$j') -eq 1 ] && grep -q '<OrderStatus>2</OrderStatus>' '$j'"
	check "joberr, $e: the history tells of the refusal once" once "$h" "job pub-$e-1-press: refused OrderStatus '3'"

	# the outbox: the printer's Processing moves the order, whose status mail cannot be put
	: >"$T/faults.log"
	fault "renameat2:*/outbox/new/*:$e:0:*"
	for jx in "$P"/hot/*/pub-$e-*/job.xml; do
		sed -i 's|<OrderStatus>[0-9]*</OrderStatus>|<OrderStatus>15</OrderStatus>|' "$jx"
	done
	until_ "outbox, $e: the order reaches processing" 20 in_state "$P" "pub-$e" processing
	until_ "outbox, $e: the fault is injected" 20 injected 1 "outbox/new/"
	sleep 2
	healed
	until_ "outbox, $e: the mail is queued once the disk heals" 30 mailed "pub-$e" "processing-v[0-9]*-n"
	check "outbox, $e: the history says it was queued, once" once "$h" "mail status to the customer .* queued as outbox/new/pub-$e\.[0-9]*\.processing-v[0-9]*-n"
done
rc 0 "spoolctl check is clean" $S -d "$P" check
check "spoold stops cleanly" stop_spoold
done_testing
