# spoolweb in a real browser: tests/web/browser.js drives headless Chromium through
# puppeteer-core, and this script checks on disk what it did.  An admin logs in,
# filters the list, opens an order and moves it with a transition button (the order
# file moves); a mv in a shell shows on the open page within 2 s without reload.
# A printer downloads a PDF byte-identical to the one in the hot folder, sets
# Processing through the form (job.xml says 15, spoold moves the order), gets 403
# for another queue's job and for a POST without the CSRF token; a wrong password
# gets 401.
. "$SRCDIR/tests/e2e/lib.sh"
. "$SRCDIR/tests/e2e/web.sh"
trap 'web_stop; kill_spoold; [ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
trap 'exit 1' INT TERM

WEB=$SRCDIR/tests/web
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
why=
command -v node >/dev/null || why="no node (apt-get install nodejs)"
[ -n "$why" ] || [ -x "$CHROMIUM" ] || why="no $CHROMIUM (apt-get install chromium)"
[ -n "$why" ] || [ -f "$WEB/node_modules/puppeteer-core/package.json" ] ||
    why="no puppeteer-core in tests/web/node_modules (npm ci --prefix tests/web)"
if [ -n "$why" ]; then
	skip "spoolweb in a browser" "$why"
	done_testing
	exit 0
fi
if [ ! -x "$W" ]; then
	not_ok "spoolweb is built ($W is missing)"
	done_testing
	exit 1
fi
export CHROMIUM

C=$T/web
P=$C/spool
mkdir -p "$C"
web_init "$P" print
web_user "$P" alice admin alice-pw
web_user "$P" pete printer pete-pw press
web_orders "$P"
until_ "1001's jobs are published" 30 test -f "$P/hot/covers/1001-1-covers/job.xml"
check "spoolweb starts" web_start "$P"

# browser PHASE: run browser.js; its ok/not ok lines become this test's, its facts
# go to $T/PHASE.facts
browser() {
	mkdir -p "$T/$1"
	chmod 0755 "$T/$1"
	_t0=$(date +%s)
	(cd "$WEB" && timeout 55 node browser.js "$1" "$WEB_URL" "$P" "$T/$1") >"$T/$1.out" 2>"$T/$1.err"
	_rc=$?
	while IFS= read -r _l; do
		case $_l in
		"ok "*) ok "${_l#ok }" ;;
		"not ok "*) not_ok "${_l#not ok }" ;;
		"# "*) echo "$_l" ;;
		esac
	done <"$T/$1.out"
	sed -n 's/^= //p' "$T/$1.out" >"$T/$1.facts"
	if [ "$_rc" -ne 0 ] && ! grep -q '^not ok ' "$T/$1.out"; then
		not_ok "browser.js $1 exits 0 (exit $_rc)"
		grep -v 'unexpected operator' "$T/$1.err" | tail -5 | sed 's/^/#   /'
	fi
	echo "# browser.js $1: $(($(date +%s) - _t0)) s"
}
fact() { sed -n "s/^$1 //p" "$T/$2.facts" | tail -1; }

# ---- the admin ----------------------------------------------------------------------
browser admin
check "the page paid 1002" test "$(fact paid admin)" = 1002
check "the pay button moved 1002's file to state/queued" in_state "$P" 1002 queued
check "and out of state/unpaid" test ! -e "$P/state/unpaid/1002.order"
rc 0 "spoolctl history 1002" $S -d "$P" history 1002
has "the history says alice via web" "$T/out" "alice via web.*unpaid -> queued|unpaid -> queued.*alice via web"
ms=$(fact live_ms admin)
echo "# the page showed the mv after ${ms:-?} ms"
check "1004 was cancelled by hand (mv)" test "$(fact moved admin)" = "1004 cancelled"
check "its file is in state/cancelled" in_state "$P" 1004 cancelled

# ---- the printer -------------------------------------------------------------------
until_ "spoold publishes 1002's job to press" 30 test -f "$P/hot/press/1002-1-press/job.xml"
browser printer
(cd "$P/hot/press" && ls -d [!.]* | sort | tr '\n' ,) | sed 's/,$//' >"$T/press.jobs"
check "the printer's list is exactly hot/press ($(cat "$T/press.jobs"))" test "$(fact jobs printer)" = "$(cat "$T/press.jobs")"
f=$(fact download printer)
check "the downloaded $f is byte-identical to hot/press/1002-1-press/$f" \
    sh -c "test -n '$f' && cmp -s '$T/printer/download.pdf' '$P/hot/press/1002-1-press/$f'"
check "the form's status was set" test "$(fact processing printer)" = 1002-1-press
has "job.xml in the hot folder says OrderStatus 15" "$P/hot/press/1002-1-press/job.xml" "<OrderStatus>15</OrderStatus>"
until_ "spoold accepts it and moves 1002 to processing" 20 in_state "$P" 1002 processing
has "the history says the printer's Queued (2) -> Processing (15)" "$P/orders/1002/history" "1002-1-press: Queued \(2\) -> Processing \(15\)"

check "spoolweb exits 0 on SIGTERM" web_stop
grep -E "AddressSanitizer|LeakSanitizer|runtime error" "$T/web.log" >"$T/san" || true
lines "no sanitizer report in spoolweb's log" "$T/san" 0
check "spoold stops" stop_spoold
done_testing
