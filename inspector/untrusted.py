"""Typed reads of untrusted JSON: a daemon's answers, an archive's config, a history.

The view, --diff and the layer pairing read every field through these accessors, so a value
of an unexpected type (a number where a string belongs, an object where a list does) reads
the same way in each of them, and none of them fails on it. No accessor raises.

A setting that is null, "", [] or {} is unset: docker and podman write any of them for a
setting an image does not have.
"""

import json
import math
from collections.abc import Mapping
from typing import Any

_UNSET: tuple[object, ...] = (None, "", [], {})


def parse(answer: bytes | None) -> Mapping[str, Any]:
    """The JSON object an answer holds; empty for anything else (nothing, not JSON, nested
    too deep for the parser, another type)."""
    value = _loads(answer)
    return value if isinstance(value, dict) else {}


def parse_objects(answer: bytes | None) -> list[Mapping[str, Any]] | None:
    """The list an answer holds, with each item that is not an object as an empty one; None
    if it holds no list."""
    value = _loads(answer)
    if not isinstance(value, list):
        return None
    return [item if isinstance(item, dict) else {} for item in value]


def member(document: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """The object under key; empty if it is missing or not an object."""
    value = document.get(key)
    return value if isinstance(value, dict) else {}


def unset(value: object) -> bool:
    return value in _UNSET


def string(value: object) -> str | None:
    """A string; None for anything else (for values that only mean something as strings,
    such as an ID to look up)."""
    return value if isinstance(value, str) else None


def plain(value: object) -> str:
    """A string; "" for anything else (a field a Go struct types as a string, which decodes
    to its zero value when the JSON holds another type)."""
    return value if isinstance(value, str) else ""


def only_strings(value: object) -> tuple[str, ...]:
    """The strings of a list, anything else in it left out; () if it is not a list."""
    if not isinstance(value, list):
        return ()
    return tuple(item for item in value if isinstance(item, str))


def text(value: object) -> str | None:
    """A string as it is; null as None; anything else as the JSON it was."""
    if value is None or isinstance(value, str):
        return value
    return json_text(value)


def json_text(value: object) -> str:
    """Any value as compact JSON, with its non-ASCII characters as they are."""
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    except (ValueError, TypeError, RecursionError):
        return repr(value)


def strings(value: object) -> list[str]:
    """A list of strings: a list's items, each that is not a string as its JSON; an unset
    value as none; any other value as a list of one, as docker reads a string for a command
    (`"Cmd": "sh"` is `["sh"]`)."""
    if unset(value):
        return []
    if isinstance(value, list):
        return [_item_text(item) for item in value]
    return [_item_text(value)]


def keys(value: object) -> list[str]:
    """The keys of an object used as a set (`{"80/tcp": {}}`); anything else as strings()."""
    if isinstance(value, dict):
        return list(value)
    return strings(value)


def text_values(value: object) -> dict[str, str]:
    """An object of strings (labels): each value as text(), null as ""; anything else as the
    keys() of it, each with an empty value."""
    if isinstance(value, dict):
        return {key: text(item) or "" for key, item in value.items()}
    return dict.fromkeys(keys(value), "")


def count(value: object) -> int | None:
    """A count or a size: a whole number that is not negative. 1500.0 is one (JSON has one
    kind of number); true is not."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    return value if isinstance(value, int) and value >= 0 else None


def number(value: object) -> int | float | None:
    """Any number; never a bool, which Python counts as one and JSON does not."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value


def flag(value: object) -> bool | None:
    """true or false; None for anything else."""
    return value if isinstance(value, bool) else None


def _loads(answer: bytes | None) -> object:
    if answer is None:
        return None
    try:
        return json.loads(answer)
    except (ValueError, RecursionError):
        return None


def _item_text(value: object) -> str:
    return value if isinstance(value, str) else json_text(value)
