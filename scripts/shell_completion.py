"""The bash, zsh and fish completion scripts: thin shells around click's completion protocol.

Each script asks the command itself, with _IMGINSPECT_COMPLETE=<shell>_complete, for the
candidates of the word under the cursor, so options, --color's values and image names all come
from the click command at TAB time. The scripts differ from the ones click prints in three ways:
bash joins back the words it split at COMP_WORDBREAKS (`lab-full:2` is one word, not three:
pallets/click#1515), zsh and fish keep the `--opt=` part of a word, and fish splits click's
answer at its first comma only (a description may have more).
"""

import json
from collections.abc import Mapping

import click

_HEADER = """\
{comment} {shell} completion for {prog}: generated from the click command by scripts/generate;
{comment} do not edit. {install}
"""

_BASH = """\
{func}() {
    local IFS=$'\\n' words=() cword=0 i word gap rest offset=0
    # Bash splits the line at COMP_WORDBREAKS as well as at blanks, so lab-full:2 comes as
    # lab-full, :, 2 (click's own script passes them on as three words: pallets/click#1515).
    # Join the pieces that no blank separates: they are one word to {prog}.
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
    response=$(env COMP_WORDS="${words[*]}" COMP_CWORD="$cword" \\
        {var}=bash_complete "$1" 2>/dev/null) || return 0
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

complete -o nosort -F {func} {prog}
"""

_ZSH = """\
{func}() {
    local -a response plain described open_plain open_described keep
    local type key descr
    response=("${(@f)$(env COMP_WORDS="${words[*]}" COMP_CWORD=$((CURRENT - 1)) \\
        {var}=zsh_complete {prog} 2>/dev/null)}")
    # For --opt=val, {prog} answers values alone: put the --opt= back in front of them.
    if [[ $PREFIX == -*=* ]]; then
        keep=(-P "${PREFIX%%=*}=")
    fi
    for type key descr in "${response[@]}"; do
        case $type in
        plain)
            if [[ $descr == _ ]]; then
                plain+=("$key")
            else
                described+=("$key:$descr")
            fi
            ;;
        nospace)
            # A transport (docker://) is the start of a name: no space after it.
            if [[ $descr == _ ]]; then
                open_plain+=("$key")
            else
                open_described+=("$key:$descr")
            fi
            ;;
        dir) _path_files -/ ;;
        file) _path_files -f ;;
        esac
    done
    if (( $#described )); then
        _describe -V unsorted described -U "${keep[@]}"
    fi
    if (( $#plain )); then
        compadd -U -V unsorted "${keep[@]}" -a plain
    fi
    if (( $#open_described )); then
        _describe -V unsorted open_described -U -S '' "${keep[@]}"
    fi
    if (( $#open_plain )); then
        compadd -U -V unsorted -S '' "${keep[@]}" -a open_plain
    fi
}

if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
    # autoloaded from $fpath by compinit: complete now
    {func} "$@"
else
    # sourced: register for later
    compdef {func} {prog}
fi
"""

_FISH = """\
function {func}
    set -l token (commandline -ct)
    set -l response (env {var}=fish_complete COMP_WORDS=(commandline -cp) \\
        COMP_CWORD=$token {prog} 2>/dev/null)
    # For --opt=val, {prog} answers values alone: put the --opt= back for fish.
    set -l keep
    if string match -q -- '-*=*' $token
        set keep (string replace -r '=.*' '=' -- $token)
    end
    for line in $response
        set -l fields (string split -m 1 , -- $line)
        switch $fields[1]
            # fish adds no space after a completion that ends in / or :, as a transport does.
            case plain nospace
                printf '%s%s\\n' "$keep" $fields[2]
            case dir
                __fish_complete_directories $fields[2]
            case file
                __fish_complete_path $fields[2]
        end
    end
end

complete --command {prog} --no-files --arguments '({func})'
"""

_INSTALL = {
    "bash": "Source it from ~/.bashrc, or put it in a\n"
    "# bash-completion completions directory as `{prog}`.",
    "zsh": "Put it in a directory of $fpath before compinit runs, or\n# source it after compinit.",
    "fish": "Put it in a directory of $fish_complete_path, or source it.",
}


def completion_scripts(command: click.Command) -> Mapping[str, str]:
    """The file name under completions/ and the text of each shell's script."""
    prog = command.name or "imginspect"
    # click's own name for the variable: Command._main_shell_completion
    var = "_{}_COMPLETE".format(prog.replace("-", "_").replace(".", "_")).upper()
    safe = prog.replace("-", "_").replace(".", "_")
    scripts = {
        "bash": (f"{prog}.bash", _BASH, f"_{safe}_completion", "#"),
        "zsh": (f"_{prog}", _ZSH, f"_{safe}", "#"),
        "fish": (f"{prog}.fish", _FISH, f"__{safe}_complete", "#"),
    }
    files: dict[str, str] = {}
    for shell, (name, body, func, comment) in scripts.items():
        install = _INSTALL[shell].replace("{prog}", prog)
        header = _HEADER.format(comment=comment, shell=shell, prog=prog, install=install)
        if shell == "zsh":
            header = f"#compdef {prog}\n" + header
        text = body.replace("{func}", func).replace("{var}", var).replace("{prog}", prog)
        files[name] = header + "\n" + text
    return files


_OPTION_TABLE = '''\
# Generated from the click command by scripts/generate; do not edit.
"""The command's options as data, for answering a TAB without click (inspector/cli/tab.py)."""

# What the completion scripts set to ask for candidates (as click's Command names it).
COMPLETE_VAR = {var}
# Each option that takes one value, and the parameter it sets.
VALUE_OPTIONS = {{
{value_options}}}
# The options that take no value.
FLAGS = (
{flags})
'''


def option_table(command: click.Command) -> str:
    """inspector/cli/option_table.py: what inspector/cli/tab.py must know of the command's options.

    The TAB fast path reads the words the way click parses them only for a command of the
    shape it knows: one IMAGE... argument, options of one value or none, nothing from the
    environment. Another shape fails here, so that the fast path is changed along with it.
    """
    prog = command.name or "imginspect"
    var = "_{}_COMPLETE".format(prog.replace("-", "_").replace(".", "_")).upper()
    ctx = click.Context(command, info_name=prog, **command.context_settings)  # -h, --help
    values: dict[str, str] = {}
    flags: set[str] = set()
    arguments = []
    for param in command.get_params(ctx):
        if param.envvar is not None:
            raise ValueError(f"{param.name} reads {param.envvar}: teach inspector/cli/tab.py first")
        if isinstance(param, click.Argument):
            arguments.append(param)
        elif isinstance(param, click.Option) and (
            param.is_flag or param.count or getattr(param, "attached_only", False)
        ):
            # An option whose value is only ever attached (`--files=PREFIX`) takes no word of
            # its own: for a TAB, it is a flag.
            flags.update(param.opts, param.secondary_opts)
        elif isinstance(param, click.Option) and param.nargs == 1 and param.name:
            values.update(dict.fromkeys(param.opts, param.name))
        else:
            raise ValueError(f"inspector/cli/tab.py cannot read {param.name}: nargs={param.nargs}")
    if [(a.name, a.nargs) for a in arguments] != [("images", -1)] or ctx.auto_envvar_prefix:
        raise ValueError("inspector/cli/tab.py knows a command of one IMAGE... argument, no more")
    return _OPTION_TABLE.format(
        var=json.dumps(var),  # a Python string literal, quoted as ruff formats it
        value_options="".join(
            f"    {json.dumps(opt)}: {json.dumps(name)},\n" for opt, name in sorted(values.items())
        ),
        flags="".join(f"    {json.dumps(opt)},\n" for opt in sorted(flags)),
    )
