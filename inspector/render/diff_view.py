"""`--diff`: two images compared, readably; made of the view's parts, as safe as the view.

Every string from either image goes through the view's escaping (`parts.safe`) and reaches
rich as a Text, never as markup; each value is shown as the view shows it. Changes are marked
`-` (only in A), `+` (only in B) and `~` (changed), so the output says everything without
colour too.
"""

from collections.abc import Sequence
from typing import Any

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from inspector.compare import Change, Difference, LayerSize, Summary, total
from inspector.render.parts import (
    DIM,
    ID,
    KEY,
    TITLE,
    command_line,
    console_text,
    heading,
    healthcheck_text,
    key_values,
    new_console,
    safe,
    short_id,
    size_text,
)
from inspector.untrusted import text

_MARKS = {"removed": ("-", "red"), "added": ("+", "green"), "changed": ("~", "yellow")}
# How the scalar fields are titled, in the order compare.FIELDS reports them.
_TITLES = {
    "id": "ID",
    "platform": "Platform",
    "size": "Size",
    "created": "Created",
    "user": "User",
    "workdir": "Working dir",
    "entrypoint": "Entrypoint",
    "cmd": "Cmd",
    "healthcheck": "Healthcheck",
}
_SECTIONS = (
    ("env", "Environment"),
    ("labels", "Labels"),
    ("ports", "Ports"),
    ("volumes", "Volumes"),
)
_ARROW = " → "


def render_diff(difference: Difference, *, width: int, color: bool) -> str:
    """The comparison of A and B: who they are, what differs, and their layers."""
    console = new_console(width, color)
    console.print(_DiffView(difference, console.width).render())
    return console_text(console)


class _DiffView:
    def __init__(self, difference: Difference, width: int) -> None:
        self.diff = difference
        self.width = width

    def render(self) -> RenderableType:
        diff = self.diff
        title = Text.assemble(safe(diff.a.asked, TITLE), (_ARROW, TITLE), safe(diff.b.asked, TITLE))
        parts: list[RenderableType] = [heading(title, self.width), self.sides()]
        if diff.same:
            parts += [Text(""), Text("No differences: the same image.", style=KEY)]
        else:
            parts.append(
                Text.assemble(
                    ("-", "red"),
                    " only in A   ",
                    ("+", "green"),
                    " only in B   ",
                    ("~", "yellow"),
                    " changed",
                    style=DIM,
                )
            )
        if not diff.same and not diff.changes:
            parts += [Text(""), Text("No differences in the image settings.", style=KEY)]
        sections: list[tuple[str, RenderableType | None]] = [("Changed", self.scalars())]
        sections += [(title, self.keyed(name)) for name, title in _SECTIONS]
        sections.append(("Layers", self.layers()))
        for section, body in sections:
            if body is not None:
                parts += [Text(""), Text(section, style=TITLE), Padding(body, (0, 0, 0, 2))]
        return Group(*parts)

    def sides(self) -> RenderableType:
        grid = Table.grid(padding=(0, 2))
        grid.add_column(no_wrap=True)
        grid.add_column(overflow="fold")
        for mark, summary in (("A", self.diff.a), ("B", self.diff.b)):
            grid.add_row(Text(mark, style=KEY), _describe(summary))
        return grid

    def scalars(self) -> RenderableType | None:
        rows = [
            (_TITLES[change.field], self.scalar(change))
            for change in self.diff.changes
            if change.field in _TITLES
        ]
        return key_values(rows)

    def scalar(self, change: Change) -> Text:
        if change.field == "size" and isinstance(change.a, int) and isinstance(change.b, int):
            return _size_change(change.a, change.b)
        before, after = _shown(change.field, change.a), _shown(change.field, change.b)
        if change.change == "removed":
            return _marked(change, before)
        if change.change == "added":
            return _marked(change, after)
        one_line = before.cell_len + after.cell_len + len(_ARROW) + 2 <= self.width - 20
        if one_line and "\n" not in before.plain + after.plain:
            return _marked(change, Text.assemble(before, (_ARROW, DIM), after))
        return Text.assemble(("- ", "red"), before, "\n", ("+ ", "green"), after)

    def keyed(self, name: str) -> RenderableType | None:
        changes = [change for change in self.diff.changes if change.field == name]
        if not changes:
            return None
        if name in ("ports", "volumes"):
            return Text("\n").join(_marked(change, safe(change.key or "")) for change in changes)
        grid = Table.grid(padding=(0, 2))
        grid.add_column(no_wrap=True)
        grid.add_column(overflow="fold")
        for change in changes:
            key = _marked(change, safe(change.key or "", KEY))
            if change.change == "changed":
                value = Text.assemble(safe(change.a or ""), (_ARROW, DIM), safe(change.b or ""))
            else:
                value = safe((change.a if change.change == "removed" else change.b) or "")
            grid.add_row(key, value)
        return grid

    def layers(self) -> RenderableType | None:
        diff = self.diff
        rows = [("shared", layer) for layer in diff.shared]
        rows += [("only A", layer) for layer in diff.only_a]
        rows += [("only B", layer) for layer in diff.only_b]
        if not rows:
            return None
        grid = Table.grid(padding=(0, 2))
        grid.add_column(no_wrap=True)
        grid.add_column(no_wrap=True)
        grid.add_column(justify="right", no_wrap=True)
        styles = {"shared": DIM, "only A": "red", "only B": "green"}
        for where, layer in rows:
            grid.add_row(
                Text(where, style=styles[where]),
                short_id(layer.diff_id) or Text("-", style=DIM),
                _layer_size(layer),
            )
        summary = "; ".join(
            f"{label} ({_total(layers)})"
            for label, layers in (
                (f"{len(diff.shared)} shared", diff.shared),
                (f"{len(diff.only_a)} only in A", diff.only_a),
                (f"{len(diff.only_b)} only in B", diff.only_b),
            )
        )
        return Group(grid, Text(summary, style=DIM))


def _describe(summary: Summary) -> Text:
    parts: list[Text] = []
    if summary.id:
        parts.append(short_id(summary.id, ID) or Text(""))
    if summary.tags:
        parts.append(safe(", ".join(summary.tags)))
    if summary.platform:
        parts.append(safe(summary.platform))
    if summary.size is not None:
        parts.append(_size(summary.size))
    if summary.created:
        parts.append(safe(summary.created, DIM))
    return Text("  ").join(parts) if parts else Text("(nothing known)", style=DIM)


def _shown(field: str, value: Any) -> Text:
    """A value of a Change as the view shows it (compare.Change says which kinds there are)."""
    if value is None:
        return Text("(not set)", style=DIM)
    if field == "id" and isinstance(value, str):
        return short_id(value) or safe(value)
    if field == "size":
        return _size(value)
    if field in ("entrypoint", "cmd") and isinstance(value, list):
        return command_line(value)
    if field == "healthcheck":
        return healthcheck_text(value) or Text("(not set)", style=DIM)
    return safe(text(value) or "")


def _size_change(a: int, b: int) -> Text:
    delta = b - a
    sign = "+" if delta > 0 else "-"
    exact = f", {sign}{abs(delta):,} bytes" if abs(delta) >= 1000 else ""
    return Text.assemble(
        ("~ ", "yellow"),
        _size(a),
        (_ARROW, DIM),
        _size(b),
        (f" ({sign}{_size(abs(delta)).plain}{exact})", DIM),
    )


def _size(value: object) -> Text:
    """A size as the view shows it in a column: `1.98 MB`; what is no size, as it is."""
    return size_text(value, exact=False) or Text("")


def _marked(change: Change, shown: Text) -> Text:
    mark, style = _MARKS[change.change]
    return Text.assemble((f"{mark} ", style), shown)


def _layer_size(layer: LayerSize) -> Text:
    if layer.size is None:
        return Text("?", style=DIM)
    return _size(layer.size)


def _total(layers: Sequence[LayerSize]) -> str:
    size = total(layers)
    return "size unknown" if size is None else _size(size).plain
