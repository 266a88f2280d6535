# make install puts everything where PREFIX says, and a program builds against the
# installed libspool through its pkg-config file.
. "$SRCDIR/tests/e2e/lib.sh"
pre=$T/prefix
rc 0 "make install" make -C "$SRCDIR" -s install PREFIX="$pre"
for f in bin/spoolctl sbin/spoold share/man/man8/spoold.8 lib/systemd/system/spoold@.service \
	sbin/spoolweb share/man/man8/spoolweb.8 lib/systemd/system/spoolweb@.service \
	share/spool/examples/handlers/pos-send lib/libspool.a lib/libspool.so.0 lib/libspool.so include/spool.h \
	lib/pkgconfig/libspool.pc share/man/man1/spoolctl.1 share/man/man5/spool-layout.5 \
	share/man/man5/spool.conf.5 share/spool/workflows/print.conf share/spool/schemas/order.xsd \
	share/spool/examples/print/1001/order.xml share/spool/examples/smb.conf.example \
	share/bash-completion/completions/spoolctl; do
	check "installs $f" test -e "$pre/$f"
done
rc 0 "DESTDIR stages the same tree" make -C "$SRCDIR" -s install PREFIX=/usr DESTDIR="$T/dest"
check "under DESTDIR" test -x "$T/dest/usr/bin/spoolctl"
has "the unit runs the installed spoold" "$T/dest/usr/lib/systemd/system/spoold@.service" "^ExecStart=/usr/sbin/spoold -s -d %f$"
has "and is Type=notify" "$T/dest/usr/lib/systemd/system/spoold@.service" "^Type=notify$"
unit=$T/dest/usr/lib/systemd/system/spoold@.service
has "the unit runs spoold as the user spool" "$unit" "^User=spool$"
has "in the group spool" "$unit" "^Group=spool$"
has "with the file system read-only but for the spool" "$unit" "^ReadWritePaths=%f$"
wunit=$T/dest/usr/lib/systemd/system/spoolweb@.service
has "spoolweb's unit runs the installed spoolweb" "$wunit" "^ExecStart=/usr/sbin/spoolweb -d %f "
has "as the user spoolweb" "$wunit" "^User=spoolweb$"
has "in the group spool" "$wunit" "^Group=spool$"
has "on loopback unless told otherwise" "$wunit" "^Environment=SPOOLWEB_LISTEN=127.0.0.1:8631 "
# security UNIT NAME MAX: systemd-analyze rates the unit MAX or lower
# ("-> Overall exposure level for spoold@i.service: 1.7 OK")
security() {
	systemd-analyze security --offline=true "$1" >"$T/security" 2>&1
	level=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9][0-9]*\.[0-9]\).*/\1/p' \
	    "$T/security")
	if [ -n "$level" ] && awk -v l="$level" -v m="$3" 'BEGIN { exit !(l <= m) }'; then
		ok "systemd-analyze security rates $2 $level ($3 or lower)"
	else
		not_ok "systemd-analyze security rates $2 ${level:-?}, want $3 or lower"
		grep '✗' "$T/security" | sed 's/^/#   /' | head -20
	fi
}
if command -v systemd-analyze >/dev/null; then
	for u in spoold spoolweb; do
		rc 0 "systemd-analyze verifies $u@.service" sh -c "cd '$T/dest/usr/lib/systemd/system' && sed 's|/usr/sbin/$u|$pre/sbin/$u|' $u@.service >$u@t.service && systemd-analyze verify --man=no ./$u@t.service"
	done
	security "$unit" "spoold's unit" 3.0
	# spoolweb starts no programs: it can be shut in tighter than spoold
	security "$wunit" "spoolweb's unit" 2.0
else
	skip "systemd-analyze verifies the units" "no systemd-analyze"
	skip "systemd-analyze security rates the units" "no systemd-analyze"
fi
has "with the pkg-config file of PREFIX" "$T/dest/usr/lib/pkgconfig/libspool.pc" "^prefix=/usr$"
cat >"$T/prog.c" <<'C'
#include <spool.h>
int main(void) { return spool_id_ok("1001") && !spool_id_ok("../x") ? 0 : 1; }
C
export PKG_CONFIG_PATH="$pre/lib/pkgconfig"
rc 0 "pkg-config knows libspool" pkg-config --exists libspool
rc 0 "a program compiles against it" sh -c "cc -o '$T/prog' '$T/prog.c' \$(pkg-config --cflags --libs libspool)"
rc 0 "and runs" env LD_LIBRARY_PATH="$pre/lib" "$T/prog"
rc 0 "statically too" sh -c "cc -o '$T/sprog' '$T/prog.c' \$(pkg-config --cflags libspool) '$pre/lib/libspool.a' \$(pkg-config --libs --static libspool | sed 's/-lspool//')"
rc 0 "the installed spoolctl works" "$pre/bin/spoolctl" -d "$T/s" init pos
rc 0 "the installed spoold checks that spool" "$pre/sbin/spoold" -d "$T/s" -n
rc 0 "the installed spoolweb says its version" "$pre/sbin/spoolweb" --version
done_testing
