"""--contents --json: each image's contents as one JSON object (docs/contents.md has the
schema), in an array printed image by image.

Keys are camelCase, as dive's own JSON has them; the numbers are dive's. Paths are written as
the layer's tar has them (relative), but the wasted paths, which are dive's (absolute). Every
string is escaped to ASCII, so a path that is not UTF-8 still makes valid JSON.

An image of a hundred thousand files is some fifty megabytes of JSON: the object is written
as it is made, in chunks of about CHUNK bytes, and never held whole. Its bytes are those of
`json.dumps(indent=4)` of the object (indented once more, as an element of the array), made
with json's own encoders: the small values by json.dumps itself, each entry by the
encoders json.dumps calls for its strings and numbers.
"""

import json
import math
from collections.abc import Iterator, Mapping, Sequence
from json.encoder import encode_basestring_ascii
from typing import TYPE_CHECKING, Any

from inspector.image import Image
from inspector.untrusted import count, parse, text

if TYPE_CHECKING:
    from inspector.contents.analysis import LayerReport, Merged, Waste
    from inspector.contents.model import Entry, LayerContents

# The largest files each object lists.
LARGEST = 10
# About how many bytes each chunk of an object holds: large enough that a write is cheap,
# small beside the entries the engine keeps.
CHUNK = 64 * 1024
# The depths, in indents, of the image's object in the array, and of its parts.
_IMAGE, _IMAGE_KEY, _LAYER, _LAYER_KEY, _ENTRY, _ENTRY_KEY = range(1, 7)
_INDENT = "    "


def docker_size(image: Image) -> int | None:
    """The image's size as docker counts it: the inspect object's Size, or (a registry's
    image, which has none until pulled) the sum of its layers' sizes."""
    size = count(parse(image.inspect).get("Size"))
    if size is None and image.contents is not None:
        return sum(layer.size for layer in image.contents)
    return size


def contents_element(
    image: Image, merged: "Merged", waste: "Waste", size: int | None, *, first: bool
) -> Iterator[bytes]:
    """One object of the array, in chunks: what goes before it, then the object.

    Everything that reads the image (its inspect object, its largest files) is read here,
    before the first chunk; what is left is the layers' reports, written as they are.
    """
    head = _members(_head(image, merged, waste, size), _IMAGE_KEY)
    opening = (
        ("[" if first else ",") + _line(_IMAGE) + "{" + head + "," + _key("layers", _IMAGE_KEY)
    )
    return _chunked(_layers(opening, merged.layers, image.contents or ()))


def end(*, empty: bool) -> bytes:
    return b"[]\n" if empty else b"\n]\n"


def _head(image: Image, merged: "Merged", waste: "Waste", size: int | None) -> dict[str, Any]:
    """The object's members before its layers."""
    return {
        "name": image.asked,
        "id": text(parse(image.inspect).get("Id")),
        "size": size,
        "efficiency": _ratio(waste.efficiency),
        "sizeBytes": waste.size,
        "userSizeBytes": waste.user_size,
        "wastedBytes": waste.wasted,
        "wastedUserPercent": _ratio(waste.wasted_user_fraction),
        "inefficiencies": [
            {"path": path.path, "count": path.count, "sizeBytes": path.size} for path in waste.paths
        ],
        "largest": [_entry(entry) for entry in merged.largest(LARGEST)],
    }


def _ratio(value: float) -> float | None:
    """A ratio; null where it has no value (0/0: an image whose layers but the first add
    nothing), which JSON cannot write as a number."""
    return value if math.isfinite(value) else None


def _entry(entry: "Entry") -> dict[str, Any]:
    return {
        "path": entry.path,
        "type": entry.kind,
        "mode": entry.mode,
        "uid": entry.uid,
        "gid": entry.gid,
        "size": entry.size,
        "linkTarget": entry.link or None,
    }


def _layers(
    opening: str, reports: Sequence["LayerReport"], contents: Sequence["LayerContents"]
) -> Iterator[str]:
    """The object from its layers on, as text in small pieces."""
    yield opening
    if not reports:
        yield "[]" + _line(_IMAGE) + "}"
        return
    yield "["
    for index, report in enumerate(reports):
        layer = contents[index] if index < len(contents) else None
        fields = {
            "index": index + 1,
            "digest": layer.digest if layer else None,
            "diffId": layer.diff_id if layer else None,
            "size": report.size,
            "added": report.added,
            "changed": report.changed,
            "removed": report.removed,
        }
        members = _members(fields, _LAYER_KEY)
        yield (
            ("," if index else "")
            + _line(_LAYER)
            + "{"
            + members
            + ","
            + _key("entries", _LAYER_KEY)
        )
        if not report.changes:
            yield "[]"
        else:
            yield "["
            separator = ""
            for change in report.changes:
                yield separator + _change(change.entry, change.change)
                separator = ","
            yield _line(_LAYER_KEY) + "]"
        yield _line(_LAYER) + "}"
    yield _line(_IMAGE_KEY) + "]" + _line(_IMAGE) + "}"


def _chunked(pieces: Iterator[str]) -> Iterator[bytes]:
    """The pieces joined into chunks of about CHUNK bytes (ASCII: a character is a byte)."""
    held: list[str] = []
    length = 0
    for piece in pieces:
        held.append(piece)
        length += len(piece)
        if length >= CHUNK:
            yield "".join(held).encode("ascii")
            held.clear()
            length = 0
    if held:
        yield "".join(held).encode("ascii")


def _line(depth: int) -> str:
    return "\n" + _INDENT * depth


def _key(key: str, depth: int) -> str:
    """A member's line at depth, up to its value."""
    return _line(depth) + encode_basestring_ascii(key) + ": "


def _members(fields: Mapping[str, Any], depth: int) -> str:
    """An object's members, each on its line at depth, as json.dumps writes them there."""
    return ",".join(_key(key, depth) + _nested(value, depth) for key, value in fields.items())


def _nested(value: Any, depth: int) -> str:
    """value as json.dumps(indent=4) writes it in a member at depth: its own lines indented
    as deep again."""
    return json.dumps(value, indent=4, allow_nan=False).replace("\n", _line(depth))


# One entry with its change, at its depth, for str.format (its own braces doubled): the
# strings and numbers filled in as _scalar writes them.
_CHANGE = "".join(
    (
        _line(_ENTRY) + "{{",
        *(
            _key(key, _ENTRY_KEY) + "{" + key + "}" + ("," if more else "")
            for key, more in (
                ("path", True),
                ("type", True),
                ("mode", True),
                ("uid", True),
                ("gid", True),
                ("size", True),
                ("linkTarget", True),
                ("change", False),
            )
        ),
        _line(_ENTRY) + "}}",
    )
)


def _change(entry: "Entry", change: str) -> str:
    return _CHANGE.format(
        path=_scalar(entry.path),
        type=_scalar(entry.kind),
        mode=_scalar(entry.mode),
        uid=_scalar(entry.uid),
        gid=_scalar(entry.gid),
        size=_scalar(entry.size),
        linkTarget=_scalar(entry.link or None),
        change=_scalar(change),
    )


def _scalar(value: object) -> str:
    """A string, number or null as json.dumps writes it, tested in json's own order (True is
    an int, and written as true)."""
    if isinstance(value, str):
        return encode_basestring_ascii(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    return json.dumps(value, allow_nan=False)  # a float, or what json refuses, as it refuses
