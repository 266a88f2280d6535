# spoolweb's JSON API end to end, with curl, on a print spool that spoold runs:
# login (cookie flags, CSRF token, 401, 429), CSRF refusals, the order list's
# filters, an order as spoolctl show gives it, legal and illegal transitions checked
# on disk and in the history, a printer's view (only its queue's jobs, no way out of
# a job's folder, byte-identical downloads, a status edit that spoold accepts), the
# security headers, /metrics through promtool, and logout.
. "$SRCDIR/tests/e2e/lib.sh"
. "$SRCDIR/tests/e2e/web.sh"
trap 'web_stop; kill_spoold; [ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
trap 'exit 1' INT TERM

if [ ! -x "$W" ]; then
	not_ok "spoolweb is built ($W is missing)"
	done_testing
	exit 1
fi
for c in curl promtool; do
	command -v $c >/dev/null || { not_ok "$c is installed (make deps-test)"; done_testing; exit 1; }
done

C=$T/web
P=$C/spool
mkdir -p "$C"
web_init "$P" print
if web_as_root; then
	rc 77 "as root spoolweb refuses to run (exit 77)" "$W" -d "$P" -l "127.0.0.1:$(web_free_port)"
	has "and says why" "$T/err" "will not run as root"
fi
web_user "$P" alice admin 'alice pw 1'
web_user "$P" bob admin 'bob-pw'
web_user "$P" pete printer 'pete-pw' press
web_user "$P" cora printer 'cora-pw' covers

# the orders: 1001 paid (queued, its jobs published), 1002 and 1004 unpaid, 1003 in
# uploading; 1004 is 1002 placed later by someone else
web_orders "$P"
until_ "1001's jobs are published" 30 sh -c "test -f '$P/hot/press/1001-1-press/job.xml' && test -f '$P/hot/press/1001-2-press/job.xml' && test -f '$P/hot/covers/1001-1-covers/job.xml'"

check "spoolweb starts and answers" web_start "$P"

# ---- login ------------------------------------------------------------------------
is_code "no session: GET /api/orders is 401" 401 - GET /api/orders
json "with an error" "$T/body" "'error' in d"
code=$(web_login alice alice 'alice pw 1')
check "alice logs in: 200 (got $code)" test "$code" = 200
json "the answer has the CSRF token, the role and the user" "$T/alice.login" \
    "len(d['csrf']) >= 16 and d['role'] == 'admin' and d['user'] == 'alice'"
header "$T/alice.hdr" Set-Cookie >"$T/cookie"
has "the cookie is spoolweb=..." "$T/cookie" "^spoolweb=[^;]+"
has "it is HttpOnly" "$T/cookie" "; *HttpOnly( *;|$)"
has "it is SameSite=Strict" "$T/cookie" "; *SameSite=Strict( *;|$)"
has "its Path is /" "$T/cookie" "; *Path=/( *;|$)"

# ---- the order list and its filters ---------------------------------------------------
# ids WANT QUERY: GET /api/orders?QUERY gives exactly the orders WANT (space-separated)
ids() {
	_c=$(wreq alice GET "/api/orders?$2")
	if [ "$_c" = 200 ] && /usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
got = sorted(o["id"] for o in d["orders"])
sys.exit(0 if got == sorted(sys.argv[2].split()) else 1)' "$T/body" "$1"; then
		ok "?$2 gives $1"
	else
		not_ok "?$2 gives $1 (HTTP $_c: $(head -c 300 "$T/body"))"
	fi
}
ids "1001 1002 1003 1004" ""
json "each order has its fields" "$T/body" \
    "all(set(o) >= {'id','state','code','placed','since','customer','email'} for o in d['orders'])"
json "1002 is Tomás Álvarez's, unpaid, placed 2026-11-21" "$T/body" \
    "[(o['customer'], o['email'], o['state'], o['placed'][:10]) for o in d['orders'] if o['id'] == '1002'] == [('Tomás Álvarez', 'tomas@example.org', 'unpaid', '2026-11-21')]"
json "the counts: 2 unpaid, 1 queued (code 2), 1 uploading" "$T/body" \
    "{c['state']: c['count'] for c in d['counts'] if c['count']} == {'unpaid': 2, 'queued': 1, 'uploading': 1} and [c['code'] for c in d['counts'] if c['state'] == 'queued'] == [2]"
json "and 'more' is 0" "$T/body" "d['more'] == 0"
ids "1002 1004" "state=unpaid"
ids "1001" "state=queued"
ids "" "state=shipping"
ids "1002 1003" "since=2026-11-21&until=2026-11-22"
ids "1004" "since=2026-11-23"
ids "1001" "until=2026-11-20"
ids "1003" "q=chen"
ids "1002" "q=example.org"
ids "1004" "state=unpaid&q=Zo%C3%AB"
ids "" "state=queued&q=Zo%C3%AB"

# ---- one order ------------------------------------------------------------------------
is_code "GET /api/orders/1003: 200" 200 alice GET /api/orders/1003
cp "$T/body" "$T/api1003"
rc 0 "spoolctl show 1003 --json" $S -d "$P" show 1003 --json
cp "$T/out" "$T/show1003"
if /usr/bin/python3 - "$T/api1003" "$T/show1003" >"$T/cmp" 2>&1 <<'EOF'
import json, sys
a, s = (json.load(open(f)) for f in sys.argv[1:])
shared = set(a) & set(s)
bad = sorted(k for k in shared if a[k] != s[k])
print("shared %d of %d keys; differ: %s; missing: %s" % (len(shared), len(s), bad, sorted(set(s) - set(a))))
sys.exit(0 if not bad and shared == set(s) else 1)
EOF
then ok "it is what spoolctl show --json says ($(cat "$T/cmp"))"
else not_ok "it is what spoolctl show --json says ($(cat "$T/cmp"))"
fi
is_code "GET /api/orders/1004: 200" 200 alice GET /api/orders/1004
json "its actions are the admin's legal ones from unpaid: pay and cancel" "$T/body" \
    "sorted((x['name'], x['to']) for x in d['actions']) == [('cancel', 'cancelled'), ('pay', 'queued')]"
is_code "GET /api/orders/9999: 404" 404 alice GET /api/orders/9999

# ---- CSRF, then transitions --------------------------------------------------------------
is_code "a POST without X-CSRF-Token: 403" 403 alice POST /api/orders/1004/transitions '{"name":"cancel"}' none
is_code "with a wrong one: 403" 403 alice POST /api/orders/1004/transitions '{"name":"cancel"}' "x$(cat "$T/alice.csrf")"
is_code "with a made-up token: 403" 403 alice POST /api/orders/1004/transitions '{"name":"cancel"}' "0123456789abcdef0123456789abcdef"
check "1004 did not move" in_state "$P" 1004 unpaid
is_code "cancel 1004 (legal): 200" 200 alice POST /api/orders/1004/transitions '{"name":"cancel","comment":"asked by phone"}'
json "the answer is its id and new state" "$T/body" "d['id'] == '1004' and d['state'] == 'cancelled'"
check "the order file moved: state/cancelled/1004.order" in_state "$P" 1004 cancelled
check "and is gone from state/unpaid" test ! -e "$P/state/unpaid/1004.order"
rc 0 "spoolctl history 1004" $S -d "$P" history 1004
has "the history says alice via web, with the comment" "$T/out" "alice via web.*unpaid -> cancelled.*asked by phone|unpaid -> cancelled.*alice via web"
ls "$P"/state/*/1002.order >"$T/before" 2>&1
is_code "ship 1002 from unpaid (illegal): 409" 409 alice POST /api/orders/1002/transitions '{"name":"ship","comment":"no"}'
json "with an error" "$T/body" "'error' in d"
ls "$P"/state/*/1002.order >"$T/after" 2>&1
check "nothing moved: 1002 is still only in state/unpaid" sh -c "cmp -s '$T/before' '$T/after' && test -f '$P/state/unpaid/1002.order'"
is_code "requeue 1002 (not from unpaid): 409" 409 alice POST /api/orders/1002/transitions '{"name":"requeue"}'
check "1002 is still unpaid" in_state "$P" 1002 unpaid
is_code "a transition of an unknown order: 404" 404 alice POST /api/orders/9999/transitions '{"name":"cancel"}'
is_code "remove 1003: 200" 200 alice POST /api/orders/1003/remove '{"comment":"a test order"}'
json "the answer is its id" "$T/body" "d['id'] == '1003'"
check "its order file and folder are gone" sh -c "! ls '$P'/state/*/1003.order 2>/dev/null && test ! -e '$P/orders/1003'"
is_code "GET /api/orders/1003 is then 404" 404 alice GET /api/orders/1003

# ---- a printer --------------------------------------------------------------------------
code=$(web_login pete pete pete-pw)
check "pete (printer of press) logs in: 200 (got $code)" test "$code" = 200
json "as a printer" "$T/pete.login" "d['role'] == 'printer' and d['user'] == 'pete'"
is_code "pete: GET /api/orders is 403" 403 pete GET /api/orders
is_code "pete: GET /api/orders/1001 is 403" 403 pete GET /api/orders/1001
is_code "pete: GET /api/jobs is 200" 200 pete GET /api/jobs
cp "$T/body" "$T/pete.jobs"
(cd "$P/hot/press" && ls -d [!.]*) >"$T/press.jobs"
json "it lists exactly the jobs in hot/press ($(tr '\n' ' ' <"$T/press.jobs"))" "$T/pete.jobs" \
    "sorted(j['id'] for j in d['jobs']) == sorted(open('$T/press.jobs').read().split())"
json "all of queue press, none of covers" "$T/pete.jobs" \
    "d['jobs'] and all(j['queue'] == 'press' for j in d['jobs'])"
json "1001-1-press: order 1001, item 1, Queued (2), its files" "$T/pete.jobs" \
    "[(j['order'], str(j['item']), j['status'], 'job.xml' in j['files'], '1001-1-content.pdf' in j['files']) for j in d['jobs'] if j['id'] == '1001-1-press'] == [('1001', '1', 2, True, True)]"
is_code "alice (admin): GET /api/jobs lists the covers job too" 200 alice GET /api/jobs
json "... 1001-1-covers is there" "$T/body" "'1001-1-covers' in [j['id'] for j in d['jobs']]"

J=/api/jobs/1001-1-press/files
is_code "pete downloads 1001-1-content.pdf: 200" 200 pete GET "$J/1001-1-content.pdf"
check "byte-identical to the PDF in the hot folder" cmp -s "$T/body" "$P/hot/press/1001-1-press/1001-1-content.pdf"
check "as application/pdf" sh -c "tr -d '\r' <'$T/hdr' | grep -iq '^content-type: *application/pdf'"
check "with X-Content-Type-Options: nosniff" test "$(header "$T/hdr" X-Content-Type-Options)" = nosniff
is_code "and job.xml: 200" 200 pete GET "$J/job.xml"
check "as application/xml" sh -c "tr -d '\r' <'$T/hdr' | grep -iq '^content-type: *application/xml'"
is_code "another queue's job file: 403" 403 pete GET /api/jobs/1001-1-covers/files/job.xml
is_code "another queue's job's PDF: 403" 403 pete GET /api/jobs/1001-1-covers/files/1001-1-cover.pdf
is_code "a file not in the job: 404" 404 pete GET "$J/nosuch.pdf"

# Nothing but a file in the job's own folder: every other name is refused, and what
# comes back is never a file from elsewhere.
printf 'SECRET-OUTSIDE-%s\n' "$$" >"$T/outside.txt"
chmod 0644 "$T/outside.txt"
ln -s "$T/outside.txt" "$P/hot/press/1001-2-press/evil.pdf"
for f in "../1001-2-press/job.xml" "..%2F1001-2-press%2Fjob.xml" "%2E%2E%2F1001-2-press%2Fjob.xml" \
    "..%2F..%2Fcovers%2F1001-1-covers%2Fjob.xml" "..%2F..%2F..%2Fspool.conf" "../../../spool.conf" \
    "%2Fetc%2Fpasswd" "/etc/passwd" "%2F$(printf '%s' "$T" | sed 's|/|%2F|g')%2Foutside.txt" \
    ".." "%2E%2E" "." "job.xml%00.pdf" "job.xml%2F" ".%2Fjob.xml%2F..%2F..%2F1001-2-press%2Fjob.xml" \
    "$(head -c 300 /dev/zero | tr '\0' a).pdf" "%5C..%5C1001-2-press%5Cjob.xml" "*" "job.xml%0A"; do
	_c=$(wreq pete GET "$J/$f")
	if [ "$_c" != 404 ] && [ "$_c" != 403 ] && [ "$_c" != 400 ]; then
		not_ok "pete GET files/$(printf %.60s "$f"): 404, 403 or 400 (HTTP $_c, $(header "$T/hdr" Content-Type), $(wc -c <"$T/body") bytes: $(head -c 60 "$T/body" | tr -c '[:print:]' .))"
	elif grep -q "SECRET-OUTSIDE\|^root:\|^\[spool\]" "$T/body" ||
	    cmp -s "$T/body" "$P/hot/press/1001-2-press/job.xml" || cmp -s "$T/body" "$P/hot/covers/1001-1-covers/job.xml"; then
		not_ok "pete GET files/$(printf %.60s "$f"): $_c but the body is a file from elsewhere"
	else
		ok "pete GET files/$(printf %.60s "$f"): $_c"
	fi
done
for p in "/api/jobs/..%2Fcovers%2F1001-1-covers/files/job.xml" "/api/jobs/../covers/1001-1-covers/files/job.xml" \
    "/api/jobs/1001-2-press/files/evil.pdf" "/api/jobs/%2E%2E/files/spool.conf" "/api/jobs/./files/1001-1-press"; do
	_c=$(wreq pete GET "$p")
	if { [ "$_c" = 404 ] || [ "$_c" = 403 ]; } && ! grep -q "SECRET-OUTSIDE\|^\[spool\]" "$T/body" &&
	    ! cmp -s "$T/body" "$P/hot/covers/1001-1-covers/job.xml"; then
		ok "pete GET $p: $_c"
	else
		not_ok "pete GET $p: 404 or 403 and nothing from elsewhere (HTTP $_c: $(head -c 100 "$T/body"))"
	fi
done
rm -f "$P/hot/press/1001-2-press/evil.pdf"
is_code "an encoded NUL anywhere in the address: 400" 400 pete GET "/api/jobs%00/1001-1-press/files/job.xml"
is_code "or in the query: 400" 400 alice GET "/api/orders?q=10%0001"
is_code "a body over 64 KiB: 413" 413 alice POST /api/orders/1001/transitions \
    "{\"name\":\"cancel\",\"comment\":\"$(head -c 70000 /dev/zero | tr '\0' a)\"}"
is_code "and 1001 was not cancelled by it" 200 alice GET /api/orders/1001
grep -q '"state": *"cancelled"' "$T/body" && not_ok "1001 is cancelled after a refused body" || ok "1001 is not cancelled"

# the status a printer sets, as job.xml carries it to spoold
X=$P/hot/press/1001-1-press/job.xml
is_code "pete: Queued -> Shipping (3) is refused: 409" 409 pete POST /api/jobs/1001-1-press/status '{"status":3}'
json "with an error" "$T/body" "'error' in d"
has "job.xml still says Queued (2)" "$X" "<OrderStatus>2</OrderStatus>"
is_code "pete: Failed (10) without a message: 409" 409 pete POST /api/jobs/1001-1-press/status '{"status":10}'
is_code "pete: a status without X-CSRF-Token: 403" 403 pete POST /api/jobs/1001-1-press/status '{"status":15}' none
is_code "pete: another queue's job status: 403" 403 pete POST /api/jobs/1001-1-covers/status '{"status":15}'
has "job.xml still says Queued (2)" "$X" "<OrderStatus>2</OrderStatus>"
is_code "pete: Processing (15): 200" 200 pete POST /api/jobs/1001-1-press/status '{"status":15,"message":"on the press"}'
json "the answer is the job and its status" "$T/body" "d['id'] == '1001-1-press' and d['status'] == 15"
has "job.xml in the hot folder says OrderStatus 15" "$X" "<OrderStatus>15</OrderStatus>"
rc 0 "and still validates against job.xsd" xmllint --noout --schema "$SRCDIR/spool-layout/schemas/job.xsd" "$X"
until_ "spoold accepts it: Queued (2) -> Processing (15) in 1001's history" 20 \
    grep -q "1001-1-press: Queued (2) -> Processing (15)" "$P/orders/1001/history"
is_code "pete sets 1001-2-press to Processing: 200" 200 pete POST /api/jobs/1001-2-press/status '{"status":15}'
code=$(web_login cora cora cora-pw)
check "cora (printer of covers) logs in: 200 (got $code)" test "$code" = 200
is_code "cora sets 1001-1-covers to Processing: 200" 200 cora POST /api/jobs/1001-1-covers/status '{"status":15}'
until_ "with all its jobs in production spoold moves 1001 to processing" 20 in_state "$P" 1001 processing

# ---- headers, metrics ---------------------------------------------------------------------
for u in "- /" "alice /orders" "alice /api/orders" "pete /api/jobs"; do
	set -- $u
	wreq "$1" GET "$2" >/dev/null
	csp=$(header "$T/hdr" Content-Security-Policy)
	if printf '%s' "$csp" | grep -q "frame-ancestors 'none'"; then ok "$2: Content-Security-Policy has frame-ancestors 'none'"
	else not_ok "$2: Content-Security-Policy has frame-ancestors 'none' (got '$csp')"; fi
	xc=$(header "$T/hdr" X-Content-Type-Options)
	check "$2: X-Content-Type-Options: nosniff (got '$xc')" test "$xc" = nosniff
done
is_code "GET /metrics without a session: 200" 200 - GET /metrics
rc 0 "promtool check metrics passes" sh -c "promtool check metrics <'$T/body'"
cp "$T/body" "$T/metrics"
has "it has a spool orders gauge" "$T/metrics" "^# TYPE spool[a-z_]*orders[a-z_]* gauge"
has "with 1002 unpaid counted" "$T/metrics" "^spool[a-z_]*orders[a-z_]*\{[^}]*unpaid[^}]*\} 1(\.0)?$"

# ---- failed logins (last: they slow down every login from this address), logout ----------------
code=$(web_login x alice 'wrong')
check "a wrong password: 401 (got $code)" test "$code" = 401
json "with an error" "$T/x.login" "'error' in d"
code=$(web_login x mallory 'alice pw 1')
check "an unknown user: 401 (got $code)" test "$code" = 401
check "no session cookie is given on a failure" sh -c "! grep -q spoolweb '$T/x.jar' 2>/dev/null"
# keep failing until a 429 says at least 2 s (spoolweb counts whole seconds: a wait
# of 1 may be over at once), at most 60 tries and 20 s
got= ra= i=0 end=$(($(date +%s) + 20))
while [ $i -lt 60 ] && [ "$(date +%s)" -lt "$end" ]; do
	i=$((i + 1))
	code=$(web_login x bob "wrong-$i")
	if [ "$code" = 429 ]; then
		got=${got:-$i}
		ra=$(header "$T/x.hdr" Retry-After)
		[ "${ra:-0}" -lt 2 ] 2>/dev/null || break
		sleep 0.3
	elif [ "$code" != 401 ]; then
		break
	fi
done
check "repeated wrong passwords for bob: 429 (first after ${got:-no} tries; last HTTP $code)" test -n "$got"
check "with Retry-After, growing to 2 s or more ($ra after $i tries)" test "${ra:-0}" -ge 2
code=$(web_login x bob bob-pw)
check "then even the right password is 429 (got $code)" test "$code" = 429
is_code "alice's session still works" 200 alice GET /api/orders
cp "$T/alice.jar" "$T/old.jar"
is_code "alice logs out: 204" 204 alice POST /api/logout
is_code "the old cookie is refused: 401" 401 old GET /api/orders

check "spoolweb exits 0 on SIGTERM" web_stop

# ---- two spools, over TLS ----------------------------------------------------------
# A second spool, shop2, where only olga is a user; spoolweb serves both over TLS.
Q=$C/shop2
web_init "$Q" pos
web_user "$Q" olga admin 'olga-pw'
rc 0 "a self-signed certificate for 127.0.0.1" openssl req -x509 -newkey rsa:2048 -nodes \
    -keyout "$T/key.pem" -out "$T/cert.pem" -days 2 -subj /CN=127.0.0.1
chmod 0644 "$T/key.pem" "$T/cert.pem"
WEB_TLS="$T/cert.pem $T/key.pem"
check "spoolweb serves spool and shop2 over TLS" web_start "$P" "$Q"
WEB_TLS=
case $WEB_URL in https://*) ok "its address is https" ;; *) not_ok "its address is https ($WEB_URL)" ;; esac
code=$(web_login olga olga olga-pw)
check "olga logs in without naming a spool (the one that knows her): 200 (got $code)" test "$code" = 200
header "$T/olga.hdr" Set-Cookie >"$T/cookie"
has "under TLS the cookie is Secure" "$T/cookie" "; *Secure( *;|$)"
has "and HttpOnly" "$T/cookie" "; *HttpOnly( *;|$)"
has "the answer carries Strict-Transport-Security" "$T/olga.hdr" "^Strict-Transport-Security: max-age="
is_code "olga: GET /api/orders is shop2's: 200" 200 olga GET /api/orders
json "shop2 has no orders" "$T/body" "d['orders'] == []"
is_code "olga: GET /api/orders?spool=shop2: 200" 200 olga GET "/api/orders?spool=shop2"
is_code "olga: GET /api/orders?spool=spool (not her spool): 403" 403 olga GET "/api/orders?spool=spool"
is_code "olga: GET /api/orders/1001 is not in shop2: 404" 404 olga GET /api/orders/1001
code=$(web_login alice alice 'alice pw 1' spool)
check "alice logs in to spool by name: 200 (got $code)" test "$code" = 200
is_code "alice: GET /api/orders?spool=spool: 200" 200 alice GET "/api/orders?spool=spool"
json "with spool's orders" "$T/body" "'1001' in [o['id'] for o in d['orders']]"
is_code "alice: GET /api/orders?spool=shop2: 403" 403 alice GET "/api/orders?spool=shop2"
is_code "the login page offers both spools" 200 - GET /
has "spool" "$T/body" '<option>spool</option>'
has "shop2" "$T/body" '<option>shop2</option>'
is_code "GET /metrics: 200" 200 - GET /metrics
has "counts spool's orders" "$T/body" '^spool_orders\{spool="spool",state="queued"\} '
has "and shop2's" "$T/body" '^spool_orders\{spool="shop2",'
code=$(web_login x alice 'alice pw 1' shop2)
check "alice is no user of shop2: 401 (got $code)" test "$code" = 401
code=$(web_login x alice 'alice pw 1' nosuch)
check "a spool that is not served: 404 (got $code)" test "$code" = 404
check "spoolweb exits 0 on SIGTERM" web_stop
grep -E "AddressSanitizer|LeakSanitizer|runtime error" "$T/web.log" >"$T/san" || true
lines "no sanitizer report in spoolweb's log" "$T/san" 0
check "spoold stops" stop_spoold
done_testing
