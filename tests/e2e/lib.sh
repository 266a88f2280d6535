# Shared by the end-to-end tests: TAP output, a private temporary folder, and
# helpers that run a command and check its exit code and output.
# Each test is a plain sh script run by tests/run with SPOOLCTL, BUILD and SRCDIR set.
set -u
S=${SPOOLCTL:?run through tests/run}
EX=$SRCDIR/spool-layout/examples
T=$(mktemp -d "${TMPDIR:-/tmp}/e2e.XXXXXX")
unset SPOOL_DIR
_n=0

ok() { _n=$((_n + 1)); echo "ok $_n - $*"; }
not_ok() { _n=$((_n + 1)); echo "not ok $_n - $*"; }
done_testing() { echo "1..$_n"; }
# skip DESC WHY: a test that cannot run here (tests/run counts it as skipped)
skip() { _n=$((_n + 1)); echo "not ok $_n - $1 # SKIP $2"; }

# check DESC COMMAND...: the command succeeds
check() {
	_d=$1
	shift
	if "$@"; then ok "$_d"; else not_ok "$_d"; fi
}

# rc WANT DESC COMMAND...: the command exits with WANT; stdout in $T/out, stderr in $T/err
rc() {
	_want=$1 _d=$2
	shift 2
	"$@" >"$T/out" 2>"$T/err"
	_rc=$?
	if [ "$_rc" -eq "$_want" ]; then
		ok "$_d"
	else
		not_ok "$_d (exit $_rc, want $_want)"
		sed 's/^/#   /' "$T/err" | head -5
	fi
}

# has DESC FILE PATTERN: a line of FILE matches the extended regex
has() {
	if grep -Eq -- "$3" "$2"; then ok "$1"; else not_ok "$1 (no '$3' in: $(head -3 "$2"))"; fi
}

# lines DESC FILE N: FILE has exactly N lines
lines() {
	_l=$(wc -l <"$2")
	if [ "$_l" -eq "$3" ]; then ok "$1"; else not_ok "$1 ($_l lines, want $3)"; fi
}

# json DESC FILE PYEXPR: FILE parses as JSON and the Python expression on it (d) is true
json() {
	if /usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($3) else 1)" "$2" 2>"$T/pyerr"
	then ok "$1"; else not_ok "$1 ($(head -c 300 "$2"); $(tail -1 "$T/pyerr"))"; fi
}

# ---- spoold -----------------------------------------------------------------

D=${SPOOLD:-}
SPOOLD_PID=

# start_spoold SPOOL [ARGS...]: start spoold in the background and wait until it
# says it is ready on a descriptor (s6-style), at most 60 s; its log is $T/spoold.log.
start_spoold() {
	_sp=$1
	shift
	rm -f "$T/ready"
	mkfifo "$T/ready"
	"$D" -d "$_sp" --ready-fd 5 "$@" 5>"$T/ready" 2>>"$T/spoold.log" &
	SPOOLD_PID=$!
	# one byte when ready; end of file if it dies first
	if [ "$(timeout 60 dd bs=1 count=1 <"$T/ready" 2>/dev/null | wc -c)" -eq 1 ]; then
		return 0
	fi
	echo "# spoold did not get ready; its log:"
	tail -20 "$T/spoold.log" | sed 's/^/#   /'
	return 1
}

# stop_spoold: SIGTERM, and wait for it to finish its work and exit.
stop_spoold() {
	[ -n "$SPOOLD_PID" ] || return 0
	kill -TERM "$SPOOLD_PID" 2>/dev/null
	wait "$SPOOLD_PID"
	_rc=$?
	SPOOLD_PID=
	return $_rc
}

# kill_spoold: SIGKILL, the crash.
kill_spoold() {
	[ -n "$SPOOLD_PID" ] || return 0
	kill -KILL "$SPOOLD_PID" 2>/dev/null
	wait "$SPOOLD_PID" 2>/dev/null
	SPOOLD_PID=
}

# until_ DESC SECONDS COMMAND...: run COMMAND every 0.05 s until it succeeds, at most
# SECONDS; a bounded wait for a condition, never a sleep that hopes.
until_() {
	_d=$1 _max=$2
	shift 2
	_end=$(($(date +%s) + _max))
	while ! "$@" >/dev/null 2>&1; do
		if [ "$(date +%s)" -ge "$_end" ]; then
			not_ok "$_d (not within ${_max}s)"
			tail -5 "$T/spoold.log" 2>/dev/null | sed 's/^/#   /'
			return 1
		fi
		sleep 0.05
	done
	ok "$_d"
}

# in_state SPOOL ID STATE: the order file is in that state's folder
in_state() { test -f "$1/state/$3/$2.order"; }

# count_in SPOOL STATE: how many orders are in a state
count_in() { find "$1/state/$2" -name '*.order' | wc -l; }

# workflow_for_tests WORKFLOW HANDLER DEST: a shipped workflow with the handler
# path replaced and its durations cut to seconds
workflow_for_tests() {
	sed -e "s|/usr/local/libexec/spool/[a-z-]*|$2|" -e 's/^backoff = .*/backoff = 1s/' \
	    -e 's/^timer = 10m /timer = 3s /' -e 's/^timeout = .*/timeout = 2s/' \
	    "$SRCDIR/spool-layout/workflows/$1.conf" >"$3"
}

# test_spool NAME WORKFLOW [TIMEOUT]: a spool P in the folder C=$T/NAME, made from
# $T/WORKFLOW.conf, the workflow_for_tests of WORKFLOW with its handler in
# tests/e2e/handlers/ and, if given, the handler's timeout TIMEOUT
test_spool() {
	C=$T/$1
	P=$C/spool
	mkdir -p "$C"
	workflow_for_tests "$2" "$SRCDIR/tests/e2e/handlers/$2-send" "$T/$2.conf"
	[ -z "${3:-}" ] || sed -i "s/^timeout = 2s/timeout = $3/" "$T/$2.conf"
	case $2 in [aeiou]*) _a=an ;; *) _a=a ;; esac
	rc 0 "init $_a $2 spool" $S -d "$P" init "$T/$2.conf"
}

# KEEP=1 (see tests/run) keeps $T to look at after a failure
trap 'kill_spoold; [ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT

# fill_disk FILE FLAG: take every block that comes free on FILE's file system, 64 KiB
# and then 4 KiB at a time, for as long as the file FLAG exists (run it in the
# background; remove FLAG, wait for it, then remove FILE to give the room back)
fill_disk() {
	while [ -f "$2" ]; do
		dd if=/dev/zero bs=64k count=64 oflag=append conv=notrunc of="$1" 2>/dev/null
		dd if=/dev/zero bs=4k count=64 oflag=append conv=notrunc of="$1" 2>/dev/null
		sleep 0.05
	done
}
