# A week in a few minutes: the three workflows (pos, email, print) run together on
# one small loop-mounted ext4, their timers scaled down, while the test at random
# fills the disk and frees it, kills a spoold with SIGKILL and starts it again,
# moves orders and copies order files by hand, saves junk job.xml files as a
# printer, and stops and starts the SMTP server.  At the end: every order is in
# exactly one state; each handler ran once per entry into its state (more only for
# the runs a SIGKILL cut short, which the test counts); every mail was delivered
# exactly once; check is clean.  SOAK_SECONDS (default 150) is how long the faults
# go on; the settling after takes a few seconds more.  Needs root (a loop mount).
. "$SRCDIR/tests/e2e/lib.sh"
. "$SRCDIR/tests/e2e/smtp.sh"
if [ "$(id -u)" != 0 ] || ! command -v mkfs.ext4 >/dev/null; then
	echo "not ok 1 - a week of faults # SKIP needs root and mkfs.ext4"
	done_testing
	exit 0
fi
SECONDS_=${SOAK_SECONDS:-150}
FS=$T/fs
mkdir -p "$FS" "$T/w"
truncate -s 192M "$T/img"
mkfs.ext4 -q -m 0 "$T/img"
check "a 192 MiB ext4 is loop-mounted" mount -o loop "$T/img" "$FS"
W=$T/w          # the test's own notes, off the file system under test
WORKFLOWS="pos email print"
cleanup() {
	rm -f "$W/filling"
	for wf in $WORKFLOWS; do
		[ -f "$W/pid.$wf" ] && kill -KILL "$(cat "$W/pid.$wf")" 2>/dev/null
	done
	stop_smtpd
	sleep 0.2
	umount "$FS" 2>/dev/null || umount -l "$FS"
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
rnd() { od -An -N2 -tu2 /dev/urandom | tr -d ' '; }

# ---- the spools -------------------------------------------------------------------
# handlers that succeed and record each run outside the file system under test
for h in pos-send email-send; do
	cat >"$W/$h" <<EOF
#!/bin/sh
echo "\$1" >>"$W/runs.$h"
sleep 0.2
exit 0
EOF
	chmod +x "$W/$h"
	: >"$W/runs.$h"
done
start_smtpd
limits='min_free = 8M 1%\nreserve = 2M\nrescan = 20s'
workflow_for_tests pos "$W/pos-send" "$W/pos.conf"
workflow_for_tests email "$W/email-send" "$W/email.conf"
sed -i 's/^timeout = .*/timeout = 60s/' "$W/pos.conf" "$W/email.conf"
# print: shipping closes after 12 s, with its reminders 8 and 4 s before
sed -e 's/^timer = 60d closed/timer = 12s closed/' -e 's/^reminder = 10d/reminder = 8s/' \
    -e 's/^reminder = 5d/reminder = 4s/' "$SRCDIR/spool-layout/workflows/print.conf" >"$W/print.conf"
for wf in $WORKFLOWS; do
	sed -i "s/^workflow = $wf/workflow = $wf\n$limits/" "$W/$wf.conf"
	mail_conf "$W/$wf.conf" >"$W/$wf.mail.conf"
	rc 0 "init the $wf spool" $S -d "$FS/$wf" init "$W/$wf.mail.conf"
done

# spoold per spool, each with its own log; a kill counts the handlers it cuts short
up() {
	rm -f "$W/ready.$1"
	mkfifo "$W/ready.$1"
	$D -d "$FS/$1" --ready-fd 5 5>"$W/ready.$1" 2>>"$T/spoold.$1.log" &
	echo $! >"$W/pid.$1"
	[ "$(timeout 60 dd bs=1 count=1 <"$W/ready.$1" 2>/dev/null | wc -c)" -eq 1 ]
}
inflight=0 kills=0
down() {
	_h=pos-send
	[ "$1" = email ] && _h=email-send
	_cut=$(pgrep -fc "$W/$_h")
	[ "$1" = print ] && _cut=0
	kill -KILL "$(cat "$W/pid.$1")" 2>/dev/null
	wait "$(cat "$W/pid.$1")" 2>/dev/null
	inflight=$((inflight + _cut))
	kills=$((kills + 1))
}
for wf in $WORKFLOWS; do
	check "spoold starts on the $wf spool" up $wf
done

# ---- the week ----------------------------------------------------------------------
: >"$W/accepted"
: >"$W/copied"
submit() { # WORKFLOW ID BUNDLE
	if $S -d "$FS/$1" submit --id "$2" "$3" >/dev/null 2>"$W/submit.err"; then
		echo "$1 $2" >>"$W/accepted"
	else
		refused=$((refused + 1))
	fi
}
# the printer: Queued -> Processing -> Shipping, now and then junk or a jump first
printer() {
	for j in "$FS"/print/hot/*/*/job.xml; do
		[ -f "$j" ] || continue
		s=$(sed -n 's|.*<OrderStatus>\([0-9]*\)</OrderStatus>.*|\1|p' "$j" | head -1)
		case $s in 2) n=15 ;; 15) n=3 ;; *) continue ;; esac
		o=$W/job.$(basename "$(dirname "$j")").xml
		[ -f "$o" ] || cp "$j" "$o" 2>/dev/null || continue
		case $(($(rnd) % 10)) in
		0) printf '<PrintJob><Order broken' >"$j.tmp" && mv "$j.tmp" "$j" && junk=$((junk + 1)) ;;
		1) [ "$n" = 15 ] && sed -i 's|<OrderStatus>2</OrderStatus>|<OrderStatus>3</OrderStatus>|' "$j" &&
		    jumps=$((jumps + 1)) ;;
		*) sed -i "s|<OrderStatus>$s</OrderStatus>|<OrderStatus>$n</OrderStatus>|" "$j" ;;
		esac
	done 2>/dev/null
}
# a junk save is put right again by the printer a little later
printer_mends() {
	for j in "$FS"/print/hot/*/*/job.xml; do
		[ -f "$j" ] || continue
		grep -q '<OrderStatus>' "$j" 2>/dev/null && continue
		cp "$W/job.$(basename "$(dirname "$j")").xml" "$j" 2>/dev/null
	done
}
resent=0 refused=0 fills=0 smtpstops=0 copies=0 handmoves=0 junk=0 jumps=0 i=0
end=$(($(date +%s) + SECONDS_))
filling_until=0 smtp_until=0 fillpid=
while [ "$(date +%s)" -lt "$end" ]; do
	i=$((i + 1))
	now=$(date +%s)
	submit pos "$(printf 'p%05d' $i)" "$EX/pos/3001"
	[ $((i % 3)) -eq 0 ] && submit email "$(printf 'e%05d' $i)" "$EX/email/2001"
	[ $((i % 5)) -eq 0 ] && submit print "$(printf 'q%05d' $i)" "$EX/print/1001"
	# the admin sends what is scheduled
	for f in "$FS"/email/state/scheduled/*.order; do
		[ -f "$f" ] && $S -d "$FS/email" process "$(basename "$f" .order)" >/dev/null 2>&1
	done
	printer_mends
	printer
	case $(($(rnd) % 40)) in
	0) if [ "$filling_until" -eq 0 ]; then
		touch "$W/filling"
		fill_disk "$FS/fill" "$W/filling" &
		fillpid=$!
		filling_until=$((now + 3 + $(rnd) % 4))
		fills=$((fills + 1))
	   fi ;;
	1|2) wf=$(echo $WORKFLOWS | cut -d' ' -f$(($(rnd) % 3 + 1)))
	   down "$wf"
	   sleep "0.$(($(rnd) % 10))"
	   up "$wf" || not_ok "spoold restarts on $wf" ;;
	3) if [ "$smtp_until" -eq 0 ]; then
		stop_smtpd
		smtp_until=$((now + 2 + $(rnd) % 5))
		smtpstops=$((smtpstops + 1))
	   fi ;;
	4) # an admin's cp where mv was meant: a done pos order back into created
	   f=$(ls "$FS"/pos/state/success/ 2>/dev/null | head -$(($(rnd) % 20 + 1)) | tail -1)
	   [ -n "$f" ] && cp -p "$FS/pos/state/success/$f" "$FS/pos/state/created/" 2>/dev/null &&
	       copies=$((copies + 1)) && echo "$f" >>"$W/copied" ;;
	5) # and an mv: a done pos order sent again, by hand (not one with a copy: moving
	   # both copies leaves no history to choose by, a person's call that check reports)
	   f=$(ls "$FS"/pos/state/success/ 2>/dev/null | grep -vxF -f "$W/copied" |
	       tail -$(($(rnd) % 20 + 1)) | head -1)
	   [ -n "$f" ] && mv "$FS/pos/state/success/$f" "$FS/pos/state/ready/" 2>/dev/null &&
	       handmoves=$((handmoves + 1)) ;;
	esac
	if [ "$filling_until" -ne 0 ] && [ "$now" -ge "$filling_until" ]; then
		rm -f "$W/filling"
		wait "$fillpid"
		rm -f "$FS/fill"
		filling_until=0
	fi
	# (the test server also ends by itself after five minutes: a longer week starts it again)
	if [ "$smtp_until" -eq 0 ] && ! kill -0 "$SMTPD_PID" 2>/dev/null; then
		start_smtpd >/dev/null
	fi
	if [ "$smtp_until" -ne 0 ] && [ "$now" -ge "$smtp_until" ]; then
		start_smtpd >/dev/null
		smtp_until=0
	fi
	sleep 0.2
done
rm -f "$W/filling"
[ -z "$fillpid" ] || wait "$fillpid"
rm -f "$FS/fill"
[ -n "$SMTPD_PID" ] || start_smtpd >/dev/null
ok "$(wc -l <"$W/accepted") orders accepted ($refused refused for a while), $fills disk fills, $kills SIGKILLs ($inflight handlers cut short), $smtpstops SMTP outages, $copies copies and $handmoves moves by hand, $junk junk and $jumps refused job.xml saves"

# ---- the end of the week: faults over, everything settles ----------------------------
for wf in $WORKFLOWS; do
	kill -0 "$(cat "$W/pid.$wf")" 2>/dev/null || up $wf
done
rc $([ "$copies" -gt 0 ] && echo 1 || echo 0) "check finds the $copies copies made by hand" $S -d "$FS/pos" check
rc 0 "check --repair keeps the copy each history names" $S -d "$FS/pos" check --repair
settled() {
	kill -0 "$SMTPD_PID" 2>/dev/null || start_smtpd >/dev/null
	printer_mends
	printer
	for f in "$FS"/email/state/scheduled/*.order; do
		[ -f "$f" ] && $S -d "$FS/email" process "$(basename "$f" .order)" >/dev/null 2>&1
	done
	# the email workflow allows no retry: a send a SIGKILL cut short fails, and the
	# admin sends it again (the one failure a kill may cause, counted below)
	for f in "$FS"/email/state/failed/*.order; do
		[ -f "$f" ] && grep -q '^error: attempt 1 was interrupted' \
		    "$FS/email/orders/$(basename "$f" .order)/status" &&
		    $S -d "$FS/email" retry "$(basename "$f" .order)" >/dev/null 2>&1 &&
		    resent=$((resent + 1))
	done
	[ -z "$(ls "$FS"/pos/state/created "$FS"/pos/state/processing "$FS"/pos/state/ready \
	    "$FS"/pos/state/failed 2>/dev/null | grep '\.order$')" ] &&
	[ -z "$(ls "$FS"/email/state/pending "$FS"/email/state/scheduled "$FS"/email/state/sending \
	    "$FS"/email/state/failed 2>/dev/null | grep '\.order$')" ] &&
	[ -z "$(ls "$FS"/print/state/queued "$FS"/print/state/processing "$FS"/print/state/shipping \
	    "$FS"/print/state/failed 2>/dev/null | grep '\.order$')" ]
}
until_ "every order reaches the end of its road" 240 settled
for wf in $WORKFLOWS; do
	# whatever waits for the relay's backoff goes now
	n=$(ls "$FS/$wf/outbox/new" | grep -c '\.eml$')
	[ "$n" -eq 0 ] || $S -d "$FS/$wf" outbox retry $(ls "$FS/$wf/outbox/new" | grep '\.eml$') >/dev/null 2>&1
done
outbox_empty() {
	for wf in $WORKFLOWS; do
		[ -z "$(ls "$FS/$wf/outbox/new" | grep '\.eml$')" ] || return 1
	done
}
until_ "every mail leaves the outbox" 120 outbox_empty

# every order in exactly one state
for wf in $WORKFLOWS; do
	find "$FS/$wf/state" -name '*.order' | sed 's|.*/||; s|\.order$||' | sort >"$W/where.$wf"
	grep "^$wf " "$W/accepted" | cut -d' ' -f2 | sort >"$W/acc.$wf"
	check "$wf: every accepted order is in exactly one state ($(wc -l <"$W/acc.$wf") orders)" \
	    cmp -s "$W/where.$wf" "$W/acc.$wf"
	rc 0 "$wf: spoolctl check is clean" $S -d "$FS/$wf" check
	check "$wf: nothing is left half made in tmp/" sh -c "[ -z \"\$(ls -A '$FS/$wf/tmp')\" ]"
done
check "pos and email end in success and sent; print in closed" sh -c \
    "[ -z \"\$(find '$FS/pos/state' -name '*.order' ! -path '*/success/*')\" ] &&
     [ -z \"\$(find '$FS/email/state' -name '*.order' ! -path '*/sent/*')\" ] &&
     [ -z \"\$(find '$FS/print/state' -name '*.order' ! -path '*/closed/*')\" ]"

# each handler once per entry into its state; a run a SIGKILL cut short may run again
runs_vs_entries() { # WORKFLOW STATE HANDLER
	extra=0 missing=0
	for h in "$FS/$1"/orders/*/history; do
		id=$(basename "$(dirname "$h")")
		e=$(awk -F'\t' -v s="$2" '$5 == s && $4 != s' "$h" | wc -l)
		r=$(grep -cx "$id" "$W/runs.$3")
		[ "$r" -ge "$e" ] || { missing=$((missing + 1)); echo "# $id: $e entries, $r runs"; }
		[ "$r" -le "$e" ] || extra=$((extra + r - e))
	done
	check "$1: every entry into $2 ran its handler" test "$missing" -eq 0
	check "$1: no handler ran twice but for the $inflight runs cut short ($extra ran again)" \
	    test "$extra" -le "$inflight"
}
runs_vs_entries pos processing pos-send
runs_vs_entries email sending email-send

# every mail that left the outbox arrived exactly once
grep -h '^Message-ID:' "$FS"/*/outbox/sent/*.eml | tr -d '\r' | sort >"$W/sent.ids"
grep -h '^Message-ID:' "$M"/*.eml | tr -d '\r' | sort >"$W/got.ids"
check "$(wc -l <"$W/sent.ids") mails sent, each arrived exactly once" cmp -s "$W/sent.ids" "$W/got.ids"
comm -3 "$W/sent.ids" "$W/got.ids" | head -3 | sed 's/^/#   /'
check "no mail went to outbox/failed" sh -c "[ -z \"\$(find '$FS'/*/outbox/failed -type f)\" ]"
# an event is logged once, also when a write the disk refused makes spoold do the
# look again: never more log lines about a reminder than history lines
said_once() {
	for h in "$FS"/print/orders/*/history; do
		id=$(basename "$(dirname "$h")")
		[ "$(grep -c "^$id: reminder " "$T/spoold.print.log")" -le \
		    "$(grep -c "	reminder " "$h")" ] || { echo "# $id: reminder said again"; return 1; }
	done
}
check "print: each reminder is logged once, however often its look was done again" said_once
ok "$resent email sends a kill failed were sent again by the admin; $(grep -c . "$W/runs.pos-send") POS runs and $(grep -c . "$W/runs.email-send") email runs; $(wc -l <"$W/got.ids") mails"
for wf in $WORKFLOWS; do
	check "$wf: no spoold crashed (ASan, UBSan)" sh -c "! grep -q 'ERROR: \|runtime error' '$T/spoold.$wf.log'"
	kill -TERM "$(cat "$W/pid.$wf")" 2>/dev/null
	wait "$(cat "$W/pid.$wf")" 2>/dev/null
done
done_testing
