# The users of the web back office end to end: spoolctl user add, passwd (from
# stdin), ls and ls --json, del, with their exit codes; web/users as spool-layout(5)
# has it (0640, no password in clear), and check content with the folder init makes.
. "$SRCDIR/tests/e2e/lib.sh"
SPOOL=$T/spool
PW='Tr0ub4dor&3 horse'
rc 0 "init a print spool" $S -d "$SPOOL" init print
check "init makes web/" test -d "$SPOOL/web"
rc 0 "ls with no users" $S -d "$SPOOL" user ls
lines "ls with no users: nothing" "$T/out" 0
rc 0 "add an admin" $S -d "$SPOOL" user add alice --role admin
rc 0 "add a printer with two queues" $S -d "$SPOOL" user add bob --role printer \
    --queue press --queue covers
rc 65 "the same name again" $S -d "$SPOOL" user add alice --role admin
has "it says the user exists" "$T/err" "user alice exists"
rc 65 "a queue the spool has not" $S -d "$SPOOL" user add carl --role printer --queue nope
has "it names the queue" "$T/err" "queue nope is not a \[queue NAME\]"
rc 64 "a printer without --queue" $S -d "$SPOOL" user add carl --role printer
rc 64 "an admin with --queue" $S -d "$SPOOL" user add carl --role admin --queue press
rc 64 "a role that is not one" $S -d "$SPOOL" user add carl --role root
rc 64 "no role" $S -d "$SPOOL" user add carl
rc 64 "a bad user name" $S -d "$SPOOL" user add 'Carl!' --role admin
rc 64 "an unknown verb" $S -d "$SPOOL" user frob
rc 0 "user --help" $S user --help
has "help says the synopsis" "$T/out" "^usage: spoolctl \[-d SPOOL\] user add NAME"

rc 0 "ls" $S -d "$SPOOL" user ls
lines "ls: two users" "$T/out" 2
has "ls: alice, an admin without a password" "$T/out" "^alice +admin +- +no password$"
has "ls: bob with his queues" "$T/out" "^bob +printer +press,covers +no password$"

printf '%s\n' "$PW" >"$T/pw"
rc 0 "passwd from stdin" sh -c "$S -d '$SPOOL' user passwd bob <'$T/pw'"
lines "passwd prints nothing" "$T/out" 0
lines "passwd warns of nothing" "$T/err" 0
rc 0 "ls after passwd" $S -d "$SPOOL" user ls
has "bob has a password" "$T/out" "^bob .*password set$"
has "alice has none still" "$T/out" "^alice .*no password$"
check "no password in clear in web/" sh -c "! grep -rqF 'Tr0ub4dor' '$SPOOL/web'"
check "no password or hash in what ls printed" sh -c "! grep -qF 'Tr0ub4dor' '$T/out' &&
    ! grep -qF '\$y\$' '$T/out'"
has "web/users holds bob's yescrypt hash" "$SPOOL/web/users" '^bob:printer:press,covers:\$y\$[^:]+$'
has "web/users holds alice with no hash" "$SPOOL/web/users" '^alice:admin:-:-$'
check "web/users is mode 0640" test "$(stat -c %a "$SPOOL/web/users")" = 640
check "web/users has the spool's group" test "$(stat -c %g "$SPOOL/web/users")" = \
    "$(stat -c %g "$SPOOL")"
check "web/ is mode 2770" test "$(stat -c %a "$SPOOL/web")" = 2770
rc 65 "an empty password is refused" sh -c "printf '\n' | $S -d '$SPOOL' user passwd alice"
has "it says so" "$T/err" "empty password"
rc 66 "passwd for no such user" sh -c "$S -d '$SPOOL' user passwd nobody <'$T/pw'"
rc 64 "passwd without a name" $S -d "$SPOOL" user passwd

rc 0 "ls --json" $S -d "$SPOOL" user ls --json
cp "$T/out" "$T/users.json"
rc 0 "ls --json parses" python3 -c 'import json, sys; json.load(open(sys.argv[1]))' \
    "$T/users.json"
json "ls --json: two users, as ls has them" "$T/users.json" \
    'd == [{"name": "alice", "role": "admin", "queues": [], "password": False},
     {"name": "bob", "role": "printer", "queues": ["press", "covers"], "password": True}]'
rc 64 "ls --frob" $S -d "$SPOOL" user ls --frob

rc 0 "check is content with web/" $S -d "$SPOOL" check
rc 0 "del alice" $S -d "$SPOOL" user del alice
rc 66 "del alice again" $S -d "$SPOOL" user del alice
has "it says there is no such user" "$T/err" "no user alice"
rc 0 "ls --json after del" $S -d "$SPOOL" user ls --json
json "only bob is left" "$T/out" '[u["name"] for u in d] == ["bob"]'

# a spool made before web/ existed: no users, and the first add makes the folder
rmdir "$SPOOL/web" 2>/dev/null || rm -r "$SPOOL/web"
rc 0 "ls on a spool without web/" $S -d "$SPOOL" user ls
lines "no users there" "$T/out" 0
rc 0 "check is content without web/" $S -d "$SPOOL" check
rc 66 "del on a spool without web/" $S -d "$SPOOL" user del bob
rc 0 "add makes web/" $S -d "$SPOOL" user add dora --role admin
check "web/ is there again, mode 2770" test "$(stat -c %a "$SPOOL/web")" = 2770

# a hand-broken file is refused with its line, and not rewritten
printf 'dora:admin:-:-\nbroken line\n' >"$SPOOL/web/users"
rc 65 "ls on a broken file" $S -d "$SPOOL" user ls
has "it names the line" "$T/err" "web/users: line 2: "
rc 65 "add to a broken file" $S -d "$SPOOL" user add erin --role admin
has "the file is as it was" "$SPOOL/web/users" "^broken line$"
done_testing
