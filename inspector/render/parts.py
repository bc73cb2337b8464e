"""What the view and --diff's view are made of: the console they print on, an image's text made
safe for a terminal, sizes, durations, times and command lines as people read them, and the
layouts of keys and values.

Every string from an image goes through `safe` (control, bidi and other invisible characters
are shown escaped) and reaches rich only as a `Text`: never as markup, emoji codes or
highlighting.
"""

import io
import re
import shlex
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta, tzinfo

from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from inspector.template.gotime import format_duration

# The one set of characters that must not reach a terminal, shared with stderr and --format.
from inspector.terminal import UNSAFE_CHARS
from inspector.terminal import escape_char as _escape
from inspector.untrusted import count, number, string, strings, text, unset

DEFAULT_WIDTH = 80
# Narrower than this, nothing lines up.
MIN_WIDTH = 40
# Wider than this is a mistake in COLUMNS, not a terminal.
MAX_WIDTH = 1000
# A value column narrower than this is hard to read: put values under their keys instead.
MIN_VALUE_WIDTH = 30

# Styles: plain text carries none of them; colour only makes the structure easier to see.
TITLE = "bold cyan"
KEY = "bold"
DIM = "dim"
NOTE = "yellow"
ID = "bold yellow"
MARK = "magenta"
_ESCAPED = "reverse"
# The widest label of the view's Image and Run sections, so that their values line up.
_LABEL_WIDTH = len("Docker version")

# What `safe` escapes: the terminal-unsafe characters, and a backslash of the daemon's that
# would read as the start of an escape (`\t`, `\x1b`, `\u202e`, `\\`): one before n, r, t, x,
# u, U, another backslash or an escaped character is shown as `\\`, so no output has two
# readings.
_TO_ESCAPE = re.compile(f"[{UNSAFE_CHARS}]|\\\\(?=[\\\\nrtxuU{UNSAFE_CHARS}])")
_SGR = re.compile(r"\x1b\[[0-9;]*m")
_TRAILING_SPACE = re.compile(r"(?: |\x1b\[[0-9;]*m)+$")
# An image or layer ID; Podman leaves the algorithm off some (`Parent`).
_SHA256 = re.compile(r"(?:sha256:)?([0-9a-f]{64})")
_SI_UNITS = ("B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB")


# -- the console ----------------------------------------------------------------------------


def new_console(width: int, color: bool) -> Console:
    """A console that writes to memory, takes no markup, and only colours if told to."""
    return Console(
        file=io.StringIO(),
        width=min(MAX_WIDTH, max(MIN_WIDTH, width)),
        color_system="standard" if color else None,
        force_terminal=color,
        no_color=not color,
        markup=False,
        emoji=False,
        highlight=False,
        legacy_windows=False,
        soft_wrap=False,
        _environ={},  # the caller has decided colour and width: rich must not read them again
    )


def console_text(console: Console) -> str:
    """What was printed on a new_console, each line without the spaces rich pads it with."""
    buffer = console.file
    assert isinstance(buffer, io.StringIO)  # new_console writes to memory
    output = buffer.getvalue()
    # rich pads cells to their column's width; no line needs to end in spaces, coloured or not.
    return "".join(_TRAILING_SPACE.sub(_keep_styles, line) + "\n" for line in output.splitlines())


def _keep_styles(match: re.Match[str]) -> str:
    return "".join(_SGR.findall(match[0]))


def heading(title: Text, width: int) -> RenderableType:
    """A title, then a rule to the right edge (under it, if the title is long)."""
    room = width - title.cell_len - 1
    if room >= 3:
        return Text.assemble(title, " ", ("─" * room, DIM))
    return Group(title, Text("─" * width, style=DIM))


# -- an image's text ------------------------------------------------------------------------


def safe(value: str, style: str = "") -> Text:
    """Daemon text as a rich Text, with every character that could act on a terminal escaped
    (and the backslashes that could be taken for escapes doubled)."""
    shown = Text(style=style, overflow="fold")
    start = 0
    for match in _TO_ESCAPE.finditer(value):
        shown.append(value[start : match.start()])
        shown.append(_escape(match[0]), style=_ESCAPED)
        start = match.end()
    shown.append(value[start:])
    return shown


def nonempty(value: object) -> Text | None:
    shown = text(value)
    return safe(shown) if shown else None


def short_id(value: object, style: str = "") -> Text | None:
    """An image or layer ID as docker shows it (12 hex digits), anything else as it is."""
    shown = text(value)
    if not shown:
        return None
    full = _SHA256.fullmatch(shown)
    return Text(full[1][:12], style=style) if full else safe(shown, style)


def joined(items: Sequence[str]) -> Text | None:
    return safe(", ".join(items)) if items else None


def lines(items: Sequence[str]) -> Text | None:
    return Text("\n").join(safe(item) for item in items) if items else None


def note(message: str) -> Text:
    return Text.assemble(("Note: ", NOTE), safe(message))


def plain(shown: Text | None) -> str | None:
    return None if shown is None else shown.plain


def pad(shown: Text, width: int, *, right: bool = False) -> Text:
    gap = " " * max(0, width - shown.cell_len)
    return Text.assemble(gap, shown) if right else Text.assemble(shown, gap)


# -- commands -------------------------------------------------------------------------------

_SHELL_SAFE = re.compile(r"[A-Za-z0-9_@%+=:,./-]+")
_NEEDS_SINGLE_QUOTES = re.compile(r'["$`\\!]')


def command_line(args: Sequence[str]) -> Text:
    """The command line that args make, quoted as a person would type it."""
    return safe(" ".join(_quote(arg) for arg in args))


def _quote(arg: str) -> str:
    if _SHELL_SAFE.fullmatch(arg):
        return arg
    if "'" not in arg:
        return f"'{arg}'"
    if not _NEEDS_SINGLE_QUOTES.search(arg):
        return f'"{arg}"'
    return shlex.quote(arg)


def healthcheck_text(value: object) -> Text | None:
    """Config.Healthcheck: its command, then how often it runs; None when it is unset."""
    if unset(value):
        return None
    if not isinstance(value, dict):
        return safe(text(value) or "")
    test = strings(value.get("Test"))
    if not test:
        command = Text("inherited from the base image", style=DIM)
    elif test[0] == "NONE":
        command = Text("disabled (NONE)")
    elif test[0] == "CMD":
        command = command_line(test[1:])
    elif test[0] == "CMD-SHELL":
        command = Text.assemble(safe(" ".join(test[1:])), (" (in the image's shell)", DIM))
    else:
        command = command_line(test)
    timing = [
        f"{label} {shown}"
        for label, key in (
            ("every", "Interval"),
            ("timeout", "Timeout"),
            ("start period", "StartPeriod"),
            ("start interval", "StartInterval"),
        )
        if (shown := go_duration(value.get(key)))
    ]
    retries = value.get("Retries")
    if retries:
        timing.append(f"{text(retries)} retries" if retries != 1 else "1 retry")
    if not timing:
        return command
    return Text.assemble(command, "\n", safe(", ".join(timing), DIM))


def go_duration(value: object) -> str | None:
    """Nanoseconds as Go prints a time.Duration (`30s`, `1m30s`, `1.5s`); 0 means the default."""
    if not value:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        return text(value)
    return format_duration(value)


# -- sizes and times ------------------------------------------------------------------------


def size_text(value: object, *, exact: bool = True) -> Text | None:
    """`1.98 MB (1,982,303 bytes)`: SI units with 3 digits, as `docker images`, never 1e+03;
    a value that is no size (or too large for the units) as it is; None when it is unset."""
    if unset(value):
        return None
    number = count(value)
    if number is None or number >= 1000 ** len(_SI_UNITS):
        return safe(text(value) or "")
    shown = si_size(number)
    if exact and number >= 1000:
        return Text.assemble(shown, (f" ({number:,} bytes)", DIM))
    return Text(shown)


def si_size(number: int) -> str:
    value = float(number)
    for unit in _SI_UNITS:
        shown = f"{value:.3g}"
        if "e" not in shown and float(shown) < 1000:
            return f"{shown} {unit}"
        value /= 1000
    return f"{number} B"


def parse_time(value: object) -> datetime | None:
    shown = string(value)
    if shown is None:
        return None
    try:
        moment = datetime.fromisoformat(shown.strip())
    except ValueError:
        return None
    if moment.year <= 1:  # Go's zero time: not set
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def unix_time(value: object) -> datetime | None:
    seconds = number(value)
    if seconds is None or seconds <= 0:
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def local_time(moment: datetime | None, tz: tzinfo | None) -> datetime | None:
    if moment is None:
        return None
    try:
        return moment.astimezone(tz)
    except (OverflowError, OSError, ValueError):
        return None


def age(moment: datetime, now: datetime) -> str:
    try:
        delta = now - moment
    except OverflowError:
        return "at an unreadable time"
    if delta < -timedelta(seconds=1):
        return f"{human_duration(-delta)} from now"
    return f"{human_duration(delta)} ago"


def human_duration(delta: timedelta) -> str:
    """How long, in the words of docker's `units.HumanDuration` (`3 days`, `About an hour`)."""
    seconds = int(delta.total_seconds())
    if seconds < 1:
        return "less than a second"
    if seconds < 60:
        return "1 second" if seconds == 1 else f"{seconds} seconds"
    minutes = seconds // 60
    if minutes < 60:
        return "about a minute" if minutes == 1 else f"{minutes} minutes"
    hours = round(delta.total_seconds() / 3600)
    if hours == 1:
        return "about an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{seconds // 3600 // 24 // 365} years"


# -- layout ---------------------------------------------------------------------------------


def key_values(rows: Iterable[tuple[str, Text]]) -> RenderableType | None:
    """Rows of a section: a fixed label, then a value that wraps (and folds, never cut)."""
    table = Table.grid(padding=(0, 2))
    table.add_column(no_wrap=True, min_width=_LABEL_WIDTH)
    table.add_column(overflow="fold")
    for key, value in rows:
        table.add_row(Text(key, style=KEY), value)
    return table if table.row_count else None


def pairs(rows: Sequence[tuple[Text, Text]], width: int, indent: int = 4) -> RenderableType:
    """Key / value pairs from the daemon: side by side when the values get room, else stacked."""
    key_width = max(key.cell_len for key, _ in rows)
    value_width = max(value.cell_len for _, value in rows)
    room = width - key_width - 2
    if room >= min(MIN_VALUE_WIDTH, value_width):
        table = Table.grid(padding=(0, 2))
        table.add_column(no_wrap=True)
        table.add_column(overflow="fold")
        for key, value in rows:
            table.add_row(key, value)
        return table
    parts: list[RenderableType] = []
    for key, value in rows:
        parts.append(key)
        if value.plain:
            parts.append(Padding(value, (0, 0, 0, indent)))
    return Group(*parts)
