"""Go values for the template engine: a type (as Go's reflect sees it) and Python data.

The engine never touches Python attributes: it walks these values the way Go's text/template
walks reflect.Values, and prints them the way Go's fmt does.
"""

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


class Kind(enum.Enum):
    BOOL = "bool"
    INT = "int"
    UINT = "uint"
    FLOAT = "float"
    STRING = "string"
    SLICE = "slice"
    MAP = "map"
    STRUCT = "struct"
    POINTER = "ptr"
    INTERFACE = "interface"


@dataclass(frozen=True, eq=False)
class GoType:
    """A Go type: `name` is what %T prints (`int64`, `[]string`, `map[string]interface {}`).

    Identity is the type's identity: build each type once and share it.
    """

    name: str
    kind: Kind
    elem: "GoType | None" = None  # SLICE and MAP element, POINTER target
    key: "GoType | None" = None  # MAP key
    fields: tuple["Field", ...] = ()  # STRUCT fields, in declaration order
    # A String() method (time.Time, time.Duration, json.Number): fmt's %v and %s use it.
    stringer: "Callable[[Value], str] | None" = None
    # Other methods a template may call (`.Unix`): name -> function(receiver, *args).
    methods: "Mapping[str, Callable[..., Value]]" = field(default_factory=dict)
    # How encoding/json writes this type when it is not derivable from kind and fields
    # (time.Time writes an RFC 3339 string): function(value) -> JSON text.
    json_marshaler: "Callable[[Value], str] | None" = None

    def __repr__(self) -> str:
        return f"GoType({self.name})"


@dataclass(frozen=True)
class Field:
    """A struct field: its Go name (what `.Name` selects) and how encoding/json writes it."""

    name: str
    type: GoType
    json_name: str | None = None  # None: the field is not marshalled (json:"-")
    omitempty: bool = False
    # An embedded struct (Go's anonymous field): its fields are promoted, so `.User` finds
    # Config.ImageConfig.User, and encoding/json writes them inline; `.ImageConfig` works too.
    embedded: bool = False


@dataclass(frozen=True, slots=True)
class Value:
    """A Go value. `data` by kind:

    BOOL bool; INT, UINT int; FLOAT float; STRING str;
    SLICE list[Value] or None (a nil slice); MAP dict[key data, Value] or None (a nil map);
    STRUCT tuple[Value, ...] in the order of `type.fields`;
    POINTER Value or None (nil); INTERFACE Value (the dynamic value) or None (nil).
    """

    type: GoType
    data: Any


# The predeclared types the engine itself produces.
BOOL = GoType("bool", Kind.BOOL)
INT = GoType("int", Kind.INT)
INT64 = GoType("int64", Kind.INT)
UINT8 = GoType("uint8", Kind.UINT)
INT32 = GoType("int32", Kind.INT)  # rune: Go prints its type as int32
FLOAT64 = GoType("float64", Kind.FLOAT)
STRING = GoType("string", Kind.STRING)
ANY = GoType("interface {}", Kind.INTERFACE)
STRING_SLICE = GoType("[]string", Kind.SLICE, elem=STRING)
ANY_SLICE = GoType("[]interface {}", Kind.SLICE, elem=ANY)
ANY_MAP = GoType("map[string]interface {}", Kind.MAP, elem=ANY, key=STRING)
EMPTY_STRUCT = GoType("struct {}", Kind.STRUCT)
# encoding/json's Number (decoder.UseNumber): a string type whose String() is itself.
JSON_NUMBER = GoType("json.Number", Kind.STRING, stringer=lambda value: str(value.data))


def slice_of(elem: GoType, name: str | None = None) -> GoType:
    return GoType(name or f"[]{elem.name}", Kind.SLICE, elem=elem)


def map_of(key: GoType, elem: GoType, name: str | None = None) -> GoType:
    return GoType(name or f"map[{key.name}]{elem.name}", Kind.MAP, elem=elem, key=key)


def pointer_to(elem: GoType) -> GoType:
    return GoType(f"*{elem.name}", Kind.POINTER, elem=elem)


def interface(value: Value | None) -> Value:
    """A value stored in an `interface {}` (a nil interface for None)."""
    return Value(ANY, value)


def from_json(value: Any) -> Value:
    """A value decoded by encoding/json into `any` with UseNumber, as docker's raw run has it.

    Expects numbers decoded as `JsonNumber` (see `json_number_hooks`), so their text is kept.
    """
    if value is None:
        return interface(None)
    if isinstance(value, bool):
        return interface(Value(BOOL, value))
    if isinstance(value, JsonNumber):
        return interface(Value(JSON_NUMBER, str(value)))
    if isinstance(value, str):
        return interface(Value(STRING, value))
    if isinstance(value, list):
        return interface(Value(ANY_SLICE, [from_json(item) for item in value]))
    if isinstance(value, dict):
        return interface(Value(ANY_MAP, {key: from_json(item) for key, item in value.items()}))
    raise TypeError(f"not a decoded JSON value: {type(value).__name__}")


class JsonNumber(str):
    """A JSON number's literal text, kept as the daemon wrote it."""


def json_number_hooks() -> dict[str, Callable[[str], JsonNumber]]:
    """Keyword arguments for json.loads that keep every number's literal text."""
    return {"parse_int": JsonNumber, "parse_float": JsonNumber, "parse_constant": JsonNumber}
