# The bash completion of spoolctl, as bash runs it: complete -p names its function,
# and the function offers the commands, the options, the workflow's states and
# transitions and the order ids of the spool that -d or $SPOOL_DIR names.
# spoolctl's --help and --version answer on stdout with exit 0, and a wrong option
# or command is one line on stderr with exit 64; the same for spoold.
. "$SRCDIR/tests/e2e/lib.sh"
SPOOL=$T/spool
rc 0 "init a print spool" $S -d "$SPOOL" init print
rc 0 "submit 1001" $S -d "$SPOOL" submit "$EX/print/1001"
PATH=$BUILD:$PATH
export PATH
# complete WORD...: the candidates bash's completion offers for the last word
complete_words() {
	bash -c '. "$1/spoolctl/spoolctl.bash" || exit 1; shift
	COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _spoolctl; printf "%s\n" "${COMPREPLY[@]}"' \
	    sh "$SRCDIR" "$@" >"$T/words"
}
offers() { # DESC WORD: the last completion offered WORD
	if grep -qx -- "$2" "$T/words"; then ok "$1"; else not_ok "$1 (offered: $(tr '\n' ' ' <"$T/words"))"; fi
}
refrains() {
	if grep -qx -- "$2" "$T/words"; then not_ok "$1"; else ok "$1"; fi
}
rc 0 "complete -p names the completion function" bash -c \
    ". '$SRCDIR/spoolctl/spoolctl.bash' && complete -p spoolctl | grep -q -- '-F _spoolctl spoolctl'"
rc 0 "compgen works with the completion loaded" bash -c \
    ". '$SRCDIR/spoolctl/spoolctl.bash' && compgen -W 'mv show' -- m | grep -qx mv"
complete_words spoolctl -d "$SPOOL" s
offers "commands: show" show
offers "commands: stats" stats
offers "the workflow's transitions are commands: ship" ship
refrains "not a command: mv for s" mv
complete_words spoolctl -d "$SPOOL" mv 1001 ""
offers "mv: an order id" 1001
offers "mv: a state" processing
offers "mv: --tell-customer" --tell-customer
complete_words spoolctl -d "$SPOOL" ls --state q
offers "ls --state: a state" queued
complete_words spoolctl -d "$SPOOL" do ""
offers "do: a transition" process
complete_words spoolctl -d "$SPOOL" ls --
offers "ls: --json" --json
complete_words spoolctl -d "$SPOOL" user ""
offers "user: add" add
offers "user: passwd" passwd
complete_words spoolctl -d "$SPOOL" user add bob --role ""
offers "user add --role: printer" printer
rc 0 "add a web user" $S -d "$SPOOL" user add alice --role admin
complete_words spoolctl -d "$SPOOL" user passwd ""
offers "user passwd: a user" alice
SPOOL_DIR=$SPOOL complete_words spoolctl show ""
offers "SPOOL_DIR names the spool: an order id" 1001
# --help, --version, and wrong words
for p in spoolctl spoold; do
	rc 0 "$p --help" "$p" --help
	has "$p --help says usage on stdout" "$T/out" "^usage: $p"
	rc 0 "$p -h" "$p" -h
	rc 0 "$p --version" "$p" --version
	has "$p --version says its version" "$T/out" "^$p [0-9]+\.[0-9]+\.[0-9]+$"
	rc 64 "$p --frob is refused" "$p" --frob
	lines "$p --frob: one line on stderr" "$T/err" 1
	has "$p --frob: the line names it" "$T/err" "unknown option '--frob'"
done
rc 0 "spoolctl help mv" spoolctl help mv
has "help mv: mv's synopsis" "$T/out" "^usage: spoolctl \[-d SPOOL\] mv ID\.\.\. STATE"
rc 0 "spoolctl mv --help" spoolctl mv --help
has "mv --help: mv's synopsis" "$T/out" "^usage: spoolctl \[-d SPOOL\] mv ID"
rc 64 "spoolctl ls -z is refused" spoolctl -d "$SPOOL" ls -z
lines "ls -z: one line" "$T/err" 1
has "ls -z: the line names it" "$T/err" "ls: unknown option '-z'"
rc 64 "spoolctl ls --state without a value" spoolctl -d "$SPOOL" ls --state
has "the line says the value is missing" "$T/err" "option '--state' needs a value"
rc 64 "an unknown command" spoolctl -d "$SPOOL" frobnicate
lines "an unknown command: one line" "$T/err" 1
has "it names the command" "$T/err" "unknown command 'frobnicate'"
rc 64 "help for an unknown command" spoolctl help frobnicate
done_testing
