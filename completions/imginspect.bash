# bash completion for imginspect: generated from the click command by scripts/generate;
# do not edit. Source it from ~/.bashrc, or put it in a
# bash-completion completions directory as `imginspect`.

_imginspect_completion() {
    local IFS=$'\n' words=() cword=0 i word gap rest offset=0
    # Bash splits the line at COMP_WORDBREAKS as well as at blanks, so lab-full:2 comes as
    # lab-full, :, 2 (click's own script passes them on as three words: pallets/click#1515).
    # Join the pieces that no blank separates: they are one word to imginspect.
    for ((i = 0; i < ${#COMP_WORDS[@]}; i++)); do
        word=${COMP_WORDS[i]}
        rest=${COMP_LINE:offset}
        gap=${rest%%[![:space:]]*}
        offset=$((offset + ${#gap} + ${#word}))
        if ((i > 0)) && [[ -z $gap ]]; then
            words[${#words[@]} - 1]+=$word
        else
            words+=("$word")
        fi
        if ((i == COMP_CWORD)); then
            cword=$((${#words[@]} - 1))
        fi
    done

    # Readline replaces only the text after the last word break: strip what comes before it
    # from each candidate, or lab-full:2 would become lab-full:lab-full:2.4.1.
    local cur=${words[cword]} prefix=
    for ((i = ${#cur} - 1; i >= 0; i--)); do
        if [[ $COMP_WORDBREAKS == *"${cur:i:1}"* ]]; then
            prefix=${cur:0:i + 1}
            break
        fi
    done

    local response lines line type value
    response=$(env COMP_WORDS="${words[*]}" COMP_CWORD="$cword" \
        _IMGINSPECT_COMPLETE=bash_complete "$1" 2>/dev/null) || return 0
    mapfile -t lines <<<"$response"
    COMPREPLY=()
    for line in "${lines[@]}"; do
        IFS=, read -r type value <<<"$line"
        case $type in
        plain | nospace)
            if [[ -n $prefix && $value == "$prefix"* ]]; then
                value=${value:${#prefix}}
            fi
            COMPREPLY+=("$value")
            # A transport (docker://) is the start of a name: no space after it.
            if [[ $type == nospace ]]; then
                compopt -o nospace
            fi
            ;;
        dir)
            COMPREPLY=()
            compopt -o dirnames
            ;;
        file)
            COMPREPLY=()
            compopt -o default
            ;;
        esac
    done
    return 0
}

complete -o nosort -F _imginspect_completion imginspect
