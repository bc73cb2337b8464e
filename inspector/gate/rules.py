"""dive's three CI rules: their values parsed, and their verdicts worded, as dive's.

A value is what dive's flag or its .dive-ci file gives: a number for the two ratios (Go's
strconv.ParseFloat), a size for the wasted bytes (go-humanize's ParseBytes: `20MB` is 20*1000^2,
`20MiB` 20*1024^2, and case does not count, so `20Mb` is `20MB`), or `disabled` (also `off`,
`false` or nothing). The messages are dive's, word for word, numbers formatted as Go's fmt
formats them, so that a log reads the same whichever tool wrote it.
"""

import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

LOWEST_EFFICIENCY = "lowestEfficiency"
HIGHEST_WASTED_BYTES = "highestWastedBytes"
HIGHEST_USER_WASTED_PERCENT = "highestUserWastedPercent"
KEYS = (LOWEST_EFFICIENCY, HIGHEST_WASTED_BYTES, HIGHEST_USER_WASTED_PERCENT)
# dive's defaults, when neither a file nor an option sets a rule.
DEFAULTS: Mapping[str, str] = {
    LOWEST_EFFICIENCY: "0.9",
    HIGHEST_WASTED_BYTES: "disabled",
    HIGHEST_USER_WASTED_PERCENT: "0.1",
}
PASS = "PASS"
FAIL = "FAIL"
SKIP = "SKIP"

_DISABLED = frozenset({"", "disabled", "off", "false"})
# strconv.ParseFloat's decimal and hexadecimal forms (underscores only after a base prefix).
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_HEX = re.compile(r"[+-]?0[xX](?:_?[0-9a-fA-F])*(?:\.(?:[0-9a-fA-F]_?)*)?[pP][+-]?[0-9]+")
_SPECIAL = {"inf": math.inf, "infinity": math.inf, "nan": math.nan}
# go-humanize's table of ParseBytes: the units, lowercased, with or without their `b`.
_UNITS: Mapping[str, int] = {
    "": 1,
    "b": 1,
    **{
        unit + suffix: base**power
        for power, letter in enumerate("kmgtpe", 1)
        for unit, base in ((letter, 1000), (letter + "i", 1024))
        for suffix in ("", "b")
    },
}
_MAX_UINT64 = 2**64


class RuleValueError(ValueError):
    """A value dive would refuse for a rule; the text is dive's."""


@dataclass(frozen=True, slots=True)
class Rule:
    """A rule as configured: its key, its value as given, and the threshold it reads as
    (None: disabled)."""

    key: str
    configuration: str
    threshold: float | int | None


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a rule says of an image: PASS, FAIL or SKIP, and dive's message for it."""

    key: str
    status: str
    message: str


@dataclass(frozen=True, slots=True)
class Measures:
    """What the rules judge: dive's efficiency, wasted bytes, and wasted share of user bytes."""

    efficiency: float
    wasted: int
    wasted_user_fraction: float


def is_disabled(value: str) -> bool:
    return value.strip().lower() in _DISABLED


def make_rule(key: str, value: str) -> Rule:
    """The rule key set to value; RuleValueError with dive's words if dive would refuse it.

    dive takes NaN for a ratio, which no image then fails; here it is refused as out of range.
    """
    if key not in KEYS:
        raise ValueError(f"no rule {key}")
    if is_disabled(value):
        return Rule(key, "disabled", None)
    if key == HIGHEST_WASTED_BYTES:
        try:
            return Rule(key, value, parse_bytes(value))
        except RuleValueError as exc:
            raise RuleValueError(
                f"invalid highestWastedBytes config value, given {go_quote(value)}: {exc}"
            ) from None
    try:
        threshold = parse_float(value)
    except RuleValueError as exc:
        raise RuleValueError(
            f"invalid {key} config value, given {go_quote(value)}: {exc}"
        ) from None
    if not 0 <= threshold <= 1:
        raise RuleValueError(
            f"{key} config value is outside allowed range (0-1), given '{go_fixed(threshold)}'"
        )
    return Rule(key, value, threshold)


def rules(values: Mapping[str, str]) -> list[Rule]:
    """Every rule, each set from values or dive's default."""
    return [make_rule(key, values.get(key, DEFAULTS[key])) for key in KEYS]


def evaluate(configured: Sequence[Rule], measures: Measures) -> list[Verdict]:
    """Each rule's verdict, in dive's order for its report: by key."""
    verdicts = []
    for rule in sorted(configured, key=lambda rule: rule.key):
        failure = None if rule.threshold is None else _failure(rule, measures)
        if rule.threshold is None:
            verdicts.append(Verdict(rule.key, SKIP, "disabled"))
        elif failure is not None:
            verdicts.append(Verdict(rule.key, FAIL, failure))
        else:
            verdicts.append(Verdict(rule.key, PASS, rule.configuration))
    return verdicts


def _failure(rule: Rule, measures: Measures) -> str | None:
    threshold = rule.threshold
    assert threshold is not None
    if rule.key == LOWEST_EFFICIENCY:
        if threshold > measures.efficiency:
            return (
                f"image efficiency is too low (efficiency={measures.efficiency:.2f} "
                f"< threshold={go_value(threshold)})"
            )
    elif rule.key == HIGHEST_WASTED_BYTES:
        if measures.wasted > threshold:
            return (
                f"too many bytes wasted (wasted-bytes={measures.wasted} > "
                f"threshold={go_value(threshold)})"
            )
    elif measures.wasted_user_fraction > threshold:
        return (
            "too many bytes wasted, relative to the user bytes added (%-user-wasted-bytes="
            f"{measures.wasted_user_fraction:.2f} > threshold={go_value(threshold)})"
        )
    return None


# -- Go's parsing ---------------------------------------------------------------------------


def parse_float(text: str) -> float:
    """strconv.ParseFloat(text, 64); RuleValueError with its message for what it refuses."""
    lowered = text.lower().lstrip("+-")
    if _DECIMAL.fullmatch(text):
        value = float(text)
        if math.isinf(value):
            raise RuleValueError(
                f"strconv.ParseFloat: parsing {go_quote(text)}: value out of range"
            )
        return value
    if _HEX.fullmatch(text):
        return float.fromhex(text.replace("_", ""))
    if lowered in _SPECIAL and (lowered != "nan" or text[:1] not in "+-"):
        return -_SPECIAL[lowered] if text.startswith("-") else _SPECIAL[lowered]
    raise RuleValueError(f"strconv.ParseFloat: parsing {go_quote(text)}: invalid syntax")


def parse_bytes(text: str) -> int:
    """go-humanize's ParseBytes: digits (commas dropped) then a unit, case ignored."""
    end = 0
    for char in text:
        if not (unicodedata.category(char) == "Nd" or char in ".,"):
            break
        end += 1
    number = text[:end].replace(",", "")
    if not _DECIMAL.fullmatch(number) or not number.isascii():
        raise RuleValueError(f"strconv.ParseFloat: parsing {go_quote(number)}: invalid syntax")
    unit = text[end:].strip().lower()
    if unit not in _UNITS:
        raise RuleValueError(f"unhandled size name: {unit}")
    value = float(number) * _UNITS[unit]
    if value >= _MAX_UINT64:
        raise RuleValueError(f"too large: {text}")
    return int(value)


# -- Go's formatting ------------------------------------------------------------------------


def go_quote(text: str) -> str:
    """%q of a string, for the printable ASCII dive's values are made of; others escaped."""
    escaped = []
    for char in text:
        if char in '"\\':
            escaped.append("\\" + char)
        elif " " <= char <= "~":
            escaped.append(char)
        elif ord(char) < 0x10000:
            escaped.append(f"\\u{ord(char):04x}" if ord(char) >= 0x80 else f"\\x{ord(char):02x}")
        else:
            escaped.append(f"\\U{ord(char):08x}")
    return '"' + "".join(escaped) + '"'


def go_fixed(value: float) -> str:
    """%f: six decimals; NaN and infinities as Go writes them."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return f"{value:.6f}"


def go_value(value: float | int) -> str:
    """%v: an integer as it is; a float in its shortest form, with an exponent below 1e-4 or
    from 1e6 on (strconv's 'g' with the shortest precision, which decides as for 6 digits)."""
    if isinstance(value, int):
        return str(value)
    if math.isnan(value) or math.isinf(value):
        return go_fixed(value)
    if value == 0:
        return "-0" if math.copysign(1, value) < 0 else "0"
    sign = "-" if value < 0 else ""
    mantissa, _, exponent_text = f"{abs(value)!r}".partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0")
    point = len(whole) + int(exponent_text or 0) - (len(whole + fraction) - len(digits))
    digits = digits.rstrip("0") or "0"
    exponent = point - 1
    if exponent < -4 or exponent >= 6:
        shown = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{shown}e{'-' if exponent < 0 else '+'}{abs(exponent):02d}"
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return sign + digits + "0" * (point - len(digits))
    return f"{sign}{digits[:point]}.{digits[point:]}"
