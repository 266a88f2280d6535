# The race test: four processes, two running spoolctl mv and two running plain mv,
# move the same 1,000 orders between four states at random for 10 seconds; then
# for 5 more seconds they fight over just 5 of them, so that races are lost often.
# After that every order is in exactly one state, spoolctl check is clean, every
# history line is whole, and spoolctl only ever answered "moved", "already there"
# or "moved meanwhile".
. "$SRCDIR/tests/e2e/lib.sh"
P=$T/race
N=1000
SECONDS_=${RACE_SECONDS:-10}
# four states, and an admin may move an order from any one to any other
{
	printf '[spool]\nversion = 1\nworkflow = race\nentry = a\n'
	for st in a b c d; do
		printf '[state %s]\n' $st
	done
	for st in a b c d; do
		printf '[transition to-%s]\nfrom = *\nto = %s\nactors = admin\n' $st $st
	done
} >"$T/race.conf"
rc 0 "init the race spool" $S -d "$P" init "$T/race.conf"
rc 0 "fill it with $N orders" "$BUILD/tests/mkspool" "$P" $N

# A small deterministic random generator per process, so runs can be repeated.
mover() { # kind seed ids seconds
	kind=$1 r=$2 ids=$3 end=$(($(date +%s) + $4)) moves=0
	while [ "$(date +%s)" -lt "$end" ]; do
		for _ in 1 2 3 4 5 6 7 8; do
			r=$(((r * 1103515245 + 12345) % 2147483648))
			id=$(printf 'o%07d' $((r / 7 % ids + 1)))
			st=$(echo a b c d | cut -d' ' -f$((r / 13 % 4 + 1)))
			if [ "$kind" = spoolctl ]; then
				$S -d "$P" mv "$id" "$st" >/dev/null 2>>"$T/ctl.err"
				echo $? >>"$T/ctl.rc"
			else
				mv "$P"/state/*/"$id.order" "$P/state/$st/" 2>/dev/null
			fi
			moves=$((moves + 1))
		done
	done
	echo "$moves" >"$T/moves.$kind.$2"
}
phase() { # ids seconds
	rm -f "$T"/moves.*
	mover spoolctl 11 "$1" "$2" &
	mover spoolctl 23 "$1" "$2" &
	mover mv 37 "$1" "$2" &
	mover mv 41 "$1" "$2" &
	wait
	total=0 ctl=0
	for f in "$T"/moves.*; do total=$((total + $(cat "$f"))); done
	for f in "$T"/moves.spoolctl.*; do ctl=$((ctl + $(cat "$f"))); done
	ok "four movers made $total moves over $1 orders in $2 s ($ctl by spoolctl)"
}
phase $N "$SECONDS_"
phase 5 $((SECONDS_ / 2))

find "$P/state" -name '*.order' >"$T/all"
lines "there are $N order files" "$T/all" $N
sed 's|.*/||' "$T/all" | sort -u >"$T/ids"
lines "of $N different orders: none in two states, none lost" "$T/ids" $N
rc 0 "spoolctl check is clean" $S -d "$P" check
lines "and prints nothing" "$T/out" 0
sort "$T/ctl.rc" | uniq -c >"$T/codes"
if grep -Evq '^ *[0-9]+ (0|75)$' "$T/codes"; then
	not_ok "spoolctl exited only 0 or 75 (got: $(tr '\n' ' ' <"$T/codes"))"
	head -5 "$T/ctl.err" | sed 's/^/#   /'
else
	ok "spoolctl exited only 0 (moved) or 75 (moved meanwhile): $(tr -s ' \n' ' ' <"$T/codes")"
fi
if grep -v -e 'moved meanwhile to [a-d]$' -e 'already in [a-d]$' "$T/ctl.err" | grep -q .; then
	not_ok "spoolctl said only 'moved meanwhile' or 'already in' ($(grep -v -e meanwhile -e already "$T/ctl.err" | head -2))"
else
	ok "spoolctl's only complaints were 'moved meanwhile to STATE' and 'already in STATE'"
fi
cat "$P"/orders/*/history >"$T/hist"
if awk -F'\t' 'NF != 6 { bad++ } END { exit bad > 0 }' "$T/hist"; then
	ok "every history line is whole ($(wc -l <"$T/hist") lines)"
else
	not_ok "a history line is torn"
fi
done_testing
