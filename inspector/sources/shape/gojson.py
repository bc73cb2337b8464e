"""JSON written as Go's encoding/json writes it, so that answers built here read byte for byte
like the daemon's."""

import json
import re
from collections.abc import Mapping
from typing import Any

_SURROGATES = re.compile("[\ud800-\udfff]")

_GO_ESCAPES = {0x2028: "\\u2028", 0x2029: "\\u2029"}
_ESCAPE = re.compile(r"\\(.)")
_LONG_ESCAPES = {"b": "\\u0008", "f": "\\u000c"}
_HTML_ESCAPES = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026", **_GO_ESCAPES}


def go_json(value: object, *, escape_html: bool = True, short_escapes: bool = True) -> bytes:
    """Compact JSON as Go's encoding/json writes it: the two line separators escaped (and
    `<`, `>`, `&` unless escape_html is off, as for an encoder told so), control characters as
    \\n or \\u00XX, everything else as it is, and a lone surrogate as U+FFFD. Dicts keep their
    order. Without short_escapes, backspace and form feed are \\u0008 and \\u000c, as Go
    before 1.22 (docker 20.10's) writes them, not \\b and \\f."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    # Those five can only occur inside strings.
    escapes = _HTML_ESCAPES if escape_html else _GO_ESCAPES
    text = _SURROGATES.sub("\ufffd", text.translate(escapes))
    if not short_escapes:
        # Escapes are read left to right, so an escaped backslash before a b stays as it is.
        text = _ESCAPE.sub(lambda match: _LONG_ESCAPES.get(match[1], match[0]), text)
    return text.encode()


def sorted_map(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """A Go map as encoding/json writes it: keys in byte order (UTF-8 keeps code point order)."""
    return {key: mapping[key] for key in sorted(mapping)}
