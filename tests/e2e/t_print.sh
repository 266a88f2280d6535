# The print workflow's stitching, through spoold: an order entering queued has the
# page PDFs of each item stitched into its chunk PDFs (libqpdf, in a child process);
# the chunks pass qpdf --check with the expected page counts; a corrupt page fails
# the order with qpdf's message in the history; moving it back to queued stitches
# again; the same input stitches to the same bytes.  Then the print queues: jobs
# published whole, cancel (printers told to stop, PDFs deleted), reorder (a copy with
# hard-linked uploads), close, spoolctl rm of an item, and a delivery window.
. "$SRCDIR/tests/e2e/lib.sh"
C=$T/print
P=$C/spool
mkdir -p "$C"
rc 0 "init a print spool" $S -d "$P" init print
check "spoold starts" start_spoold "$P"

rc 0 "submit 1001 (paid: straight to queued)" $S -d "$P" submit "$EX/print/1001"
stitched() { grep -q "attempt 1 succeeded" "$P/orders/1001/history"; }
until_ "its items are stitched" 30 stitched
ch=$P/orders/1001/items
check "item 1 has a cover chunk and a content chunk" test -f "$ch/1/chunks/cover.pdf" -a -f "$ch/1/chunks/content.pdf"
check "item 2 has its content chunk" test -f "$ch/2/chunks/content.pdf"
for f in "$ch"/1/chunks/cover.pdf "$ch"/1/chunks/content.pdf "$ch"/2/chunks/content.pdf; do
	rc 0 "qpdf --check passes on ${f#$P/}" qpdf --check "$f"
done
check "the cover has 1 page" test "$(qpdf --show-npages "$ch/1/chunks/cover.pdf")" -eq 1
check "the content of item 1 has 3 pages" test "$(qpdf --show-npages "$ch/1/chunks/content.pdf")" -eq 3
check "the content of item 2 has 1 page" test "$(qpdf --show-npages "$ch/2/chunks/content.pdf")" -eq 1
check "nothing is left in tmp/" sh -c "! ls -A '$P/tmp' | grep -q ."
cp "$ch/1/chunks/content.pdf" "$T/first.pdf"

# a corrupt page: the order fails (10), with qpdf's message
rc 0 "submit 1005, a copy of 1001" $S -d "$P" submit --id 1005 "$EX/print/1001"
until_ "1005 is stitched too" 30 grep -q "attempt 1 succeeded" "$P/orders/1005/history"
# and published: a move while the publish runs would leave it one publish short below
until_ "and published" 30 grep -q "job 1005-1-press published" "$P/orders/1005/history"
rc 0 "the admin sends it to failed" $S -d "$P" mv 1005 failed -m "recheck pages"
printf 'this is not a PDF\n' >"$P/orders/1005/items/1/page-003.pdf"
rc 0 "and back to queued, with page 3 now corrupt" $S -d "$P" requeue 1005
until_ "the stitch fails and the order goes to failed" 30 sh -c "grep -q 'failed	.*page-003.pdf' '$P/orders/1005/history' && test -f '$P/state/failed/1005.order'"
has "the history names the page and qpdf's complaint" "$P/orders/1005/history" "attempt 1 of 1 failed: item 1: page-003.pdf: .+"
check "no chunk of the item is left" sh -c "! ls '$P/orders/1005/items/1/chunks/' 2>/dev/null | grep -q pdf"
rc 0 "show --json 1005" $S -d "$P" show --json 1005
json "show gives the error" "$T/out" "'page-003.pdf' in d['last_error']"

# moving back to queued stitches again, and the same input gives the same bytes
cp "$EX/print/1001/items/1/page-003.pdf" "$P/orders/1005/items/1/page-003.pdf"
rc 0 "the page is mended and the admin requeues 1005" $S -d "$P" requeue 1005
until_ "it is stitched and published again" 30 sh -c "[ \$(grep -c 'job 1005-1-press published' '$P/orders/1005/history') -ge 2 ]"
check "to the same bytes as 1001's" cmp -s "$T/first.pdf" "$P/orders/1005/items/1/chunks/content.pdf"

# ---- the print queues: published whole, then the rest of the status table ----------
until_ "1001's jobs are in the hot folders" 30 test -f "$P/hot/press/1001-2-press/job.xml"
check "the cover went to its own queue" test -f "$P/hot/covers/1001-1-covers/1001-1-cover.pdf"
# (1005, queued again above, may be publishing right now: its staging is its own)
check "nothing half-made of 1001 is in a hot folder" sh -c "! ls -A '$P/hot/press' '$P/hot/covers' | grep -q '^\.1001-'"
has "the history says where each job went" "$P/orders/1001/history" "item 2: job 1001-2-press published to queue press"
setst() { sed -i "s|<OrderStatus>[0-9]*</OrderStatus>|<OrderStatus>$2</OrderStatus>|" "$P/hot/$1/job.xml"; }
setst press/1001-1-press 15
until_ "a printer's Processing is accepted" 20 grep -q "1001-1-press: Queued (2) -> Processing (15)" "$P/orders/1001/history"
check "a printer's job of 1001 in production, the others not: 1001 stays queued" in_state "$P" 1001 queued
rc 0 "the admin cancels 1001" $S -d "$P" cancel 1001
until_ "the printers not yet printing are told to stop" 20 grep -q "job 1001-2-press: the printer is told to stop" "$P/orders/1001/history"
has "job.xml says Cancelled (7)" "$P/hot/press/1001-2-press/job.xml" "<OrderStatus>7</OrderStatus>"
has "the printer already printing is not" "$P/orders/1001/history" "job 1001-1-press is being printed already"
until_ "the PDFs are deleted" 20 grep -q "purged 5 upload PDF(s) and 6 print PDF(s)" "$P/orders/1001/history"
check "no PDF of 1001 is left but the invoice" sh -c "! find '$P/orders/1001' '$P/hot' -path '*1001*' -name '*.pdf' ! -name invoice.pdf | grep -q ."

# reordering: a copy with the same uploads, and the original back to shipping
check "1005 is shipped (moved by hand)" mv "$P/state/queued/1005.order" "$P/state/shipping/1005.order"
rc 0 "the store reorders 1005" $S -d "$P" reorder 1005
until_ "the copy is made" 30 grep -q "copied into the new order" "$P/orders/1005/history"
R=$(sed -n 's/.*copied into the new order \(1005-r[0-9]*\), in unpaid$/\1/p' "$P/orders/1005/history")
# named after the visit that made it, the 7th: queued, failed, queued, failed,
# queued, shipping, reordering; a copy run again after a crash finds it made
check "the copy is named after the reordering visit ($R)" test "$R" = 1005-r7
check "the copy $R waits for its payment" in_state "$P" "$R" unpaid
until_ "1005 is back in shipping" 20 in_state "$P" 1005 shipping
check "the copy's uploads are the original's files (hard links)" test "$P/orders/$R/items/1/page-001.pdf" -ef "$P/orders/1005/items/1/page-001.pdf"
rc 0 "closing 1005" $S -d "$P" close 1005
until_ "closed: its PDFs go" 20 grep -q "purged .* upload PDF(s)" "$P/orders/1005/history"
check "the copy keeps its uploads" test -f "$P/orders/$R/items/1/page-001.pdf"
check "the order data and invoice stay" test -f "$P/orders/1005/order.xml" -a -f "$P/orders/1005/invoice.pdf"
rc 0 "spoolctl rm $R/2 deletes item 2's PDFs" $S -d "$P" rm $R/2
check "its page is gone" test ! -e "$P/orders/$R/items/2/page-001.pdf"
check "spoold stops" stop_spoold
rc 0 "the spool is clean" $S -d "$P" check

# ---- a delivery window: the queue gets its jobs in a batch at that time ----------------
W=$C/window
export TZ=UTC
now=$(date -u +%H:%M)
shut=$(date -u -d '+3 hours' +%H:%M)
sed '/^\[queue covers\]/,$d' "$SRCDIR/spool-layout/workflows/print.conf" >"$T/w.conf"
printf '[queue covers]\npath = hot/covers\nchunks = cover\nwindow = %s\n' "$shut" >>"$T/w.conf"
sed -i 's/^timer = 7d delete/timer = 2s delete/' "$T/w.conf"
rc 0 "a spool whose cover queue takes jobs at $shut (UTC), PurgeIncompleteUploadDays 2s" $S -d "$W" init "$T/w.conf"
start_spoold "$W"
rc 0 "submit 1001" $S -d "$W" submit "$EX/print/1001"
rc 0 "submit 1003, whose upload is not complete" $S -d "$W" submit "$EX/print/1003"
check "it waits in uploading" in_state "$W" 1003 uploading
until_ "the content jobs go at once" 30 test -f "$W/hot/press/1001-2-press/job.xml"
until_ "the cover job waits for the window" 20 grep -q "publishing again at the window" "$W/orders/1001/history"
check "it is not in the hot folder" test ! -e "$W/hot/covers/1001-1-covers"
until_ "after PurgeIncompleteUploadDays 1003 is deleted with its files" 20 sh -c "! test -e '$W/orders/1003' && ! test -e '$W/state/uploading/1003.order'"
has "the deletion is logged" "$W/history" "1003	system	uploading	-	removed: after 2s in uploading"
check "and no mail is queued for it" sh -c "! ls '$W/outbox/new' | grep -q '^1003'"
rc 0 "show --json 1001" $S -d "$W" show --json 1001
json "the order is due at the window" "$T/out" "d['due'][11:16] == '$shut'"
check "spoold stops" stop_spoold
sed -i "s/^window = .*/window = $now/" "$W/spool.conf"
start_spoold "$W"
until_ "with the window open, the cover job goes" 30 test -f "$W/hot/covers/1001-1-covers/job.xml"
check "spoold stops" stop_spoold

# polling (a spool on a network file system): a job.xml counts once it has been still
check "spoold starts, polling every second" start_spoold "$W" --poll 1
for j in press/1001-1-press press/1001-2-press covers/1001-1-covers; do
	sed -i "s|<OrderStatus>[0-9]*</OrderStatus>|<OrderStatus>15</OrderStatus>|" "$W/hot/$j/job.xml"
done
until_ "the printers' saves are found by polling: 1001 is in processing" 30 in_state "$W" 1001 processing
check "spoold stops" stop_spoold
done_testing
