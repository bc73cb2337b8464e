"""JSON written as Go's encoding/json writes it, so that answers built here read byte for byte
like the daemon's."""

import json
import re
from collections.abc import Mapping
from typing import Any

_SURROGATES = re.compile("[\ud800-\udfff]")

_GO_ESCAPES = {0x2028: "\\u2028", 0x2029: "\\u2029"}
_HTML_ESCAPES = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026", **_GO_ESCAPES}


def go_json(value: object, *, escape_html: bool = True) -> bytes:
    """Compact JSON as Go's encoding/json writes it: the two line separators escaped (and
    `<`, `>`, `&` unless escape_html is off, as for an encoder told so), control characters as
    \\n or \\u00XX, everything else as it is, and a lone surrogate as U+FFFD. Dicts keep their
    order."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    # Those five can only occur inside strings.
    escapes = _HTML_ESCAPES if escape_html else _GO_ESCAPES
    return _SURROGATES.sub("\ufffd", text.translate(escapes)).encode()


def sorted_map(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """A Go map as encoding/json writes it: keys in byte order (UTF-8 keeps code point order)."""
    return {key: mapping[key] for key in sorted(mapping)}
