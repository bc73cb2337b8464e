"""--json and -f json rebuild docker's bytes the way Go's json.Indent and json.Compact do."""

import json

import pytest

from inspector.render.json import compact_array, indented_array


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
