"""A TAB on an image name, answered without click: its completion protocol, for that one case.

Importing click takes longer than a whole TAB should, so the entry point asks here first.
When the word under the cursor is plainly an IMAGE (it is no option, the word before it is no
option that takes a value, and every word before those is one this module reads as click's
parser does), the words are read as click's BashComplete, ZshComplete and FishComplete read
them, the daemon is the one --host or --context names, and the answer is what click would
print. Anything else, `--` and unknown options included, gets None: click answers it.
tests/test_tab.py checks that both print the same; scripts/generate writes the option table.
"""

import sys
from collections.abc import Mapping, Sequence

from inspector.cli.option_table import COMPLETE_VAR, FLAGS, VALUE_OPTIONS

SHELLS = {"bash_complete": "bash", "zsh_complete": "zsh", "fish_complete": "fish"}


def answer_or_return(environ: Mapping[str, str]) -> None:
    """Exit with the answer to a TAB on an image name, or return for click to answer.

    Click takes longer to load than a whole TAB should; tab.answer says None to
    anything but an image name. A TAB must never print a traceback: whatever goes wrong
    here, click answers instead, as it would have.
    """
    try:
        reply = answer(environ)
        if reply is None or sys.stdout is None:
            return
        sys.stdout.buffer.write(reply)  # bytes, as click's completion writes them
        sys.stdout.buffer.flush()
    except KeyboardInterrupt:
        raise
    except Exception:  # the second and last guard: click's path is the fallback
        return
    sys.exit(0)


def answer(environ: Mapping[str, str]) -> bytes | None:
    """What click would print for this TAB, or None when it is click's to answer."""
    shell = SHELLS.get(environ.get(COMPLETE_VAR, ""))
    words = _completion_args(shell, environ) if shell else None
    if shell is None or words is None:
        return None
    args, incomplete = words
    if incomplete.startswith("-") or "=" in incomplete:
        return None  # an option, or click's own handling of `=`
    given = _options_given(args)
    if given is None:
        return None
    # Only now: a TAB that click answers should not pay for the socket and json modules.
    from inspector.sources.daemon.completion import complete_name

    candidates = complete_name(given.get("host"), incomplete, environ, given.get("context"))
    # As click's shell_complete: the items a line each, and a newline after them, even none.
    lines = [_formatted(shell, value, help_, kind) for value, help_, kind in candidates]
    return ("\n".join(lines) + "\n").encode()


def split_arg_string(string: str) -> list[str]:
    """The words of a line, as click.shell_completion.split_arg_string splits them."""
    if not any(c in string for c in "'\"\\"):
        # Without quotes or escapes, shlex (as click sets it up) splits at these alone.
        spaced = string.replace("\t", " ").replace("\r", " ").replace("\n", " ")
        return [word for word in spaced.split(" ") if word]
    import shlex

    lex = shlex.shlex(string, posix=True)
    lex.whitespace_split = True
    lex.commenters = ""
    out: list[str] = []
    try:
        out.extend(lex)
    except ValueError:  # an unclosed quote or a trailing backslash: the partial word as it is
        out.append(lex.token)
    return out


def _completion_args(shell: str, environ: Mapping[str, str]) -> tuple[list[str], str] | None:
    """The complete words after the program's name, and the word being completed."""
    try:
        words = split_arg_string(environ["COMP_WORDS"])
        if shell == "fish":  # COMP_WORDS is the line up to the cursor, COMP_CWORD the word
            incomplete = environ["COMP_CWORD"]
            if incomplete:
                incomplete = split_arg_string(incomplete)[0]
            args = words[1:]
            if incomplete and args and args[-1] == incomplete:
                args.pop()
            return args, incomplete
        cword = int(environ["COMP_CWORD"])
    except (KeyError, ValueError, IndexError):
        return None
    if cword < 1:
        return None
    return words[1:cword], words[cword] if cword < len(words) else ""


def _options_given(args: Sequence[str]) -> dict[str, str] | None:
    """The value of each option on the line, by parameter name; None if a word is not plain."""
    given: dict[str, str] = {}
    words = iter(args)
    for word in words:
        if not word.startswith("-") or word in FLAGS:
            continue  # an image, or a flag
        name, equals, value = word.partition("=")
        if equals and name.startswith("--") and name in VALUE_OPTIONS:
            given[VALUE_OPTIONS[name]] = value
            continue
        if word not in VALUE_OPTIONS:
            return None  # `--`, `-`, `-qH`, `-Hhost`, `--flag=x`, an unknown option
        following = next(words, None)
        if following is None or following.startswith("-"):
            # The word under the cursor is this option's value, or click would read the value
            # as an option of its own when it completes: either way, click's to answer.
            return None
        given[VALUE_OPTIONS[word]] = following  # the last one wins, as in click's parser
    return given


def _formatted(shell: str, value: str, help_: str, kind: str) -> str:
    """An item of the kind (`plain`, `nospace`), as click's format_completion for the shell
    writes a CompletionItem of that type."""
    if shell == "bash":
        return f"{kind},{value}"
    if shell == "zsh":
        # zsh's _describe splits value from help at the first unescaped colon; compadd, used
        # for an item without help ("_"), takes the value as it is.
        help_ = help_ or "_"
        if help_ != "_":
            value = value.replace(":", r"\:")
        return f"{kind}\n{value}\n{help_}"
    if help_:
        help_ = help_.replace("\n", r"\n").replace("\t", " ")
        return f"{kind},{value}\t{help_}"
    return f"{kind},{value}"
