# The print workflow's stitching, through spoold: an order entering queued has the
# page PDFs of each item stitched into its chunk PDFs (libqpdf, in a child process);
# the chunks pass qpdf --check with the expected page counts; a corrupt page fails
# the order with qpdf's message in the history; moving it back to queued stitches
# again; the same input stitches to the same bytes.
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
until_ "it is stitched again" 30 sh -c "[ \$(grep -c 'succeeded' '$P/orders/1005/history') -ge 2 ]"
check "to the same bytes as 1001's" cmp -s "$T/first.pdf" "$P/orders/1005/items/1/chunks/content.pdf"
check "spoold stops" stop_spoold
rc 0 "the spool is clean" $S -d "$P" check
done_testing
