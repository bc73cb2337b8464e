"""The rules a .dive-ci file sets: the YAML dive reads, and no more.

dive reads three scalars under a top-level `rules:` mapping, by their camelCase names
(`lowestEfficiency`, `highestWastedBytes`, `highestUserWastedPercent`), and ignores every
other key, at the top and under `rules:`. This reader takes that shape in block style:
comments, a `---` start, plain, single- and double-quoted scalars, and other keys with
anything under them, skipped. What it cannot read is an error with the line, rather than a
guess: a run that gates on the wrong thresholds passes what it should fail.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass

from inspector.gate.rules import KEYS

# A mapping's line: indentation, key (plain or quoted), colon, and what follows.
_ENTRY = re.compile(
    r"""(?P<indent> *)(?P<key>"(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s#'"{}\[\]][^:#]*?)"""
    r"""\s*:(?:\s+(?P<value>.*?))?\s*$"""
)
_COMMENT = re.compile(r"\s+#.*$")
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_ESCAPES = {
    "0": "\0",
    "a": "\a",
    "b": "\b",
    "t": "\t",
    "\t": "\t",
    "n": "\n",
    "v": "\v",
    "f": "\f",
    "r": "\r",
    "e": "\x1b",
    " ": " ",
    '"': '"',
    "/": "/",
    "\\": "\\",
    "N": "\x85",
    "_": "\xa0",
}


class ConfigError(ValueError):
    """A .dive-ci that cannot be read as dive reads it: the line (1 on), and why."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


@dataclass(frozen=True, slots=True)
class Setting:
    value: str  # "" for a null, which dive reads as disabled
    line: int


def read_rules(text: str) -> Mapping[str, Setting]:
    """The rules the file sets, by key, each with its line; the others are not in it."""
    found: dict[str, Setting] = {}
    in_rules = False
    rules_indent: int | None = None
    seen_top: set[str] = set()
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.rstrip()
        stripped = line.lstrip(" ")
        if not stripped or stripped.startswith("#"):
            continue
        if line.startswith("\t") or (
            stripped != line and line[len(line) - len(stripped) - 1] == "\t"
        ):
            raise ConfigError(number, "a tab in the indentation (YAML takes spaces only)")
        if line in ("---", "...") or line.startswith("--- "):
            if line.startswith("---") and (found or seen_top):
                raise ConfigError(number, "a second YAML document (dive reads one)")
            continue
        indent = len(line) - len(stripped)
        if indent == 0:
            key, value = _entry(line, number)
            if key in seen_top:
                raise ConfigError(number, f"mapping key {key!r} already defined")
            seen_top.add(key)
            in_rules = key == "rules"
            rules_indent = None
            empty = value is None or _COMMENT.sub("", value) == "{}"
            if in_rules and not empty and _plain_null(value or "", number) is None:
                raise ConfigError(number, "rules: is not a mapping of rules")
            continue
        if not in_rules:
            continue  # under another top-level key: dive ignores it, whatever it holds
        if rules_indent is None:
            rules_indent = indent
        if indent > rules_indent:
            continue  # under a key of rules: that dive does not read (one of its own is caught)
        if indent < rules_indent:
            raise ConfigError(number, "the indentation does not match the lines above")
        key, value = _entry(stripped, number)
        if key in found or key in {f"#{other}" for other in found}:
            raise ConfigError(number, f"mapping key {key!r} already defined")
        if key not in KEYS:
            found[f"#{key}"] = Setting("", number)  # for the duplicate check only
            continue
        if value is None:
            following = _next_line(text, number)
            if following is not None and following[1] > rules_indent:
                raise ConfigError(number, f"{key} is not a scalar")
            value = ""
        null = _plain_null(value, number)
        found[key] = Setting(_scalar(value, number) if null is None else null, number)
    return {key: setting for key, setting in found.items() if not key.startswith("#")}


def _entry(line: str, number: int) -> tuple[str, str | None]:
    """A mapping line's key (unquoted) and raw value (None for nothing after the colon)."""
    match = _ENTRY.fullmatch(line)
    if match is None:
        raise ConfigError(number, "not a `key: value` line")
    key = match["key"].strip()
    if key[:1] in "'\"":
        key = _scalar(key, number)
    value = match["value"]
    if value is not None and value.startswith("#"):
        value = None
    return key, value


def _plain_null(raw: str, number: int) -> str | None:
    """ "" for a plain scalar YAML reads as null (`~`, `null`, nothing), which dive's string
    takes as empty; None for anything else."""
    if raw[:1] in ("'", '"'):
        return None
    return "" if _scalar(raw, number) in _NULLS else None


def _next_line(text: str, number: int) -> tuple[str, int] | None:
    """The next line after line number with something on it, and its indentation."""
    for raw in text.splitlines()[number:]:
        stripped = raw.strip()
        if stripped and not stripped.startswith("#"):
            return stripped, len(raw) - len(raw.lstrip(" "))
    return None


def _scalar(raw: str, number: int) -> str:
    """A scalar's text: quotes taken off (and their escapes read), a plain one's comment cut."""
    if raw.startswith("'"):
        end = _closing_single(raw)
        if end is None or (raw[end + 1 :].strip() and not raw[end + 1 :].strip().startswith("#")):
            raise ConfigError(number, "a single-quoted value that does not end on its line")
        return raw[1:end].replace("''", "'")
    if raw.startswith('"'):
        return _double_quoted(raw, number)
    if raw and raw[0] in "{[&*!|>%@`":
        raise ConfigError(number, f"a value YAML reads as more than a plain scalar: {raw}")
    return _COMMENT.sub("", raw).strip()


def _closing_single(raw: str) -> int | None:
    index = 1
    while index < len(raw):
        if raw[index] == "'":
            if raw[index + 1 : index + 2] == "'":
                index += 2
                continue
            return index
        index += 1
    return None


def _double_quoted(raw: str, number: int) -> str:
    out: list[str] = []
    index = 1
    while index < len(raw):
        char = raw[index]
        if char == '"':
            rest = raw[index + 1 :].strip()
            if rest and not rest.startswith("#"):
                raise ConfigError(number, "text after a double-quoted value")
            return "".join(out)
        if char == "\\":
            code = raw[index + 1 : index + 2]
            if code in _ESCAPES:
                out.append(_ESCAPES[code])
                index += 2
                continue
            width = {"x": 2, "u": 4, "U": 8}.get(code)
            digits = raw[index + 2 : index + 2 + width] if width else ""
            if not width or not re.fullmatch(r"[0-9a-fA-F]+", digits) or len(digits) != width:
                raise ConfigError(number, f"an unknown escape in a double-quoted value: \\{code}")
            out.append(chr(int(digits, 16)))
            index += 2 + width
            continue
        out.append(char)
        index += 1
    raise ConfigError(number, "a double-quoted value that does not end on its line")
