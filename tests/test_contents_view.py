"""The --contents view of hand-made records, at three widths, against its golden files.

The records are made here (a Merged whose largest files are given), so the view's layout is
pinned whatever the engine measures; `pytest --update-golden` rewrites the files, and nothing
else does.
"""

import json
from pathlib import Path

import pytest
from rich.cells import cell_len

from inspector.contents.analysis import Change, LayerReport, Merged, Waste, WastedPath
from inspector.contents.model import Entry, LayerContents
from inspector.image import Image, Origin
from inspector.render.contents_json import docker_size
from inspector.render.contents_view import render_contents

GOLDEN = Path(__file__).resolve().parent / "golden" / "contents"
WIDTHS = (60, 80, 120)
EPOCH = 1_700_000_000
# A name made to look like markup and an escape sequence, and one with a bidi override.
HOSTILE = "srv/[bold]x\x1b[31mred\u202egnp.exe"


class GivenMerged(Merged):
    """A merge whose largest files are the tree's files, by size: no engine needed."""

    def largest(self, count: int) -> list[Entry]:
        files = [entry for entry in self.tree.values() if entry.kind == "file"]
        return sorted(files, key=lambda entry: (-entry.size, entry.path))[:count]


def entry(path: str, size: int = 0, kind: str = "file", link: str = "") -> Entry:
    return Entry(path, kind, 0o755 if kind == "dir" else 0o644, 0, 0, size, EPOCH, link)


BASE = (
    entry("bin", kind="dir"),
    entry("bin/busybox", 1_075_464),
    entry("bin/sh", 0, "symlink", "busybox"),
)
APP = (entry("srv", kind="dir"), entry(HOSTILE, 6405), entry("srv/app.bin", 250_000))
CLEANUP = (entry("srv", kind="dir"),)
LAYERS = (
    LayerContents(BASE, 1_075_464, "sha256:" + "a1" * 32, "sha256:" + "b1" * 32),
    LayerContents(APP, 256_405, "sha256:" + "a2" * 32, "sha256:" + "b2" * 32),
    LayerContents(CLEANUP, 0, None, "sha256:" + "b3" * 32),
)
REPORTS = (
    LayerReport(tuple(Change(item, "added") for item in BASE), 3, 0, 0, 1_075_464),
    LayerReport(tuple(Change(item, "added") for item in APP), 3, 0, 0, 256_405),
    LayerReport(
        (
            Change(entry("srv", kind="dir"), "changed"),
            Change(entry("srv/app.bin", 250_000), "removed"),
        ),
        0,
        1,
        1,
        0,
    ),
)
MERGED = GivenMerged(REPORTS, {item.path: item for item in (*BASE, APP[0], APP[1])})
WASTE = Waste(
    efficiency=0.8123456,
    size=1_331_869,
    user_size=256_405,
    wasted=250_000,
    wasted_user_fraction=250_000 / 256_405,
    paths=(WastedPath("/srv/app.bin", 2, 250_000), WastedPath("/srv", 3, 0)),
)
HISTORY = [
    {"Created": EPOCH, "CreatedBy": "RUN rm /srv/app.bin", "Size": 0},
    {"Created": EPOCH, "CreatedBy": "COPY app/ /srv/", "Size": 256_405},
    {"Created": EPOCH, "CreatedBy": "ADD busybox.tar /", "Size": 1_075_464},
]
INSPECT = {
    "Id": "sha256:" + "c0" * 32,
    "Size": 1_331_869,
    "RootFS": {"Type": "layers", "Layers": [layer.diff_id for layer in LAYERS]},
}
IMAGE = Image(
    "app:1.0",
    inspect=json.dumps(INSPECT).encode(),
    history=json.dumps(HISTORY).encode(),
    contents=LAYERS,
)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_contents_view_matches_its_golden_file(
    width: int, request: pytest.FixtureRequest
) -> None:
    rendered = render_contents(IMAGE, MERGED, WASTE, width=width, color=False)
    path = GOLDEN / f"app.{width}.txt"
    if request.config.getoption("--update-golden"):
        path.write_text(rendered)
    assert path.exists(), f"{path} is missing: run pytest --update-golden"
    assert rendered == path.read_text()
    assert max(cell_len(line) for line in rendered.splitlines()) <= width


def test_a_hostile_path_is_shown_escaped_and_never_as_markup() -> None:
    plain = render_contents(IMAGE, MERGED, WASTE, width=120, color=False)
    assert "/srv/[bold]x\\x1b[31mred\\u202egnp.exe" in plain
    coloured = render_contents(IMAGE, MERGED, WASTE, width=120, color=True)
    assert "\x1b[31mred" not in coloured
    assert "\u202e" not in coloured
    assert "[bold]x" in coloured  # shown as text: rich took no markup from it


def test_a_registry_image_is_as_big_as_its_layers() -> None:
    pulled = IMAGE._replace(
        inspect=json.dumps({"Id": INSPECT["Id"]}).encode(),
        origin=Origin("registry", "registry.example.com/app"),
    )
    assert docker_size(pulled) == 1_075_464 + 256_405
    assert docker_size(IMAGE) == 1_331_869
