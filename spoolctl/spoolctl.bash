# bash completion for spoolctl: commands, their options, the states and transitions
# of the spool's workflow, and order ids, asked of spoolctl itself (workflow --json,
# ls), so it follows whatever spool -d or $SPOOL_DIR names.  Installed by make install.

_spoolctl_spool()
{
	local i
	for ((i = 1; i < COMP_CWORD; i++)); do
		if [[ ${COMP_WORDS[i]} == -d ]]; then
			printf '%s' "${COMP_WORDS[i + 1]}"
			return
		fi
	done
	printf '%s' "${SPOOL_DIR-}"
}

# the names of the workflow's states or transitions ("states" or "transitions")
_spoolctl_names()
{
	local spool
	spool=$(_spoolctl_spool)
	[[ -n $spool ]] || return
	local json
	json=$(spoolctl -d "$spool" workflow --json 2>/dev/null) || return
	if [[ $1 == states ]]; then
		json=${json%%\"transitions\":*}
	else
		json=${json#*\"transitions\":}
	fi
	grep -o '"name":"[^"]*"' <<<"$json" | cut -d'"' -f4
}

_spoolctl_ids()
{
	local spool
	spool=$(_spoolctl_spool)
	[[ -n $spool ]] || return
	spoolctl -d "$spool" ls 2>/dev/null | cut -d' ' -f1
}

# the users of the web back office
_spoolctl_users()
{
	local spool
	spool=$(_spoolctl_spool)
	[[ -n $spool ]] || return
	spoolctl -d "$spool" user ls 2>/dev/null | cut -d' ' -f1
}

_spoolctl()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local cmds="init submit ls show history mv do rm check stats workflow kick status outbox user help"
	local i cmd=
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-d) ((i++)) ;;
		-*) ;;
		*) cmd=${COMP_WORDS[i]}; break ;;
		esac
	done
	if [[ $prev == -d ]]; then
		COMPREPLY=($(compgen -d -- "$cur"))
		return
	fi
	if [[ -z $cmd ]]; then
		COMPREPLY=($(compgen -W "$cmds $(_spoolctl_names transitions) -d --help --version" \
		    -- "$cur"))
		return
	fi
	case $cmd in
	init) COMPREPLY=($(compgen -W "print email pos --group --help" -- "$cur")) ;;
	submit) COMPREPLY=($(compgen -d -W "--id --help" -- "$cur")) ;;
	ls)
		if [[ $prev == --state ]]; then
			COMPREPLY=($(compgen -W "$(_spoolctl_names states)" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "--state --since --until --search -l --json --help" \
			    -- "$cur"))
		fi ;;
	show|history|rm) COMPREPLY=($(compgen -W "$(_spoolctl_ids) --json -m --help" -- "$cur")) ;;
	mv) COMPREPLY=($(compgen -W "$(_spoolctl_ids) $(_spoolctl_names states) -m \
	    --tell-customer --help" -- "$cur")) ;;
	do)
		if [[ $prev == do ]]; then
			COMPREPLY=($(compgen -W "$(_spoolctl_names transitions)" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$(_spoolctl_ids) -m --tell-customer --help" -- "$cur"))
		fi ;;
	check) COMPREPLY=($(compgen -W "--repair --json --help" -- "$cur")) ;;
	stats|workflow) COMPREPLY=($(compgen -W "--json --help" -- "$cur")) ;;
	outbox) COMPREPLY=($(compgen -W "ls retry purge --json --failed --all --older --help" \
	    -- "$cur")) ;;
	user)
		if [[ $prev == user ]]; then
			COMPREPLY=($(compgen -W "add passwd del ls --help" -- "$cur"))
		elif [[ $prev == --role ]]; then
			COMPREPLY=($(compgen -W "admin printer" -- "$cur"))
		elif [[ $prev == passwd || $prev == del ]]; then
			COMPREPLY=($(compgen -W "$(_spoolctl_users)" -- "$cur"))
		elif [[ $prev != --queue ]]; then
			COMPREPLY=($(compgen -W "--role --queue --json --help" -- "$cur"))
		fi ;;
	help) COMPREPLY=($(compgen -W "$cmds" -- "$cur")) ;;
	*) COMPREPLY=($(compgen -W "$(_spoolctl_ids) -m --tell-customer --help" -- "$cur")) ;;
	esac
}
complete -F _spoolctl spoolctl
