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
has "a Message-ID" "$T/h" "^Message-ID: <[^ @>]+@print.example>$"
has "MIME, UTF-8, quoted-printable" "$T/h" "^Content-Type: text/plain; charset=UTF-8$"
has "the envelope names the customer alone" "$m" "^X-Smtpd-Envelope: from=<shop@print.example> to=<jane.doe@example.com>[[:space:]]*$"
body "$m" >"$T/b"
has "the body says hello to her" "$T/b" "^Hello Jane Doe,$"
has "and links the order" "$T/b" "https://shop.print.example/orders/1001"
rc 0 "its history" $S -d "$P" history 1001
has "records the mail queued" "$T/out" "mail status to the customer <jane.doe@example.com> queued as outbox/new/1001\."
rc 0 "outbox ls" $S -d "$P" outbox ls
has "shows it sent" "$T/out" "^sent +1001 "

rc 0 "the printer takes it (admin moves it to processing)" $S -d "$P" mv 1001 processing -m "on press 2"
until_ "the customer hears: Processing" 20 arrived "Your order 1001: Processing"
m=$(first "Your order 1001: Processing")
body "$m" >"$T/b"
has "with what the mover wrote" "$T/b" "^on press 2$"

# shipping: the files are purged after 8s here, with reminders 6s and 4s before
rc 0 "shipping" $S -d "$P" mv 1001 shipping
until_ "two purge reminders, then the mail that it is closed" 40 arrived "Your order 1001: Order closed"
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
rc 0 "a comment with CR/LF and a Bcc line" $S -d "$P" mv 1102 processing -m "$(printf 'ok\r\nBcc: evil@attacker.example\r\n\r\nforged')"
until_ "the mail arrives" 20 arrived "Your order 1102: Processing"
m=$(first "Your order 1102: Processing")
headers "$m" >"$T/h"
check "no Bcc header" sh -c "! grep -qi '^bcc:' '$T/h'"
has "one recipient in the envelope" "$m" "^X-Smtpd-Envelope: from=<shop@print.example> to=<jane.doe@example.com>[[:space:]]*$"
check "every header line is a known one or a fold" sh -c "! grep -Ev '^(Date|From|To|Reply-To|Subject|Message-ID|MIME-Version|Content-Type|Content-Transfer-Encoding|Auto-Submitted): |^[ \t]' '$T/h' | grep -q ."
check "no line over 78 characters" sh -c "! awk 'length > 79' '$m' | grep -q ."
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
