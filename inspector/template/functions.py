"""text/template's builtin functions and docker CLI 28's template functions (json, split, ...).

Each is a Func with Go's parameter types, so the evaluator converts and checks arguments as
text/template does; a failure raises GoCallError with the Go error's text.
"""

import base64
import math
from collections.abc import Callable

from inspector.template import gofmt
from inspector.template.evaluate import ExecLimitExceeded, indirect, zero
from inspector.template.values import (
    ANY,
    BOOL,
    INT,
    REFLECT_VALUE,
    STRING,
    STRING_SLICE,
    UINT8,
    Func,
    GoCallError,
    GoType,
    Kind,
    Value,
    assignable,
    from_go_bytes,
    go_bytes,
)

Operand = Value | None

MAX_RESULT = 16 << 20  # characters in one function result (the evaluator's output limit)


def _indirect_interface(value: Operand) -> Operand:
    if value is not None and value.type.kind is Kind.INTERFACE:
        inner: Operand = value.data
        return inner
    return value


def _truth(value: Operand) -> bool:
    value = _indirect_interface(value)
    if value is None:
        return False
    kind = value.type.kind
    if kind in (Kind.POINTER, Kind.INTERFACE):
        return value.data is not None
    if kind is Kind.STRUCT:
        return True
    return bool(value.data)


def _length(value: Value) -> int:
    """Len of a string (bytes), slice or map."""
    if value.type.kind is Kind.STRING:
        return len(go_bytes(value.data))
    return len(value.data or ())


# -- index, slice, len ----------------------------------------------------------------------


def _index_arg(index: Operand, cap: int) -> int:
    if index is None:
        raise GoCallError("cannot index slice/array with nil")
    if index.type.kind not in (Kind.INT, Kind.UINT):
        raise GoCallError(f"cannot index slice/array with type {index.type.name}")
    x: int = index.data
    if x < 0 or x > cap:
        raise GoCallError(f"index out of range: {x}")
    return x


def _prepare_arg(value: Operand, arg_type: GoType) -> Value:
    if value is None:
        if arg_type.kind not in (Kind.INTERFACE, Kind.MAP, Kind.POINTER, Kind.SLICE):
            raise GoCallError(f"value is nil; should be of type {arg_type.name}")
        return Value(arg_type, None)
    if assignable(value.type, arg_type):
        return value
    int_kinds = (Kind.INT, Kind.UINT)
    if value.type.kind in int_kinds and arg_type.kind in int_kinds:
        return Value(arg_type, value.data)
    raise GoCallError(f"value has type {value.type.name}; should be {arg_type.name}")


def _zero(type_: GoType) -> Value:
    value = zero(type_)
    return value if value is not None else Value(ANY, None)


def index(item: Operand, *indexes: Operand) -> Operand:
    item = _indirect_interface(item)
    if item is None:
        raise GoCallError("index of untyped nil")
    for raw_index in indexes:
        position = _indirect_interface(raw_index)
        item, is_nil = indirect(item)
        if is_nil:
            raise GoCallError("index of nil pointer")
        kind = item.type.kind
        if kind in (Kind.SLICE, Kind.STRING):
            size = _length(item)
            x = _index_arg(position, size)
            if x == size:  # indexArg allows len; reflect's Index panics
                what = "string" if kind is Kind.STRING else "slice"
                raise GoCallError(f"reflect: {what} index out of range")
            item = Value(UINT8, go_bytes(item.data)[x]) if kind is Kind.STRING else item.data[x]
        elif kind is Kind.MAP:
            key_type, elem_type = item.type.key, item.type.elem
            assert key_type is not None and elem_type is not None
            key = _prepare_arg(position, key_type)
            found = (item.data or {}).get(key.data)
            item = found if found is not None else _zero(elem_type)
        else:
            raise GoCallError(f"can't index item of type {item.type.name}")
    return item


def slice_(item: Operand, *indexes: Operand) -> Operand:
    item = _indirect_interface(item)
    if item is None:
        raise GoCallError("slice of untyped nil")
    if len(indexes) > 3:
        raise GoCallError(f"too many slice indexes: {len(indexes)}")
    kind = item.type.kind
    if kind is Kind.STRING:
        if len(indexes) == 3:
            raise GoCallError("cannot 3-index slice a string")
    elif kind is not Kind.SLICE:
        raise GoCallError(f"can't slice item of type {item.type.name}")
    cap = _length(item)  # the capacity of a decoded slice is taken to be its length
    bounds = [0, cap, 0]
    for i, position in enumerate(indexes):
        bounds[i] = _index_arg(position, cap)
    if bounds[0] > bounds[1]:
        raise GoCallError(f"invalid slice index: {bounds[0]} > {bounds[1]}")
    if len(indexes) == 3 and bounds[1] > bounds[2]:
        raise GoCallError(f"invalid slice index: {bounds[1]} > {bounds[2]}")
    if kind is Kind.STRING:
        return Value(item.type, from_go_bytes(go_bytes(item.data)[bounds[0] : bounds[1]]))
    return Value(item.type, list((item.data or [])[bounds[0] : bounds[1]]))


def length(item: Operand) -> Operand:
    if item is None:
        raise GoCallError("reflect: call of reflect.Value.Type on zero Value")
    item, is_nil = indirect(item)
    if is_nil:
        raise GoCallError("len of nil pointer")
    if item.type.kind in (Kind.SLICE, Kind.MAP, Kind.STRING):
        return Value(INT, _length(item))
    raise GoCallError(f"len of type {item.type.name}")


def not_(value: Operand) -> Operand:
    return Value(BOOL, not _truth(value))


def call(name: Value, function: Operand, *args: Operand) -> Operand:
    function = _indirect_interface(function)
    if function is None:
        raise GoCallError("call of nil")
    raise GoCallError(f"non-function {name.data} of type {function.type.name}")


def _unreachable(*args: Operand) -> Operand:
    raise GoCallError("unreachable")


# -- comparisons ----------------------------------------------------------------------------

_BASIC = {
    Kind.BOOL: "bool",
    Kind.INT: "int",
    Kind.UINT: "uint",
    Kind.FLOAT: "float",
    Kind.COMPLEX: "complex",
    Kind.STRING: "string",
}


def _basic_kind(value: Operand) -> str | None:
    return _BASIC.get(value.type.kind) if value is not None else None


def _is_nil(value: Operand) -> bool:
    if value is None:
        return True
    if value.type.kind in (Kind.INTERFACE, Kind.MAP, Kind.POINTER, Kind.SLICE):
        return value.data is None
    return False


def _comparable(type_: GoType) -> bool:
    if type_.kind in (Kind.SLICE, Kind.MAP):
        return False
    if type_.kind is Kind.STRUCT:
        return all(_comparable(f.type) for f in type_.fields)
    return True


def _equal(a: Value, b: Value) -> bool:
    """Go's == on two values of one comparable type (interfaces compare dynamically)."""
    kind = a.type.kind
    if kind is Kind.POINTER:
        return a.data is b.data
    if kind is Kind.INTERFACE:
        if a.data is None or b.data is None:
            return a.data is b.data
        x, y = a.data, b.data
        if x.type.name != y.type.name:
            return False
        if not _comparable(x.type):
            raise GoCallError(f"runtime error: comparing uncomparable type {x.type.name}")
        return _equal(x, y)
    if kind is Kind.STRUCT and isinstance(a.data, tuple) and isinstance(b.data, tuple):
        return all(_equal(x, y) for x, y in zip(a.data, b.data, strict=False))
    return bool(a.data == b.data)


def _eq(arg1: Operand, *rest: Operand) -> bool:
    arg1 = _indirect_interface(arg1)
    if not rest:
        raise GoCallError("missing argument for comparison")
    k1 = _basic_kind(arg1)
    for raw in rest:
        arg = _indirect_interface(raw)
        k2 = _basic_kind(arg)
        truth = False
        if k1 != k2:
            if k1 == "int" and k2 == "uint" and arg1 is not None and arg is not None:
                truth = arg1.data >= 0 and arg1.data == arg.data
            elif k1 == "uint" and k2 == "int" and arg1 is not None and arg is not None:
                truth = arg.data >= 0 and arg1.data == arg.data
            elif arg1 is not None and arg is not None:
                raise GoCallError("incompatible types for comparison")
        elif k1 is not None and arg1 is not None and arg is not None:
            truth = arg1.data == arg.data
        else:
            if not (arg1 is None or arg is None or arg1.type.kind is arg.type.kind):
                raise GoCallError(
                    f"non-comparable types {_s(arg1)}: {_tname(arg1)}, {_tname(arg)}: "
                    f"{gofmt.describe(arg)}"
                )
            if _is_nil(arg1) or _is_nil(arg):
                truth = _is_nil(arg) == _is_nil(arg1)
            else:
                assert arg1 is not None and arg is not None
                if not _comparable(arg.type):
                    raise GoCallError(f"non-comparable type {_s(arg)}: {arg.type.name}")
                truth = arg1.type.name == arg.type.name and _equal(arg1, arg)
        if truth:
            return True
    return False


def _s(value: Operand) -> str:
    return gofmt.sprintf("%s", [value])


def _tname(value: Operand) -> str:
    return value.type.name if value is not None else "<nil>"


def _lt(arg1: Operand, arg2: Operand) -> bool:
    arg1 = _indirect_interface(arg1)
    k1 = _basic_kind(arg1)
    if k1 is None:
        raise GoCallError("invalid type for comparison")
    arg2 = _indirect_interface(arg2)
    k2 = _basic_kind(arg2)
    if k2 is None:
        raise GoCallError("invalid type for comparison")
    assert arg1 is not None and arg2 is not None
    if k1 != k2:
        if k1 == "int" and k2 == "uint":
            return bool(arg1.data < 0 or arg1.data < arg2.data)
        if k1 == "uint" and k2 == "int":
            return bool(arg2.data >= 0 and arg1.data < arg2.data)
        raise GoCallError("incompatible types for comparison")
    if k1 in ("bool", "complex"):
        raise GoCallError("invalid type for comparison")
    if k1 == "string":
        return go_bytes(arg1.data) < go_bytes(arg2.data)
    return bool(arg1.data < arg2.data)


def eq(arg1: Operand, *rest: Operand) -> Operand:
    return Value(BOOL, _eq(arg1, *rest))


def ne(arg1: Operand, arg2: Operand) -> Operand:
    return Value(BOOL, not _eq(arg1, arg2))


def lt(arg1: Operand, arg2: Operand) -> Operand:
    return Value(BOOL, _lt(arg1, arg2))


def le(arg1: Operand, arg2: Operand) -> Operand:
    return Value(BOOL, _lt(arg1, arg2) or _eq(arg1, arg2))


def gt(arg1: Operand, arg2: Operand) -> Operand:
    less = _lt(arg1, arg2)
    return Value(BOOL, not (less or _eq(arg1, arg2)))


def ge(arg1: Operand, arg2: Operand) -> Operand:
    return Value(BOOL, not _lt(arg1, arg2))


# -- printing and escaping ------------------------------------------------------------------


def print_(*args: Operand) -> Operand:
    return Value(STRING, gofmt.sprint(args, MAX_RESULT))


def println_(*args: Operand) -> Operand:
    return Value(STRING, gofmt.sprintln(args, MAX_RESULT))


def printf(fmt: Value, *args: Operand) -> Operand:
    return Value(STRING, gofmt.sprintf(fmt.data, args, MAX_RESULT))


def _eval_args(args: tuple[Operand, ...]) -> str:
    """fmt.Sprint of the arguments, each indirected as the template prints a value."""
    if len(args) == 1 and args[0] is not None and args[0].type.name == "string":
        text: str = args[0].data
        return text
    printable: list[Operand] = []
    for arg in args:
        value = arg
        if value is not None and value.type.kind is Kind.POINTER:
            value = indirect(value)[0]
            if value.type.kind is Kind.INTERFACE:
                value = value.data
        printable.append(Value(STRING, "<no value>") if arg is None else value)
    return gofmt.sprint(printable, MAX_RESULT)


_HTML = {'"': "&#34;", "'": "&#39;", "&": "&amp;", "<": "&lt;", ">": "&gt;", "\0": "\ufffd"}


def html(*args: Operand) -> Operand:
    text = _eval_args(args)
    return Value(STRING, "".join(_HTML.get(char, char) for char in text))


_JS = {
    "\\": "\\\\",
    "'": "\\'",
    '"': '\\"',
    "<": "\\u003C",
    ">": "\\u003E",
    "&": "\\u0026",
    "=": "\\u003D",
}


def js(*args: Operand) -> Operand:
    out = []
    for char in _eval_args(args):
        if char in _JS:
            out.append(_JS[char])
        elif char < " ":
            out.append(f"\\u00{ord(char):02X}")
        elif char < "\x80" or "\udc80" <= char <= "\udcff" or gofmt._is_print(char):
            out.append(char)
        else:
            out.append(f"\\u{ord(char):04X}")
    return Value(STRING, "".join(out))


_URL_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")


def urlquery(*args: Operand) -> Operand:
    out = []
    for byte in go_bytes(_eval_args(args)):
        if byte in _URL_SAFE:
            out.append(chr(byte))
        elif byte == 0x20:
            out.append("+")
        else:
            out.append(f"%{byte:02X}")
    return Value(STRING, "".join(out))


# -- docker's functions ---------------------------------------------------------------------


def json(value: Operand) -> Operand:
    """docker's `json`: encoding/json without HTML escaping, the newline trimmed."""
    try:
        text = marshal(value)
    except _Unsupported as exc:
        raise GoCallError(f"json: {exc}") from None
    return Value(STRING, text)


def split(text: Value, sep: Value) -> Operand:
    source: str = text.data
    separator: str = sep.data
    parts = list(source) if separator == "" else source.split(separator)
    if sum(len(part) for part in parts) > MAX_RESULT:
        raise ExecLimitExceeded
    return Value(STRING_SLICE, [Value(STRING, part) for part in parts])


def join(elems: Value, sep: Value) -> Operand:
    items: list[Value] = elems.data or []
    separator: str = sep.data
    total = sum(len(item.data) for item in items) + len(separator) * max(len(items) - 1, 0)
    if total > MAX_RESULT:
        raise ExecLimitExceeded
    return Value(STRING, separator.join(item.data for item in items))


def _map_runes(text: str, mapping: Callable[[str], str]) -> str:
    """strings.Map: invalid UTF-8 bytes come out as U+FFFD."""
    return "".join("\ufffd" if "\ud800" <= c <= "\udfff" else mapping(c) for c in text)


def _simple(mapped: str, char: str) -> str:
    """Go's one-rune case mapping where Python's full mapping gives several runes."""
    if len(mapped) == 1:
        return mapped
    return "i" if char == "\u0130" else char


def _to_lower(char: str) -> str:
    return _simple(char.lower(), char)


def _to_upper(char: str) -> str:
    return _simple(char.upper(), char)


def _to_title(char: str) -> str:
    return _simple(char.title(), char)


def lower(text: Value) -> Operand:
    return Value(STRING, _map_runes(text.data, _to_lower))


def upper(text: Value) -> Operand:
    return Value(STRING, _map_runes(text.data, _to_upper))


_GO_SPACES = frozenset("\t\n\v\f\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000") | frozenset(
    chr(c) for c in range(0x2000, 0x200B)
)


def _is_separator(char: str) -> bool:
    if char < "\x80":
        return not (char.isalnum() or char == "_")
    if "\ud800" <= char <= "\udfff":
        return False
    if char.isalpha() or char.isdecimal():
        return False
    return char in _GO_SPACES


def title(text: Value) -> Operand:
    out = []
    previous = " "
    for char in text.data:
        rune = "\ufffd" if "\ud800" <= char <= "\udfff" else char
        out.append(_to_title(rune) if _is_separator(previous) else rune)
        previous = rune
    return Value(STRING, "".join(out))


def pad(source: Value, prefix: Value, suffix: Value) -> Operand:
    text: str = source.data
    if text == "":
        return source if source.type is STRING else Value(STRING, "")
    if prefix.data < 0 or suffix.data < 0:
        raise GoCallError("strings: negative Repeat count")
    if prefix.data + suffix.data + len(text) > MAX_RESULT:
        raise ExecLimitExceeded
    return Value(STRING, " " * prefix.data + text + " " * suffix.data)


def truncate(source: Value, length_: Value) -> Operand:
    data = go_bytes(source.data)
    limit: int = length_.data
    if len(data) < limit:
        return Value(STRING, source.data)
    if limit < 0:
        raise GoCallError(f"runtime error: slice bounds out of range [:{limit}]")
    return Value(STRING, from_go_bytes(data[:limit]))


# -- encoding/json --------------------------------------------------------------------------


class _Unsupported(Exception):
    """A value encoding/json refuses (NaN, infinities, complex numbers): its message."""


def _json_string(text: str) -> str:
    out = ['"']
    for char in text:
        code = ord(char)
        if char in ('"', "\\"):
            out.append("\\" + char)
        elif code < 0x20:
            out.append(_JSON_CONTROL.get(char) or f"\\u00{code:02x}")
        elif 0xD800 <= code <= 0xDFFF:
            out.append("\\ufffd")
        elif char in ("\u2028", "\u2029"):
            out.append(f"\\u{code:04x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


_JSON_CONTROL = {"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _json_float(value: float, size: int) -> str:
    if math.isnan(value) or math.isinf(value):
        raise _Unsupported(f"unsupported value: {gofmt.format_float(value, 'g', -1, size)}")
    magnitude = abs(value)
    verb = "f"
    if magnitude != 0 and (magnitude < 1e-6 or magnitude >= 1e21):
        verb = "e"
    text = gofmt.format_float(value, verb, -1, size)
    if verb == "e" and len(text) >= 4 and text[-4] == "e" and text[-3] == "-" and text[-2] == "0":
        text = text[:-2] + text[-1]
    return text


def _is_empty(value: Value) -> bool:
    kind = value.type.kind
    if kind in (Kind.SLICE, Kind.MAP, Kind.STRING):
        return not value.data
    if kind in (Kind.POINTER, Kind.INTERFACE):
        return value.data is None
    if kind in (Kind.BOOL, Kind.INT, Kind.UINT, Kind.FLOAT, Kind.COMPLEX):
        return not value.data
    return False


def _json_fields(value: Value) -> list[tuple[str, Value]]:
    """A struct's encoded fields: promoted ones inline, Go's rule for clashing names."""
    candidates: list[tuple[str, int, tuple[int, ...], Value, bool]] = []

    def collect(struct: Value, depth: int, path: tuple[int, ...]) -> None:
        items = struct.data if isinstance(struct.data, tuple) else ()
        for i, (field, item) in enumerate(zip(struct.type.fields, items, strict=False)):
            if getattr(field, "embedded", False):
                inner = item
                if inner.type.kind is Kind.POINTER:
                    if inner.data is None:
                        continue
                    inner = inner.data
                if inner.type.kind is Kind.STRUCT and depth < gofmt.MAX_VALUE_DEPTH:
                    collect(inner, depth + 1, (*path, i))
                    continue
            if field.json_name is None:
                continue
            candidates.append((field.json_name, depth, (*path, i), item, field.omitempty))

    collect(value, 0, ())
    by_name: dict[str, list[tuple[str, int, tuple[int, ...], Value, bool]]] = {}
    for candidate in candidates:
        by_name.setdefault(candidate[0], []).append(candidate)
    chosen = []
    for entries in by_name.values():
        shallowest = min(entry[1] for entry in entries)
        dominant = [entry for entry in entries if entry[1] == shallowest]
        if len(dominant) == 1:
            chosen.append(dominant[0])
    chosen.sort(key=lambda entry: entry[2])
    return [(name, item) for name, _, _, item, omit in chosen if not (omit and _is_empty(item))]


def marshal(value: Operand, depth: int = 0) -> str:
    """encoding/json's Marshal of a value (HTML escaping off)."""
    if depth > gofmt.MAX_VALUE_DEPTH:
        raise gofmt.ValueTooDeep
    if value is None:
        return "null"
    type_ = value.type
    kind = type_.kind
    if type_.json_marshaler is not None:
        try:
            return type_.json_marshaler(value)
        except GoCallError as exc:
            raise _Unsupported(f"error calling MarshalJSON for type {type_.name}: {exc}") from None
    if kind in (Kind.POINTER, Kind.INTERFACE):
        return "null" if value.data is None else marshal(value.data, depth + 1)
    if kind is Kind.BOOL:
        return "true" if value.data else "false"
    if kind in (Kind.INT, Kind.UINT):
        return str(value.data)
    if kind is Kind.FLOAT:
        return _json_float(value.data, gofmt.type_size(type_.name))
    if kind is Kind.COMPLEX:
        raise _Unsupported(f"unsupported type: {type_.name}")
    if kind is Kind.STRING:
        if type_.name == "json.Number":
            return value.data or "0"
        return _json_string(value.data)
    if kind is Kind.SLICE:
        if value.data is None:
            return "null"
        elem = type_.elem
        if elem is not None and elem.name == "uint8" and elem.json_marshaler is None:
            return '"' + base64.b64encode(bytes(v.data for v in value.data)).decode() + '"'
        return "[" + ",".join(marshal(item, depth + 1) for item in value.data) + "]"
    if kind is Kind.MAP:
        if value.data is None:
            return "null"
        entries = sorted((str(key), item) for key, item in value.data.items())
        entries.sort(key=lambda entry: go_bytes(entry[0]))
        return (
            "{"
            + ",".join(_json_string(key) + ":" + marshal(item, depth + 1) for key, item in entries)
            + "}"
        )
    fields = _json_fields(value)
    return (
        "{"
        + ",".join(_json_string(name) + ":" + marshal(item, depth + 1) for name, item in fields)
        + "}"
    )


# -- the tables -----------------------------------------------------------------------------

_VALUE2 = (REFLECT_VALUE, REFLECT_VALUE)

BUILTINS: dict[str, Func] = {
    "and": Func(_VALUE2, _unreachable, variadic=True),
    "or": Func(_VALUE2, _unreachable, variadic=True),
    "call": Func(_VALUE2, call, variadic=True),
    "html": Func((ANY,), html, variadic=True),
    "index": Func(_VALUE2, index, variadic=True),
    "slice": Func(_VALUE2, slice_, variadic=True),
    "js": Func((ANY,), js, variadic=True),
    "len": Func((REFLECT_VALUE,), length),
    "not": Func((REFLECT_VALUE,), not_),
    "print": Func((ANY,), print_, variadic=True),
    "printf": Func((STRING, ANY), printf, variadic=True),
    "println": Func((ANY,), println_, variadic=True),
    "urlquery": Func((ANY,), urlquery, variadic=True),
    "eq": Func(_VALUE2, eq, variadic=True),
    "ge": Func(_VALUE2, ge),
    "gt": Func(_VALUE2, gt),
    "le": Func(_VALUE2, le),
    "lt": Func(_VALUE2, lt),
    "ne": Func(_VALUE2, ne),
}

# docker CLI 28, templates/templates.go basicFunctions
DOCKER_FUNCTIONS: dict[str, Func] = {
    "json": Func((ANY,), json),
    "split": Func((STRING, STRING), split),
    "join": Func((STRING_SLICE, STRING), join),
    "title": Func((STRING,), title),
    "lower": Func((STRING,), lower),
    "upper": Func((STRING,), upper),
    "pad": Func((STRING, INT, INT), pad),
    "truncate": Func((STRING, INT), truncate),
}


def is_function(name: str) -> bool:
    return name in DOCKER_FUNCTIONS or name in BUILTINS
