# Hostile text end to end (issue 11), with the real spoold, a real SMTP server on
# loopback and real handlers.  (a) A printer saves job.xml with OrderStatus 10 and a
# message holding CR, LF, <br/>, C1 controls, DEL, U+202E, a forged log line and
# 100 KiB of text: the order fails and the admin gets the printer-failed mail.
# (b) A POS handler fails with ESC, U+202E, CR and bytes that are not UTF-8 on its
# stderr, once in a short line and once in a line longer than the error keeps.
# Each runs under spoold without and with -v.  Then the log, the history file,
# spoolctl history, show (and --json) and the mails as received must each keep one
# line per event, hold no raw control character (but the line ends) and no raw
# bidirectional control, be valid UTF-8 (U+FFFD for what was not), escape once
# (\x1b, never \\x1b), and show where a long text was cut.
. "$SRCDIR/tests/e2e/lib.sh"
. "$SRCDIR/tests/e2e/smtp.sh"
start_smtpd

# ---- checkers -------------------------------------------------------------------

# textcheck.py FILE [tab|crlf]: valid UTF-8, and no raw C0 control (but LF; with tab,
# also TAB; with crlf, CR before LF), DEL, C1 control or bidirectional/line-breaking
# format character (U+061C, U+200E/F, U+2028/9, U+202A..E, U+2066..9).
cat >"$T/textcheck.py" <<'EOF'
import sys
data = open(sys.argv[1], 'rb').read()
mode = sys.argv[2] if len(sys.argv) > 2 else ''
try:
    text = data.decode('utf-8')
except UnicodeDecodeError as e:
    print('not UTF-8: %s: %r' % (e, data[max(0, e.start - 20):e.start + 20]))
    sys.exit(1)
bad = set(range(0x20)) | {0x7f} | set(range(0x80, 0xa0)) | {0x61c, 0x200e, 0x200f} | \
    set(range(0x2028, 0x202f)) | set(range(0x2066, 0x206a))
ok = {0x0a} | ({0x09} if mode in ('tab', 'crlf') else set())
for i, ch in enumerate(text):
    c = ord(ch)
    if c == 0x0d and mode == 'crlf' and text[i + 1:i + 2] == '\n':
        continue
    if c in bad and c not in ok:
        print('raw U+%04X at %d: %r' % (c, i, text[max(0, i - 30):i + 30]))
        sys.exit(1)
EOF
# clean DESC FILE [tab|crlf]
clean() {
	if $PY "$T/textcheck.py" "$2" "${3:-}" >"$T/tc" 2>&1; then ok "$1"; else not_ok "$1: $(head -c 300 "$T/tc")"; fi
}
# none DESC FILE REGEX: no line of FILE matches
none() {
	if grep -Eq -- "$3" "$2"; then not_ok "$1 ($(grep -Em1 -- "$3" "$2" | head -c 300))"; else ok "$1"; fi
}
# nobytes DESC FILE BYTES (printf notation): the bytes are nowhere in FILE
nobytes() {
	if LC_ALL=C grep -q "$(printf "$3")" "$2"; then not_ok "$1"; else ok "$1"; fi
}
# every DESC FILE REGEX: every line of FILE matches (and FILE has lines)
every() {
	if [ -s "$2" ] && ! grep -Evq -- "$3" "$2"; then ok "$1"; else not_ok "$1 ($(grep -Evm1 -- "$3" "$2" | head -c 300))"; fi
}
# fixed DESC FILE STRING: FILE holds STRING, literally
fixed() {
	if grep -qF -- "$3" "$2"; then ok "$1"; else not_ok "$1 (no '$3' in: $(head -c 200 "$2"))"; fi
}
# nofixed DESC FILE STRING: FILE does not hold STRING
nofixed() {
	if grep -qF -- "$3" "$2"; then not_ok "$1 ($(grep -F -m1 -- "$3" "$2" | head -c 300))"; else ok "$1"; fi
}
# samecount DESC A B: two counts are equal
samecount() {
	if [ "$2" -eq "$3" ]; then ok "$1 ($2)"; else not_ok "$1 ($2, want $3)"; fi
}

# The things every log must be: one line per event, each "ID: " or "spoold: ", safe.
check_log() { # LOG LABEL
	clean "$2: the log is valid UTF-8 with no raw control or bidi character" "$1"
	every "$2: every log line starts with an id or spoold:" "$1" '^[A-Za-z0-9._-]+: [^ ]'
	none "$2: no event's text starts a log line of its own" "$1" '^[0-9]+: forged'
	nobytes "$2: no raw U+202E in the log" "$1" '\342\200\256'
	nobytes "$2: no raw CR in the log" "$1" '\r'
	nofixed "$2: nothing is escaped twice in the log" "$1" '\\x1b'
	check "$2: no log line is longer than its cap" sh -c "! awk 'length > 4300' '$1' | grep -q ."
}

# The history of an order: the file, spoolctl history (and --json), spoolctl show.
check_history() { # SPOOL ID LABEL
	_h=$1/orders/$2/history
	clean "$3: the history file is valid UTF-8, no raw control or bidi character" "$_h" tab
	every "$3: every line of the history file is one whole event of six fields" "$_h" \
	    '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z	[^	]+	[^	]+	[^	]+	[^	]+	[^	]*$'
	nobytes "$3: no raw U+202E in the history file" "$_h" '\342\200\256'
	nofixed "$3: nothing is escaped twice in the history file" "$_h" '\\x1b'
	_events=$(wc -l <"$_h")
	rc 0 "$3: spoolctl history" $S -d "$1" history "$2"
	cp "$T/out" "$T/hist.out"
	clean "$3: spoolctl history is valid UTF-8, no raw control or bidi character" "$T/hist.out"
	samecount "$3: spoolctl history prints one line per event" "$(wc -l <"$T/hist.out")" "$_events"
	every "$3: each line of spoolctl history is an event" "$T/hist.out" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z  '
	nofixed "$3: spoolctl history escapes nothing twice" "$T/hist.out" '\\x1b'
	rc 0 "$3: spoolctl history --json" $S -d "$1" history --json "$2"
	cp "$T/out" "$T/hist.json"
	json "$3: history --json parses, an object per event" "$T/hist.json" "len(d) == $_events"
	clean "$3: the JSON of history has no raw control or bidi character" "$T/hist.json"
	rc 0 "$3: spoolctl show" $S -d "$1" show "$2"
	cp "$T/out" "$T/show.out"
	clean "$3: spoolctl show is valid UTF-8, no raw control or bidi character" "$T/show.out"
	nofixed "$3: spoolctl show escapes nothing twice" "$T/show.out" '\\x1b'
	none "$3: no text from outside starts a line of show" "$T/show.out" '^[0-9]+: forged'
	samecount "$3: show's history has a line per event" \
	    "$(sed -n '/^history$/,$p' "$T/show.out" | grep -c '^[0-9]\{4\}-')" "$_events"
	rc 0 "$3: spoolctl show --json" $S -d "$1" show --json "$2"
	cp "$T/out" "$T/show.json"
	json "$3: show --json parses" "$T/show.json" "d['id'] == '$2' and len(d['history']) == $_events"
	clean "$3: the JSON of show has no raw control or bidi character" "$T/show.json"
}

# ---- (a) a printer's message -------------------------------------------------------

C=$T/print
P=$C/spool
mkdir -p "$C"
mail_conf "$SRCDIR/spool-layout/workflows/print.conf" >"$T/print.conf"
rc 0 "init a print spool with a relay" $S -d "$P" init "$T/print.conf"

# fail_job JOBDIR: the printer saves its job.xml as Failed, with a hostile message:
# CR (raw and as a reference), LF, <br/> (as markup and typed as text), C1 controls
# (NEL, CSI), DEL, U+202E (raw and as a reference), U+2028/9, a forged log line, and
# 100 KiB of euro signs, so the cut falls among three-byte characters.
fail_job() {
	$PY - "$1/job.xml" <<'EOF'
import os, re, sys
path = sys.argv[1]
doc = open(path, 'rb').read().decode('utf-8')
msg = ('Paper jam&#13;\r\nin tray 2<br/>1001: forged line&lt;br/&gt;NEL\u0085CSI\u009b2J'
       '&#x85; DEL\x7f&#127; \u202egnp.exe&#x202E; sep\u2028par\u2029 call us<BR/>'
       + '\u20ac' * (100 * 1024 // 3))
doc = re.sub(r'<OrderStatusMessage>.*?</OrderStatusMessage>', '', doc, flags=re.S)
doc = re.sub(r'<OrderStatus>[0-9]*</OrderStatus>',
             lambda m: '<OrderStatus>10</OrderStatus><OrderStatusMessage>' + msg +
             '</OrderStatusMessage>', doc, count=1)
tmp = os.path.join(os.path.dirname(path), '.job.xml.printer')
open(tmp, 'wb').write(doc.encode('utf-8'))
os.rename(tmp, path)
EOF
}

# print_run ID LABEL [SPOOLD ARGS]: the order is published, its printer fails it
print_run() {
	_id=$1 _l=$2
	shift 2
	: >"$T/spoold.log"
	check "$_l: spoold starts" start_spoold "$P" "$@"
	rc 0 "$_l: submit $_id (paid)" $S -d "$P" submit --id "$_id" "$EX/print/1001"
	until_ "$_l: its jobs are in the hot folders" 60 test -f "$P/hot/press/$_id-1-press/job.xml"
	check "$_l: the printer saves job.xml: Failed, with a hostile message" fail_job "$P/hot/press/$_id-1-press"
	until_ "$_l: the order fails" 30 in_state "$P" "$_id" failed
	until_ "$_l: the admin gets the printer-failed mail" 30 arrived "Printer failure: order $_id"
	until_ "$_l: the customer hears it failed" 30 arrived "Your order $_id: PDF/Printing failed"
	check "$_l: spoold stops" stop_spoold
	cp "$T/spoold.log" "$T/print-$_id.log"
}

# check_print ID LABEL
check_print() {
	_id=$1 _l=$2
	check_log "$T/print-$_id.log" "$_l"
	check_history "$P" "$_id" "$_l"
	_h=$P/orders/$_id/history
	grep -F -- '-> Failed (10)' "$_h" >"$T/failed.line"
	lines "$_l: one history line says the printer failed the job" "$T/failed.line" 1
	fixed "$_l: in it, the printer's <br/> is an escaped line break" "$T/failed.line" 'in tray 2\n1001: forged line\nNEL'
	fixed "$_l: its C1 controls, DEL and U+202E are gone, the text around them kept" "$T/failed.line" 'NELCSI2J DEL gnp.exe sep\npar\ncall us\n€€'

	has "$_l: the 100 KiB message is cut, and the cut is marked" "$T/failed.line" '€\.\.\.$'
	check "$_l: the line is capped (at most 1300 bytes)" test "$(wc -c <"$T/failed.line")" -le 1300
	fixed "$_l: spoolctl history shows it escaped once" "$T/hist.out" 'in tray 2\n1001: forged line\nNEL'
	has "$_l: and shows the cut" "$T/hist.out" 'Failed \(10\): Paper jam in tray 2.*€\.\.\.$'
	json "$_l: history --json gives the message itself (a line break, the mark)" "$T/hist.json" \
	    "any('in tray 2\n1001: forged line\nNEL' in e['comment'] and e['comment'].endswith('\u20ac...') for e in d)"
	# the mails, as received, and as a reader decodes them
	for subj in "Printer failure: order $_id" "Your order $_id: PDF/Printing failed"; do
		m=$(first "$subj")
		headers "$m" >"$T/h"
		clean "$_l: mail '$subj': its headers are clean" "$T/h"
		check "$_l: mail '$subj': every header line is a known one or a fold" sh -c "! grep -Ev '^(Date|From|To|Reply-To|Subject|Message-ID|MIME-Version|Content-Type|Content-Transfer-Encoding|Auto-Submitted): |^[ \t]' '$T/h' | grep -q ."
		clean "$_l: mail '$subj': the message as sent is clean (CRLF)" "$m" crlf
		nobytes "$_l: mail '$subj': no raw U+202E as sent" "$m" '\342\200\256'
		body "$m" >"$T/b"
		clean "$_l: mail '$subj': its decoded body is valid UTF-8, no control or bidi character" "$T/b" tab
		case $subj in
		Printer*)
			fixed "$_l: mail '$subj': the body has the printer's words" "$T/b" 'CSI2J DEL gnp.exe sep'
			has "$_l: mail '$subj': and shows where the message was cut" "$T/b" '€\.\.\.$' ;;
		*)
			# history is internal: the customer hears nothing of what the printer said
			check "$_l: mail '$subj': the customer's has none of the printer's words" \
			    sh -c "! grep -q 'Paper jam' '$T/b'" ;;
		esac
	done
}

print_run 1001 "printer, spoold"
check_print 1001 "printer, spoold"
print_run 1002 "printer, spoold -v" -v
check_print 1002 "printer, spoold -v"
fixed "printer, spoold -v: the move's comment is logged" "$T/print-1002.log" '1002: debug: queued -> failed: item 1: Paper jam in tray 2\n1001: forged line\nNEL'
has "printer, spoold -v: and its cut shows" "$T/print-1002.log" '^1002: debug: queued -> failed: .*€\.\.\.$'

# ---- (b) a handler's stderr -----------------------------------------------------------

Q=$T/pos/spool
mkdir -p "$T/pos"
# An odd order's last line holds ESC, U+202E, a backslash, bytes that are not UTF-8
# and a CR before a forged log line; an even one's is 255 x and a euro sign, so the
# 256 bytes the error keeps end inside a character, and the hostile words follow.
cat >"$T/hostile-pos" <<'EOF'
#!/bin/sh
printf 'POS: sending order %s\n' "$1" >&2
case $1 in
*[13579]) printf 'RTP \033[31mERROR\033[0m \342\200\256gnp.exe \377\376 C:\\temp\r3001: forged\n' >&2 ;;
*) printf '%s\342\202\254 RTP \033[31mERROR\033[0m \342\200\256gnp.exe \377 end\n' \
    "$(printf '%0255d' 0 | tr 0 x)" >&2 ;;
esac
echo "$1" >>"$SPOOL_DIR/../sent.log"
exit 1
EOF
chmod +x "$T/hostile-pos"
workflow_for_tests pos "$T/hostile-pos" "$T/pos.conf"
rc 0 "init a pos spool with a hostile handler" $S -d "$Q" init "$T/pos.conf"

# pos_run ODD EVEN LABEL [SPOOLD ARGS]
pos_run() {
	_a=$1 _b=$2 _l=$3
	shift 3
	: >"$T/spoold.log"
	check "$_l: spoold starts" start_spoold "$Q" "$@"
	rc 0 "$_l: submit $_a" $S -d "$Q" submit --id "$_a" "$EX/pos/3001"
	rc 0 "$_l: submit $_b" $S -d "$Q" submit --id "$_b" "$EX/pos/3001"
	until_ "$_l: $_a fails twice and lands in failed" 30 in_state "$Q" "$_a" failed
	until_ "$_l: $_b fails twice and lands in failed" 30 in_state "$Q" "$_b" failed
	check "$_l: spoold stops" stop_spoold
	cp "$T/spoold.log" "$T/pos-$_a.log"
	check "$_l: the handler ran twice for $_a" test "$(grep -cx "$_a" "$T/pos/sent.log")" -eq 2
	check "$_l: the handler ran twice for $_b" test "$(grep -cx "$_b" "$T/pos/sent.log")" -eq 2
	check_log "$T/pos-$_a.log" "$_l"
	# escaped exactly once: an ESC is \x1b, a backslash \\, never more
	fixed "$_l: the log shows the handler's ESC as \\x1b" "$T/pos-$_a.log" "$_a: attempt 1 failed, again in 1s: RTP \\x1b[31mERROR\\x1b[0m \\u202egnp.exe �� C:\\\\temp\\r3001: forged"
	check_history "$Q" "$_a" "$_l: $_a"
	fixed "$_l: $_a: the history file has the words escaped once" "$Q/orders/$_a/history" 'attempt 1 of 2 failed: RTP \x1b[31mERROR\x1b[0m \u202egnp.exe �� C:\\temp\r3001: forged'
	fixed "$_l: $_a: spoolctl history shows them escaped once" "$T/hist.out" 'attempt 2 of 2 failed: RTP \x1b[31mERROR\x1b[0m \u202egnp.exe �� C:\\temp\r3001: forged'
	fixed "$_l: $_a: show's last error, escaped once" "$T/show.out" 'last error RTP \x1b[31mERROR\x1b[0m \u202egnp.exe �� C:\\temp\r3001: forged'
	fixed "$_l: $_a: show's error output, escaped once" "$T/show.out" '  | RTP \x1b[31mERROR\x1b[0m \u202egnp.exe �� C:\\temp\r3001: forged'
	json "$_l: $_a: show --json gives the words themselves (U+FFFD for what was not UTF-8)" "$T/show.json" \
	    "d['attempts'] == 2 and d['last_error'] == 'RTP \x1b[31mERROR\x1b[0m \u202egnp.exe \ufffd\ufffd C:\\\\temp\r3001: forged'"
	check_history "$Q" "$_b" "$_l: $_b"
	json "$_l: $_b: show --json: two attempts, the long error cut to 256 bytes, marked" "$T/show.json" \
	    "d['attempts'] == 2 and d['last_error'] is not None and d['last_error'].startswith('xxxxxxxx') and d['last_error'].endswith('...') and len(d['last_error'].encode()) <= 256"
	has "$_l: $_b: the history shows the cut error" "$T/hist.out" 'attempt 2 of 2 failed: x{200,}\.\.\.$'
	fixed "$_l: $_b: show's error output has the whole line, escaped once" "$T/show.out" '€ RTP \x1b[31mERROR\x1b[0m \u202egnp.exe � end'
	rc 0 "$_l: spoolctl check is clean" $S -d "$Q" check
}

pos_run 3001 3002 "handler, spoold"
pos_run 3003 3004 "handler, spoold -v" -v
has "handler, spoold -v: debug lines are there" "$T/pos-3003.log" '^3003: debug: '
done_testing
