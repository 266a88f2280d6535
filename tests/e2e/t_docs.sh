# The documentation is part of the work: man pages lint clean, name every command,
# option, setting and file key the code knows, and the examples validate with
# xmllint (an independent validator) against the schemas that submit uses.
# The names are taken from the code's own tables, so a new one fails here until
# it is documented.
. "$SRCDIR/tests/e2e/lib.sh"
cd "$SRCDIR" || exit 1
for m in spoolctl/spoolctl.1 spool-layout/spool-layout.5 spool-layout/spool.conf.5 \
    spoold/spoold.8 spoolweb/spoolweb.8; do
	rc 0 "$m lints clean (mandoc, warnings and worse)" mandoc -Tlint -Wwarning "$m"
	lines "$m: mandoc says nothing" "$T/err" 0
done

# nonempty DESC FILE: the names were found (so a changed table is not a silent pass)
nonempty() {
	if [ -s "$2" ]; then ok "$1"; else not_ok "$1 (found none)"; fi
}

# documents DESC MAN LIST BEFORE: MAN has every name N of LIST as the regex BEFORE,
# then N, then a blank or the line's end; each check is named DESC then N
documents() {
	while read -r _name; do
		has "$1$_name" "$2" "$4$_name( |$)"
	done <"$3"
}

# every command in the table of spoolctl.c, and every option in its usage()
sed -n '/ cmds\[\] = {/,/^};/p' spoolctl/spoolctl.c | grep -o '{ "[a-z]*"' | tr -dc 'a-z\n' \
    >"$T/cmds"
nonempty "the commands of spoolctl.c" "$T/cmds"
while read -r c; do
	has "spoolctl(1) documents $c" spoolctl/spoolctl.1 "^\.It Cm $c( |$)"
	has "spoolctl(1) has $c in its synopsis" spoolctl/spoolctl.1 "^\.Cm $c$"
done <"$T/cmds"
# (the synopses in the command table, and spoolctl's own options before the command)
sed -n '/ cmds\[\] = {/,/^};/p' spoolctl/spoolctl.c >"$T/usage"
{
	grep -oE -- '--[a-z][a-z-]+' "$T/usage" | sed 's/^--//'
	sed -n '/^main_opts(/,/^}/p' spoolctl/spoolctl.c | grep -oE '\{ "[a-z-]+"' | tr -dc 'a-z\n-'
} | sort -u >"$T/long"
grep -oE -- '\[-[a-z][] ]' "$T/usage" | tr -dc 'a-z\n' | sort -u >"$T/short"
nonempty "the long options of spoolctl's usage" "$T/long"
documents "spoolctl(1) documents --" spoolctl/spoolctl.1 "$T/long" "Fl \\\\-"
documents "spoolctl(1) documents -" spoolctl/spoolctl.1 "$T/short" "Fl "

# every option of spoold: its synopsis, its getopt string and its long options
grep '^#define SYNOPSIS' spoold/main.c >"$T/dusage"
{
	grep -oE -- '\[-[a-z]+[] ]' "$T/dusage" | tr -dc 'a-z\n'
	grep -oE 'getopt_long\(argc, argv, "[^"]*"' spoold/main.c | sed 's/.*"\(.*\)"/\1/' |
	    tr -d ':'
} | fold -w1 | grep -x '[a-z]' | sort -u >"$T/dshort"
{
	grep -oE -- '--[a-z][a-z-]+' "$T/dusage" | sed 's/^--//'
	sed -n '/struct option opts\[\] = {/,/};/p' spoold/main.c | grep -oE '\{ "[a-z-]+"' |
	    tr -dc 'a-z\n-'
} | sort -u >"$T/dlong"
nonempty "the options of spoold" "$T/dshort"
nonempty "the long options of spoold" "$T/dlong"
documents "spoold(8) documents -" spoold/spoold.8 "$T/dshort" "^\.It Fl "
documents "spoold(8) documents --" spoold/spoold.8 "$T/dlong" "^\.It .*Fl \\\\-"
has "spoold(8) shows the usage's synopsis" spoold/spoold.8 "^\.Op Fl \\\\-ready-fd Ar fd$"
for code in 0 1 64 66 75 78; do
	has "spoold(8) documents exit code $code" spoold/spoold.8 "^\.It $code$"
done
has "spoold(8) names the systemd unit" spoold/spoold.8 "spoold@\.service"
has "spoold(8) has an EXAMPLES section" spoold/spoold.8 "^\.Sh EXAMPLES$"
has "spoold(8) has a SEE ALSO section" spoold/spoold.8 "^\.Sh SEE ALSO$"

# every option of spoolweb: its getopt string and its long options
grep -oE 'getopt_long\(argc, argv, "[^"]*"' spoolweb/main.c | sed 's/.*"\(.*\)"/\1/' | tr -d ':' |
    fold -w1 | grep -x '[a-zA-Z]' | sort -u >"$T/wshort"
sed -n '/struct option longs\[\] = {/,/};/p' spoolweb/main.c | grep -oE '\{ "[a-z-]+"' |
    tr -dc 'a-z\n-' | sort -u >"$T/wlong"
nonempty "the options of spoolweb" "$T/wshort"
nonempty "the long options of spoolweb" "$T/wlong"
documents "spoolweb(8) documents -" spoolweb/spoolweb.8 "$T/wshort" "^\.It Fl "
documents "spoolweb(8) documents --" spoolweb/spoolweb.8 "$T/wlong" "^\.It .*Fl \\\\-"
for code in 0 64 75 77 78; do
	has "spoolweb(8) documents exit code $code" spoolweb/spoolweb.8 "^\.It $code$"
done
# every route of the API, as the router spells it
for route in "POST /api/login" "POST /api/logout" "GET /api/orders?" "GET /api/orders/" \
    "POST /api/orders/.*/transitions" "POST /api/orders/.*/remove" "GET /api/jobs$" \
    "GET /api/jobs/.*/files/" "POST /api/jobs/.*/status" "GET /metrics"; do
	has "spoolweb(8) documents $route" spoolweb/spoolweb.8 "^\.It Li $route"
done
has "spoolweb(8) names the systemd unit" spoolweb/spoolweb.8 "spoolweb@\.service"
has "spoolctl(1) points to spoolweb(8)" spoolctl/spoolctl.1 "Xr spoolweb 8"

# every key in the tables of the config readers (the core's, and the sections the
# domain reads: a table named keys[] in any file of lib/) is in spool.conf(5), and
# every key documented there is one of them
for f in lib/*/*.c; do
	sed -n '/[^_]keys\[\] = {/,/};/p' "$f"
done | grep -o '"[a-z_]*"' | tr -d '"' | sort -u >"$T/keys"
for k in from to actors; do echo "$k"; done >>"$T/keys"
nonempty "the keys of the config readers" "$T/keys"
while read -r k; do
	has "spool.conf(5) documents $k" spool-layout/spool.conf.5 "^\.It Cm $k"
done <"$T/keys"
sed -n 's/^\.It Cm \([a-z_]*\) No = .*/\1/p' spool-layout/spool.conf.5 | sort -u >"$T/dockeys"
check "spool.conf(5) documents no key that the config readers do not know" \
    sh -c "sort -u '$T/keys' | comm -13 - '$T/dockeys' | grep -q . && exit 1 || exit 0"

# the keys of order and status files (lib/core/order.c) are those of spool-layout(5)
for t in order_keys status_keys; do
	sed -n "/ $t\[\] = {/,/};/s/^\t[A-Z_]*(\([a-z]*\),.*/\1/p" lib/core/order.c >"$T/$t"
	nonempty "the $t of lib/core/order.c" "$T/$t"
	while read -r k; do
		has "spool-layout(5) documents the ${t%_keys} key $k" spool-layout/spool-layout.5 \
		    "^\.It Cm $k$"
	done <"$T/$t"
done
sed -n '/^spool-status 1$/,/^\.Ed$/s/^\([a-z]*\): .*/\1/p' spool-layout/spool-layout.5 \
    >"$T/status_example"
check "spool-layout(5) shows a status file with exactly the keys libspool writes" \
    cmp -s "$T/status_keys" "$T/status_example"

for code in 64 65 66 75 77 78; do
	has "spoolctl(1) documents exit code $code" spoolctl/spoolctl.1 "^\.It $code"
done
for f in spool-layout/examples/*/*/order.xml; do
	rc 0 "$f is valid" xmllint --noout --nonet --schema spool-layout/schemas/order.xsd "$f"
done
for f in spool-layout/examples/*/*/items/*/upload.xml; do
	rc 0 "$f is valid" xmllint --noout --nonet --schema spool-layout/schemas/upload.xsd "$f"
done
for w in print email pos; do
	has "README names the $w workflow" README.md "\b$w\b"
done
has "README has the quick start" README.md "^ *make run"
has "README has the test command" README.md "^ *make check"
has "INSTALL says how to install" INSTALL "make install"
done_testing
