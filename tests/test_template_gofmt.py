"""Go's fmt and strconv as gofmt implements them, called directly (the template tables cover
the verbs through printf; these are the parts a template cannot reach with constants)."""

import pytest

from inspector.template.gofmt import format_float, quote, quote_rune, sprint, sprintf
from inspector.template.values import (
    ANY,
    ANY_MAP,
    FLOAT32,
    INT,
    STRING,
    UINT8,
    Value,
    interface,
    map_of,
    pointer_to,
    slice_of,
)


@pytest.mark.parametrize(
    ("value", "verb", "prec", "size", "expected"),
    [
        (0.1, "g", -1, 32, "0.1"),  # float32(0.1) prints 0.1, as Go's shortest for 32 bits
        (1 / 3, "g", -1, 32, "0.33333334"),
        (16777216.0, "g", -1, 32, "1.6777216e+07"),
        (0.1, "g", -1, 64, "0.1"),
        (1e21, "g", -1, 64, "1e+21"),
        (123456789.0, "f", -1, 64, "123456789"),
        (1.5, "e", -1, 64, "1.5e+00"),
        (2.5, "f", 0, 64, "2"),  # ties round to even on the exact binary value
        (float("inf"), "g", -1, 64, "+Inf"),
        (float("nan"), "g", -1, 64, "NaN"),
        (-0.0, "g", -1, 64, "-0"),
        (1.0, "b", -1, 64, "4503599627370496p-52"),
        (1.0, "x", -1, 64, "0x1p+00"),
    ],
)
def test_format_float_is_strconvs(
    value: float, verb: str, prec: int, size: int, expected: str
) -> None:
    assert format_float(value, verb, prec, size) == expected


def test_float32_values_print_with_32_bit_shortest_digits() -> None:
    third = 0.3333333432674408  # float32(1.0/3)
    assert sprint([Value(FLOAT32, third)]) == "0.33333334"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('a"b\\', '"a\\"b\\\\"'),
        ("\a\b\f\n\r\t\v\x00\x7f", '"\\a\\b\\f\\n\\r\\t\\v\\x00\\x7f"'),
        ("é☺\u2028\U0001f600\ufeff", '"é☺\\u2028😀\\ufeff"'),
        ("\udcff", '"\\xff"'),  # an invalid UTF-8 byte
    ],
)
def test_quote_is_strconv_quote(text: str, expected: str) -> None:
    assert quote(text) == expected


def test_quote_rune_replaces_invalid_runes() -> None:
    assert quote_rune(0xD800) == "'�'"
    assert quote_rune(ord("'")) == "'\\''"
    assert quote_rune(0x1F600, ascii_only=True) == "'\\U0001f600'"


def test_maps_print_with_sorted_keys_and_interfaces_print_their_values() -> None:
    value = Value(
        ANY_MAP,
        {"b": interface(Value(INT, 1)), "a": interface(None), "é": interface(Value(STRING, "x"))},
    )
    assert sprint([value]) == "map[a:<nil> b:1 é:x]"
    assert (
        sprintf("%#v", [value]) == 'map[string]interface {}{"a":interface {}(nil), "b":1, "é":"x"}'
    )


def test_int_keyed_maps_sort_numerically() -> None:
    value = Value(map_of(INT, STRING), {10: Value(STRING, "x"), -1: Value(STRING, "y")})
    assert sprint([value]) == "map[-1:y 10:x]"


def test_nil_values_inside_values() -> None:
    assert sprint([Value(slice_of(ANY), [interface(None)])]) == "[<nil>]"
    assert sprint([Value(pointer_to(INT), None)]) == "<nil>"
    assert sprintf("%s|%d", [Value(pointer_to(INT), None)] * 2) == "%!s(*int=<nil>)|0"


def test_byte_slices_print_as_bytes_for_string_verbs() -> None:
    data = Value(slice_of(UINT8), [Value(UINT8, 0x68), Value(UINT8, 0x69)])
    assert sprintf("%s %x %X %q %v %d", [data] * 6) == 'hi 6869 6869 "hi" [104 105] [104 105]'
