# spoold's edges: bundles renamed into incoming/, polling instead of inotify,
# recovery at start, SIGTERM while a handler runs, systemd readiness, and usage.
. "$SRCDIR/tests/e2e/lib.sh"
test_spool sd pos 30s
rc 64 "spoold without a spool is a usage error" env -u SPOOL_DIR $D
rc 66 "spoold on no spool says so" $D -d "$T/nowhere"
rc 78 "spoold -n on a bad spool.conf fails" sh -c "cp '$P/spool.conf' '$C/good' && echo 'x = 1' >>'$P/spool.conf' && $D -d '$P' -n; r=\$?; cp '$C/good' '$P/spool.conf'; exit \$r"
has "naming file, line and key" "$T/err" "spool.conf:[0-9]+: x: unknown key"

# recovery at start: what a crashed submit, removal or writer left, with the record
# of it in run/intent/ that each makes before it can leave an order half done
mkdir -p "$P/orders/9990" "$P/tmp/sub.dead" "$P/run/intent"
cp "$EX/pos/3001/order.xml" "$P/orders/9990/"
printf 'spool-order 1\nid: 9990\n' >"$P/orders/9990/detached.order"
touch -d '2 hours ago' "$P/tmp/sub.dead"
rc 0 "submit 9991 while spoold is down" $S -d "$P" submit --id 9991 "$EX/pos/3001"
check "a submit leaves no record in run/intent/ once done" sh -c "[ -z \"\$(ls '$P/run/intent')\" ]"
printf 'spool-order 1\nid: 9991\n' >"$P/orders/9991/detached.order"
touch "$P/run/intent/9990@1.dead" "$P/run/intent/9991@2.dead"
# half done with no record (a spool of an older version): spoolctl check's, not the start's
mkdir -p "$P/orders/9993"
printf 'spool-order 1\nid: 9993\n' >"$P/orders/9993/detached.order"
mkdir -p "$P/orders/9992"
check "spoold starts" start_spoold "$P"
check "the records are read and dropped" sh -c "[ -z \"\$(ls '$P/run/intent')\" ]"
check "an unrecorded detached order is left for spoolctl check" test -f "$P/orders/9993/detached.order"
check "an unfinished submit is rolled back before it is ready" test ! -e "$P/orders/9990"
check "stale tmp/ is swept" test ! -e "$P/tmp/sub.dead"
has "and it says so" "$T/spoold.log" "^9990: uncommitted: orders/9990: .*\(repaired\)$"
check "the detached copy left beside an order in a state is dropped" test ! -e "$P/orders/9991/detached.order"
check "and the order stays" test -f "$P/orders/9991/order.xml"
check "an orphaned folder is not spoold's to judge: it stays for spoolctl check" test -d "$P/orders/9992"

# incoming/: a storefront renames whole bundles in
cp -R "$EX/pos/3001" "$P/incoming/.3001.part"
mv "$P/incoming/.3001.part" "$P/incoming/3001"
until_ "a bundle renamed into incoming/ is submitted" 20 in_state "$P" 3001 success
check "and taken out of incoming/" test ! -e "$P/incoming/3001"
has "the store submitted it" "$P/orders/3001/history" "	store	-	created	submitted$"
rc 1 "spoolctl check reports the orphan" $S -d "$P" check
has "by name" "$T/out" "orphan.*orders/9992"
has "and the unrecorded unfinished submit" "$T/out" "uncommitted.*orders/9993"
rc 0 "and check --repair moves it to corrupt/" $S -d "$P" check --repair
check "and deletes the unfinished submit" test ! -e "$P/orders/9993"
mkdir "$P/incoming/.bad"
cp "$EX/pos/3002/order.xml" "$P/incoming/.bad/"
sed -i 's/<customer>/<customer><age>9<\/age>/' "$P/incoming/.bad/order.xml"
mv "$P/incoming/.bad" "$P/incoming/bad-bundle"
until_ "an invalid bundle goes to corrupt/, with its reason" 20 test -d "$P/corrupt/bad-bundle" -a -f "$P/corrupt/bad-bundle.reason"
has "with a reason its author can read" "$P/corrupt/bad-bundle.reason" "^incoming/bad-bundle: refused: bundle bad-bundle: order.xml:[0-9]+: .*'\{urn:spool:order:1\}age': This element is not expected"
echo junk >"$P/incoming/.x" && mv "$P/incoming/.x" "$P/incoming/not-a-folder"
until_ "a file that is no bundle folder goes there too" 20 test -f "$P/corrupt/not-a-folder.reason"
mkdir "$P/incoming/.in-progress"
check "a dot-name is left alone" sh -c "sleep 0.3; test -d '$P/incoming/.in-progress'"

# SIGTERM while a handler runs: the try is abandoned, and run again after restart
echo 3002 >"$C/hang"
rc 0 "submit 3002, whose handler hangs" $S -d "$P" submit "$EX/pos/3002"
until_ "its handler is running" 20 grep -qx 3002 "$C/sent.log"
check "SIGTERM stops spoold within its grace" stop_spoold
has "the try is recorded as abandoned" "$P/orders/3002/history" "attempt abandoned: spoold stopped$"
: >"$C/hang"
check "spoold starts again" start_spoold "$P"
until_ "and 3002 is tried again and succeeds" 20 in_state "$P" 3002 success
rc 0 "show 3002" $S -d "$P" show --json 3002
json "the abandoned try did not count" "$T/out" "d['attempts'] == 1"
check "stop" stop_spoold

# polling, as on NFS: changes by hand are found without inotify
check "spoold --poll 1 starts" start_spoold "$P" --poll 1
has "and says it polls" "$T/spoold.log" "ready: .*, workflow pos, polling$"
mv "$P/state/success/3001.order" "$P/state/ready/"
until_ "a move by hand is found by polling" 20 grep -q "^3001: .*moved by hand from success to ready" "$T/spoold.log"
until_ "and handled" 20 in_state "$P" 3001 success
check "stop" stop_spoold

# systemd: READY=1 on $NOTIFY_SOCKET
/usr/bin/python3 - "$D" "$P" >"$C/notify" 2>&1 <<'PY' &
import os, socket, subprocess, sys
path = os.path.join(os.path.dirname(sys.argv[2]), "notify.sock")
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
s.settimeout(60)
p = subprocess.Popen([sys.argv[1], "-d", sys.argv[2]], env=dict(os.environ, NOTIFY_SOCKET=path),
                     stderr=subprocess.DEVNULL)
try:
    print(s.recv(4096).decode())
finally:
    p.terminate()
    p.wait()
PY
wait $!
has "spoold tells systemd it is ready" "$C/notify" "READY=1"
rc 0 "the spool is clean" $S -d "$P" check
done_testing
