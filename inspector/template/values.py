"""Go values for the template engine: a type (as Go's reflect sees it) and Python data.

The engine never touches Python attributes: it walks these values the way Go's text/template
walks reflect.Values, and prints them the way Go's fmt does.
"""

import enum
import re
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple, TypedDict


class Kind(enum.Enum):
    BOOL = "bool"
    INT = "int"
    UINT = "uint"
    FLOAT = "float"
    COMPLEX = "complex"
    STRING = "string"
    SLICE = "slice"
    MAP = "map"
    STRUCT = "struct"
    POINTER = "ptr"
    INTERFACE = "interface"


# The engine's classes are plain classes with __slots__ (Value, GoType) or NamedTuples, not
# dataclasses: defining a dataclass takes many times longer, and `-f` pays for each at
# start-up. A Value or GoType is not a tuple, so a struct's tuple data is never mistaken.


class GoType:
    """A Go type: `name` is what %T prints (`int64`, `[]string`, `map[string]interface {}`).

    Identity is the type's identity: build each type once and share it (no __eq__).
    """

    __slots__ = (
        "elem",
        "fields",
        "go_stringer",
        "json_marshaler",
        "key",
        "kind",
        "methods",
        "name",
        "stringer",
        "zero_data",
    )

    def __init__(
        self,
        name: str,
        kind: Kind,
        *,
        elem: "GoType | None" = None,
        key: "GoType | None" = None,
        fields: tuple["Field", ...] = (),
        stringer: "Callable[[Value], str] | None" = None,
        go_stringer: "Callable[[Value], str] | None" = None,
        methods: "Mapping[str, Callable[..., Value]] | None" = None,
        json_marshaler: "Callable[[Value], str] | None" = None,
        zero_data: Any = None,
    ) -> None:
        self.name = name
        self.kind = kind
        self.elem = elem  # SLICE and MAP element, POINTER target
        self.key = key  # MAP key
        self.fields = fields  # STRUCT fields, in declaration order
        # A String() method (time.Time, time.Duration, json.Number): fmt's %v and %s use it.
        self.stringer = stringer
        # A GoString() method (time.Time): what fmt's %#v prints.
        self.go_stringer = go_stringer
        # Other methods a template may call (`.Unix`): name -> function(receiver, *args).
        self.methods: Mapping[str, Callable[..., Value]] = {} if methods is None else methods
        # How encoding/json writes this type when it is not derivable from kind and fields
        # (time.Time writes an RFC 3339 string): function(value) -> JSON text.
        self.json_marshaler = json_marshaler
        # The data of the zero value, for a type whose data is not derivable from its kind
        # (time.Time keeps its parsed fields in one object).
        self.zero_data = zero_data

    def __repr__(self) -> str:
        return f"GoType({self.name})"


class Field(NamedTuple):
    """A struct field: its Go name (what `.Name` selects) and how encoding/json writes it."""

    name: str
    type: GoType
    json_name: str | None = None  # None: the field is not marshalled (json:"-")
    omitempty: bool = False
    # An embedded struct (Go's anonymous field): its fields are promoted, so `.User` finds
    # Config.ImageConfig.User, and encoding/json writes them inline; `.ImageConfig` works too.
    embedded: bool = False


class Value:
    """A Go value. `data` by kind:

    BOOL bool; INT, UINT int; FLOAT float; COMPLEX complex; STRING str;
    SLICE list[Value] or None (a nil slice); MAP dict[key data, Value] or None (a nil map);
    STRUCT tuple[Value, ...] in the order of `type.fields`;
    POINTER Value or None (nil); INTERFACE Value (the dynamic value) or None (nil).
    Values are not changed once made; two are equal when their type is the same type and
    their data are equal.
    """

    __slots__ = ("data", "type")

    def __init__(self, type: GoType, data: Any) -> None:
        self.type = type
        self.data = data

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Value):
            return NotImplemented
        return self.type is other.type and self.data == other.data

    def __hash__(self) -> int:
        return hash((self.type, self.data))

    def __repr__(self) -> str:
        return f"Value(type={self.type!r}, data={self.data!r})"


# The predeclared types the engine itself produces.
BOOL = GoType("bool", Kind.BOOL)
INT = GoType("int", Kind.INT)
INT8 = GoType("int8", Kind.INT)
INT16 = GoType("int16", Kind.INT)
INT32 = GoType("int32", Kind.INT)  # rune: Go prints its type as int32
INT64 = GoType("int64", Kind.INT)
UINT = GoType("uint", Kind.UINT)
UINT8 = GoType("uint8", Kind.UINT)
UINT16 = GoType("uint16", Kind.UINT)
UINT32 = GoType("uint32", Kind.UINT)
UINT64 = GoType("uint64", Kind.UINT)
UINTPTR = GoType("uintptr", Kind.UINT)
FLOAT32 = GoType("float32", Kind.FLOAT)
FLOAT64 = GoType("float64", Kind.FLOAT)
COMPLEX128 = GoType("complex128", Kind.COMPLEX)  # a template's 1+2i
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


def go_bytes(text: str) -> bytes:
    """A Go string's bytes: Python text holds invalid UTF-8 bytes as surrogate escapes."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate no Go string can hold: Go has U+FFFD there
        return re.sub(_SURROGATES, "\ufffd", text).encode("utf-8", "surrogateescape")


def from_go_bytes(data: bytes) -> str:
    """The Python text of a Go string's bytes (invalid UTF-8 kept as surrogate escapes)."""
    return data.decode("utf-8", "surrogateescape")


_SURROGATES = "[\ud800-\udc7f\udd00-\udfff]"  # compiled on first use


def json_text(text: str) -> str:
    """A JSON string as encoding/json decodes it: a lone surrogate is U+FFFD.

    json.loads keeps a lone surrogate escape (\\ud800) and, in bytes, decodes invalid
    UTF-8 that spells one (ED A0 80) with surrogatepass; no Go string can hold either.
    """
    if text.isascii():  # most are: no surrogate to look for
        return text
    if any("\ud800" <= char <= "\udfff" for char in text):
        return re.sub("[\ud800-\udfff]", "\ufffd", text)
    return text


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
        return interface(Value(STRING, json_text(value)))
    if isinstance(value, list):
        return interface(Value(ANY_SLICE, [from_json(item) for item in value]))
    if isinstance(value, dict):
        return interface(
            Value(ANY_MAP, {json_text(key): from_json(item) for key, item in value.items()})
        )
    raise TypeError(f"not a decoded JSON value: {type(value).__name__}")


class JsonNumber(str):
    """A JSON number's literal text, kept as the daemon wrote it."""


class JsonNumberHooks(TypedDict):
    parse_int: Callable[[str], JsonNumber]
    parse_float: Callable[[str], JsonNumber]
    parse_constant: Callable[[str], JsonNumber]


def json_number_hooks() -> JsonNumberHooks:
    """Keyword arguments for json.loads that keep every number's literal text."""
    return {"parse_int": JsonNumber, "parse_float": JsonNumber, "parse_constant": JsonNumber}


class GoCallError(Exception):
    """A function or method failed as a Go call does (an error result or a panic): its text."""


class Func:
    """A Go function or method with a signature the engine checks arguments against.

    `params` are the parameter types (for a method: without the receiver); when `variadic`,
    the last one is the element type of the `...` parameter. `body` gets the converted
    arguments (a method's receiver first) and returns the result, or raises GoCallError.
    A parameter of type REFLECT_VALUE takes any value unconverted (None: Go's invalid value).
    In `GoType.methods`, a Func is a method with parameters; a plain callable has none.
    """

    __slots__ = ("body", "params", "variadic")

    def __init__(
        self,
        params: tuple[GoType, ...],
        body: Callable[..., "Value | None"],
        variadic: bool = False,
    ) -> None:
        self.params = params
        self.body = body
        self.variadic = variadic

    def __call__(self, *args: Any) -> Value:
        """Call as a method: `GoType.methods` may hold a Func to give the parameter types."""
        result = self.body(*args)
        if result is None:
            raise GoCallError("reflect: call returned an invalid value")
        return result


# The parameter type of functions that take any reflect.Value as is (index, len, eq, ...).
REFLECT_VALUE = GoType("reflect.Value", Kind.STRUCT)


_UNNAMED_PREFIXES = ("[", "map[", "*", "struct {", "struct{", "interface {", "func(", "chan ")


def is_named(type_: GoType) -> bool:
    """Whether Go calls the type a named (defined) type: `string`, `nat.Port`, not `[]string`."""
    return not type_.name.startswith(_UNNAMED_PREFIXES)


def identical(a: GoType, b: GoType) -> bool:
    """Go's type identity: the same type object, or the same type name and kind."""
    return a is b or (a.name == b.name and a.kind is b.kind)


def underlying_name(type_: GoType) -> str:
    """The name of a type's underlying type, as far as assignability needs it."""
    if not is_named(type_):
        return type_.name
    elem = type_.elem
    if type_.kind is Kind.SLICE and elem is not None:
        return f"[]{elem.name}"
    if type_.kind is Kind.MAP and elem is not None and type_.key is not None:
        return f"map[{type_.key.name}]{elem.name}"
    if type_.kind is Kind.POINTER and elem is not None:
        return f"*{elem.name}"
    return type_.name


def assignable(value: GoType, target: GoType) -> bool:
    """Go's assignability of a value of one type to a variable of another."""
    if identical(value, target):
        return True
    if target.kind is Kind.INTERFACE:
        return target.name == ANY.name  # only the empty interface is modelled
    if is_named(value) and is_named(target):
        return False
    return value.kind is target.kind and underlying_name(value) == underlying_name(target)


def zero(type_: GoType) -> Value:
    """Go's zero value of a type: nil for slices, maps, pointers and interfaces."""
    if type_.zero_data is not None:
        return Value(type_, type_.zero_data)
    kind = type_.kind
    if kind is Kind.STRUCT:
        return Value(type_, tuple(zero(f.type) for f in type_.fields))
    if kind is Kind.STRING:
        return Value(type_, "")
    if kind in (Kind.INT, Kind.UINT):
        return Value(type_, 0)
    if kind is Kind.FLOAT:
        return Value(type_, 0.0)
    if kind is Kind.COMPLEX:
        return Value(type_, 0j)
    if kind is Kind.BOOL:
        return Value(type_, False)
    return Value(type_, None)
