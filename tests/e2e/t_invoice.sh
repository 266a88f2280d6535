# The invoice, through spoold: an order that came without one gets an invoice.pdf in
# each of its print jobs, drawn with cairo and Pango, with the shop of [shop] (name,
# address, logo, footer); read as its readers read it: pdftotext holds every item's
# quantity, unit price and line total and a total equal to their sum, pdffonts lists
# only embedded fonts and says nothing on stderr, qpdf --check passes, and Polish,
# Greek and Japanese names come out exactly.  An order with its own invoice keeps it;
# an order whose figures do not add up is refused at submit.
. "$SRCDIR/tests/e2e/lib.sh"
C=$T/invoice
P=$C/spool
mkdir -p "$C"

# a PNG logo, made here: 120 x 40 pixels of one colour
/usr/bin/python3 - "$C/logo.png" <<'EOF'
import struct, sys, zlib
w, h = 120, 40
raw = b"".join(b"\0" + bytes([30, 80, 160]) * w for _ in range(h))
def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
open(sys.argv[1], "wb").write(b"\x89PNG\r\n\x1a\n" +
    chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
    chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
EOF
cp "$SRCDIR/spool-layout/workflows/print.conf" "$T/w.conf"
cat >>"$T/w.conf" <<'EOF'

[shop]
name = Harbour Prints Ltd
address = 1 Quay Street
address = Bristol BS1 4RN
logo = logo.png
footer = IBAN GB33 BUKB 2020 1555 5555 55
EOF
rc 0 "init a print spool with a [shop]" $S -d "$P" init "$T/w.conf"
# in the spool, so of the spool's mode (spoolctl check says so otherwise)
install -m 0664 "$C/logo.png" "$P/logo.png"
check "spoold starts" start_spoold "$P"

# readers INVOICE: the checks every invoice passes, as its readers make them
readers() {
	rc 0 "qpdf --check passes on ${1#$P/}" qpdf --check "$1"
	rc 0 "pdffonts reads it" pdffonts "$1"
	lines "... and says nothing on stderr" "$T/err" 0
	tail -n +3 "$T/out" >"$T/fonts"
	check "... and lists its fonts" test -s "$T/fonts"
	# name type encoding emb sub uni object ID: emb is the fifth column from the right
	check "... every one embedded" awk '$(NF-4) != "yes" { exit 1 }' "$T/fonts"
	pdftotext -layout "$1" "$T/text"
}

# ---- 1002: 250 flyers at 0.12, VAT included; paid by bank transfer -------------------
rc 0 "submit 1002 (it waits in unpaid)" $S -d "$P" submit "$EX/print/1002"
rc 0 "the admin has the money: 1002 to queued" $S -d "$P" mv 1002 queued
until_ "1002 is stitched and published" 30 grep -q "job 1002-1-press published" "$P/orders/1002/history"
I=$P/hot/press/1002-1-press/invoice.pdf
check "the job has an invoice.pdf" test -f "$I"
check "... of mode 0640, as every file for the printers" test "$(stat -c %a "$I")" = 640
readers "$I"
has "the shop's name" "$T/text" "Harbour Prints Ltd"
has "... and its address" "$T/text" "Bristol BS1 4RN"
has "... and its footer" "$T/text" "IBAN GB33 BUKB 2020 1555 5555 55"
pdfimages -list "$I" | tail -n +3 >"$T/img"
lines "... and its logo" "$T/img" 1
has "the customer's billing address" "$T/text" "Calle Mayor 5"
has "the customer's name, as written" "$T/text" "Tomás Álvarez"
has "the order and its date" "$T/text" "Invoice no\. +1002"
has "the table's header" "$T/text" "Item +Quantity +Unit price +Amount"
has "the item: the product's name, 250 at 0.12, 30.00" "$T/text" "^ *Flyer A5, both sides +250 +0\.12 +30\.00 *$"
has "the VAT in the prices" "$T/text" "VAT 19% \(included\) +4\.79 *$"
has "the total, the sum of the line" "$T/text" "Total EUR +30\.00 *$"

# ---- names in other scripts: a copy of 1002 with a Polish, a Greek, a Japanese name ----
cp -R "$EX/print/1002" "$C/b1010"
cat >"$C/b1010/order.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<order xmlns="urn:spool:order:1" id="1002" workflow="print">
  <placed>2026-11-24T12:00:00Z</placed>
  <customer>
    <name>Zażółć gęślą jaźń</name>
    <email>zazolc@example.pl</email>
  </customer>
  <shipping>
    <line>Ελληνικά Ονόματα</line>
    <line>日本語の名前</line>
  </shipping>
  <payment method="paypal" status="paid"/>
  <item id="1" product="flyer-a5" quantity="3" price="7.33">
    <title>Борис Пастернак</title>
  </item>
  <tax name="Podatek VAT" rate="23">5.06</tax>
  <total currency="PLN">27.05</total>
</order>
EOF
rc 0 "submit 1010, paid" $S -d "$P" submit --id 1010 "$C/b1010"
until_ "1010 is published" 30 grep -q "job 1010-1-press published" "$P/orders/1010/history"
readers "$P/hot/press/1010-1-press/invoice.pdf"
for name in "Zażółć gęślą jaźń" "Ελληνικά Ονόματα" "日本語の名前" "Борис Пастернак"; do
	has "'$name' comes out exactly" "$T/text" "(^| )$name( |$)"
done
has "a Japanese font is embedded for it" "$T/fonts" "IPA|CJK|Gothic|Mincho"
has "3 at 7.33 is 21.99" "$T/text" " 3 +7\.33 +21\.99 *$"
has "the tax on top" "$T/text" "Podatek VAT 23% +5\.06 *$"
has "the total: 21.99 and 5.06" "$T/text" "Total PLN +27\.05 *$"

# ---- an order with its own invoice keeps it ---------------------------------------------
rc 0 "submit 1001, which brings its own invoice.pdf" $S -d "$P" submit "$EX/print/1001"
until_ "1001 is published" 30 grep -q "job 1001-2-press published" "$P/orders/1001/history"
check "its jobs have the shop's invoice, byte for byte" cmp -s "$EX/print/1001/invoice.pdf" "$P/hot/press/1001-2-press/invoice.pdf"

# ---- figures that do not add up: refused, with what they should be ------------------
cp -R "$EX/print/1002" "$C/b1011"
sed -i 's/price="0.12"/price="29.00"/; s/>30.00</>29.00</' "$C/b1011/order.xml"
rc 65 "submit refuses 250 at 29.00 with a total of 29.00" $S -d "$P" submit --id 1011 "$C/b1011"
has "... and says what the lines add up to" "$T/err" "total 29.00 is not the sum of the items' line totals \(quantity x unit price\): 7250.00"
check "nothing of it is in the spool" test ! -e "$P/orders/1011"

check "spoold stops" stop_spoold
rc 0 "the spool is clean" $S -d "$P" check
done_testing
