"""--contents: what is inside each image, and why it is big, as a readable block.

The numbers are dive's (contents/analysis.py measures them): its efficiency score, the bytes
wasted by files that a later layer replaces or removes, and the user size (every layer but
the first, the base the image's own steps build on). Every path comes from the image and is
shown through `safe`, as a rich Text: never as markup.
"""

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from inspector.contents.model import SYMLINK
from inspector.image import Image
from inspector.layers import Layer, diff_ids, history_steps, join_layers, too_long_to_join
from inspector.render.contents_json import docker_size
from inspector.render.parts import (
    DIM,
    ID,
    KEY,
    TITLE,
    console_text,
    heading,
    key_values,
    new_console,
    pad,
    safe,
    short_id,
    size_text,
)
from inspector.untrusted import parse, text

if TYPE_CHECKING:
    from inspector.contents.analysis import LayerReport, Merged, Waste
    from inspector.contents.model import Entry

# The largest files and the most wasteful paths the view lists.
TOP = 10
# Below this width a layer's step goes on a line of its own, as in the view.
WIDE_LAYERS = 100


def render_contents(
    image: Image, merged: "Merged", waste: "Waste", *, width: int, color: bool
) -> str:
    console = new_console(width, color)
    console.print(ContentsSections(image, merged, waste, console.width).render())
    return console_text(console)


class ContentsSections:
    def __init__(self, image: Image, merged: "Merged", waste: "Waste", width: int) -> None:
        self.image = image
        self.merged = merged
        self.waste = waste
        self.width = width
        self.doc = parse(image.inspect)

    def render(self) -> RenderableType:
        parts: list[RenderableType] = [heading(safe(self.image.asked, TITLE), self.width)]
        image_id = text(self.doc.get("Id"))
        if image_id:
            parts.append(safe(image_id, DIM))
        sections = (
            ("Image", self.summary()),
            ("Largest files", self.largest()),
            ("Layers", self.layers()),
            ("Wasted space", self.wasted()),
        )
        for title, body in sections:
            parts += [Text(""), Text(title, style=TITLE), Padding(body, (0, 0, 0, 2))]
        return Group(*parts)

    def summary(self) -> RenderableType:
        waste = self.waste
        size = docker_size(self.image)
        rows: list[tuple[str, Text | None]] = [
            ("ID", short_id(self.doc.get("Id"), ID)),
            ("Size", size_text(size) if size is not None else Text("unknown", style=DIM)),
            ("Efficiency", Text(f"{waste.efficiency * 100:.2f} %")),
            (
                "Wasted",
                Text.assemble(
                    size_text(waste.wasted) or Text("0 B"),
                    (f", {waste.wasted_user_fraction * 100:.2f} % of the user size", DIM)
                    if waste.user_size
                    else "",
                ),
            ),
            (
                "User size",
                Text.assemble(
                    size_text(waste.user_size) or Text("0 B"), (", the layers above the first", DIM)
                ),
            ),
        ]
        table = key_values([(key, value) for key, value in rows if value is not None])
        assert table is not None
        return table

    def largest(self) -> RenderableType:
        files = self.merged.largest(TOP)
        if not files:
            return Text("no files", style=DIM)
        return _table(
            ("SIZE", "PATH"),
            ("right", "left"),
            [(_size(entry.size), _path(entry)) for entry in files],
        )

    def layers(self) -> RenderableType:
        reports = self.merged.layers
        contents = self.image.contents or ()
        steps = self.steps(len(reports))
        rows = []
        for number, report in enumerate(reports, 1):
            layer = contents[number - 1] if number - 1 < len(contents) else None
            rows.append(
                (
                    Text(str(number)),
                    short_id(layer.diff_id if layer else None) or Text("-", style=DIM),
                    _size(report.size),
                    *_counts(report),
                    steps[number - 1],
                )
            )
        if not rows:
            return Text("no layers", style=DIM)
        header = ("#", "DIFF ID", "SIZE", "ADDED", "CHANGED", "REMOVED", "CREATED BY")
        justify = ("right", "left", "right", "right", "right", "right", "left")
        if self.width - 2 >= WIDE_LAYERS:
            return _table(header, justify, rows)
        # Narrow: the numbers on one line, and the step under them with the whole width, as
        # the view's Layers section lays them out.
        titles = [Text(title, style=KEY) for title in header]
        widths = [max(row[column].cell_len for row in [titles, *rows]) for column in range(6)]

        def line(cells: Sequence[Text]) -> Text:
            parts: list[Text | str] = []
            for column, cell in enumerate(cells[1:6], 1):
                if column > 1:
                    parts.append("  ")
                parts.append(pad(cell, widths[column], right=justify[column] == "right"))
            return Text.assemble(*parts)

        table = Table.grid(padding=(0, 2))
        table.add_column(justify="right", no_wrap=True)
        table.add_column(overflow="fold")
        table.add_row(titles[0], Group(line(titles), titles[6]))
        for row in rows:
            table.add_row(row[0], Group(line(row), row[6]))
        return table

    def steps(self, layer_count: int) -> list[Text]:
        """The history step that made each layer, where the history says which."""
        unknown = Text("-", style=DIM)
        found: list[Text] = [unknown] * layer_count
        if self.image.history is None:
            return found
        layer_ids = diff_ids(self.doc)
        history = history_steps(self.image.history)
        if history is None or len(layer_ids) != layer_count or too_long_to_join(layer_ids, history):
            return found
        joined: list[Layer] | None = join_layers(layer_ids, history, self.image.layer_counts)
        if joined is None:
            return found
        for index, layer in enumerate(joined):
            if layer.step is not None:
                command = text(layer.step.get("CreatedBy")) or ""
                found[index] = safe(command.strip()) if command.strip() else unknown
            elif layer.candidates:
                found[index] = Text(f"one of {len(layer.candidates)} steps", style=DIM)
        return found

    def wasted(self) -> RenderableType:
        paths = self.waste.paths[:TOP]
        if not paths:
            return Text("none: no file is replaced or removed by a later layer", style=DIM)
        return _table(
            ("COUNT", "SIZE", "PATH"),
            ("right", "right", "left"),
            [(Text(str(path.count)), _size(path.size), safe(path.path)) for path in paths],
        )


def _table(
    header: Sequence[str], justify: Sequence[str], rows: Sequence[Sequence[Text]]
) -> RenderableType:
    """Columns that keep to one line each, but the last, which folds."""
    table = Table.grid(padding=(0, 2))
    for index, how in enumerate(justify):
        last = index == len(justify) - 1
        table.add_column(
            justify="right" if how == "right" else "left",
            no_wrap=not last,
            overflow="fold" if last else "ellipsis",
            ratio=1 if last else None,
        )
    table.add_row(*(Text(title, style=KEY) for title in header))
    for row in rows:
        table.add_row(*row)
    return table


def _size(number: int) -> Text:
    return size_text(number, exact=False) or Text("0 B")


def _counts(report: "LayerReport") -> tuple[Text, Text, Text]:
    return (Text(str(report.added)), Text(str(report.changed)), Text(str(report.removed)))


def _path(entry: "Entry") -> Text:
    shown = safe("/" + entry.path)  # absolute, as the wasted paths are (as dive writes them)
    if entry.link and entry.kind == SYMLINK:
        shown.append(" -> ", style=DIM)
        shown.append_text(safe(entry.link))
    return shown
