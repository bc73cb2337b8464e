"""man/imginspect.1: the click command, the environment table and the prose of manpage_text.py,
as roff.

What the command knows comes from the command: its help, every option (names, value,
choices, default, help), the exit statuses of its epilog, the environment variables of
inspector.environment and the functions of the template engine. The prose says what those
cannot; each option's extra paragraph is checked against the command's options.
"""

import inspect
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass

import click
from manpage_text import (
    COMPLETION_NOTE,
    DESCRIPTION_MORE,
    DIFF_KEYS,
    EXAMPLES,
    EXIT_STATUS_MORE,
    FILES,
    FILES_INTRO,
    FILES_READ,
    FILES_READ_INTRO,
    FORMAT_DIFFERENCES,
    FORMAT_EXAMPLES,
    FORMAT_LANGUAGE,
    FORMAT_LIMITS,
    FORMAT_TWO_MODES,
    FUNCTIONS,
    OPTION_DETAILS,
    OUTPUT,
    SEE_ALSO,
    SOURCE_DOCS,
    TEXT_TEMPLATE_URL,
    VIEW_SECTIONS,
)

from inspector import __version__
from inspector.environment import VARIABLES
from inspector.errors import ExitCode
from inspector.template.functions import BUILTINS, DOCKER_FUNCTIONS

# Prose uses `code` for literal text (bold) and *WORD* for a placeholder (italic); the
# command's option names are bold wherever they appear.
_INLINE = re.compile(
    r"`(?P<code>[^`]+)`"
    r"|\*(?P<placeholder>[A-Za-z][\w.-]*)\*"
    r"|(?<![\w-])(?P<option>--?[A-Za-z][\w-]*)"
)
MAX_SOURCE_LINE = 80  # mandoc -Tlint's advice for roff source
_SENTENCE_END = re.compile(r"(?<=[.?!]) +(?=[A-Z\\(])")


# -- roff --------------------------------------------------------------------------------------


def escape(text: str) -> str:
    """Plain text as roff: backslashes, minus signs, quotes at a line start, non-ASCII."""
    out = text.replace("\\", "\\e").replace("-", "\\-")
    return "".join(c if ord(c) < 0x80 else f"\\[u{ord(c):04X}]" for c in out)


def _line_start_safe(line: str) -> str:
    # A line starting with . or ' would be read as a request.
    return "\\&" + line if line[:1] in (".", "'") else line


def prose(text: str, options: Collection[str] = ()) -> str:
    """A paragraph of running text with its inline markup, one sentence a line."""
    pieces: list[str] = []
    position = 0
    for match in _INLINE.finditer(text):
        pieces.append(escape(text[position : match.start()]))
        position = match.end()
        if match["code"] is not None:
            pieces.append(f"\\fB{escape(match['code'])}\\fR")
        elif match["placeholder"] is not None:
            pieces.append(f"\\fI{escape(match['placeholder'])}\\fR")
        elif match["option"] in options:
            pieces.append(f"\\fB{escape(match['option'])}\\fR")
        else:
            pieces.append(escape(match[0]))
    pieces.append(escape(text[position:]))
    sentences = _SENTENCE_END.split(" ".join("".join(pieces).split()))
    return "\n".join(_line_start_safe(line) for s in sentences for line in _wrap(s))


def _wrap(sentence: str) -> list[str]:
    """Source lines of at most 80 bytes, broken at spaces (roff joins them again)."""
    lines: list[str] = []
    line = ""
    for word in sentence.split(" "):
        if line and len(line) + 1 + len(word) > MAX_SOURCE_LINE:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return [*lines, line]


def example(lines: Iterable[str]) -> str:
    """Literal lines, as typed at a shell."""
    body = "\n".join(_line_start_safe(escape(line)) for line in lines)
    return f".PP\n.EX\n{body}\n.EE"


def tagged(tag: str, *paragraphs: str) -> str:
    """A .TP item: the tag line (already roff) and its paragraphs."""
    body = "\n.IP\n".join(paragraphs)
    return f".TP\n{tag}\n{body}"


def bullets(items: Iterable[str], options: Collection[str] = ()) -> str:
    return "\n".join(f".IP \\(bu 2\n{prose(item, options)}" for item in items)


# -- what the command knows ---------------------------------------------------------------------


@dataclass(frozen=True)
class OptionEntry:
    tag: str
    names: tuple[str, ...]
    help: str


def option_entries(command: click.Command) -> list[OptionEntry]:
    """Every option --help shows, in its order, with its value, choices and default."""
    ctx = click.Context(command, info_name=command.name, **command.context_settings)
    entries: list[OptionEntry] = []
    for param in command.get_params(ctx):
        if not isinstance(param, click.Option) or param.hidden:
            continue
        names = tuple(sorted([*param.opts, *param.secondary_opts], key=len))
        tag = ", ".join(f"\\fB{escape(name)}\\fR" for name in names)
        if isinstance(param.type, click.Choice):
            choices = "|".join(f"\\fB{escape(str(choice))}\\fR" for choice in param.type.choices)
            tag += f" {choices}"
        elif getattr(param, "attached_only", False):
            metavar = param.metavar or param.type.name.upper()
            tag += f"[=\\fI{escape(metavar)}\\fR]"
        elif not param.is_flag and not param.count:
            metavar = param.metavar or param.type.name.upper()
            tag += f" \\fI{escape(metavar)}\\fR"
        text = param.help or ""
        if param.show_default and param.default is not None and not param.is_flag:
            default = param.default
            shown = f"{default:g}" if isinstance(default, float) else str(default)
            text += f" The default is `{shown}`."
        entries.append(OptionEntry(tag, names, text))
    return entries


def exit_statuses(epilog: str) -> tuple[list[tuple[int, str]], str]:
    """The rows of the epilog's `Exit status:` block, and the sentence under them."""
    block = epilog.split("Exit status:\n", 1)[1].split("\n\n", 1)[0]
    rows: list[tuple[int, str]] = []
    after: list[str] = []
    for line in block.splitlines():
        if match := re.fullmatch(r"\s+(\d+)\s+(.+)", line):
            rows.append((int(match[1]), match[2]))
        elif line.strip():
            after.append(line.strip())
    if {code for code, _ in rows} != {int(code) for code in ExitCode}:
        raise ValueError("the epilog's exit statuses do not match ExitCode")
    return rows, " ".join(after)


def epilog_examples(epilog: str) -> list[str]:
    """The commands of the epilog's `Examples:` block, without their comments."""
    block = epilog.split("Examples:\n", 1)[1].split("\n\n", 1)[0]
    return [re.split(r"\s{3,}", line.strip())[0] for line in block.splitlines() if line.strip()]


def description(command: click.Command) -> tuple[str, list[str]]:
    """The command's help: its first line for NAME, its paragraphs for DESCRIPTION."""
    paragraphs = inspect.cleandoc(command.help or "").split("\n\n")
    first = paragraphs[0].strip().rstrip(".")
    return first[0].lower() + first[1:], [" ".join(p.split()) for p in paragraphs[1:]]


def render(command: click.Command, date: str) -> str:
    """The whole page; date (YYYY-MM-DD) is the day its content last changed."""
    name_line, help_paragraphs = description(command)
    entries = option_entries(command)
    known = {name for entry in entries for name in entry.names}
    if unknown := set(OPTION_DETAILS) - known:
        raise ValueError(f"OPTION_DETAILS names options the command lacks: {sorted(unknown)}")
    functions = {*BUILTINS, *DOCKER_FUNCTIONS}
    if set(FUNCTIONS) != functions:
        raise ValueError(f"FUNCTIONS differs from the engine's: {set(FUNCTIONS) ^ functions}")
    epilog = command.epilog or ""
    statuses, status_note = exit_statuses(epilog)
    examples = [line for _, lines in EXAMPLES for line in lines]
    if missing := [line for line in epilog_examples(epilog) if line not in examples]:
        raise ValueError(f"--help's examples missing from EXAMPLES: {missing}")
    prog = command.name or "imginspect"
    usage = command.collect_usage_pieces(click.Context(command, info_name=prog))

    out: list[str] = [
        f'.TH {prog.upper()} 1 {date} "{prog} {__version__}" "User Commands"',
        # Ragged right: long addresses and paths would stretch justified lines apart.
        ".ad l",
        ".SH NAME",
        f"{prog} \\- {escape(name_line)}",
        ".SH SYNOPSIS",
        f".SY {prog}",
        *(_usage_piece(piece) for piece in usage),
        ".YS",
        ".SH DESCRIPTION",
    ]
    out += _paragraphs([*help_paragraphs, *DESCRIPTION_MORE], known)
    out.append(".SH OPTIONS")
    for entry in entries:
        details = [detail for name in entry.names for detail in OPTION_DETAILS.get(name, ())]
        out.append(tagged(entry.tag, *(prose(text, known) for text in (entry.help, *details))))
    out += [".SH OUTPUT", ".SS The view"]
    view, *view_more = OUTPUT["view"]
    out += _paragraphs([view], known)
    out.append(bullets(VIEW_SECTIONS, known))
    out += _paragraphs(view_more, known)
    out.append(".SS JSON")
    out += _paragraphs(OUTPUT["json"], known)
    out.append(".SS Templates")
    out += _paragraphs([*OUTPUT["format"], *OUTPUT["quiet"], *OUTPUT["pipe"]], known)
    out.append(".SS Comparisons")
    out += _paragraphs(OUTPUT["diff"], known)
    for key, text in DIFF_KEYS:
        out.append(tagged(f"\\fB{escape(key)}\\fR", prose(text, known)))
    out.append(".SS Contents")
    out += _paragraphs(OUTPUT["contents"], known)
    out += [".SH FORMAT"]
    out += _paragraphs(
        [
            "The template language is Go's `text/template`, implemented in Python (a lexer, a "
            "parser and an evaluator over the daemon's JSON; nothing is ever evaluated as "
            "code), with docker's functions added:",
        ],
        known,
    )
    out.append(bullets(FORMAT_LANGUAGE, known))
    out.append(".SS Functions")
    for function in FUNCTIONS:
        out.append(tagged(f"\\fB{escape(function)}\\fR", prose(FUNCTIONS[function] + ".")))
    out.append(".SS Docker compatibility")
    out += _paragraphs(FORMAT_TWO_MODES, known)
    out.append(".SS Limits")
    out += _paragraphs(
        [
            "Templates are bounded, so that none can hang imginspect or exhaust its memory. A "
            "template past a bound fails with exit 4 (2 at parse time) and a message that "
            "names it, and is not run again on the raw JSON:"
        ],
        known,
    )
    for what, limit in FORMAT_LIMITS:
        out.append(tagged(escape(what), prose(limit, known)))
    out.append(".SS Deliberate differences from docker")
    out.append(bullets(FORMAT_DIFFERENCES, known))
    out.append(".SS Examples")
    out.append(example(FORMAT_EXAMPLES))
    out.append(".SH ENVIRONMENT")
    for variable in VARIABLES:
        text = variable.description
        if variable.read_by:
            text += f" (Read by {variable.read_by}.)"
        out.append(tagged(f"\\fB{escape(variable.name)}\\fR", prose(text, known)))
    out.append(".SH EXIT STATUS")
    for code, meaning in statuses:
        out.append(tagged(f"\\fB{code}\\fR", prose(meaning, known)))
    out += _paragraphs(
        [status_note, *EXIT_STATUS_MORE],
        known,
    )
    out.append(".SH FILES")
    out += _paragraphs(FILES_INTRO, known)
    for path, text in FILES:
        out.append(tagged(f"\\fI{escape(path)}\\fR", prose(text)))
    out += _paragraphs(FILES_READ_INTRO, known)
    for path, text in FILES_READ:
        out.append(tagged(f"\\fI{escape(path)}\\fR", prose(text, known)))
    out += _paragraphs(COMPLETION_NOTE, known)
    out.append(".SH EXAMPLES")
    for intro, lines in EXAMPLES:
        if intro:
            out += _paragraphs([intro], known)
        if lines:
            out.append(example(lines))
    out.append(".SH SEE ALSO")
    refs = [f".BR {escape(page)} ({section})" for page, section in SEE_ALSO]
    out += [f"{ref}," for ref in refs[:-1]] + [refs[-1]]
    out += [
        ".PP",
        "The template language:",
        f".UR {TEXT_TEMPLATE_URL}",
        "Go's text/template",
        ".UE .",
    ]
    out += _paragraphs(SOURCE_DOCS, known)
    return _tidy("\n".join(out)) + "\n"


def _tidy(page: str) -> str:
    """Drop the paragraph macros that a heading already implies."""
    return re.sub(r"^(\.S[HS] .*)\n\.PP$", r"\1", page, flags=re.MULTILINE)


def _usage_piece(piece: str) -> str:
    """`[OPTIONS]` and `IMAGE...` from click's usage line, as a synopsis shows them."""
    if optional := re.fullmatch(r"\[(.+)\]", piece):
        return f".RI [ {escape(optional[1])} ]"
    if piece.endswith("..."):
        return f".IR {escape(piece.removesuffix('...'))} ..."
    return f".I {escape(piece)}"


def _paragraphs(texts: Iterable[str], options: set[str]) -> list[str]:
    return [f".PP\n{prose(text, options)}" for text in texts if text]
