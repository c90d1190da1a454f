# bash completion for mig. Commands and options come from the binaries
# themselves (mig --list-commands, mig [CMD] --list-options), so completion
# never drifts from the code; an option's values from mig CMD
# --list-values=OPTION; revisions and the spec words (head, base, -1, ...)
# from 'mig status --list-revisions' (hidden, like --list-options),
# snapshots from 'mig backup --list --porcelain'.

# the global options before the command, to ask mig about the same project
_mig_globals=()

# _mig_revisions CUR: the revisions and spec words that start with CUR,
# quoted for the command line (a name may hold a blank, a quote or a $,
# which compgen -W would split or expand)
_mig_revisions()
{
	local name
	mig "${_mig_globals[@]}" status --list-revisions 2>/dev/null |
		while IFS= read -r name; do
			[[ $name == "$1"* ]] && printf '%q\n' "$name"
		done
}

# _mig_unquote WORD: WORD as the shell passes it, when it is quoted whole
# ('...', or "..." without $, ` or \, which would take the shell to read):
# a URL's ? and &, or a blank in a path, need quotes
_mig_unquote()
{
	local inner=${1:1}

	inner=${inner%?}
	case $1 in
	\'*\') [[ $inner != *\'* ]] && printf '%s' "$inner" && return ;;
	\"*\") [[ $inner != *[\"\$\`\\]* ]] && printf '%s' "$inner" && return ;;
	esac
	printf '%s' "$1"
}

_mig_snapshots()
{
	mig "${_mig_globals[@]}" backup --list --porcelain 2>/dev/null |
		while IFS=$'\t' read -r _ id _; do
			printf '%s\n' "${id:0:12}"
		done
}

_mig()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	local i cmd= value IFS=$'\n'

	_mig_globals=()
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-C | -d | --database | -m | --migrations | --store)
			_mig_globals+=("${COMP_WORDS[i]}")
			# --database=VALUE arrives as --database, =, VALUE
			[[ ${COMP_WORDS[i+1]} == = ]] && ((i++))
			value=${COMP_WORDS[++i]}
			# and a URL in pieces cut at ':' and '=': postgres, :, //u@/db?host, =, /tmp
			while ((i + 2 < COMP_CWORD)) && [[ ${COMP_WORDS[i+1]} == [:=] ]]; do
				value+=${COMP_WORDS[i+1]}${COMP_WORDS[i+2]}
				((i += 2))
			done
			_mig_globals+=("$(_mig_unquote "$value")")
			;;
		-*) _mig_globals+=("${COMP_WORDS[i]}") ;;
		*)
			cmd=${COMP_WORDS[i]}
			break
			;;
		esac
	done

	if [[ -z $cmd ]]; then
		case $prev in
		-C | -m | --migrations | --store)
			COMPREPLY=($(compgen -d -- "$cur"))
			return
			;;
		-d | --database)
			COMPREPLY=($(compgen -f -- "$cur"))
			return
			;;
		esac
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "$(mig --list-options 2>/dev/null)" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$(mig --list-commands 2>/dev/null | sort -u)" -- "$cur"))
		fi
		[[ ${COMPREPLY[0]-} == *= ]] && compopt -o nospace 2>/dev/null
		return
	fi

	# values of options that take a file or a snapshot
	case $cmd:$prev in
	backup:-o | backup:--output | restore:-i | restore:--input)
		COMPREPLY=($(compgen -f -- "$cur"))
		return
		;;
	backup:--verify | restore:*)
		[[ $cur != -* ]] && COMPREPLY=($(compgen -W "$(_mig_snapshots)" -- "$cur"))
		[[ $cur != -* ]] && return
		;;
	*:--lock-timeout | *:--prune | *:-n | *:--max-count | *:-m | *:--message)
		return
		;;
	esac

	# an option whose value is one of a few words (fake --resolve): the
	# binary lists them; --opt=value arrives as --opt, =, value
	local opt=$prev
	[[ $prev == = ]] && opt=${COMP_WORDS[COMP_CWORD-2]}
	if [[ $opt == --* && $cur != -* ]]; then
		COMPREPLY=($(compgen -W "$(mig "$cmd" --list-values="$opt" 2>/dev/null)" -- "$cur"))
		((${#COMPREPLY[@]})) && return
	fi

	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(mig "$cmd" --list-options 2>/dev/null)" -- "$cur"))
		[[ ${COMPREPLY[0]-} == *= ]] && compopt -o nospace 2>/dev/null
		return
	fi
	case $cmd in
	up | down | redo | diff | sqlshow | fake | merge)
		COMPREPLY=($(_mig_revisions "$cur"))
		;;
	help)
		COMPREPLY=($(compgen -W "$(mig --list-commands 2>/dev/null | sort -u)" -- "$cur"))
		;;
	esac
}

complete -F _mig mig
