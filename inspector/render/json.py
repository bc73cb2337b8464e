"""docker's JSON output, rebuilt from the daemon's own bytes as Go's json.Indent/Compact do.

The answers are never decoded and encoded again: strings (escapes and all), numbers and key
order stay the daemon's bytes. Only the punctuation between strings changes, and that is done
piece by piece with caches, because the pieces between strings (`":{"`, `"],"`, `":0,"`, ...)
are few and repeat across images: far cheaper than a token-by-token rewrite (the figures are
in docs/performance.md).
"""

import itertools
import re

# A JSON string, escapes included, in a document that holds an escaped quote somewhere.
_STRING = re.compile(rb'("[^"\\]*(?:\\.[^"\\]*)*")')
# Punctuation between strings: an empty object or array stays on its line, as in Go's Indent.
_PUNCTUATION = re.compile(rb"\{\}|\[\]|[{}\[\],:]")
_SPACE = b" \t\r\n"
_INDENT = b"    "
# Beyond this many entries a cache starts again: memory must not grow with the images.
_CACHE_SIZE = 10_000


def indented_element(document: bytes, *, first: bool) -> bytes:
    """One answer in that array, with what goes before it (`[` for the first, else `,`)."""
    return (b"[\n    " if first else b",\n    ") + _indent(document, 1)


def indented_end(*, empty: bool) -> bytes:
    """What ends the array: `[]` when no answer was printed, as docker prints it."""
    return b"[]\n" if empty else b"\n]\n"


def compact_element(document: bytes, *, first: bool) -> bytes:
    """One answer in the compact array, with the `[` or `,` before it."""
    parts = _split(document)
    parts[0::2] = [between.translate(None, _SPACE) for between in parts[0::2]]
    return (b"[" if first else b",") + b'"'.join(parts)


def compact_end(*, empty: bool) -> bytes:
    return b"[]\n" if empty else b"]\n"


def _split(document: bytes) -> list[bytes]:
    """The document cut at its strings' quotes: what lies between strings at even places, the
    strings' insides at odd ones, so that b'"'.join(parts) is the document again."""
    if b'\\"' not in document:  # no quote can be escaped: every quote starts or ends a string
        return document.split(b'"')
    parts = _STRING.split(document)
    parts[1::2] = [string[1:-1] for string in parts[1::2]]
    return parts


def _indent(document: bytes, depth: int) -> bytes:
    parts = _split(document)
    between = parts[0::2]
    depths = itertools.accumulate(map(_DEPTH_CHANGE.__getitem__, between), initial=depth)
    parts[0::2] = map(_RESPACED.__getitem__, zip(between, depths, strict=False))
    return b'"'.join(parts)


class _DepthChange(dict[bytes, int]):
    """How much deeper the JSON is after a piece between strings."""

    def __missing__(self, piece: bytes) -> int:
        if len(self) > _CACHE_SIZE:
            self.clear()
        change = piece.count(b"{") + piece.count(b"[") - piece.count(b"}") - piece.count(b"]")
        self[piece] = change
        return change


class _Respaced(dict[tuple[bytes, int], bytes]):
    """A piece between strings as Go's Indent writes it at a depth: white space dropped, a line
    break and the indent after `{`, `[` and `,` and before `}` and `]`, a space after `:`."""

    def __missing__(self, key: tuple[bytes, int]) -> bytes:
        if len(self) > _CACHE_SIZE:
            self.clear()
        piece, depth = key
        out: list[bytes] = []
        at = 0
        compact = piece.translate(None, _SPACE)  # numbers and literals hold no white space
        for match in _PUNCTUATION.finditer(compact):
            out.append(compact[at : match.start()])
            at = match.end()
            mark = match[0]
            if len(mark) == 2:  # {} or []
                out.append(mark)
            elif mark in b"{[":
                depth += 1
                out.append(mark + b"\n" + _INDENT * depth)
            elif mark in b"}]":
                depth -= 1
                out.append(b"\n" + _INDENT * depth + mark)
            elif mark == b",":
                out.append(b",\n" + _INDENT * depth)
            else:
                out.append(b": ")
        out.append(compact[at:])
        respaced = b"".join(out)
        self[key] = respaced
        return respaced


_DEPTH_CHANGE = _DepthChange()
_RESPACED = _Respaced()
