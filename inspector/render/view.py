"""The default output: a readable summary of each image that is safe to print on a terminal.

rich is imported here and nowhere else, so `--json` never pays for it. Every string that came
from the daemon goes through `_safe` (control, bidi and other invisible characters are shown
escaped) and reaches rich only as a `Text`: never as markup, emoji codes or highlighting.
Every field is read through inspector.untrusted, as --diff reads it: a field that is missing,
null or of an unexpected type never breaks the view; it is left out, or shown as the JSON it
was.
"""

import io
import math
import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from inspector.image import Image
from inspector.layers import Layer, diff_ids, history_steps, join_layers, too_long_to_join
from inspector.template.gotime import format_duration

# The one set of characters that must not reach a terminal, shared with stderr and --format.
from inspector.terminal import UNSAFE_CHARS
from inspector.terminal import escape_char as _escape
from inspector.untrusted import (
    count,
    flag,
    json_text,
    keys,
    member,
    number,
    parse,
    string,
    strings,
    text,
    text_values,
    unset,
)

DEFAULT_WIDTH = 80
# Narrower than this, nothing lines up.
MIN_WIDTH = 40
# Wider than this is a mistake in COLUMNS, not a terminal.
MAX_WIDTH = 1000
# Below this width the layer command goes on its own line instead of into a column.
WIDE_LAYERS = 100
# A value column narrower than this is hard to read: put values under their keys instead.
MIN_VALUE_WIDTH = 30
# The steps listed for a layer the history leaves open; a longer list helps nobody.
MAX_CANDIDATES = 10

# What `_safe` escapes: the terminal-unsafe characters, and a backslash of the daemon's that
# would read as the start of an escape (`\t`, `\x1b`, `\u202e`, `\\`): one before n, r, t, x,
# u, U, another backslash or an escaped character is shown as `\\`, so no output has two
# readings.
_TO_ESCAPE = re.compile(f"[{UNSAFE_CHARS}]|\\\\(?=[\\\\nrtxuU{UNSAFE_CHARS}])")
_SGR = re.compile(r"\x1b\[[0-9;]*m")
_TRAILING_SPACE = re.compile(r"(?: |\x1b\[[0-9;]*m)+$")
# An image or layer ID; Podman leaves the algorithm off some (`Parent`).
_SHA256 = re.compile(r"(?:sha256:)?([0-9a-f]{64})")
_SI_UNITS = ("B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB")
_OCI_PREFIX = "org.opencontainers.image."

# Styles: plain text carries none of them; colour only makes the structure easier to see.
_TITLE = "bold cyan"
_KEY = "bold"
_DIM = "dim"
_ESCAPED = "reverse"
_NOTE = "yellow"
_ID = "bold yellow"
_MARK = "magenta"
_OCI_MARK = "OCI "
# The widest label of the Image and Run sections, so that their values line up.
_LABEL_WIDTH = len("Docker version")


def want_color(choice: str, environ: Mapping[str, str], is_terminal: bool) -> bool:
    """--color first; then NO_COLOR (non-empty: none), FORCE_COLOR, TERM=dumb, the terminal."""
    if choice != "auto":
        return choice == "always"
    if environ.get("NO_COLOR"):
        return False
    if environ.get("FORCE_COLOR"):
        return True
    if environ.get("TERM") == "dumb":
        return False
    return is_terminal


def output_width(environ: Mapping[str, str], terminal_columns: int | None) -> int:
    """COLUMNS if set, else the terminal's width, else 80 (piped output)."""
    columns = environ.get("COLUMNS", "")
    width = int(columns) if columns.isdigit() and int(columns) > 0 else terminal_columns
    return min(MAX_WIDTH, max(MIN_WIDTH, width or DEFAULT_WIDTH))


def render_view(
    images: Sequence[Image],
    *,
    width: int,
    color: bool,
    now: datetime,
    tz: tzinfo | None = None,
) -> str:
    """The view of every image, one block each, of images a source found (an inspect of None
    shows as an empty object); tz None means the local time zone."""
    console = new_console(width, color)
    for index, image in enumerate(images):
        if index:
            console.print()
        console.print(_ImageView(image, now, tz, console.width).render())
    return console_text(console)


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


# -- one image ------------------------------------------------------------------------------


class _ImageView:
    """The sections of one image's block, built from its (untrusted) JSON."""

    def __init__(self, image: Image, now: datetime, tz: tzinfo | None, width: int):
        self.image = image
        self.now = now
        self.tz = tz
        self.width = width
        self.doc = parse(image.inspect)
        self.config = member(self.doc, "Config")

    def render(self) -> RenderableType:
        image_id = text(self.doc.get("Id")) or ""
        parts: list[RenderableType] = [self.header()]
        if image_id:
            parts.append(_safe(image_id, _DIM))
        sections = (
            ("Image", self.image_rows()),
            ("Run", self.run_rows()),
            ("Environment", self.environment()),
            ("Ports", self.ports()),
            ("Volumes", self.volumes()),
            ("Labels", self.labels()),
            ("Layers", self.layers()),
            ("Manifests", self.manifests()),
            ("Storage", self.storage()),
        )
        for title, body in sections:
            if body is not None:
                parts += [Text(""), Text(title, style=_TITLE), Padding(body, (0, 0, 0, 2))]
        return Group(*parts)

    def header(self) -> RenderableType:
        return heading(_safe(self.image.asked, _TITLE), self.width)

    # -- Image -------------------------------------------------------------------------------

    def image_rows(self) -> RenderableType | None:
        doc = self.doc
        origin = self.image.origin
        rows: list[tuple[str, Text | None]] = [
            ("ID", _short_id(doc.get("Id"), _ID)),
            ("Tags", _joined(strings(doc.get("RepoTags"))) or Text("none", style=_DIM)),
            ("Source", _safe(origin.description) if origin else None),
            ("Digests", _lines(strings(doc.get("RepoDigests")))),
            ("Created", self.created(doc.get("Created"))),
            ("Size", self.size()),
            ("In archive", self.stored_size()),
            ("Platform", self.platform()),
            ("Author", _nonempty(doc.get("Author"))),
            ("Comment", _nonempty(doc.get("Comment"))),
            ("Parent", _short_id(doc.get("Parent"))),
            ("Docker version", _nonempty(doc.get("DockerVersion"))),
        ]
        return _key_values([(key, value) for key, value in rows if value is not None])

    def size(self) -> Text | None:
        size = _size(self.doc.get("Size"))
        if self.image.origin is None:
            return size
        if size is None:
            return Text("unknown (a layer could not be unpacked)", style=_DIM)
        return Text.assemble(size, (" unpacked, as docker counts", _DIM))

    def stored_size(self) -> Text | None:
        origin = self.image.origin
        if origin is None or origin.stored_size is None:
            return None
        size = _size(origin.stored_size) or Text("")
        return Text.assemble(size, (" of layers, as stored", _DIM))

    def created(self, value: object) -> Text | None:
        shown = text(value)
        if not shown:
            return None
        moment = _parse_time(value)
        if moment is None:
            return _safe(shown)
        local = _local(moment, self.tz)
        shown = local.isoformat(timespec="seconds") if local else moment.isoformat()
        return Text.assemble(_safe(shown), (f" ({_age(moment, self.now)})", _DIM))

    def platform(self) -> Text | None:
        parts = [text(self.doc.get(key)) for key in ("Os", "Architecture", "Variant")]
        shown = "/".join(part for part in parts if part)
        os_version = text(self.doc.get("OsVersion"))
        if os_version:
            shown = f"{shown} ({os_version})" if shown else os_version
        return _safe(shown) if shown else None

    # -- Run ---------------------------------------------------------------------------------

    def run_rows(self) -> RenderableType | None:
        config = self.config
        entrypoint = strings(config.get("Entrypoint"))
        cmd = strings(config.get("Cmd"))
        command = [*entrypoint, *cmd]
        user = text(config.get("User"))
        shell = strings(config.get("Shell"))
        rows: list[tuple[str, Text | None]] = [
            ("Command", command_line(command) if command else Text("none set", style=_DIM)),
            ("Entrypoint", command_line(entrypoint) if entrypoint and cmd else None),
            ("Cmd", command_line(cmd) if entrypoint and cmd else None),
            ("User", _safe(user) if user else Text("root (no user set)", style=_DIM)),
            ("Working dir", _nonempty(config.get("WorkingDir"))),
            ("Shell", command_line(shell) if shell else None),
            ("Stop signal", _nonempty(config.get("StopSignal"))),
            ("Healthcheck", _healthcheck(config.get("Healthcheck"))),
            ("On build", _lines(strings(config.get("OnBuild")))),
        ]
        return _key_values([(key, value) for key, value in rows if value is not None])

    # -- Environment, ports, volumes, labels -------------------------------------------------

    def environment(self) -> RenderableType | None:
        pairs = []
        for entry in strings(self.config.get("Env")):
            key, _, value = entry.partition("=")
            pairs.append((_safe(key, _KEY), _safe(value)))
        return _pairs(pairs, self.body_width) if pairs else None

    def ports(self) -> RenderableType | None:
        ports = sorted(keys(self.config.get("ExposedPorts")), key=_port_order)
        return _safe("  ".join(ports)) if ports else None

    def volumes(self) -> RenderableType | None:
        return _lines(sorted(keys(self.config.get("Volumes"))))

    def labels(self) -> RenderableType | None:
        labels = text_values(self.config.get("Labels"))
        if not labels:
            return None
        ordered = sorted(
            labels.items(), key=lambda item: (not item[0].startswith(_OCI_PREFIX), item[0])
        )
        marked = any(key.startswith(_OCI_PREFIX) for key in labels)
        pairs = []
        for key, value in ordered:
            mark = _OCI_MARK if key.startswith(_OCI_PREFIX) else " " * len(_OCI_MARK)
            pairs.append(
                (
                    Text.assemble((mark, _MARK), _safe(key, _KEY)) if marked else _safe(key, _KEY),
                    _safe(value),
                )
            )
        return _pairs(pairs, self.body_width, indent=len(_OCI_MARK) + 4 if marked else 4)

    # -- Layers ------------------------------------------------------------------------------

    def layers(self) -> RenderableType | None:
        layer_ids = diff_ids(self.doc)
        steps = self.history_steps()
        note: Text | None = None
        joined: list[Layer] | None = None
        if isinstance(steps, str):
            note = _note(
                f"the layer history could not be read ({steps}); showing the layer IDs only"
            )
        elif too_long_to_join(layer_ids, steps):
            note = _note(
                f"the history ({_count(len(steps), 'step')}) is too long to pair with the "
                f"{_count(len(layer_ids), 'layer')}; showing the layer IDs only"
            )
        else:
            joined = join_layers(layer_ids, steps, self.image.layer_counts)
            if joined is None:
                note = _note(
                    f"the history ({_count(len(steps), 'step')}) does not match the "
                    f"{_count(len(layer_ids), 'layer')}; showing the layer IDs only"
                )
            else:
                note = _open_layers_note(joined)
        if joined is None:
            joined = [Layer(diff_id, None) for diff_id in layer_ids]
        if not joined and note is None:
            return None
        parts: list[RenderableType] = []
        if note is not None:
            parts.append(note)
        if joined:
            parts.append(self.layer_table(joined))
        return Group(*parts)

    def history_steps(self) -> list[Mapping[str, Any]] | str:
        """The history oldest first, or why there is none."""
        if self.image.history is None:
            error = self.image.history_error
            return (str(error) if error is not None else "") or "not asked for"
        steps = history_steps(self.image.history)
        return "the daemon's answer is not a list" if steps is None else steps

    def layer_table(self, layers: Sequence["Layer"]) -> RenderableType:
        table = Table.grid(padding=(0, 2))
        table.add_column(justify="right", no_wrap=True)
        if not any(layer.possible_steps for layer in layers):
            table.add_column(overflow="fold")
            table.add_row(Text("#", style=_KEY), Text("DIFF ID", style=_KEY))
            for number, layer in enumerate(layers, 1):
                table.add_row(Text(str(number)), _diff_id(layer.diff_id))
            return table
        header = [Text(title, style=_KEY) for title in ("DIFF ID", "SIZE", "CREATED")]
        rows = [self.layer_row(layer) for layer in layers]
        if self.body_width >= WIDE_LAYERS - 2:
            for justify in ("left", "right", "left"):
                table.add_column(justify=justify, no_wrap=True)
            table.add_column(overflow="fold", ratio=1)
            table.add_row(Text("#", style=_KEY), *header, Text("CREATED BY", style=_KEY))
            for number, row in enumerate(rows, 1):
                table.add_row(Text(str(number)), *row)
            return table
        # Narrow: the fields on one line, and the command under them with the whole width.
        widths = [
            max(cells[column].cell_len for cells in [header, *[row[:3] for row in rows]])
            for column in (0, 1)
        ]

        def line(diff_id: Text, size: Text, created: Text) -> Text:
            return Text.assemble(
                _pad(diff_id, widths[0]), "  ", _pad(size, widths[1], right=True), "  ", created
            )

        table.add_column(overflow="fold")
        table.add_row(Text("#", style=_KEY), line(*header))
        for number, (diff_id, size, created, command) in enumerate(rows, 1):
            table.add_row(Text(str(number)), Group(line(diff_id, size, created), command))
        return table

    def layer_row(self, layer: Layer) -> tuple[Text, Text, Text, RenderableType]:
        """Diff-ID, size, time and command; for a layer the history leaves open, what all its
        possible steps agree on, and each of them."""
        steps = layer.possible_steps
        sizes = [_size(step.get("Size"), exact=False) for step in steps]
        times = [self.step_time(step.get("Created")) for step in steps]
        dash = Text("-", style=_DIM)
        size = sizes[0] if len({_plain(size) for size in sizes}) == 1 else None
        created = times[0] if len({time.plain for time in times}) == 1 else None
        if layer.step is not None:
            command: RenderableType = _command(layer.step.get("CreatedBy"))
        else:
            choices = Table.grid(padding=(0, 1))
            choices.add_column(no_wrap=True)
            choices.add_column(overflow="fold")
            for step in steps[:MAX_CANDIDATES]:
                choices.add_row(Text("-", style=_DIM), _command(step.get("CreatedBy")))
            if len(steps) > MAX_CANDIDATES:
                more = _count(len(steps) - MAX_CANDIDATES, "more step")
                choices.add_row(Text(""), Text(f"and {more}", style=_DIM))
            command = Group(Text("one of these steps:", style=_DIM), choices)
        return _diff_id(layer.diff_id), size or dash, created or dash, command

    def step_time(self, value: object) -> Text:
        moment = _unix_time(value)
        local = _local(moment, self.tz) if moment else None
        if local is None:
            return Text("-", style=_DIM) if value in (None, 0, "") else _safe(text(value) or "")
        return Text(local.strftime("%Y-%m-%d %H:%M"))

    # -- Manifests (API 1.48+, --manifests) -------------------------------------------------

    def manifests(self) -> RenderableType | None:
        """One row per manifest: its platform (or kind), whether it is here, its sizes."""
        listed = self.doc.get("Manifests")
        if not isinstance(listed, list) or not listed:
            return None
        rows: list[tuple[Text, Text]] = []
        for entry in listed:
            if not isinstance(entry, dict):
                rows.append((Text("?", style=_KEY), _safe(json_text(entry))))
                continue
            rows.append((self.manifest_name(entry), self.manifest_facts(entry)))
        return _pairs(rows, self.body_width)

    @staticmethod
    def manifest_name(entry: Mapping[str, Any]) -> Text:
        platform = member(member(entry, "ImageData"), "Platform") or member(
            member(entry, "Descriptor"), "platform"
        )
        parts = [
            text(platform.get(key) or platform.get(key.capitalize()))
            for key in ("os", "architecture", "variant")
        ]
        shown = "/".join(part for part in parts if part)
        if shown:
            return _safe(shown, _KEY)
        kind = text(entry.get("Kind"))
        return _safe(kind or "unknown", _KEY)

    @staticmethod
    def manifest_facts(entry: Mapping[str, Any]) -> Text:
        facts: list[Text] = []
        kind = text(entry.get("Kind"))
        if kind and kind != "image":
            facts.append(_safe(kind))
        available = flag(entry.get("Available"))
        if available is not None:
            facts.append(
                Text("available here" if available else "not here", style="" if available else _DIM)
            )
        size = member(entry, "Size")
        for key, label in (("Content", "content"), ("Total", "total")):
            shown = _size(size.get(key), exact=False)
            if shown is not None:
                facts.append(shown + Text(f" {label}"))
        unpacked = _size(member(member(entry, "ImageData"), "Size").get("Unpacked"), exact=False)
        if unpacked is not None:
            facts.append(unpacked + Text(" unpacked"))
        short = _short_id(entry.get("ID"), _DIM)
        if short is not None:
            facts.append(short)
        return Text(", ").join(facts) if facts else Text("-", style=_DIM)

    # -- Storage -----------------------------------------------------------------------------

    def storage(self) -> RenderableType | None:
        driver = self.doc.get("GraphDriver")
        if not isinstance(driver, dict):
            return None if driver is None else _safe(text(driver) or "")
        rows: list[tuple[Text, Text]] = []
        name = text(driver.get("Name"))
        if name:
            rows.append((Text("Driver", style=_KEY), _safe(name)))
        data = driver.get("Data")
        if isinstance(data, dict):
            rows += [
                (_safe(key, _KEY), _safe(value)) for key, value in sorted(text_values(data).items())
            ]
        elif data is not None:
            rows.append((Text("Data", style=_KEY), _safe(text(data) or "")))
        return _pairs(rows, self.body_width) if rows else None

    @property
    def body_width(self) -> int:
        return self.width - 2


def heading(title: Text, width: int) -> RenderableType:
    """A title, then a rule to the right edge (under it, if the title is long)."""
    room = width - title.cell_len - 1
    if room >= 3:
        return Text.assemble(title, " ", ("─" * room, _DIM))
    return Group(title, Text("─" * width, style=_DIM))


# -- values from the daemon -----------------------------------------------------------------


def _safe(value: str, style: str = "") -> Text:
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


def _nonempty(value: object) -> Text | None:
    shown = text(value)
    return _safe(shown) if shown else None


def _short_id(value: object, style: str = "") -> Text | None:
    shown = text(value)
    if not shown:
        return None
    full = _SHA256.fullmatch(shown)
    return Text(full[1][:12], style=style) if full else _safe(shown, style)


def _diff_id(value: str | None) -> Text:
    return _short_id(value) or Text("-", style=_DIM)


def _joined(items: Sequence[str]) -> Text | None:
    return _safe(", ".join(items)) if items else None


def _lines(items: Sequence[str]) -> Text | None:
    return Text("\n").join(_safe(item) for item in items) if items else None


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _note(message: str) -> Text:
    return Text.assemble(("Note: ", _NOTE), _safe(message))


def _open_layers_note(layers: Sequence[Layer]) -> Text | None:
    """The note over layers whose step the history leaves open, if any."""
    numbers = [str(number) for number, layer in enumerate(layers, 1) if layer.step is None]
    if not numbers:
        return None
    if len(numbers) == 1:
        return _note(
            f"the history does not say which step made layer {numbers[0]}; "
            "its row lists the steps that could have"
        )
    named = ", ".join(numbers[:-1]) + " and " + numbers[-1]
    return _note(
        f"the history does not say which steps made layers {named}; "
        "their rows list the steps that could have"
    )


def _plain(shown: Text | None) -> str | None:
    return None if shown is None else shown.plain


def _pad(shown: Text, width: int, *, right: bool = False) -> Text:
    gap = " " * max(0, width - shown.cell_len)
    return Text.assemble(gap, shown) if right else Text.assemble(shown, gap)


def _command(value: object) -> Text:
    shown = text(value)
    if not shown or not shown.strip():
        return Text("(no command recorded)", style=_DIM)
    return _safe(shown.strip())


def _port_order(port: str) -> tuple[float, str]:
    number = port.split("/", 1)[0].split("-", 1)[0]
    return (int(number) if number.isdigit() else math.inf, port)


# -- commands -------------------------------------------------------------------------------

_SHELL_SAFE = re.compile(r"[A-Za-z0-9_@%+=:,./-]+")
_NEEDS_SINGLE_QUOTES = re.compile(r'["$`\\!]')


def command_line(args: Sequence[str]) -> Text:
    """The command line that args make, quoted as a person would type it."""
    return _safe(" ".join(_quote(arg) for arg in args))


def _quote(arg: str) -> str:
    if _SHELL_SAFE.fullmatch(arg):
        return arg
    if "'" not in arg:
        return f"'{arg}'"
    if not _NEEDS_SINGLE_QUOTES.search(arg):
        return f'"{arg}"'
    return shlex.quote(arg)


def _healthcheck(value: object) -> Text | None:
    if unset(value):
        return None
    if not isinstance(value, dict):
        return _safe(text(value) or "")
    test = strings(value.get("Test"))
    if not test:
        command = Text("inherited from the base image", style=_DIM)
    elif test[0] == "NONE":
        command = Text("disabled (NONE)")
    elif test[0] == "CMD":
        command = command_line(test[1:])
    elif test[0] == "CMD-SHELL":
        command = Text.assemble(_safe(" ".join(test[1:])), (" (in the image's shell)", _DIM))
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
    return Text.assemble(command, "\n", _safe(", ".join(timing), _DIM))


def go_duration(value: object) -> str | None:
    """Nanoseconds as Go prints a time.Duration (`30s`, `1m30s`, `1.5s`); 0 means the default."""
    if not value:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        return text(value)
    return format_duration(value)


# -- sizes and times ------------------------------------------------------------------------


def _size(value: object, *, exact: bool = True) -> Text | None:
    """`1.98 MB (1,982,303 bytes)`: SI units with 3 digits, as `docker images`, never 1e+03;
    a value that is no size (or too large for the units) as it is; None when it is unset."""
    if unset(value):
        return None
    size = count(value)
    if size is None or size >= 1000 ** len(_SI_UNITS):
        return _safe(text(value) or "")
    shown = si_size(size)
    if exact and size >= 1000:
        return Text.assemble(shown, (f" ({size:,} bytes)", _DIM))
    return Text(shown)


def si_size(number: int) -> str:
    value = float(number)
    for unit in _SI_UNITS:
        shown = f"{value:.3g}"
        if "e" not in shown and float(shown) < 1000:
            return f"{shown} {unit}"
        value /= 1000
    return f"{number} B"


def _parse_time(value: object) -> datetime | None:
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


def _unix_time(value: object) -> datetime | None:
    seconds = number(value)
    if seconds is None or seconds <= 0:
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _local(moment: datetime | None, tz: tzinfo | None) -> datetime | None:
    if moment is None:
        return None
    try:
        return moment.astimezone(tz)
    except (OverflowError, OSError, ValueError):
        return None


def _age(moment: datetime, now: datetime) -> str:
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


def _key_values(rows: Iterable[tuple[str, Text]]) -> RenderableType | None:
    """Rows of a section: a fixed label, then a value that wraps (and folds, never cut)."""
    table = Table.grid(padding=(0, 2))
    table.add_column(no_wrap=True, min_width=_LABEL_WIDTH)
    table.add_column(overflow="fold")
    for key, value in rows:
        table.add_row(Text(key, style=_KEY), value)
    return table if table.row_count else None


def _pairs(pairs: Sequence[tuple[Text, Text]], width: int, indent: int = 4) -> RenderableType:
    """Key / value pairs from the daemon: side by side when the values get room, else stacked."""
    key_width = max(key.cell_len for key, _ in pairs)
    value_width = max(value.cell_len for _, value in pairs)
    room = width - key_width - 2
    if room >= min(MIN_VALUE_WIDTH, value_width):
        table = Table.grid(padding=(0, 2))
        table.add_column(no_wrap=True)
        table.add_column(overflow="fold")
        for key, value in pairs:
            table.add_row(key, value)
        return table
    parts: list[RenderableType] = []
    for key, value in pairs:
        parts.append(key)
        if value.plain:
            parts.append(Padding(value, (0, 0, 0, indent)))
    return Group(*parts)


# -- for the other views (render/diff_view.py): the same escaping, sizes and layout ----------

TITLE, KEY, DIM = _TITLE, _KEY, _DIM
safe = _safe
size_text = _size
short_id = _short_id
healthcheck_text = _healthcheck
key_values = _key_values
