# The overflow test: while spoold is stopped (SIGSTOP), 10,000 orders are moved by
# hand, 20,000 inotify events, more than the kernel queues (16,384 by default).
# When spoold runs again it gets IN_Q_OVERFLOW, rescans, and misses no order.
. "$SRCDIR/tests/e2e/lib.sh"
C=$T/ovf
P=$C/spool
N=${OVERFLOW_ORDERS:-10000}
mkdir -p "$C"
cat >"$T/ovf.conf" <<'CONF'
[spool]
version = 1
workflow = overflow
entry = hold
[state hold]
[state inbox]
auto = done
[state done]
final = yes
[transition take]
from = hold
to = inbox
actors = admin
[transition finish]
from = inbox
to = done
actors = system
CONF
rc 0 "init" $S -d "$P" init "$T/ovf.conf"
rc 0 "with $N orders resting in hold" "$BUILD/tests/mkspool" "$P" "$N" hold
check "spoold starts" start_spoold "$P"
queued=$(cat /proc/sys/fs/inotify/max_queued_events)
kill -STOP "$SPOOLD_PID"
/usr/bin/python3 -c '
import os, sys
p = sys.argv[1]
for n in os.listdir(p + "/state/hold"):
    os.rename(p + "/state/hold/" + n, p + "/state/inbox/" + n)
' "$P"
ok "$N orders moved by hand while spoold was stopped ($((N * 2)) events; the kernel queues $queued)"
kill -CONT "$SPOOLD_PID"
until_ "spoold says the queue overflowed" 30 grep -q "the inotify queue overflowed; rescanning" "$T/spoold.log"
all_done() { [ "$(count_in "$P" done)" -eq "$N" ]; }
until_ "and every one of the $N orders went on to done" 300 all_done
check "none was left in inbox" test "$(count_in "$P" inbox)" -eq 0
check "spoold stops cleanly" stop_spoold
has "each was recorded as moved by hand" "$P/orders/o0004242/history" "	hand	hold	inbox	moved by hand$"
has "and moved on by the system" "$P/orders/o0004242/history" "	system	inbox	done	$"
rc 0 "the spool is clean" $S -d "$P" check
done_testing
