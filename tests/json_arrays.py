"""Whole arrays as the command writes them, element by element (cli/forms.py), for expectations."""

import json
from collections.abc import Sequence

from inspector.render.json import compact_element, compact_end, indented_element, indented_end


def indented_array(documents: Sequence[bytes]) -> bytes:
    """What `docker image inspect` prints: the answers as one array, indented by 4 spaces."""
    parts = [indented_element(doc, first=not number) for number, doc in enumerate(documents)]
    return b"".join(parts) + indented_end(empty=not documents)


def compact_array(documents: Sequence[bytes]) -> bytes:
    """What `docker image inspect -f json` prints: the answers as one compact array."""
    parts = [compact_element(doc, first=not number) for number, doc in enumerate(documents)]
    return b"".join(parts) + compact_end(empty=not documents)


def members(array: bytes) -> list[tuple[str, str]]:
    """The members of the one object in an array as `docker image inspect` prints it: each
    key, and its value's text exactly as written (escapes, key order and indentation kept)."""
    text = array.decode()
    decoder = json.JSONDecoder()
    at = _skip(text, 0, "[")
    at = _skip(text, at, "{")
    found: list[tuple[str, str]] = []
    while text[_blank(text, at)] != "}":
        at = _blank(text, at)
        key, at = decoder.raw_decode(text, at)
        at = _skip(text, at, ":")
        start = _blank(text, at)
        _, at = decoder.raw_decode(text, start)
        found.append((key, text[start:at]))
        at = _blank(text, at)
        if text[at] == ",":
            at += 1
    end = _skip(text, _skip(text, at, "}"), "]")
    if text[end:].strip():
        raise ValueError(f"more than one object: {text[end:][:100]!r}")
    return found


def _blank(text: str, at: int) -> int:
    while text[at] in " \t\r\n":
        at += 1
    return at


def _skip(text: str, at: int, token: str) -> int:
    at = _blank(text, at)
    if text[at] != token:
        raise ValueError(f"expected {token!r} at {at}: {text[at : at + 50]!r}")
    return at + 1
