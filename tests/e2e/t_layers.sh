# The structure that the code must keep (ARCHITECTURE.md), read from the object files
# of the build and from the sources: libspool.so exports exactly lib/libspool.map; no
# call cycle between lib's modules or between spoold's (mk/cycles); the core never
# reaches up into the domain layer; only lib spells the format's paths; a header per
# concern, each under 400 lines; every source file opens with a comment on what it is for.
. "$SRCDIR/tests/e2e/lib.sh"
cd "$SRCDIR" || exit 1
rc 0 "libspool.so exports exactly what lib/libspool.map lists, all spool_*" \
    mk/exports "$BUILD/libspool.so.0" lib/libspool.map
sed 's/^/#   /' "$T/out" | head -20

rc 0 "no call cycle between lib's modules" mk/cycles "$BUILD"/obj/lib/*/*.o "$BUILD"/obj/lib/init.o
sed 's/^/#   /' "$T/out" | grep cycle
rc 0 "no call cycle between spoold's modules" mk/cycles "$BUILD"/obj/spoold/*.o
sed 's/^/#   /' "$T/out" | grep cycle

# the core: lib/core/ objects use no symbol that a domain object (bundle/, print/,
# mail/, web/) or lib/init.c defines
nm -g --defined-only "$BUILD"/obj/lib/bundle/*.o "$BUILD"/obj/lib/print/*.o \
    "$BUILD"/obj/lib/mail/*.o "$BUILD"/obj/lib/web/*.o "$BUILD"/obj/lib/init.o | awk 'NF == 3 { print $3 }' |
    sort -u >"$T/domain"
nm -u "$BUILD"/obj/lib/core/*.o | awk 'NF == 2 { print $2 }' | sort -u >"$T/core_uses"
comm -12 "$T/domain" "$T/core_uses" >"$T/up"
check "the core calls nothing of the domain layer by name" test ! -s "$T/up"
sed 's/^/#   core uses: /' "$T/up" | head

# only lib spells the format: no string in the programs names a spool folder or suffix
grep -nE '"[^"]*(state/|orders/|\.order"|outbox/|incoming/|corrupt/|run/|tmp/|\.reason")[^"]*"' \
    spoold/*.c spoold/*.h spoolctl/*.c spoolctl/*.h >"$T/spelled"
check "spoold and spoolctl ask lib for every path of the format" test ! -s "$T/spelled"
sed 's/^/#   /' "$T/spelled" | head

for h in lib/*/*.h; do
	n=$(wc -l <"$h")
	check "$h has $n lines (under 400)" test "$n" -lt 400
done
n=$(wc -l <lib/spool.h)
check "lib/spool.h is a short umbrella ($n lines)" test "$n" -lt 80
for f in lib/*.c lib/*/*.c lib/*/*.h spoold/*.c spoold/*.h spoolctl/*.c spoolctl/*.h; do
	[ -f "$f" ] || continue
	check "$f opens with a comment on what it is for" sh -c "head -1 '$f' | grep -q '^/\*'"
done
done_testing
