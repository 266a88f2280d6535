# Printers over SMB, end to end: the print queues are folders of a share that a
# private smbd serves on loopback, and smbclient plays the printer.  It downloads a
# chunk, edits job.xml (Queued -> Processing -> Shipping) and reports a failure with
# a message, which reaches the admin by mail.  Hostile files on the share (an illegal
# jump, a half-written job.xml, a symlink, a file named ../x, a 10 MiB job.xml, an
# XXE job.xml) each have their documented outcome, and no order is lost.
. "$SRCDIR/tests/e2e/lib.sh"
. "$SRCDIR/tests/e2e/smtp.sh"
. "$SRCDIR/tests/e2e/smb.sh"
trap 'smb_stop; stop_smtpd; kill_spoold; [ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT

C=$T/shop
P=$C/spool
H=$C/share        # what smbd serves: the printers' hot folders
mkdir -p "$H/press" "$H/covers"
{
	sed '/^\[queue /,$d' "$SRCDIR/spool-layout/workflows/print.conf"
	cat <<EOF
[queue press]
path = $H/press
chunks = content *

[queue covers]
path = $H/covers
chunks = cover
EOF
} >"$T/p.conf"
mail_conf "$T/p.conf" >"$T/print.conf"
start_smtpd
check "smbd serves the hot folders on 127.0.0.1" smb_start "$H"
rc 0 "init a print spool whose queues are on the share" $S -d "$P" init "$T/print.conf"
check "spoold starts" start_spoold "$P"

hist() { cat "$P/orders/$1/history"; }
hist_has() { grep -q -- "$2" "$P/orders/$1/history"; }
# job ID ITEM QUEUE: a job's path on the share
job() { echo "$3/$1-$2-$3"; }
# pget JOB: the printer downloads job.xml to $T/job.xml
pget() { rm -f "$T/job.xml"; smb_get "$1/job.xml" "$T/job.xml" >/dev/null; }
# pset JOB STATUS [MESSAGE]: the printer edits OrderStatus (and the message) and saves
pset() {
	pget "$1" || return 1
	if [ $# -ge 3 ]; then
		sed -i "s|<OrderStatus>[0-9]*</OrderStatus>|<OrderStatus>$2</OrderStatus><OrderStatusMessage>$3</OrderStatusMessage>|" "$T/job.xml"
	else
		sed -i "s|<OrderStatus>[0-9]*</OrderStatus>|<OrderStatus>$2</OrderStatus>|" "$T/job.xml"
	fi
	smb_put "$T/job.xml" "$1/job.xml" >/dev/null
}

# ---- an order published to the share ----------------------------------------
rc 0 "submit 1001" $S -d "$P" submit "$EX/print/1001"
until_ "its three jobs appear on the share" 30 sh -c "test -f '$H/press/1001-2-press/job.xml' && test -f '$H/covers/1001-1-covers/job.xml' && test -f '$H/press/1001-1-press/job.xml'"
check "nothing half-made is left in the hot folders" sh -c "! ls -A '$H/press' '$H/covers' | grep -q '^\\.'"
rc 0 "the printer lists its job folder" smbc "ls press/1001-1-press/*"
has "it sees the chunk, the invoice, upload.xml and job.xml" "$T/out" "1001-1-content.pdf"
has "... invoice.pdf" "$T/out" "invoice.pdf"
has "... upload.xml" "$T/out" "upload.xml"
check "the printer downloads the content chunk" smb_get "$(job 1001 1 press)/1001-1-content.pdf" "$T/content.pdf"
rc 0 "the chunk passes qpdf --check" qpdf --check "$T/content.pdf"
check "and has the 3 content pages" test "$(qpdf --show-npages "$T/content.pdf")" -eq 3
check "the printer downloads job.xml" pget "$(job 1001 1 press)"
rc 0 "job.xml validates against schemas/job.xsd" xmllint --noout --schema "$SRCDIR/spool-layout/schemas/job.xsd" "$T/job.xml"
has "job.xml has the order's billing address" "$T/job.xml" "<Line>12 Harbour Road</Line>"
has "and its shipping address" "$T/job.xml" "<Line>c/o Harbour Café</Line>"
has "and the customer's phone" "$T/job.xml" "<Phone>\+44 117 496 0000</Phone>"
has "and the product's name" "$T/job.xml" "<ProductName>Photo book A4 landscape</ProductName>"
has "and the OrderStatusInUse block" "$T/job.xml" "<Processing>15</Processing>"

# ---- Queued -> Processing -> Shipping ---------------------------------------------
check "the printer sets the content job to Processing" pset "$(job 1001 1 press)" 15
until_ "spoold accepts it" 20 hist_has 1001 "job 1001-1-press: Queued (2) -> Processing (15)"
check "the order stays queued while other items wait" in_state "$P" 1001 queued
check "the cover printer sets its job to Processing" pset "$(job 1001 1 covers)" 15
check "so does item 2's" pset "$(job 1001 2 press)" 15
until_ "with all items in production the order moves to processing" 20 in_state "$P" 1001 processing
has "the move is the printer's" "$P/orders/1001/history" "	printer	queued	processing	all items in production"
for j in "$(job 1001 1 press)" "$(job 1001 1 covers)" "$(job 1001 2 press)"; do
	check "$j: Processing -> Shipping" pset "$j" 3
done
until_ "all shipped: the order moves to shipping" 20 in_state "$P" 1001 shipping
until_ "the customer gets the shipping mail" 20 arrived "Your order 1001: Shipping"
rc 0 "spoolctl show --json 1001" $S -d "$P" show --json 1001
json "show lists the three jobs, all Shipping (3)" "$T/out" "sorted((x['name'], x['queue'], x['status']) for x in d['jobs']) == [('1001-1-covers', 'covers', 3), ('1001-1-press', 'press', 3), ('1001-2-press', 'press', 3)]"

# ---- an illegal jump: Queued -> Shipping --------------------------------------
rc 0 "submit 1002, a copy of 1001" $S -d "$P" submit --id 1002 "$EX/print/1001"
until_ "1002 is published" 30 test -f "$H/press/1002-2-press/job.xml"
check "the printer jumps item 2 from Queued to Shipping" pset "$(job 1002 2 press)" 3
until_ "spoold refuses it in the history" 20 hist_has 1002 "refused OrderStatus '3'"
pget "$(job 1002 2 press)"
has "the printer finds an error element in job.xml" "$T/job.xml" '<OrderStatusError refused="3"'
has "which says why" "$T/job.xml" "cannot follow 2 \(Queued\)"
has "and the valid status back" "$T/job.xml" "<OrderStatus>2</OrderStatus>"
check "1002 stays queued" in_state "$P" 1002 queued

# ---- a half-written job.xml: retried, never acted on ------------------------------
pget "$(job 1002 1 press)"
cp "$T/job.xml" "$T/whole.xml"
sed -i "s|<OrderStatus>[0-9]*</OrderStatus>|<OrderStatus>10</OrderStatus>|" "$T/job.xml"
head -c 700 "$T/job.xml" >"$T/half.xml"
check "the printer's save is cut short halfway" smb_put "$T/half.xml" "$(job 1002 1 press)/job.xml"
sleep 1
check "nothing is acted on" sh -c "! grep -q '1002-1-press: Queued (2) -> Failed' '$P/orders/1002/history' && ! grep -q 'job 1002-1-press: job.xml refused' '$P/orders/1002/history'"
sed -i "s|<OrderStatus>[0-9]*</OrderStatus>|<OrderStatus>15</OrderStatus>|" "$T/whole.xml"
check "the whole file, saved next, counts" smb_put "$T/whole.xml" "$(job 1002 1 press)/job.xml"
until_ "spoold reads it: Processing" 20 hist_has 1002 "job 1002-1-press: Queued (2) -> Processing (15)"

# ---- hostile files planted on the share ------------------------------------------
ln -sf /etc/passwd "$H/press/1002-2-press/job.xml.lnk"
mv -f "$H/press/1002-2-press/job.xml.lnk" "$H/press/1002-2-press/job.xml"
until_ "a symlink job.xml is refused, not followed" 20 hist_has 1002 "job 1002-2-press: job.xml refused.*symlink"
check "nothing of /etc/passwd reaches the history" sh -c "! grep -q 'root:' '$P/orders/1002/history'"
rm -f "$H/press/1002-2-press/job.xml"

printf 'not a job\n' >"$T/x"
smbc "put $T/x ../x" >/dev/null
smbc "put $T/x 1002-1-press/../../x" >/dev/null
check "a file named ../x stays inside the share" sh -c "! test -e '$C/x' && test -f '$H/x'"
check "spoold leaves it alone" test -f "$H/x"

head -c 10485760 /dev/zero | tr '\0' ' ' >"$T/big.xml"
check "the printer puts a 10 MiB job.xml" smb_put "$T/big.xml" "$(job 1002 1 covers)/job.xml"
until_ "it is refused unread, as too big" 20 hist_has 1002 "job 1002-1-covers: job.xml refused.*"
check "spoold is still running" kill -0 "$SPOOLD_PID"

cat >"$T/xxe.xml" <<'EOF'
<?xml version="1.0"?>
<!DOCTYPE PrintJob [ <!ENTITY x SYSTEM "file:///etc/passwd"> ]>
<PrintJob version="1"><OrderProductPrintStatus><OrderStatus>&x;</OrderStatus></OrderProductPrintStatus></PrintJob>
EOF
sleep 1.1    # a new mtime second for the same file
check "the printer puts an XXE job.xml" smb_put "$T/xxe.xml" "$(job 1002 1 covers)/job.xml"
until_ "it is refused at its DOCTYPE" 20 hist_has 1002 "job 1002-1-covers: job.xml refused.*DOCTYPE"
check "no entity was read" sh -c "! grep -q 'root:' '$P/orders/1002/history'"
check "1002 is still queued after all that" in_state "$P" 1002 queued

# ---- a failure, with a message for the admin ----------------------------------
check "the printer reports a failure with a message" pset "$(job 1002 1 press)" 10 "Picture missing on page 3<br/>Bcc: evil@example.com"
until_ "one failed item fails the order" 20 in_state "$P" 1002 failed
has "the message is in the history" "$P/orders/1002/history" "printer	queued	failed	item 1: Picture missing on page 3"
until_ "the admin gets a printer-failure mail" 20 arrived "Printer failure: order 1002"
f=$(first "Printer failure: order 1002")
headers "$f" >"$T/h"
has "to the admin" "$T/h" "^To: admin@print.example$"
check "the message adds no header" sh -c "! grep -qi '^Bcc:' '$T/h'"
body "$f" >"$T/b"
has "the body has the printer's message, <br/> as a line break" "$T/b" "^Picture missing on page 3$"
has "and the item" "$T/b" "item 1"

# ---- a page that does not stitch: the admin hears qpdf's message ----------------
cp -r "$EX/print/1001" "$T/bad"
printf '%%PDF-1.4\nthis page is damaged\n' >"$T/bad/items/1/page-003.pdf"
rc 0 "submit 1004, with a damaged page" $S -d "$P" submit --id 1004 "$T/bad"
until_ "the stitch fails and 1004 goes to failed" 30 in_state "$P" 1004 failed
until_ "the admin gets a stitching-failure mail" 20 arrived "Stitching failed: order 1004"
f=$(first "Stitching failed: order 1004")
headers "$f" >"$T/h"
has "to the admin" "$T/h" "^To: admin@print.example$"
body "$f" >"$T/b"
has "with qpdf's message, naming the page" "$T/b" "page-003.pdf"
check "nothing of 1004 was published" sh -c "! ls '$H/press' '$H/covers' | grep -q 1004"

# ---- no order is lost ------------------------------------------------------------
check "spoold stops" stop_spoold
rc 0 "the spool is clean" $S -d "$P" check
check "1001 shipping, 1002 and 1004 failed, nothing else" sh -c "[ \$(find '$P/state' -name '*.order' | wc -l) -eq 3 ] && test -f '$P/state/shipping/1001.order' && test -f '$P/state/failed/1002.order' && test -f '$P/state/failed/1004.order'"
done_testing
