# Shared by the end-to-end tests: TAP output, a private temporary folder, and
# helpers that run a command and check its exit code and output.
# Each test is a plain sh script run by tests/run with SPOOLCTL, BUILD and SRCDIR set.
set -u
S=${SPOOLCTL:?run through tests/run}
EX=$SRCDIR/spool-layout/examples
T=$(mktemp -d "${TMPDIR:-/tmp}/e2e.XXXXXX")
trap 'rm -rf "$T"' EXIT
unset SPOOL_DIR
_n=0

ok() { _n=$((_n + 1)); echo "ok $_n - $*"; }
not_ok() { _n=$((_n + 1)); echo "not ok $_n - $*"; }
done_testing() { echo "1..$_n"; }

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
