"""docker's typed image struct: JSON decoding as encoding/json does it, and Go's time printing."""

import json

import pytest

from inspector.render.format import format_image, format_lines
from inspector.template import compile_template
from inspector.template.gotime import DURATION, TIME, duration_string, time_json, time_string
from inspector.template.schema import INSPECT_RESPONSE, DecodeError, decode_inspect, parse_time
from inspector.template.values import Kind, Value, json_number_hooks


@pytest.mark.parametrize(
    ("nanos", "text"),
    [
        (0, "0s"),
        (1, "1ns"),
        (1_500, "1.5µs"),
        (1_500_000, "1.5ms"),
        (500_000_000, "500ms"),
        (1_000_000_000, "1s"),
        (1_500_000_000, "1.5s"),
        (30_000_000_000, "30s"),
        (90_000_000_000, "1m30s"),
        (3_600_000_000_000, "1h0m0s"),
        (3_601_000_000_000, "1h0m1s"),
        (-90_000_000_000, "-1m30s"),
        (100 * 3_600_000_000_000 + 1, "100h0m0.000000001s"),
    ],
)
def test_durations_print_as_go_prints_them(nanos: int, text: str) -> None:
    assert duration_string(Value(DURATION, nanos)) == text


@pytest.mark.parametrize(
    ("rfc3339", "printed", "marshalled", "unix"),
    [
        (
            "2026-11-27T09:17:18.00870251Z",
            "2026-11-27 09:17:18.00870251 +0000 UTC",
            '"2026-11-27T09:17:18.00870251Z"',
            1795771038,
        ),
        ("0001-01-01T00:00:00Z", "0001-01-01 00:00:00 +0000 UTC", '"0001-01-01T00:00:00Z"', None),
        (
            "2026-01-02T03:04:05.100+01:30",
            "2026-01-02 03:04:05.1 +0130 +0130",
            '"2026-01-02T03:04:05.1+01:30"',
            1767317645,
        ),
    ],
)
def test_times_print_and_marshal_as_go_does(
    rfc3339: str, printed: str, marshalled: str, unix: int | None
) -> None:
    value = Value(TIME, parse_time(rfc3339))
    assert time_string(value) == printed
    assert time_json(value) == marshalled
    if unix is not None:
        assert TIME.methods["Unix"](value) == Value(TIME.methods["Unix"](value).type, unix)


@pytest.mark.parametrize("text", ["", "2026-11-27", "2026-11-27T09:17:18", "yesterday"])
def test_a_time_that_is_not_rfc3339_does_not_decode(text: str) -> None:
    with pytest.raises(DecodeError):
        parse_time(text)


def _decode(document: str) -> Value:
    return decode_inspect(json.loads(document, **json_number_hooks()))


def _field(value: Value, *names: str) -> Value:
    for name in names:
        fields = value.type.fields
        value = value.data[[f.name for f in fields].index(name)]
        while value.type.kind is Kind.POINTER:
            value = value.data
    return value


def test_keys_match_json_names_case_insensitively_and_unknown_keys_are_ignored() -> None:
    value = _decode('{"Id": "sha256:x", "repotags": ["a:1"], "Unknown": 1, "Size": 12}')
    assert value.type is INSPECT_RESPONSE
    assert _field(value, "ID").data == "sha256:x"
    assert [v.data for v in _field(value, "RepoTags").data] == ["a:1"]
    assert _field(value, "Size").data == 12
    assert _field(value, "RepoDigests").data is None  # absent: a nil slice


def test_embedded_config_fields_decode_from_the_same_object() -> None:
    value = _decode(
        '{"Config": {"User": "1000", "Healthcheck": {"Interval": 30000000000}, "Hostname": "h"}}'
    )
    config = _field(value, "Config")
    assert _field(config, "ImageConfig", "User").data == "1000"
    interval = _field(config, "DockerOCIImageConfigExt", "Healthcheck", "Interval")
    assert (interval.type, interval.data) == (DURATION, 30_000_000_000)


@pytest.mark.parametrize(
    "document",
    [
        '{"Size": "12"}',
        '{"Size": 1.5}',
        '{"Size": 9223372036854775808}',
        '{"RepoTags": "a:1"}',
        '{"RepoTags": [1]}',
        '{"Config": []}',
        '{"Metadata": {"LastTagTime": "soon"}}',
        '{"Config": {"Labels": {"a": 1}}}',
    ],
)
def test_json_that_does_not_fit_the_struct_is_a_decode_error(document: str) -> None:
    with pytest.raises(DecodeError):
        _decode(document)


def test_null_leaves_zero_values() -> None:
    value = _decode('{"Id": null, "Config": null, "Size": null, "Metadata": null}')
    assert _field(value, "ID").data == ""
    assert value.data[[f.name for f in INSPECT_RESPONSE.fields].index("Config")].data is None
    assert _field(value, "Size").data == 0


@pytest.mark.parametrize(
    "document",
    [
        b'{"Architecture": "a\\ud800b", "Config": {"Labels": {"k\\udfff": "v"}}}',
        # Invalid UTF-8 that spells a surrogate: json.loads lets it through (surrogatepass).
        b'{"Architecture": "a\xed\xa0\x80b", "Config": {"Labels": {"k\xed\xbf\xbf": "v"}}}',
    ],
    ids=["escaped", "invalid-utf8"],
)
def test_a_lone_surrogate_decodes_as_the_replacement_character_as_in_go(document: bytes) -> None:
    """Found by fuzzing: `-f '{{.}}'` then failed to encode its output (exit 70)."""
    value = decode_inspect(json.loads(document, **json_number_hooks()))
    assert _field(value, "Architecture").data == "a\ufffdb"
    labels = _field(value, "Config", "ImageConfig", "Labels").data
    assert list(labels) == ["k\ufffd"]
    line = format_image(compile_template("{{.}}"), document)
    assert format_lines([line]).count("\ufffd".encode()) == 2
