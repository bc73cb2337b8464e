"""--ci's rules and the .dive-ci reader, against dive's own parsing, wording and report."""

import math

import pytest

from inspector.contents.analysis import Waste, WastedPath
from inspector.gate.config import ConfigError, read_rules
from inspector.gate.rules import (
    DEFAULTS,
    Measures,
    RuleValueError,
    evaluate,
    go_value,
    make_rule,
    parse_bytes,
    rules,
)
from inspector.render.gate_report import gate_report, humanize_bytes

DIVE_CI = """\
---
plugins:
  - plugin1

rules:
  # If the efficiency is measured below X%, mark as failed.
  lowestEfficiency: 0.95

  # If the amount of wasted space is at least X or larger than X, mark as failed.
  highestWastedBytes: 20Mb

  # If the amount of wasted space makes up for X% of the image, mark as failed.
  highestUserWastedPercent: 0.5

  plugin1/rule1: error
"""


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("20MB", 20 * 1000**2),
        ("20Mb", 20 * 1000**2),
        ("20mb", 20 * 1000**2),
        ("20MiB", 20 * 1024**2),
        ("20M", 20 * 1000**2),
        ("20Mi", 20 * 1024**2),
        ("1.5 GB", 1_500_000_000),
        ("1,000", 1000),
        ("42", 42),
        ("42B", 42),
        ("1kB", 1000),
        ("1KiB", 1024),
        ("0.5k", 500),
    ],
)
def test_a_size_reads_as_go_humanize_parses_it(text: str, size: int) -> None:
    assert parse_bytes(text) == size


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("MB", 'strconv.ParseFloat: parsing "": invalid syntax'),
        ("20XB", "unhandled size name: xb"),
        ("1.2.3MB", 'strconv.ParseFloat: parsing "1.2.3": invalid syntax'),
        ("20EB", "too large: 20EB"),
        ("-5MB", 'strconv.ParseFloat: parsing "": invalid syntax'),
    ],
)
def test_a_size_go_humanize_refuses_is_refused_with_its_words(text: str, message: str) -> None:
    with pytest.raises(RuleValueError) as caught:
        parse_bytes(text)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        (
            "lowestEfficiency",
            "abc",
            'invalid lowestEfficiency config value, given "abc": '
            'strconv.ParseFloat: parsing "abc": invalid syntax',
        ),
        (
            "lowestEfficiency",
            "1.5",
            "lowestEfficiency config value is outside allowed range (0-1), given '1.500000'",
        ),
        (
            "highestUserWastedPercent",
            "-0.1",
            "highestUserWastedPercent config value is outside allowed range (0-1), "
            "given '-0.100000'",
        ),
        (
            "highestUserWastedPercent",
            "NaN",
            "highestUserWastedPercent config value is outside allowed range (0-1), given 'NaN'",
        ),
        (
            "highestWastedBytes",
            "lots",
            'invalid highestWastedBytes config value, given "lots": '
            'strconv.ParseFloat: parsing "": invalid syntax',
        ),
    ],
)
def test_a_value_dive_refuses_is_refused_with_its_words(key: str, value: str, message: str) -> None:
    with pytest.raises(RuleValueError) as caught:
        make_rule(key, value)
    assert str(caught.value) == message


@pytest.mark.parametrize("value", ["disabled", "DISABLED", "off", "false", "", "  Off "])
def test_a_rule_is_disabled_as_dive_disables_it(value: str) -> None:
    assert make_rule("lowestEfficiency", value).threshold is None


@pytest.mark.parametrize(
    ("value", "shown"),
    [(0.9, "0.9"), (1.0, "1"), (0.0, "0"), (1e-05, "1e-05"), (0.0001, "0.0001"), (0.25, "0.25")],
)
def test_a_threshold_is_shown_as_go_formats_it(value: float, shown: str) -> None:
    assert go_value(value) == shown


def test_the_defaults_are_dives() -> None:
    assert DEFAULTS == {
        "lowestEfficiency": "0.9",
        "highestWastedBytes": "disabled",
        "highestUserWastedPercent": "0.1",
    }


def test_dives_failing_image_gets_dives_report_line_for_line() -> None:
    # The analysis of dive's Test_CI_Fail (cli_ci_test.snap): 100 % efficient, 131 bytes
    # wasted, 71.98 % of the user size.
    waste = Waste(
        efficiency=1.0,
        size=1000,
        user_size=182,
        wasted=131,
        wasted_user_fraction=131 / 182,
        paths=(
            WastedPath("/root/saved.txt", 3, 80),
            WastedPath("/root/example/somefile1.txt", 2, 34),
            WastedPath("/root/example/somefile3.txt", 2, 17),
            WastedPath("/root", 2, 0),
            WastedPath("/etc", 10, 0),
        ),
    )
    verdicts = evaluate(rules({}), Measures(1.0, 131, 131 / 182))
    assert gate_report(waste, verdicts) == (
        "Analysis:\n"
        "  efficiency:        100.00 %\n"
        "  wastedBytes:       131 bytes (131 B)\n"
        "  userWastedPercent: 71.98 %\n"
        "\n"
        "Inefficient Files:\n"
        "  Count  Wasted Space  File Path\n"
        "  3      80 B          /root/saved.txt\n"
        "  2      34 B          /root/example/somefile1.txt\n"
        "  2      17 B          /root/example/somefile3.txt\n"
        "  2      0 B           /root\n"
        "  10     0 B           /etc\n"
        "\n"
        "Evaluation:\n"
        "  FAIL  highestUserWastedPercent (too many bytes wasted, relative to the user bytes "
        "added (%-user-wasted-bytes=0.72 > threshold=0.1))\n"
        "  SKIP  highestWastedBytes (disabled)\n"
        "  PASS  lowestEfficiency (0.9)\n"
        "\n"
        "FAIL [pass:1 fail:1 skip:1]\n"
    )


def test_each_rule_fails_with_dives_message() -> None:
    configured = rules(
        {"lowestEfficiency": "0.99", "highestWastedBytes": "1kB", "highestUserWastedPercent": "0.2"}
    )
    verdicts = evaluate(configured, Measures(0.9844212134184309, 32025, 0.4834911001404049))
    assert [(verdict.status, verdict.message) for verdict in verdicts] == [
        (
            "FAIL",
            "too many bytes wasted, relative to the user bytes added "
            "(%-user-wasted-bytes=0.48 > threshold=0.2)",
        ),
        ("FAIL", "too many bytes wasted (wasted-bytes=32025 > threshold=1000)"),
        ("FAIL", "image efficiency is too low (efficiency=0.98 < threshold=0.99)"),
    ]


def test_a_ratio_without_a_value_breaks_no_rule() -> None:
    # 0/0: an image whose layers above the first add nothing; dive's NaN fails nothing.
    verdicts = evaluate(rules({}), Measures(1.0, 0, math.nan))
    assert {verdict.status for verdict in verdicts} == {"PASS", "SKIP"}


@pytest.mark.parametrize(
    ("size", "shown"),
    [
        (0, "0 B"),
        (9, "9 B"),
        (131, "131 B"),
        (1000, "1.0 kB"),
        (12810, "13 kB"),
        (1220598, "1.2 MB"),
    ],
)
def test_a_size_in_the_report_is_go_humanizes(size: int, shown: str) -> None:
    assert humanize_bytes(size) == shown


def test_dives_sample_dive_ci_is_read() -> None:
    settings = read_rules(DIVE_CI)
    assert {key: (setting.value, setting.line) for key, setting in settings.items()} == {
        "lowestEfficiency": ("0.95", 7),
        "highestWastedBytes": ("20Mb", 10),
        "highestUserWastedPercent": ("0.5", 13),
    }


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("rules:\n  lowestEfficiency: '0.5'\n", {"lowestEfficiency": "0.5"}),
        ('rules:\n  lowestEfficiency: "0.5" # a comment\n', {"lowestEfficiency": "0.5"}),
        ("rules:\n  lowestEfficiency: 0.5 # a comment\n", {"lowestEfficiency": "0.5"}),
        ("rules:\n  lowestEfficiency:\n", {"lowestEfficiency": ""}),
        ("rules:\n  lowestEfficiency: ~\n", {"lowestEfficiency": ""}),
        ("rules:\n  'lowestEfficiency': 'it''s'\n", {"lowestEfficiency": "it's"}),
        ("rules:\n    highestWastedBytes: 1MB\n", {"highestWastedBytes": "1MB"}),
        ("rules: {}\n", {}),
        ("rules:\n", {}),
        ("other:\n  rules:\n    lowestEfficiency: 0.1\n", {}),
        ("rules:\n  lowest-efficiency: 0.5\n", {}),
        ("rules:\n  other:\n    nested: 1\n  lowestEfficiency: 0.5\n", {"lowestEfficiency": "0.5"}),
        ("# only a comment\n", {}),
    ],
)
def test_a_dive_ci_is_read_as_dive_reads_it(text: str, values: dict[str, str]) -> None:
    assert {key: setting.value for key, setting in read_rules(text).items()} == values


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("rules:\n  lowestEfficiency: 1\n  lowestEfficiency: 2\n", 3),
        ("rules: 0.5\n", 1),
        ("rules:\n  lowestEfficiency:\n    - 0.5\n", 2),
        ("rules:\n\tlowestEfficiency: 0.5\n", 2),
        ("rules:\n  lowestEfficiency: 'open\n", 2),
        ('rules:\n  lowestEfficiency: "open\n', 2),
        ("rules:\n  lowestEfficiency: [0.5]\n", 2),
        ("not yaml at all\n", 1),
        ("rules:\n    lowestEfficiency: 0.5\n  highestWastedBytes: 1MB\n", 3),
        ("rules:\n  x: 1\n---\nrules:\n  y: 2\n", 3),
    ],
)
def test_a_dive_ci_that_cannot_be_read_names_the_line(text: str, line: int) -> None:
    with pytest.raises(ConfigError) as caught:
        read_rules(text)
    assert caught.value.line == line
