# The documentation is part of the work: man pages lint clean, name every command
# and every setting the code knows, and the examples validate with xmllint (an
# independent validator) against the schemas that submit uses.
. "$SRCDIR/tests/e2e/lib.sh"
cd "$SRCDIR" || exit 1
for m in spoolctl/spoolctl.1 spool-layout/spool-layout.5 spool-layout/spool.conf.5; do
	rc 0 "$m lints clean (mandoc, warnings and worse)" mandoc -Tlint -Wwarning "$m"
	lines "$m: mandoc says nothing" "$T/err" 0
done
for c in init submit ls show history mv do rm check stats workflow; do
	has "spoolctl(1) documents $c" spoolctl/spoolctl.1 "^\.It Cm $c( |$)"
done
# every key in the tables of lib/conf.c is in spool.conf(5)
sed -n '/keys\[\] = {/,/};/p' lib/conf.c | grep -o '"[a-z_]*"' | tr -d '"' | sort -u >"$T/keys"
for k in from to actors; do echo "$k"; done >>"$T/keys"
while read -r k; do
	has "spool.conf(5) documents $k" spool-layout/spool.conf.5 "^\.It Cm $k"
done <"$T/keys"
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
