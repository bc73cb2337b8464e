"""--contents --json: each image's contents as one JSON object (docs/contents.md has the
schema), in an array printed image by image.

Keys are camelCase, as dive's own JSON has them; the numbers are dive's. Paths are written as
the layer's tar has them (relative), but the wasted paths, which are dive's (absolute). Every
string is escaped to ASCII, so a path that is not UTF-8 still makes valid JSON.
"""

import json
import math
from typing import TYPE_CHECKING, Any

from inspector.image import Image
from inspector.untrusted import count, parse, text

if TYPE_CHECKING:
    from inspector.contents.analysis import Merged, Waste
    from inspector.contents.model import Entry

# The largest files each object lists.
LARGEST = 10


def docker_size(image: Image) -> int | None:
    """The image's size as docker counts it: the inspect object's Size, or (a registry's
    image, which has none until pulled) the sum of its layers' sizes."""
    size = count(parse(image.inspect).get("Size"))
    if size is None and image.contents is not None:
        return sum(layer.size for layer in image.contents)
    return size


def contents_document(
    image: Image, merged: "Merged", waste: "Waste", size: int | None
) -> dict[str, Any]:
    contents = image.contents or ()
    layers = []
    for index, report in enumerate(merged.layers):
        layer = contents[index] if index < len(contents) else None
        layers.append(
            {
                "index": index + 1,
                "digest": layer.digest if layer else None,
                "diffId": layer.diff_id if layer else None,
                "size": report.size,
                "added": report.added,
                "changed": report.changed,
                "removed": report.removed,
                "entries": [
                    {**_entry(change.entry), "change": change.change} for change in report.changes
                ],
            }
        )
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
        "layers": layers,
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


def element(document: dict[str, Any], *, first: bool) -> bytes:
    """One object of the array, indented as --json indents docker's: what goes before it, then
    the object."""
    body = json.dumps(document, indent=4, allow_nan=False).replace("\n", "\n    ")
    return (b"[\n    " if first else b",\n    ") + body.encode()


def end(*, empty: bool) -> bytes:
    return b"[]\n" if empty else b"\n]\n"
