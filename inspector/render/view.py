"""The default output: a readable block for each image that is safe to print on a terminal.

rich is imported only by the modules the view and --diff's view are made of (render/parts.py,
render/sections.py, render/diff_view.py), which no other output form loads: `--json` never
pays for it.
"""

from collections.abc import Mapping, Sequence
from datetime import datetime, tzinfo

from inspector.image import Image
from inspector.render.parts import (
    DEFAULT_WIDTH,
    MAX_WIDTH,
    MIN_WIDTH,
    console_text,
    new_console,
)
from inspector.render.sections import ImageSections


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
        console.print(ImageSections(image, now, tz, console.width).render())
    return console_text(console)
