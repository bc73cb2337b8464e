"""`--diff --json`: the comparison as one JSON document (its schema is in the README)."""

import json
import re
from typing import Any

from inspector.compare import Change, Difference, LayerSize, Summary, total
from inspector.terminal import UNSAFE_CHARS

# The characters that could act on a terminal (the view escapes the same ones), lone
# surrogates among them (from a `\ud800` in an image's JSON), which UTF-8 cannot carry: written
# as \u escapes, which JSON reads back as the same string. json.dumps has already escaped the
# C0 controls inside strings, so the ones left are the layout's own newlines, which stay.
_ESCAPED = re.compile(f"(?![\x00-\x1f])[{UNSAFE_CHARS}]")


def diff_document(difference: Difference) -> bytes:
    """The documented form, indented by 4 spaces, with a newline at the end."""
    document = {
        "same": difference.same,
        "a": _summary(difference.a),
        "b": _summary(difference.b),
        "changes": [_change(change) for change in difference.changes],
        "layers": {
            "shared": [_layer(layer) for layer in difference.shared],
            "only_a": [_layer(layer) for layer in difference.only_a],
            "only_b": [_layer(layer) for layer in difference.only_b],
            "shared_size": total(difference.shared),
            "only_a_size": total(difference.only_a),
            "only_b_size": total(difference.only_b),
        },
    }
    text = json.dumps(document, indent=4, ensure_ascii=False)
    return (_ESCAPED.sub(_escape, text) + "\n").encode()


def _escape(match: re.Match[str]) -> str:
    code = ord(match[0])
    if 0xD800 <= code <= 0xDFFF:
        return "\\ufffd"
    if code > 0xFFFF:  # JSON spells it as its UTF-16 surrogate pair
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def _summary(summary: Summary) -> dict[str, Any]:
    return {
        "image": summary.asked,
        "id": summary.id,
        "tags": list(summary.tags),
        "platform": summary.platform,
        "size": summary.size,
        "created": summary.created,
    }


def _change(change: Change) -> dict[str, Any]:
    entry: dict[str, Any] = {"field": change.field, "change": change.change, "key": change.key}
    entry |= {"a": change.a, "b": change.b}
    if change.field == "size" and isinstance(change.a, int) and isinstance(change.b, int):
        entry["delta"] = change.b - change.a
    return entry


def _layer(layer: LayerSize) -> dict[str, Any]:
    return {"diff_id": layer.diff_id, "size": layer.size}
