"""The sections of one image's block in the view: Image, Run, Environment, Ports, Volumes,
Labels, Layers, Manifests, Storage.

Every field is read through inspector.untrusted, as --diff reads it: a field that is
missing, null or of an unexpected type never breaks the view; it is left out, or shown as the
JSON it was.
"""

import math
from collections.abc import Mapping, Sequence
from datetime import datetime, tzinfo
from typing import Any

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from inspector.image import Image
from inspector.layers import Layer, diff_ids, history_steps, join_layers, too_long_to_join
from inspector.render.parts import (
    DIM,
    ID,
    KEY,
    MARK,
    TITLE,
    age,
    command_line,
    heading,
    healthcheck_text,
    joined,
    key_values,
    lines,
    local_time,
    nonempty,
    note,
    pad,
    pairs,
    parse_time,
    plain,
    safe,
    short_id,
    size_text,
    unix_time,
)
from inspector.untrusted import flag, json_text, keys, member, parse, strings, text, text_values

# Below this width the layer command goes on its own line instead of into a column.
WIDE_LAYERS = 100
# The steps listed for a layer the history leaves open; a longer list helps nobody.
MAX_CANDIDATES = 10
_OCI_PREFIX = "org.opencontainers.image."
_OCI_MARK = "OCI "


class ImageSections:
    """The block of one image, built from its (untrusted) JSON."""

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
            parts.append(safe(image_id, DIM))
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
                parts += [Text(""), Text(title, style=TITLE), Padding(body, (0, 0, 0, 2))]
        return Group(*parts)

    def header(self) -> RenderableType:
        return heading(safe(self.image.asked, TITLE), self.width)

    # -- Image -------------------------------------------------------------------------------

    def image_rows(self) -> RenderableType | None:
        doc = self.doc
        origin = self.image.origin
        rows: list[tuple[str, Text | None]] = [
            ("ID", short_id(doc.get("Id"), ID)),
            ("Tags", joined(strings(doc.get("RepoTags"))) or Text("none", style=DIM)),
            ("Source", safe(origin.description) if origin else None),
            ("Digests", lines(strings(doc.get("RepoDigests")))),
            ("Created", self.created(doc.get("Created"))),
            ("Size", self.size()),
            (self.stored_where(), self.stored_size()),
            ("Platform", self.platform()),
            ("Author", nonempty(doc.get("Author"))),
            ("Comment", nonempty(doc.get("Comment"))),
            ("Parent", short_id(doc.get("Parent"))),
            ("Docker version", nonempty(doc.get("DockerVersion"))),
        ]
        return key_values([(key, value) for key, value in rows if value is not None])

    def size(self) -> Text | None:
        size = size_text(self.doc.get("Size"))
        if self.image.origin is None:
            return size
        if size is None:
            if self.image.origin.kind == "registry":  # a registry stores layers compressed
                return Text("unknown until pulled (layers unpacked)", style=DIM)
            return Text("unknown (a layer could not be unpacked)", style=DIM)
        return Text.assemble(size, (" unpacked, as docker counts", DIM))

    def stored_where(self) -> str:
        origin = self.image.origin
        return "In registry" if origin is not None and origin.kind == "registry" else "In archive"

    def stored_size(self) -> Text | None:
        origin = self.image.origin
        if origin is None or origin.stored_size is None:
            return None
        size = size_text(origin.stored_size) or Text("")
        return Text.assemble(size, (" of layers, as stored", DIM))

    def created(self, value: object) -> Text | None:
        shown = text(value)
        if not shown:
            return None
        moment = parse_time(value)
        if moment is None:
            return safe(shown)
        local = local_time(moment, self.tz)
        shown = local.isoformat(timespec="seconds") if local else moment.isoformat()
        return Text.assemble(safe(shown), (f" ({age(moment, self.now)})", DIM))

    def platform(self) -> Text | None:
        parts = [text(self.doc.get(key)) for key in ("Os", "Architecture", "Variant")]
        shown = "/".join(part for part in parts if part)
        os_version = text(self.doc.get("OsVersion"))
        if os_version:
            shown = f"{shown} ({os_version})" if shown else os_version
        return safe(shown) if shown else None

    # -- Run ---------------------------------------------------------------------------------

    def run_rows(self) -> RenderableType | None:
        config = self.config
        entrypoint = strings(config.get("Entrypoint"))
        cmd = strings(config.get("Cmd"))
        command = [*entrypoint, *cmd]
        user = text(config.get("User"))
        shell = strings(config.get("Shell"))
        rows: list[tuple[str, Text | None]] = [
            ("Command", command_line(command) if command else Text("none set", style=DIM)),
            ("Entrypoint", command_line(entrypoint) if entrypoint and cmd else None),
            ("Cmd", command_line(cmd) if entrypoint and cmd else None),
            ("User", safe(user) if user else Text("root (no user set)", style=DIM)),
            ("Working dir", nonempty(config.get("WorkingDir"))),
            ("Shell", command_line(shell) if shell else None),
            ("Stop signal", nonempty(config.get("StopSignal"))),
            ("Healthcheck", healthcheck_text(config.get("Healthcheck"))),
            ("On build", lines(strings(config.get("OnBuild")))),
        ]
        return key_values([(key, value) for key, value in rows if value is not None])

    # -- Environment, ports, volumes, labels -------------------------------------------------

    def environment(self) -> RenderableType | None:
        rows = []
        for entry in strings(self.config.get("Env")):
            key, _, value = entry.partition("=")
            rows.append((safe(key, KEY), safe(value)))
        return pairs(rows, self.body_width) if rows else None

    def ports(self) -> RenderableType | None:
        ports = sorted(keys(self.config.get("ExposedPorts")), key=_port_order)
        return safe("  ".join(ports)) if ports else None

    def volumes(self) -> RenderableType | None:
        return lines(sorted(keys(self.config.get("Volumes"))))

    def labels(self) -> RenderableType | None:
        labels = text_values(self.config.get("Labels"))
        if not labels:
            return None
        ordered = sorted(
            labels.items(), key=lambda item: (not item[0].startswith(_OCI_PREFIX), item[0])
        )
        marked = any(key.startswith(_OCI_PREFIX) for key in labels)
        rows = []
        for key, value in ordered:
            mark = _OCI_MARK if key.startswith(_OCI_PREFIX) else " " * len(_OCI_MARK)
            rows.append(
                (
                    Text.assemble((mark, MARK), safe(key, KEY)) if marked else safe(key, KEY),
                    safe(value),
                )
            )
        return pairs(rows, self.body_width, indent=len(_OCI_MARK) + 4 if marked else 4)

    # -- Layers ------------------------------------------------------------------------------

    def layers(self) -> RenderableType | None:
        layer_ids = diff_ids(self.doc)
        steps = self.history_steps()
        why_not: Text | None = None
        joined_layers: list[Layer] | None = None
        if isinstance(steps, str):
            why_not = note(
                f"the layer history could not be read ({steps}); showing the layer IDs only"
            )
        elif too_long_to_join(layer_ids, steps):
            why_not = note(
                f"the history ({_count(len(steps), 'step')}) is too long to pair with the "
                f"{_count(len(layer_ids), 'layer')}; showing the layer IDs only"
            )
        else:
            joined_layers = join_layers(layer_ids, steps, self.image.layer_counts)
            if joined_layers is None:
                why_not = note(
                    f"the history ({_count(len(steps), 'step')}) does not match the "
                    f"{_count(len(layer_ids), 'layer')}; showing the layer IDs only"
                )
            else:
                why_not = _open_layers_note(joined_layers)
        if joined_layers is None:
            joined_layers = [Layer(diff_id, None) for diff_id in layer_ids]
        if not joined_layers and why_not is None:
            return None
        parts: list[RenderableType] = []
        if why_not is not None:
            parts.append(why_not)
        if joined_layers:
            parts.append(self.layer_table(joined_layers))
        return Group(*parts)

    def history_steps(self) -> list[Mapping[str, Any]] | str:
        """The history oldest first, or why there is none."""
        if self.image.history is None:
            error = self.image.history_error
            return (str(error) if error is not None else "") or "not asked for"
        steps = history_steps(self.image.history)
        return "the daemon's answer is not a list" if steps is None else steps

    def layer_table(self, layers: Sequence[Layer]) -> RenderableType:
        table = Table.grid(padding=(0, 2))
        table.add_column(justify="right", no_wrap=True)
        if not any(layer.possible_steps for layer in layers):
            table.add_column(overflow="fold")
            table.add_row(Text("#", style=KEY), Text("DIFF ID", style=KEY))
            for number, layer in enumerate(layers, 1):
                table.add_row(Text(str(number)), _diff_id(layer.diff_id))
            return table
        header = [Text(title, style=KEY) for title in ("DIFF ID", "SIZE", "CREATED")]
        rows = [self.layer_row(layer) for layer in layers]
        if self.body_width >= WIDE_LAYERS - 2:
            for justify in ("left", "right", "left"):
                table.add_column(justify=justify, no_wrap=True)
            table.add_column(overflow="fold", ratio=1)
            table.add_row(Text("#", style=KEY), *header, Text("CREATED BY", style=KEY))
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
                pad(diff_id, widths[0]), "  ", pad(size, widths[1], right=True), "  ", created
            )

        table.add_column(overflow="fold")
        table.add_row(Text("#", style=KEY), line(*header))
        for number, (diff_id, size, created, command) in enumerate(rows, 1):
            table.add_row(Text(str(number)), Group(line(diff_id, size, created), command))
        return table

    def layer_row(self, layer: Layer) -> tuple[Text, Text, Text, RenderableType]:
        """Diff-ID, size, time and command; for a layer the history leaves open, what all its
        possible steps agree on, and each of them."""
        steps = layer.possible_steps
        sizes = [size_text(step.get("Size"), exact=False) for step in steps]
        times = [self.step_time(step.get("Created")) for step in steps]
        dash = Text("-", style=DIM)
        size = sizes[0] if len({plain(size) for size in sizes}) == 1 else None
        created = times[0] if len({time.plain for time in times}) == 1 else None
        if layer.step is not None:
            command: RenderableType = _command(layer.step.get("CreatedBy"))
        else:
            choices = Table.grid(padding=(0, 1))
            choices.add_column(no_wrap=True)
            choices.add_column(overflow="fold")
            for step in steps[:MAX_CANDIDATES]:
                choices.add_row(Text("-", style=DIM), _command(step.get("CreatedBy")))
            if len(steps) > MAX_CANDIDATES:
                more = _count(len(steps) - MAX_CANDIDATES, "more step")
                choices.add_row(Text(""), Text(f"and {more}", style=DIM))
            command = Group(Text("one of these steps:", style=DIM), choices)
        return _diff_id(layer.diff_id), size or dash, created or dash, command

    def step_time(self, value: object) -> Text:
        moment = unix_time(value)
        local = local_time(moment, self.tz) if moment else None
        if local is None:
            return Text("-", style=DIM) if value in (None, 0, "") else safe(text(value) or "")
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
                rows.append((Text("?", style=KEY), safe(json_text(entry))))
                continue
            rows.append((self.manifest_name(entry), self.manifest_facts(entry)))
        return pairs(rows, self.body_width)

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
            return safe(shown, KEY)
        kind = text(entry.get("Kind"))
        return safe(kind or "unknown", KEY)

    @staticmethod
    def manifest_facts(entry: Mapping[str, Any]) -> Text:
        facts: list[Text] = []
        kind = text(entry.get("Kind"))
        if kind and kind != "image":
            facts.append(safe(kind))
        available = flag(entry.get("Available"))
        if available is not None:
            facts.append(
                Text("available here" if available else "not here", style="" if available else DIM)
            )
        size = member(entry, "Size")
        for key, label in (("Content", "content"), ("Total", "total")):
            shown = size_text(size.get(key), exact=False)
            if shown is not None:
                facts.append(shown + Text(f" {label}"))
        unpacked = size_text(
            member(member(entry, "ImageData"), "Size").get("Unpacked"), exact=False
        )
        if unpacked is not None:
            facts.append(unpacked + Text(" unpacked"))
        short = short_id(entry.get("ID"), DIM)
        if short is not None:
            facts.append(short)
        return Text(", ").join(facts) if facts else Text("-", style=DIM)

    # -- Storage -----------------------------------------------------------------------------

    def storage(self) -> RenderableType | None:
        driver = self.doc.get("GraphDriver")
        if not isinstance(driver, dict):
            return None if driver is None else safe(text(driver) or "")
        rows: list[tuple[Text, Text]] = []
        name = text(driver.get("Name"))
        if name:
            rows.append((Text("Driver", style=KEY), safe(name)))
        data = driver.get("Data")
        if isinstance(data, dict):
            rows += [
                (safe(key, KEY), safe(value)) for key, value in sorted(text_values(data).items())
            ]
        elif data is not None:
            rows.append((Text("Data", style=KEY), safe(text(data) or "")))
        return pairs(rows, self.body_width) if rows else None

    @property
    def body_width(self) -> int:
        return self.width - 2


def _diff_id(value: str | None) -> Text:
    return short_id(value) or Text("-", style=DIM)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _open_layers_note(layers: Sequence[Layer]) -> Text | None:
    """The note over layers whose step the history leaves open, if any."""
    numbers = [str(number) for number, layer in enumerate(layers, 1) if layer.step is None]
    if not numbers:
        return None
    if len(numbers) == 1:
        return note(
            f"the history does not say which step made layer {numbers[0]}; "
            "its row lists the steps that could have"
        )
    named = ", ".join(numbers[:-1]) + " and " + numbers[-1]
    return note(
        f"the history does not say which steps made layers {named}; "
        "their rows list the steps that could have"
    )


def _command(value: object) -> Text:
    shown = text(value)
    if not shown or not shown.strip():
        return Text("(no command recorded)", style=DIM)
    return safe(shown.strip())


def _port_order(port: str) -> tuple[float, str]:
    number = port.split("/", 1)[0].split("-", 1)[0]
    return (int(number) if number.isdigit() else math.inf, port)
