"""The typed reads of untrusted JSON: each accessor on good values and on every odd kind."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inspector.untrusted import (
    count,
    flag,
    json_text,
    keys,
    member,
    number,
    only_strings,
    parse,
    parse_objects,
    plain,
    string,
    strings,
    text,
    text_values,
    unset,
)

HUGE = 10**30
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=10,
)


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (b'{"Id": "x"}', {"Id": "x"}),
        (b"[]", {}),
        (b'"x"', {}),
        (b"null", {}),
        (b"not json", {}),
        (b"\xff", {}),
        (b"[" * 100_000, {}),  # deeper than the parser goes
        (None, {}),
    ],
)
def test_an_answer_is_an_object_or_empty(answer: bytes | None, expected: object) -> None:
    assert parse(answer) == expected


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (b'[{"Size": 1}, 5, null, [], {}]', [{"Size": 1}, {}, {}, {}, {}]),
        (b"[]", []),
        (b"{}", None),
        (b"null", None),
        (b"[", None),
        (None, None),
    ],
)
def test_a_list_answer_is_its_objects_or_none(answer: bytes | None, expected: object) -> None:
    assert parse_objects(answer) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [({"a": 1}, {"a": 1}), ({}, {}), (None, {}), ([{"a": 1}], {}), ("x", {}), (5, {})],
)
def test_a_member_is_an_object_or_empty(value: object, expected: object) -> None:
    assert member({"Config": value}, "Config") == expected
    assert member({}, "Config") == {}


# What each reading gives for one value of each kind: text, strings, keys, count.
READINGS = [
    pytest.param(None, None, [], [], None, id="null"),
    pytest.param("sh", "sh", ["sh"], ["sh"], None, id="string"),
    pytest.param("", "", [], [], None, id="empty string"),
    pytest.param(5, "5", ["5"], ["5"], 5, id="number"),
    pytest.param(0, "0", ["0"], ["0"], 0, id="zero"),
    pytest.param(-5, "-5", ["-5"], ["-5"], None, id="negative"),
    pytest.param(1.5, "1.5", ["1.5"], ["1.5"], None, id="fraction"),
    pytest.param(1500.0, "1500.0", ["1500.0"], ["1500.0"], 1500, id="whole float"),
    pytest.param(float("nan"), "NaN", ["NaN"], ["NaN"], None, id="NaN"),
    pytest.param(HUGE, str(HUGE), [str(HUGE)], [str(HUGE)], HUGE, id="huge int"),
    pytest.param(True, "true", ["true"], ["true"], None, id="bool"),
    pytest.param([], "[]", [], [], None, id="empty list"),
    pytest.param(["a", "é"], '["a","é"]', ["a", "é"], ["a", "é"], None, id="list"),
    pytest.param([["a", 1]], '[["a",1]]', ['["a",1]'], ['["a",1]'], None, id="nested list"),
    pytest.param(
        [1, None, True, {"k": "é"}, "x"],
        '[1,null,true,{"k":"é"},"x"]',
        ["1", "null", "true", '{"k":"é"}', "x"],
        ["1", "null", "true", '{"k":"é"}', "x"],
        None,
        id="non-string items",
    ),
    pytest.param({}, "{}", [], [], None, id="empty object"),
    pytest.param(
        {"b": 1, "a": "é"}, '{"b":1,"a":"é"}', ['{"b":1,"a":"é"}'], ["b", "a"], None, id="object"
    ),
]


@pytest.mark.parametrize(("value", "as_text", "as_strings", "as_keys", "as_count"), READINGS)
def test_each_kind_of_value_reads_the_same_everywhere(
    value: object, as_text: str | None, as_strings: list[str], as_keys: list[str], as_count: int
) -> None:
    assert text(value) == as_text
    assert strings(value) == as_strings
    assert keys(value) == as_keys
    assert count(value) == as_count


def test_labels_are_text_values_with_null_as_empty_and_anything_else_as_keys() -> None:
    labels = {"s": "x", "n": None, "i": 5, "l": [1, "é"], "o": {"b": 1}}
    assert text_values(labels) == {"s": "x", "n": "", "i": "5", "l": '[1,"é"]', "o": '{"b":1}'}
    assert text_values(["a=1", 2]) == {"a=1": "", "2": ""}
    assert text_values("x") == {"x": ""}
    empties: tuple[object, ...] = (None, "", [], {})
    for empty in empties:
        assert text_values(empty) == {}


@pytest.mark.parametrize(
    ("value", "as_string", "as_number", "as_flag", "is_unset"),
    [
        ("x", "x", None, None, False),
        ("", "", None, None, True),
        (None, None, None, None, True),
        (5, None, 5, None, False),
        (-1.5, None, -1.5, None, False),
        (True, None, None, True, False),
        (False, None, None, False, False),
        (0, None, 0, None, False),
        ([], None, None, None, True),
        ({}, None, None, None, True),
        ([0], None, None, None, False),
    ],
)
def test_strings_numbers_and_flags_are_only_what_they_are(
    value: object,
    as_string: str | None,
    as_number: float | None,
    as_flag: bool | None,
    is_unset: bool,
) -> None:
    assert string(value) == as_string
    assert number(value) == as_number
    assert flag(value) is as_flag
    assert unset(value) is is_unset


@given(json_values)
def test_no_value_breaks_an_accessor(value: object) -> None:
    for read in (text, strings, keys, text_values, count, number, flag, string, unset):
        read(value)
    assert isinstance(json_text(value), str)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("linux", "linux"), ("", ""), (None, ""), (5, ""), (True, ""), (["x"], ""), ({"a": 1}, "")],
)
def test_a_go_string_field_of_another_type_reads_as_its_zero_value(
    value: object, expected: str
) -> None:
    assert plain(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (["a:1", "b:2"], ("a:1", "b:2")),
        (["a:1", 5, None, ["b"], {"c": 1}, "d"], ("a:1", "d")),
        ([], ()),
        ("a:1", ()),
        (None, ()),
        ({"a:1": 1}, ()),
    ],
)
def test_only_the_strings_of_a_list_are_kept(value: object, expected: tuple[str, ...]) -> None:
    assert only_strings(value) == expected
