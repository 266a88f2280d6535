# Several nodes on one spool on a real GlusterFS volume (issue 15): the volume on
# loopback, mounted twice over FUSE as two hosts would mount it (gluster.sh); node a
# on one mount, node b on the other, sharing a POS spool.  500 orders submitted
# through both mounts, the leader killed with SIGKILL in the middle: every order ends
# in success, in one state folder only, the other node leads within 10 s, every
# handler ran at least once and the extra runs are bounded by what the dead node had
# under way.  Then the leader's mount taken away (umount -l): it stops with 75 and
# the other node finishes the work.  t_nodes tests the same logic on a local file
# system; this one is about GlusterFS itself (locks, link(), polling across mounts).
. "$SRCDIR/tests/e2e/lib.sh"
. "$SRCDIR/tests/e2e/gluster.sh"
why=$(gl_why_not)
if [ -n "$why" ]; then
	skip "GlusterFS" "$why"
	done_testing
	exit 0
fi
unset SPOOLD_SHARED
PIDS=
# the nodes and the submitters first (a handler left in the volume would hold up the
# unmount), then the volume; $T only once nothing is mounted in it
trap 'for p in $PIDS; do kill -KILL "$p" 2>/dev/null; done; gl_stop;
    gl_unmounted && [ -z "${KEEP:-}" ] && rm -rf "$T"' EXIT

check "a GlusterFS volume on loopback, mounted twice" gl_start || { done_testing; exit 1; }
check "the mounts are FUSE (f_type 0x65735546)" \
    test "$(stat -f -c %t "$GL_M1")" = 65735546 -a "$(stat -f -c %t "$GL_M2")" = 65735546
gl_facts

# the handler: a POS that takes 50 ms and writes "ORDER NODE PID MS" to a run log
# outside the volume, one per spool (MS: when it ended, in ms since the epoch)
cat >"$T/pos" <<EOF
#!/bin/sh
sleep 0.05
echo "\$SPOOL_ORDER \${SPOOL_NODE:-none} \$\$ \$(date +%s%3N)" >>"$T/runs-\${SPOOL_DIR##*/}.log"
EOF
chmod +x "$T/pos"
# a handler must never time out here (that would be an extra run the test did not cause)
workflow_for_tests pos "$T/pos" "$T/pos.conf"
sed -i 's/^timeout = .*/timeout = 60s/' "$T/pos.conf"

# start_node NAME SPOOL LOG: spoold as node NAME, polling every second; its pid in PID_NAME
start_node() {
	"$D" -d "$2" --node "$1" --poll 1 2>>"$3" &
	eval "PID_$1=$!"
	PIDS="$PIDS $!"
}

# submitter MOUNT FIRST LAST: submit orders FIRST..LAST through MOUNT's spool, the two
# example bundles in turn; each id goes to $T/submitted, a failure to $T/submit.failed
submitter() {
	_i=$2
	while [ "$_i" -le "$3" ]; do
		if $S -d "$1/$SP" submit --id "$_i" "$EX/pos/300$((_i % 2 + 1))" >/dev/null 2>>"$T/submit.err"; then
			echo "$_i" >>"$T/submitted"
		else
			echo "$_i" >>"$T/submit.failed"
		fi
		_i=$((_i + 1))
	done
}

# orders_state SPOOL: "ID STATE" for every order file under SPOOL/state, sorted
orders_state() {
	find "$1/state" -name '*.order' | sed 's|.*/state/\([^/]*\)/\([^/]*\)\.order$|\2 \1|' | sort
}

# all_success SPOOL N: N order files in state/success
all_success() { [ "$(find "$1/state/success" -name '*.order' | wc -l)" -eq "$2" ]; }

# ---- the leader killed with SIGKILL --------------------------------------------------
SP=spool
RUNLOG=$T/runs-$SP.log
: >"$RUNLOG"
: >"$T/submitted"
rc 0 "init a pos spool on the volume" $S -d "$GL_M1/$SP" init "$T/pos.conf"
start_node a "$GL_M1/$SP" "$T/a.log"
until_ "node a leads" 30 grep -q "a: leading" "$T/a.log"
start_node b "$GL_M2/$SP" "$T/b.log"
until_ "node b follows a" 30 grep -q "b: following (the leader is a)" "$T/b.log"
has "a sees the FUSE file system and runs shared (no SPOOLD_SHARED)" "$T/a.log" \
    "a: on a shared file system \\([^S][^)]*\\): one of the nodes of $GL_M1/$SP$"
has "so does b" "$T/b.log" "b: on a shared file system \\([^S][^)]*\\): one of the nodes of $GL_M2/$SP$"

N=500
# four submitters, two through each mount, 125 orders each
submitter "$GL_M1" 10001 10125 &
S1=$!
submitter "$GL_M2" 10126 10250 &
S2=$!
submitter "$GL_M1" 10251 10375 &
S3=$!
submitter "$GL_M2" 10376 10500 &
S4=$!
PIDS="$PIDS $S1 $S2 $S3 $S4"
t_sub=$(date +%s)

# the middle: half submitted, and both nodes running handlers
until_ "half the orders are submitted" 120 sh -c "[ \$(wc -l <'$T/submitted') -ge $((N / 2)) ]"
until_ "both nodes run handlers" 60 sh -c "grep -q ' a ' '$RUNLOG' && grep -q ' b ' '$RUNLOG'"
rc 0 "spoolctl status through the other mount" $S -d "$GL_M2/$SP" status
has "names a as the leader, with its pid" "$T/out" "^leader: a \\(pid $PID_a\\)$"
has "and node a" "$T/out" "^node a: heartbeat [0-9]+s ago, [0-9]+ claims?$"
has "and node b" "$T/out" "^node b: heartbeat [0-9]+s ago, [0-9]+ claims?$"
rc 0 "spoolctl status --json through the first mount" $S -d "$GL_M1/$SP" status --json
json "the same: leader a, nodes a and b, neither silent" "$T/out" \
    "d['leader'] == 'a' and sorted(n['name'] for n in d['nodes']) == ['a', 'b'] and not any(n['silent'] for n in d['nodes'])"
leader=$(cut -d' ' -f1 "$GL_M2/$SP/run/leader")
check "run/leader names a and its pid" test "$(cat "$GL_M2/$SP/run/leader")" = "a $PID_a"
other=b
[ "$leader" = a ] || other=a
eval "lpid=\$PID_$leader"
cp "$RUNLOG" "$T/runs.before"
killed_ms=$(date +%s%3N)
kill -KILL "$lpid"
wait "$lpid" 2>/dev/null
until_ "$other leads within 10 s of the kill" 10 grep -q "$other: leading" "$T/$other.log"
led_ms=$(($(date +%s%3N) - killed_ms))
for p in $S1 $S2 $S3 $S4; do wait "$p"; done
sub_s=$(($(date +%s) - t_sub))
check "all $N orders were submitted, through both mounts, in ${sub_s}s" \
    test "$(sort -u "$T/submitted" | wc -l)" -eq $N -a ! -s "$T/submit.failed"
[ ! -s "$T/submit.failed" ] || sed 's/^/#   /' "$T/submit.err" | tail -5

until_ "all $N orders end in success" 300 all_success "$GL_M2/$SP" $N
orders_state "$GL_M2/$SP" >"$T/states"
check "each order is in exactly one state folder, success" \
    test "$(awk '{print $1}' "$T/states" | sort -u | wc -l)" -eq $N -a "$(wc -l <"$T/states")" -eq $N \
    -a "$(grep -c ' success$' "$T/states")" -eq $N
sort -u "$T/submitted" >"$T/submitted.sorted"
check "those are the orders submitted" sh -c "awk '{print \$1}' '$T/states' | cmp -s - '$T/submitted.sorted'"

runs=$(wc -l <"$RUNLOG")
uniq=$(awk '{print $1}' "$RUNLOG" | sort -u | wc -l)
extra=$((runs - uniq))
check "every order's handler ran at least once ($uniq of $N)" test "$uniq" -eq $N
check "every run names its node (SPOOL_NODE is a or b)" sh -c "! awk '\$2 != \"a\" && \$2 != \"b\"' '$RUNLOG' | grep -q ."
check "both nodes ran handlers before the kill" \
    sh -c "grep -q ' a ' '$T/runs.before' && grep -q ' b ' '$T/runs.before'"
# The bound on the extra runs.  An order runs again only when the run of the dead
# node did not count: its handler was running when the node died, or had ended and
# the node died before applying the outcome (renames and a history line, tens of ms
# here).  Each such run ends (the handler outlives its killed spoold) less than 3 s
# before the kill, or after it.  So the extra runs are at most the dead node's runs
# that ended from 3 s before the kill on; and each order run twice has such a run.
# The leader's own count, the claims it released, must cover them too.
late=$(awk -v k="$killed_ms" -v n="$leader" '$2 == n && $4 >= k - 3000' "$RUNLOG" | wc -l)
check "the extra runs ($extra) are no more than $leader's runs around its death ($late)" test "$extra" -le "$late"
awk '{c[$1]++} END {for (o in c) if (c[o] > 1) print o}' "$RUNLOG" | sort >"$T/twice"
awk -v k="$killed_ms" -v n="$leader" '$2 == n && $4 >= k - 3000 {print $1}' "$RUNLOG" | sort -u >"$T/late"
check "every order run more than once was one $leader had under way" \
    test -z "$(comm -23 "$T/twice" "$T/late")"
released=$(sed -n "s/.*$other: node $leader is silent for [0-9]*s: releas[a-z]* its \\([0-9]*\\) claims.*/\\1/p" "$T/$other.log" |
    awk '{s += $1} END {print s + 0}')
check "and no more than the claims $other released for $leader ($released)" test "$extra" -le "$released"
check "no claim is left" test -z "$(ls "$GL_M1/$SP/run/claims")"
id=$(awk -v n="$other" '$2 == n {print $1; exit}' "$RUNLOG")
rc 0 "history of $id, which $other ran" $S -d "$GL_M1/$SP" history "$id"
has "names the node of its attempt" "$T/out" "attempt [0-9] of 2: $T/pos on $other$"
rc 0 "spoolctl status after the kill" $S -d "$GL_M1/$SP" status --json
json "names $other as the leader, $leader as silent" "$T/out" \
    "d['leader'] == '$other' and [n['silent'] for n in d['nodes'] if n['name'] == '$leader'] in ([], [True]) and [n['silent'] for n in d['nodes'] if n['name'] == '$other'] == [False]"
echo "# $other led $led_ms ms after the kill; $runs runs for $N orders ($extra extra, $late runs of $leader from 3 s before its death on, $released claims released); submitting took ${sub_s}s"
kill -TERM "$(eval echo "\$PID_$other")"
wait "$(eval echo "\$PID_$other")"
check "$other stops on SIGTERM with 0" test $? -eq 0

# ---- the leader's mount taken away -------------------------------------------------------
SP=spool2
RUNLOG=$T/runs-$SP.log
: >"$RUNLOG"
: >"$T/submitted"
N=120
rc 0 "init a second pos spool on the volume" $S -d "$GL_M1/$SP" init "$T/pos.conf"
start_node a "$GL_M1/$SP" "$T/a2.log"
until_ "node a leads it" 30 grep -q "a: leading" "$T/a2.log"
start_node b "$GL_M2/$SP" "$T/b2.log"
until_ "node b follows" 30 grep -q "b: following (the leader is a)" "$T/b2.log"
submitter "$GL_M1" 20001 20050 &
S1=$!
submitter "$GL_M2" 20051 20100 &
S2=$!
PIDS="$PIDS $S1 $S2"
wait "$S1"
wait "$S2"
check "100 orders submitted through both mounts" test "$(wc -l <"$T/submitted")" -eq 100
until_ "a runs handlers" 60 grep -q ' a ' "$RUNLOG"
check "umount -l a's mount" umount -l "$GL_M1"
_i=0
while kill -0 "$PID_a" 2>/dev/null && [ $_i -lt 300 ]; do sleep 0.1; _i=$((_i + 1)); done
wait "$PID_a"
check "a stops with 75 within 30 s" test $? -eq 75
has "and says it lost the lead, and why" "$T/a2.log" "a: lost the lead: .*; stopping$"
until_ "b leads within 20 s" 20 grep -q "b: leading" "$T/b2.log"
submitter "$GL_M2" 20101 20120
check "20 more orders submitted through b's mount" test "$(wc -l <"$T/submitted")" -eq $N
until_ "all $N orders end in success" 300 all_success "$GL_M2/$SP" $N
orders_state "$GL_M2/$SP" >"$T/states"
check "each in one state folder only" test "$(wc -l <"$T/states")" -eq $N
check "every order's handler ran at least once" test "$(awk '{print $1}' "$RUNLOG" | sort -u | wc -l)" -eq $N
rc 0 "spoolctl status through b's mount" $S -d "$GL_M2/$SP" status
has "names b as the leader" "$T/out" "^leader: b \\(pid $PID_b\\)$"
has "and node a" "$T/out" "^node a: "
kill -TERM "$PID_b"
wait "$PID_b"
check "b stops on SIGTERM with 0" test $? -eq 0

grep -E "AddressSanitizer|LeakSanitizer|runtime error" "$T"/a*.log "$T"/b*.log >"$T/san" || true
lines "no sanitizer report in the nodes' logs" "$T/san" 0
done_testing
