"""The view of real daemons' answers, at fixed widths, against committed golden files.

The inputs in tests/golden/inputs/ are what the test dockerd (20.10) and podman service (4.3)
answered about the fixture images (`python -m tests.capture_golden` made them). The clock is
pinned to three days after the capture and the time zone to UTC, so the renders never change
by themselves; `pytest --update-golden` rewrites them, and nothing else does.
"""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from rich.cells import cell_len

from inspector.errors import DaemonErrorResponse
from inspector.image import Image
from inspector.render.view import render_view

GOLDEN = Path(__file__).resolve().parent / "golden"
README = GOLDEN.parent.parent / "README.md"
INPUTS = GOLDEN / "inputs"
MANIFEST: dict[str, Any] = json.loads((INPUTS / "manifest.json").read_text())
CAPTURED = datetime.fromisoformat(MANIFEST["captured"])
NOW = CAPTURED + timedelta(days=3, hours=2)
WIDTHS = (60, 80, 200)
CASES = tuple(MANIFEST["cases"])
# The error a failed history request leaves (exact text of DaemonErrorResponse for a 500).
HISTORY_500 = "the daemon at unix:///var/run/docker.sock answered 500 Internal Server Error"
# Fields that newer APIs (1.44+) omit: Container*, VirtualSize; DockerVersion, Parent and
# Comment when empty. Removed from the real lab-full answer, they must not change the rest.
NEWER_API_DROPS = ("Container", "ContainerConfig", "VirtualSize", "DockerVersion", "Parent")


def answer(case: str, *, history: bool = True, layer_counts: bool = True) -> Image:
    """A case as the command gives it to the view: with the step images' layer counts where
    they were asked for (`<case>.layers.json`), unless told otherwise."""
    asked = MANIFEST["cases"][case]["asked"]
    inspect = (INPUTS / f"{case}.inspect.json").read_bytes()
    if not history:
        return Image(asked, inspect, history_error=DaemonErrorResponse(HISTORY_500))
    counts_path = INPUTS / f"{case}.layers.json"
    counts = json.loads(counts_path.read_text()) if layer_counts and counts_path.exists() else None
    history_json = (INPUTS / f"{case}.history.json").read_bytes()
    return Image(asked, inspect, history=history_json, layer_counts=counts)


def newer_api(case: str) -> Image:
    real = answer(case)
    assert real.inspect is not None
    document = json.loads(real.inspect)
    for key in NEWER_API_DROPS:
        document.pop(key, None)
    return real._replace(inspect=json.dumps(document).encode())


# golden file name -> (the images, the width)
RENDERS: dict[str, tuple[list[Image], int]] = {
    **{f"{case}.{width}": ([answer(case)], width) for case in CASES for width in WIDTHS},
    "two-images.80": ([answer("lab-full"), answer("lab-tiny")], 80),
    "lab-full-without-history.80": ([answer("lab-full", history=False)], 80),
    "lab-full-newer-api.80": ([newer_api("lab-full")], 80),
    # Step images pruned, or never there (a pulled image): the layer's possible steps.
    **{
        f"lab-workdir-without-layer-counts.{width}": (
            [answer("lab-workdir", layer_counts=False)],
            width,
        )
        for width in WIDTHS
    },
}


@pytest.mark.parametrize("name", RENDERS)
def test_the_view_matches_its_golden_file(name: str, request: pytest.FixtureRequest) -> None:
    images, width = RENDERS[name]
    rendered = render_view(images, width=width, color=False, now=NOW, tz=UTC)
    path = GOLDEN / f"{name}.txt"
    if request.config.getoption("--update-golden"):
        path.write_text(rendered)
    assert path.exists(), f"{path} is missing: run pytest --update-golden"
    assert rendered == path.read_text()


def test_every_golden_file_belongs_to_a_case() -> None:
    assert {path.stem for path in GOLDEN.glob("*.txt")} == set(RENDERS)


@pytest.mark.parametrize("name", RENDERS)
def test_no_line_of_a_golden_render_is_wider_than_its_width(name: str) -> None:
    images, width = RENDERS[name]
    rendered = render_view(images, width=width, color=False, now=NOW, tz=UTC)
    assert max(cell_len(line) for line in rendered.splitlines()) <= width


def test_the_podman_input_is_a_real_podman_answer() -> None:
    podman = MANIFEST["cases"]["podman"]
    assert podman["server"].startswith("Libpod/")
    document = json.loads((INPUTS / "podman.inspect.json").read_bytes())
    assert document["RepoTags"] == ["localhost/lab-podman:1"]


def test_the_readme_shows_the_golden_view_of_lab_full_at_80_columns() -> None:
    assert f"```\n{(GOLDEN / 'lab-full.80.txt').read_text()}```\n" in README.read_text()
