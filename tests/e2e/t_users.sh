# Several users, as a shop runs spool: INSTALL's deployment, step by step, with users
# and groups made for the run.  spoold runs as the user spool; an admin with umask 022
# submits and moves orders with spoolctl and plain mv; spoold stitches and publishes
# into a hot folder on a share served by a private smbd; a printer logs in to Samba
# as itself and edits job.xml.  Every file the admin made, and every job file, has the
# spool's mode and group, and the printer's edits are accepted.  Root only: it makes
# users and groups (with names unique to the run, removed at exit however it ends).
. "$SRCDIR/tests/e2e/lib.sh"
. "$SRCDIR/tests/e2e/smb.sh"

if [ "$(id -u)" -ne 0 ]; then
	skip "several users: spoold as spool, an admin, a printer over Samba" "needs root"
	done_testing
	exit 0
fi
for c in useradd groupadd userdel groupdel usermod setpriv smbd smbclient smbpasswd; do
	if ! command -v "$c" >/dev/null; then
		skip "several users: spoold as spool, an admin, a printer over Samba" "no $c"
		done_testing
		exit 0
	fi
done

# names unique to the run, so nothing real on the machine is touched
x=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
SU=su$x SG=su$x ADM=sa$x PRN=sp$x P1=sq$x
made_users= made_groups=
cleanup() {
	kill_spoold
	smb_stop
	for u in $made_users; do userdel "$u" 2>/dev/null; done
	for g in $made_groups; do getent group "$g" >/dev/null && groupdel "$g" 2>/dev/null; done
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# The test's folder is root's, 0700: the users must get through it to the spool.
chmod 0711 "$T"
case $T in /tmp/*/*) chmod o+x "$(dirname "$T")" ;; esac
# spoolctl and spoold as the users may run them, and the example bundles they read
mkdir -m 0755 "$T/bin" "$T/b"
cp "$S" "$D" "$T/bin/" && chmod 0755 "$T/bin/spoolctl" "$T/bin/spoold"
for id in 1001 1002 1003; do cp -R "$EX/print/$id" "$T/b/"; done
chmod -R a+rX "$T/b"
CTL=$T/bin/spoolctl
C=$T/srv/spool
P=$C/print
SH=$T/srv/share
mkdir -p "$T/srv" && chmod 0755 "$T/srv"

# as USER COMMAND...: run a command as that user, with its groups from /etc/group
as() { _u=$1; shift; setpriv --reuid="$_u" --regid="$(id -g "$_u")" --init-groups "$@"; }
# adm COMMAND: a shell command as the admin, with umask 022, in the spool
adm() { as "$ADM" env SPOOL_DIR="$P" CTL="$CTL" sh -c "umask 022; $1"; }

# ---- 1. the users and groups ----------------------------------------------------
rc 0 "groupadd the spool's group" groupadd --system "$SG" && made_groups="$made_groups $SG"
rc 0 "useradd the user spool, which cannot log in" useradd --system --gid "$SG" --no-create-home \
    --home-dir /nonexistent --shell /usr/sbin/nologin "$SU" && made_users="$made_users $SU"
rc 0 "groupadd the printers' group" groupadd --system "$PRN" && made_groups="$made_groups $PRN"
rc 0 "the user spool joins the printers" usermod -a -G "$PRN" "$SU"
rc 0 "an admin in the spool's group" useradd -M -s /usr/sbin/nologin -G "$SG" "$ADM" &&
    made_users="$made_users $ADM" made_groups="$made_groups $ADM"

# ---- 2. the printers' share -----------------------------------------------------
rc 0 "the share's folders: the printers' group, setgid" install -d -o "$SU" -g "$PRN" -m 2770 \
    "$SH" "$SH/press" "$SH/covers"
rc 0 "a printer: a user in the printers' group" useradd -M -s /usr/sbin/nologin -G "$PRN" "$P1" &&
    made_users="$made_users $P1" made_groups="$made_groups $P1"
# smbd on loopback, with the [hot] share of smb.conf.example, the names made above
_sd=$T/smb
mkdir -p "$_sd/private" "$_sd/lock" "$_sd/state" "$_sd/cache" "$_sd/pid" "$_sd/ncalrpc"
SMB_PORT=4450
while ! _smb_port_free "$SMB_PORT" && [ "$SMB_PORT" -lt 4500 ]; do SMB_PORT=$((SMB_PORT + 1)); done
{
	smb_global "$_sd" "$SMB_PORT" Never
	sed -n '/^\[hot\]/,$p' "$SRCDIR/spool-layout/smb.conf.example" | grep -v '^[[:space:]]*#' |
	    sed -e "s|/srv/share|$SH|" -e "s|@printers|@$PRN|" -e "s|= printers$|= $PRN|"
} >"$_sd/smb.conf"
has "the share lets in the printers' group only" "$_sd/smb.conf" "valid users = @$PRN$"
has "and forces their group" "$_sd/smb.conf" "force group = $PRN$"
rc 0 "smbpasswd -a the printer" sh -c "printf 'pw\\npw\\n' | smbpasswd -c '$_sd/smb.conf' -s -a '$P1'"
smbd -s "$_sd/smb.conf" -l "$_sd" --foreground </dev/null >>"$_sd/log.smbd" 2>&1 &
SMB_PID=$!
# pr CMD: smbclient as the printer, logged in as itself; fails on any NT_STATUS error
pr() {
	_o=$(smbclient //127.0.0.1/hot -p "$SMB_PORT" -U "$P1%pw" -c "$1" 2>&1)
	_rc=$?
	printf '%s\n' "$_o"
	[ "$_rc" -eq 0 ] || return "$_rc"
	case $_o in *NT_STATUS_*) return 1 ;; esac
}
until_ "smbd serves the share to the printer" 20 pr ls

# ---- 3. the spool, made by the user spool -------------------------------------------
rc 0 "the spool's parent folder" install -d -o "$SU" -g "$SG" -m 0750 "$C"
sed -e "s|^path = hot/press$|path = $SH/press|" -e "s|^path = hot/covers$|path = $SH/covers|" \
    "$SRCDIR/spool-layout/workflows/print.conf" >"$T/print.conf"
chmod 0644 "$T/print.conf"
rc 0 "the user spool makes it: init --group" as "$SU" sh -c "umask 022; '$CTL' -d '$P' init --group '$SG' '$T/print.conf'"
check "of the spool's group, setgid and group rwx" test "$(stat -c '%a %G' "$P")" = "2770 $SG"
rc 64 "init --group of no such group is a usage error" as "$SU" "$CTL" -d "$C/x" init --group "no-$x" print
has "which says so" "$T/err" "unknown group 'no-$x'"
mkdir -m 0777 "$T/free"
rc 77 "init --group of a group the admin is not in is refused" adm "'$CTL' -d '$T/free/y' init --group '$PRN' print"
has "with the system's reason" "$T/err" "cannot give $T/free/y the group $PRN: Operation not permitted"

# ---- 5. check, 6. run spoldd as the user spool ---------------------------------------
rc 0 "spoold -n as the user spool" as "$SU" "$T/bin/spoold" -n -d "$P"
rc 0 "spoolctl check as the user spool" as "$SU" "$CTL" -d "$P" check
# what the unit does: User=spool, its groups, UMask=0007
cat >"$T/bin/spoold-as" <<EOF
#!/bin/sh
umask 0007
exec setpriv --reuid=$SU --regid=$(id -g "$SU") --init-groups "$T/bin/spoold" "\$@"
EOF
chmod 0755 "$T/bin/spoold-as"
D=$T/bin/spoold-as
# without spoold the admin's submit writes the spool itself, as the admin
rc 0 "the admin submits 1003 (uploading) while spoold is down" adm "\$CTL submit '$T/b/1003'"
check "spoold starts as the user spool" start_spoold "$P"
check "and runs as it" test "$(ps -o user= -p "$SPOOLD_PID")" = "$SU"

# ---- the admin, umask 022: submit, spoolctl mv, plain mv ---------------------------
rc 0 "the admin submits 1001 (paid)" adm "\$CTL submit '$T/b/1001'"
rc 0 "and 1002 (unpaid)" adm "\$CTL submit '$T/b/1002'"
has "spoold took it over its socket, as the admin" "$P/orders/1001/history" "	admin:$ADM	-	[a-z]+	submitted"
rc 0 "spoolctl mv: 1002 is paid" adm "\$CTL mv 1002 queued -m 'bank transfer in'"
rc 0 "plain mv: 1003 is cancelled by hand" adm "mv -n '$P/state/uploading/1003.order' '$P/state/cancelled/'"
until_ "spoold records the move by hand" 20 grep -q "	hand	uploading	cancelled	moved by hand" "$P/orders/1003/history"

# ---- spoold, as the user spool, stitches and publishes --------------------------------
until_ "1001's three jobs appear on the share" 30 sh -c "test -f '$SH/press/1001-1-press/job.xml' && test -f '$SH/covers/1001-1-covers/job.xml' && test -f '$SH/press/1001-2-press/job.xml'"
until_ "and 1002's" 30 test -f "$SH/press/1002-1-press/job.xml"
has "the history says spoold published them" "$P/orders/1001/history" "	system	queued	queued	item 1: job 1001-1-press published to queue press"
check "the order's status file is spoold's, as the user spool" test "$(stat -c %U "$P/orders/1001/status")" = "$SU"
check "so are the chunks it stitched" test "$(stat -c '%U %a %G' "$P/orders/1001/items/1/chunks/content.pdf")" = "$SU 660 $SG"

# every file and folder the admin's commands made: the spool's mode and group
find "$P" -user "$ADM" \( -type d ! -perm 2770 -o -type f ! -perm 0660 -o ! -group "$SG" \) \
    -printf '%p %m %g\n' >"$T/bad"
check "the admin made files and folders (umask 022)" sh -c "find '$P' -user '$ADM' | grep -q ."
lines "each is 2770 or 0660, of the spool's group" "$T/bad" 0
sed 's/^/#   /' "$T/bad" | head -5
check "the order file moved by hand keeps its mode" test "$(stat -c '%a %G' "$P/state/cancelled/1003.order")" = "660 $SG"
# and the whole spool, whoever made it
find "$P" \( -type d ! -perm 2770 -o -type f ! -perm 0660 -o ! -group "$SG" \) \
    -printf '%p %m %g\n' >"$T/bad"
lines "everything in the spool is 2770 or 0660, of the spool's group" "$T/bad" 0
sed 's/^/#   /' "$T/bad" | head -5

# the job files on the share: the printers' group; job.xml writable, the rest readable
for j in press/1001-1-press covers/1001-1-covers press/1001-2-press; do
	check "$j: 2770, the printers' group" test "$(stat -c '%a %G' "$SH/$j")" = "2770 $PRN"
	check "$j/job.xml: 0660, the printers' group" test "$(stat -c '%a %G' "$SH/$j/job.xml")" = "660 $PRN"
done
find "$SH/press/1001-1-press" "$SH/covers/1001-1-covers" -type f ! -name job.xml \
    \( ! -perm 0640 -o ! -group "$PRN" \) -printf '%p %m %g\n' >"$T/bad"
lines "the PDFs, invoice.pdf and upload.xml: 0640, the printers' group" "$T/bad" 0
sed 's/^/#   /' "$T/bad" | head -5

# ---- the printer, as itself over Samba ------------------------------------------------
# pset JOB STATUS: download job.xml, set OrderStatus, upload it
pset() {
	rm -f "$T/job.xml"
	pr "get $1/job.xml $T/job.xml" >/dev/null || return 1
	sed -i "s|<OrderStatus>[0-9]*</OrderStatus>|<OrderStatus>$2</OrderStatus>|" "$T/job.xml"
	pr "put $T/job.xml $1/job.xml" >/dev/null
}
check "the printer reads a chunk" pr "get press/1001-1-press/1001-1-content.pdf $T/content.pdf"
rc 0 "which passes qpdf --check" qpdf --check "$T/content.pdf"
fails() { ! "$@" >/dev/null; }
check "but cannot change it" fails pr "put $T/content.pdf press/1001-1-press/1001-1-content.pdf"
check "what it saves is its own, in the printers' group, 0660 (create mask)" pr "put $T/content.pdf press/1001-1-press/note.pdf"
check "... and so it is" test "$(stat -c '%U %G %a' "$SH/press/1001-1-press/note.pdf")" = "$P1 $PRN 660"
check "a folder it makes is 2770 (directory mask), in the printers' group" pr "mkdir press/1001-1-press/proofs"
check "... and so it is" test "$(stat -c '%G %a' "$SH/press/1001-1-press/proofs")" = "$PRN 2770"
for j in press/1001-1-press covers/1001-1-covers press/1001-2-press; do
	check "the printer sets $j to Processing" pset "$j" 15
done
until_ "spoold accepts it: 1001 moves to processing" 20 in_state "$P" 1001 processing
has "the history has the printer's edit" "$P/orders/1001/history" "job 1001-1-press: Queued \(2\) -> Processing \(15\)"
for j in press/1001-1-press covers/1001-1-covers press/1001-2-press; do
	check "the printer sets $j to Shipping" pset "$j" 3
done
until_ "and to shipping" 20 in_state "$P" 1001 shipping

# a job.xml the printer saves anew is its own file; spoold writes its error into it
pr "get press/1002-1-press/job.xml $T/job.xml" >/dev/null
sed -i "s|<OrderStatus>[0-9]*</OrderStatus>|<OrderStatus>3</OrderStatus>|" "$T/job.xml"
check "the printer saves a new job.xml that jumps to Shipping" pr "del press/1002-1-press/job.xml; put $T/job.xml press/1002-1-press/job.xml"
until_ "spoold refuses it in the history" 20 grep -q "refused OrderStatus '3'" "$P/orders/1002/history"
pr "get press/1002-1-press/job.xml $T/job.xml" >/dev/null
has "and writes the error into the printer's job.xml" "$T/job.xml" '<OrderStatusError refused="3"'
check "which stays group-writable" test "$(stat -c '%a %G' "$SH/press/1002-1-press/job.xml")" = "660 $PRN"
check "so the printer can edit it again: Processing" pset press/1002-1-press 15
until_ "which spoold accepts" 20 grep -q "job 1002-1-press: Queued (2) -> Processing (15)" "$P/orders/1002/history"

# ---- at the end ---------------------------------------------------------------------
check "spoold stops" stop_spoold
rc 0 "spoolctl check, by the admin, is clean" adm "\$CTL check"
lines "and says nothing" "$T/out" 0
done_testing
