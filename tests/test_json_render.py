"""--json and -f json rebuild docker's bytes the way Go's json.Indent and json.Compact do."""

import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.json_arrays import compact_array, indented_array


def test_no_documents_print_an_empty_array_like_docker() -> None:
    assert indented_array([]) == b"[]\n"
    assert compact_array([]) == b"[]\n"


def test_indent_keeps_key_order_numbers_and_string_escapes() -> None:
    doc = b'{"b":1.50,"a":[1e3,true,null],"s":"\\u003c\\"{[,:]}\\\\","e":{},"l":[]}\n'
    assert indented_array([doc]) == (
        b"[\n"
        b"    {\n"
        b'        "b": 1.50,\n'
        b'        "a": [\n'
        b"            1e3,\n"
        b"            true,\n"
        b"            null\n"
        b"        ],\n"
        b'        "s": "\\u003c\\"{[,:]}\\\\",\n'
        b'        "e": {},\n'
        b'        "l": []\n'
        b"    }\n"
        b"]\n"
    )


def test_whitespace_outside_strings_is_dropped_and_inside_strings_kept() -> None:
    doc = b' {\r\n "a" :\t[ ] ,"b":{ \n},"c":"x  y"}\n'
    assert compact_array([doc, doc]) == b'[{"a":[],"b":{},"c":"x  y"},{"a":[],"b":{},"c":"x  y"}]\n'
    assert indented_array([doc]) == (
        b'[\n    {\n        "a": [],\n        "b": {},\n        "c": "x  y"\n    }\n]\n'
    )


@pytest.mark.parametrize(
    "value",
    [
        {"Id": "sha256:ab", "RepoTags": ["a:1", "b:2"], "Size": 12, "Nested": {"x": [{"y": {}}]}},
        {"unicode": "h\u00e9llo \u2603 \u6f22", "esc": "\u001b]0;x\u0007", "q": 'a"b\\'},
        {},
    ],
)
def test_output_parses_back_to_the_same_values(value: object) -> None:
    doc = json.dumps(value).encode()
    assert json.loads(indented_array([doc])) == [value]
    assert json.loads(compact_array([doc])) == [value]


# -- against a plain transcription of Go's json.Indent --------------------------------------


def go_indent(src: bytes, *, compact: bool = False) -> bytes:
    """encoding/json's appendIndent (appendCompact if compact), byte by byte, on valid JSON."""
    indent, newline, colon = (b"", b"", b":") if compact else (b"    ", b"\n", b": ")
    out = bytearray()
    depth = 0
    need_indent = in_string = escaped = False
    for byte in src:
        c = bytes([byte])
        if in_string:
            out += c
            if escaped:
                escaped = False
            elif c == b"\\":
                escaped = True
            elif c == b'"':
                in_string = False
            continue
        if c in b" \t\r\n":
            continue
        if need_indent and c not in b"}]":
            need_indent = False
            depth += 1
            out += newline + indent * depth
        if c == b'"':
            in_string = True
            out += c
        elif c in b"{[":
            need_indent = True
            out += c
        elif c == b",":
            out += c + newline + indent * depth
        elif c == b":":
            out += colon
        elif c in b"}]":
            if need_indent:
                need_indent = False
            else:
                depth -= 1
                out += newline + indent * depth
            out += c
        else:
            out += c
    return bytes(out)


_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
    | st.sampled_from(['"', "\\", '\\"', "\\\\", "{[,:]}", "\u2028", "\x1b"])
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(
    max_examples=5000 if os.environ.get("IMGINSPECT_FUZZ") == "1" else 150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    st.lists(st.dictionaries(st.text(max_size=8), _values, max_size=6), max_size=3),
    st.booleans(),
    st.sampled_from([None, 0, 2, "\t"]),
)
def test_indent_and_compact_are_gos_for_any_answers(
    values: list[dict[str, object]], ascii_only: bool, indent: int | str | None
) -> None:
    documents = [
        json.dumps(value, ensure_ascii=ascii_only, indent=indent).encode() + b"\n"
        for value in values
    ]
    joined = b"[" + b",".join(documents) + b"]"
    assert indented_array(documents) == go_indent(joined) + b"\n"
    assert compact_array(documents) == go_indent(joined, compact=True) + b"\n"
