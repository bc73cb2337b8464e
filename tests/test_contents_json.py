"""--contents --json's writer against json.dumps: the object written in chunks as it is made
is, byte for byte, json.dumps(indent=4) of the whole object (the dict a reader gets back),
indented once more as an element of the array.

The whole object is made here as the writer once made it, from the same records, on a table
of images and on generated ones whose strings are anything a path can hold: quotes,
backslashes, control characters, surrogates (a name that is not UTF-8), astral characters.
"""

import json
import math
from collections.abc import Generator, Iterator, Sequence
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inspector.cli.forms import OutputForm, Printed, stream
from inspector.cli.output import Progress
from inspector.contents.analysis import Change, LayerReport, Merged, Waste, WastedPath
from inspector.contents.model import Entry, LayerContents
from inspector.image import Image
from inspector.render import contents_json
from inspector.render.contents_json import LARGEST, contents_element, end
from tests.fuzzing import budget

KINDS = ("file", "dir", "symlink", "hardlink", "char", "block", "fifo")
CHANGES = ("added", "changed", "removed")
ODD = '"\\/\x00\x1f\x7f\u2028\u202e\udcff\ud800é😀 {}{path}%s'


class GivenMerged(Merged):
    """A merge whose largest files are given: no engine needed."""

    def largest(self, count: int) -> list[Entry]:
        files = [entry for entry in self.tree.values() if entry.kind == "file"]
        return sorted(files, key=lambda entry: (-entry.size, entry.path))[:count]


def reference(image: Image, merged: Merged, waste: Waste, size: int | None) -> dict[str, Any]:
    """The object as one dict: what docs/contents.md describes, and json.loads gives back."""
    contents = image.contents or ()

    def entry(item: Entry) -> dict[str, Any]:
        return {
            "path": item.path,
            "type": item.kind,
            "mode": item.mode,
            "uid": item.uid,
            "gid": item.gid,
            "size": item.size,
            "linkTarget": item.link or None,
        }

    def ratio(value: float) -> float | None:
        return value if math.isfinite(value) else None

    return {
        "name": image.asked,
        "id": json.loads(image.inspect or b"{}").get("Id"),
        "size": size,
        "efficiency": ratio(waste.efficiency),
        "sizeBytes": waste.size,
        "userSizeBytes": waste.user_size,
        "wastedBytes": waste.wasted,
        "wastedUserPercent": ratio(waste.wasted_user_fraction),
        "inefficiencies": [
            {"path": path.path, "count": path.count, "sizeBytes": path.size} for path in waste.paths
        ],
        "largest": [entry(item) for item in merged.largest(LARGEST)],
        "layers": [
            {
                "index": index + 1,
                "digest": contents[index].digest if index < len(contents) else None,
                "diffId": contents[index].diff_id if index < len(contents) else None,
                "size": report.size,
                "added": report.added,
                "changed": report.changed,
                "removed": report.removed,
                "entries": [{**entry(c.entry), "change": c.change} for c in report.changes],
            }
            for index, report in enumerate(merged.layers)
        ],
    }


def dumped(document: dict[str, Any], *, first: bool) -> bytes:
    body = json.dumps(document, indent=4, allow_nan=False).replace("\n", "\n    ")
    return (b"[\n    " if first else b",\n    ") + body.encode()


def written(image: Image, merged: Merged, waste: Waste, size: int | None, first: bool) -> bytes:
    return b"".join(contents_element(image, merged, waste, size, first=first))


def image_of(
    layers: Sequence[Sequence[Change]], *, name: str = "app:1", with_contents: int | None = None
) -> tuple[Image, Merged]:
    """An image of these layers' changes; its contents name only the first with_contents
    layers (all of them when None)."""
    reports = tuple(
        LayerReport(
            tuple(changes),
            sum(c.change == "added" for c in changes),
            sum(c.change == "changed" for c in changes),
            sum(c.change == "removed" for c in changes),
            sum(c.entry.size for c in changes),
        )
        for changes in layers
    )
    contents = tuple(
        LayerContents(
            tuple(c.entry for c in changes),
            report.size,
            None if index % 2 else "sha256:" + f"{index:02x}" * 32,
            "sha256:" + f"{index + 16:02x}" * 32,
        )
        for index, (changes, report) in enumerate(zip(layers, reports, strict=True))
    )
    tree = {c.entry.path: c.entry for changes in layers for c in changes}
    inspect = json.dumps({"Id": "sha256:" + "c0" * 32, "Size": 1234}).encode()
    kept = contents if with_contents is None else contents[:with_contents]
    return Image(name, inspect=inspect, contents=kept), GivenMerged(reports, tree)


def change(
    path: str, kind: str = "file", size: int = 0, link: str = "", how: str = "added"
) -> Change:
    return Change(Entry(path, kind, 0o644, 0, 0, size, 0, link), how)


WASTE = Waste(0.8123456, 1_331_869, 256_405, 250_000, 250_000 / 256_405, ())
WASTED = Waste(1.0, 10, 5, 5, 1.0, (WastedPath("/srv/" + ODD, 2, 5), WastedPath("/srv", 3, 0)))
CASES: dict[str, tuple[list[list[Change]], Waste, int | None]] = {
    "no layers": ([], WASTE, None),
    "an empty layer": ([[]], Waste(math.nan, 0, 0, 0, math.inf, ()), 0),
    "layers": (
        [
            [change("bin", "dir"), change("bin/busybox", size=1_075_464)],
            [
                change("bin/sh", "symlink", link="busybox"),
                change("bin/ln", "hardlink", link="bin/busybox"),
            ],
            [],
            [
                change("bin/busybox", size=1_075_464, how="removed"),
                change("bin", "dir", how="changed"),
            ],
        ],
        WASTED,
        2**70,
    ),
    "odd strings": ([[change(ODD, link=ODD), change("srv/" + ODD, "symlink", 3, ODD)]], WASTED, 5),
}


@pytest.mark.parametrize("first", [True, False], ids=["first", "next"])
@pytest.mark.parametrize("case", CASES)
def test_the_writer_writes_what_json_dumps_writes(case: str, first: bool) -> None:
    layers, waste, size = CASES[case]
    image, merged = image_of(layers, name=ODD if case == "odd strings" else "app:1")
    assert written(image, merged, waste, size, first) == dumped(
        reference(image, merged, waste, size), first=first
    )


def test_a_layer_its_contents_do_not_name_has_no_digests() -> None:
    image, merged = image_of([[change("a")], [change("b")]], with_contents=1)
    out = written(image, merged, WASTE, 1, True)
    assert out == dumped(reference(image, merged, WASTE, 1), first=True)
    assert json.loads(out + end(empty=False))[0]["layers"][1]["digest"] is None


def test_an_image_of_many_entries_is_written_in_chunks_of_bounded_size(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(contents_json, "CHUNK", 4096)
    image, merged = image_of([[change(f"srv/{n:05}", size=n) for n in range(2000)]] * 2)
    chunks = list(contents_element(image, merged, WASTE, 1, first=True))
    assert len(chunks) > 100
    # A chunk ends once it reaches CHUNK: at most one entry over it.
    assert max(len(chunk) for chunk in chunks) < 4096 + 400
    assert b"".join(chunks) == dumped(reference(image, merged, WASTE, 1), first=True)


def test_what_the_image_cannot_give_fails_before_the_first_chunk() -> None:
    """A form raises for an image before writing any of it: the array stays whole."""
    image, merged = image_of([[change("a")]])

    class NoLargest(GivenMerged):
        def largest(self, count: int) -> list[Entry]:
            raise RuntimeError("read when the element is asked for, not while it is written")

    with pytest.raises(RuntimeError):
        contents_element(image, NoLargest(merged.layers, merged.tree), WASTE, 1, first=True)


# Every code point, surrogates too: a name that is not UTF-8 is read with surrogateescape.
strings = st.text(st.characters(exclude_categories=()), max_size=12)
numbers = st.one_of(st.integers(0, 2**40), st.integers(-(2**70), 2**70))
changes = st.builds(
    Change,
    st.builds(
        Entry,
        strings,
        st.sampled_from(KINDS),
        numbers,
        numbers,
        numbers,
        numbers,
        numbers,
        strings,
    ),
    st.sampled_from(CHANGES),
)
ratios = st.floats(allow_nan=True, allow_infinity=True)
wastes = st.builds(
    Waste,
    ratios,
    numbers,
    numbers,
    numbers,
    ratios,
    st.lists(st.builds(WastedPath, strings, numbers, numbers), max_size=3).map(tuple),
)


@budget(300, 20_000)
@given(
    layers=st.lists(st.lists(changes, max_size=6), max_size=4),
    waste=wastes,
    size=st.one_of(st.none(), numbers),
    name=strings,
    with_contents=st.one_of(st.none(), st.integers(0, 4)),
    first=st.booleans(),
)
def test_any_image_is_written_as_json_dumps_writes_it(
    layers: list[list[Change]],
    waste: Waste,
    size: int | None,
    name: str,
    with_contents: int | None,
    first: bool,
) -> None:
    image, merged = image_of(layers, name=name, with_contents=with_contents)
    assert written(image, merged, waste, size, first) == dumped(
        reference(image, merged, waste, size), first=first
    )


class Chunked(OutputForm):
    """A form that writes each image in two chunks; the image named "broken" breaks off
    between them, as a bug in a writer would."""

    def image(self, image: Image, document: bytes, *, first: bool) -> Printed:
        def chunks() -> Iterator[bytes]:
            yield (b"[" if first else b",") + b'{"name": '
            if image.asked == "broken":
                raise RuntimeError("a bug")
            yield json.dumps(image.asked).encode() + b"}"

        return chunks()

    def end(self, printed: int) -> bytes:
        return b"]\n" if printed else b"[]\n"


def images(*names: str) -> Generator[Image, None, None]:
    for name in names:
        yield Image(name, inspect=b"{}")


def test_an_image_in_chunks_is_printed_whole_and_the_array_closed(
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    assert stream(images("a", "b"), Chunked(), Progress(enabled=False), []) is None
    assert json.loads(capsysbinary.readouterr().out) == [{"name": "a"}, {"name": "b"}]


def test_an_image_whose_chunks_break_off_leaves_the_array_unclosed(
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    """Output cut short stays visibly cut: never closed as if it were whole."""
    with pytest.raises(RuntimeError):
        stream(images("a", "broken", "c"), Chunked(), Progress(enabled=False), [])
    assert capsysbinary.readouterr().out == b'[{"name": "a"},{"name": '
