"""The evaluator on typed Go values: fields, pointers, interfaces, maps, methods, conversions.

Expected wording is text/template's (exec.go, funcs.go of Go 1.24); the typed values are
small made-up types, so these tests do not depend on docker's struct table.
"""

import json

import pytest

from inspector.errors import TemplateExecError
from inspector.template import compile_template
from inspector.template.values import (
    ANY,
    ANY_SLICE,
    BOOL,
    EMPTY_STRUCT,
    FLOAT32,
    FLOAT64,
    INT,
    INT8,
    INT16,
    INT32,
    INT64,
    JSON_NUMBER,
    STRING,
    STRING_SLICE,
    UINT,
    UINT8,
    UINT16,
    UINT32,
    UINT64,
    UINTPTR,
    Field,
    Func,
    GoCallError,
    GoType,
    Kind,
    Value,
    from_json,
    go_bytes,
    interface,
    map_of,
    pointer_to,
    slice_of,
)


def _add(receiver: Value, a: Value, b: Value) -> Value:
    return Value(INT, a.data + b.data + len(receiver.data[0].data))


def _fail(receiver: Value) -> Value:
    raise GoCallError("it broke")


NAME = GoType("main.Name", Kind.STRING)
STAMP = GoType("main.Stamp", Kind.INT, stringer=lambda v: f"@{v.data}")
INNER = GoType(
    "main.Inner",
    Kind.STRUCT,
    fields=(Field("Deep", STRING, "deep"), Field("Shared", STRING, "shared")),
)
T = GoType(
    "main.T",
    Kind.STRUCT,
    fields=(
        Field("Name", STRING, "name"),
        Field("Tags", STRING_SLICE, "tags", omitempty=True),
        Field("Labels", map_of(STRING, STRING), "labels"),
        Field("Any", ANY, "any"),
        Field("Named", NAME, "named"),
        Field("When", STAMP, "when"),
        Field("Inner", INNER, None, embedded=True),
        Field("Shared", INT, "shared"),
        Field("hidden", INT, None),
        Field("Count", INT64, "count,omitempty", omitempty=False),
    ),
    methods={
        "Add": Func((INT, INT), _add),
        "Fail": _fail,
        "Size": lambda receiver: Value(INT, 42),
    },
)
PT = pointer_to(T)
HOLDER = GoType(
    "main.Holder",
    Kind.STRUCT,
    fields=(
        Field("P", PT, "p", omitempty=True),
        Field("Nil", PT, "nil", omitempty=True),
        Field("I", ANY, "i"),
        Field("List", slice_of(PT), "list"),
        Field("Bytes", slice_of(UINT8), "bytes"),
        Field("Raw", ANY_SLICE, "raw"),
        Field("Ports", GoType("nat.PortSet", Kind.MAP, elem=EMPTY_STRUCT, key=NAME), "ports"),
        Field("NilMap", map_of(STRING, INT), "nilmap"),
        Field("Num", JSON_NUMBER, "num"),
        Field("Flag", BOOL, "flag"),
        Field("PStr", pointer_to(STRING), "pstr"),
        Field("NilStr", pointer_to(STRING), "nilstr"),
    ),
)


def _t(name: str = "n") -> Value:
    return Value(
        T,
        (
            Value(STRING, name),
            Value(STRING_SLICE, [Value(STRING, "b"), Value(STRING, "a")]),
            Value(map_of(STRING, STRING), {"z": Value(STRING, "1"), "a": Value(STRING, "2")}),
            interface(Value(STRING, "Hi")),
            Value(NAME, "nm"),
            Value(STAMP, 7),
            Value(INNER, (Value(STRING, "d"), Value(STRING, "inner"))),
            Value(INT, 3),
            Value(INT, 0),
            Value(INT64, 0),
        ),
    )


T_VALUE = _t()
HOLDER_VALUE = Value(
    HOLDER,
    (
        Value(PT, T_VALUE),
        Value(PT, None),
        interface(None),
        Value(slice_of(PT), [Value(PT, _t("x")), Value(PT, None)]),
        Value(slice_of(UINT8), [Value(UINT8, 104), Value(UINT8, 105)]),
        Value(ANY_SLICE, [interface(Value(STRING, "a")), interface(None)]),
        Value(
            GoType("nat.PortSet", Kind.MAP, elem=EMPTY_STRUCT, key=NAME),
            {"80/tcp": Value(EMPTY_STRUCT, ())},
        ),
        Value(map_of(STRING, INT), None),
        Value(JSON_NUMBER, "1.50"),
        Value(BOOL, False),
        Value(pointer_to(STRING), Value(STRING, "Ptr")),
        Value(pointer_to(STRING), None),
    ),
)


def render(text: str, dot: Value = HOLDER_VALUE, *, missingkey_error: bool = False) -> str:
    return compile_template(text).execute(dot, missingkey_error=missingkey_error)


def error(text: str, dot: Value = HOLDER_VALUE, *, missingkey_error: bool = False) -> str:
    with pytest.raises(TemplateExecError) as caught:
        render(text, dot, missingkey_error=missingkey_error)
    return str(caught.value)


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{.P.Name}}", "n"),
        ("{{.P.Inner.Deep}}|{{.P.Deep}}", "d|d"),
        ("{{.P.Shared}}", "3"),  # the shallower field wins over the promoted one
        ("{{.P.Labels.a}}|{{.P.Labels.nope}}", "2|<no value>"),
        ('{{index .P.Labels "nope"}}|{{printf "%q" (index .P.Labels "nope")}}', '|""'),
        ("{{.P.Any}}|{{lower .P.Any}}", "Hi|hi"),
        ("{{.P.Size}}|{{.P.Add 1 2}}|{{2 | .P.Add 1}}", "42|4|4"),
        (
            '{{.P.When}}|{{printf "%v|%s|%d|%q|%x" .P.When .P.When .P.When .P.When .P.When}}',
            '@7|@7|@7|7|"@7"|4037',
        ),
        ("{{.P}}", "{n [b a] map[a:2 z:1] Hi nm @7 {d inner} 3 0 0}"),
        ("{{print .P}}", "&{n [b a] map[a:2 z:1] Hi nm @7 {d inner} 3 0 0}"),
        ("{{.List}}", "[&{x [b a] map[a:2 z:1] Hi nm @7 {d inner} 3 0 0} <nil>]"),
        ("{{.Nil}}|{{print .Nil}}|{{.I}}|{{print .I}}", "<nil>|<nil>|<no value>|<nil>"),
        (
            '{{.Bytes}}|{{printf "%s|%x|%q|%v|%d" .Bytes .Bytes .Bytes .Bytes .Bytes}}',
            '[104 105]|hi|6869|"hi"|[104 105]|[104 105]',
        ),
        ("{{.Raw}}|{{index .Raw 1}}|{{len .Raw}}", "[a <nil>]|<no value>|2"),
        (
            '{{.Ports}}|{{range $p, $_ := .Ports}}{{$p}}{{end}}|{{printf "%T" .Ports}}',
            "map[80/tcp:{}]|80/tcp|nat.PortSet",
        ),
        ("{{.NilMap}}|{{range .NilMap}}x{{else}}none{{end}}|{{len .NilMap}}", "map[]|none|0"),
        (
            '{{.Num}}|{{printf "%v %s %T" .Num .Num .Num}}|{{json .Num}}',
            "1.50|1.50 1.50 json.Number|1.50",
        ),
        ("{{.PStr}}|{{lower .PStr}}|{{print .PStr}}", "Ptr|ptr|&Ptr"),
        ("{{if .Flag}}t{{else if .P}}p{{end}}|{{with .Nil}}x{{else}}nil{{end}}", "p|nil"),
        (
            "{{eq .P .P}}|{{eq .P .Nil}}|{{eq .Nil nil}}|{{ne .P.Named .P.Named}}",
            "true|false|true|false",
        ),
        ("{{$p := .P}}{{$p.Name}}{{with $p}}{{$.Flag}}{{end}}", "nfalse"),
        ("{{(index .List 0).Name}}|{{(index .List 0).Labels.z}}", "x|1"),
        ("{{range $i, $e := .P.Labels}}{{$i}}{{$e}}{{end}}", "a2z1"),
    ],
)
def test_typed_values_evaluate_as_in_go(template: str, expected: str) -> None:
    assert render(template) == expected


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{.Nil.Name}}", 'template: :1:6: executing "" at <.Nil.Name>: '
         "nil pointer evaluating *main.T.Name"),
        ("{{.Nil.Nope}}", 'template: :1:6: executing "" at <.Nil.Nope>: '
         "can't evaluate field Nope in type *main.T"),
        ("{{.I.X}}", 'template: :1:4: executing "" at <.I.X>: '
         "nil pointer evaluating interface {}.X"),
        ("{{.P.Tags.X}}", 'template: :1:4: executing "" at <.P.Tags.X>: '
         "can't evaluate field X in type []string"),
        ("{{.P.hidden}}", 'template: :1:4: executing "" at <.P.hidden>: '
         "hidden is an unexported field of struct type *main.T"),
        ("{{.P.Name 1}}", 'template: :1:4: executing "" at <.P.Name>: '
         "Name has arguments but cannot be invoked as function"),
        ("{{.P.Labels.a 1}}", 'template: :1:4: executing "" at <.P.Labels.a>: '
         "a is not a method but has arguments"),
        ("{{.P.Size 1}}", 'template: :1:4: executing "" at <.P.Size>: '
         "wrong number of args for Size: want 0 got 1"),
        ('{{.P.Add "a" 2}}', 'template: :1:9: executing "" at <"a">: '
         'expected integer; found "a"'),
        ("{{.P.Add .P.Name 2}}", 'template: :1:11: executing "" at <.P.Name>: '
         "wrong type for value; expected int; got string"),
        ("{{.P.Fail}}", 'template: :1:4: executing "" at <.P.Fail>: '
         "error calling Fail: it broke"),
        ("{{lower .P.Named}}", 'template: :1:10: executing "" at <.P.Named>: '
         "wrong type for value; expected string; got main.Name"),
        ('{{join .Raw ","}}', 'template: :1:7: executing "" at <.Raw>: '
         "wrong type for value; expected []string; got []interface {}"),
        ("{{lower .NilStr}}", 'template: :1:8: executing "" at <.NilStr>: '
         "dereference of nil pointer of type string"),
        ("{{lower .I}}", 'template: :1:8: executing "" at <.I>: '
         "wrong type for value; expected string; got interface {}"),
        ("{{lower .NilMap.x}}", 'template: :1:15: executing "" at <.NilMap.x>: '
         "invalid value; expected string"),
        ("{{lower nil}}", 'template: :1:8: executing "" at <nil>: '
         "cannot assign nil to string"),
        ("{{len .Nil}}", 'template: :1:2: executing "" at <len .Nil>: '
         "error calling len: len of nil pointer"),
        ('{{index .Ports "80/tcp"}}', 'template: :1:2: executing "" at <index .Ports "80/tcp">: '
         "error calling index: value has type string; should be main.Name"),
        ("{{range .P}}{{end}}", 'template: :1:8: executing "" at <.P>: '
         "range can't iterate over {n [b a] map[a:2 z:1] Hi nm @7 {d inner} 3 0 0}"),
        ("{{.P.Labels.nope}}", 'template: :1:4: executing "" at <.P.Labels.nope>: '
         'map has no entry for key "nope"'),
        ('{{define "T"}}{{.X}}{{end}}{{template "T"}}', 'template: :1:16: executing "T" at '
         '<.X>: nil data; no entry for key "X"'),
        ("{{.Flag.X}}", 'template: :1:7: executing "" at <.Flag.X>: '
         "can't evaluate field X in type bool"),
    ],
)  # fmt: skip
def test_typed_value_errors_are_worded_as_in_go(template: str, message: str) -> None:
    missing = "no entry" in message
    assert error(template, missingkey_error=missing) == message


def test_missing_map_key_is_no_value_by_default_and_an_error_on_request() -> None:
    assert render("{{.P.Labels.nope}}") == "<no value>"
    assert "map has no entry" in error("{{.P.Labels.nope}}", missingkey_error=True)


def test_json_marshals_structs_by_their_json_names() -> None:
    assert render("{{json .P}}") == (
        '{"name":"n","tags":["b","a"],"labels":{"a":"2","z":"1"},"any":"Hi","named":"nm",'
        '"when":7,"deep":"d","shared":3,"count,omitempty":0}'
    )
    assert render("{{json .List}}|{{json .Nil}}|{{json .Bytes}}|{{json .NilMap}}") == (
        '[{"name":"x","tags":["b","a"],"labels":{"a":"2","z":"1"},"any":"Hi","named":"nm",'
        '"when":7,"deep":"d","shared":3,"count,omitempty":0},null]|null|"aGk="|null'
    )


def test_json_leaves_out_empty_omitempty_fields() -> None:
    empty = Value(
        T,
        (
            Value(STRING, ""),
            Value(STRING_SLICE, []),
            Value(map_of(STRING, STRING), None),
            interface(None),
            Value(NAME, ""),
            Value(STAMP, 0),
            Value(INNER, (Value(STRING, ""), Value(STRING, ""))),
            Value(INT, 0),
            Value(INT, 0),
            Value(INT64, 0),
        ),
    )
    assert render("{{json .}}", empty) == (
        '{"name":"","labels":null,"any":null,"named":"","when":0,"deep":"","shared":0,'
        '"count,omitempty":0}'
    )


def test_json_uses_a_types_own_marshaler() -> None:
    stamp = GoType("main.Time", Kind.INT, json_marshaler=lambda v: f'"T{v.data}"')
    assert render("{{json .}}", Value(slice_of(stamp), [Value(stamp, 1)])) == '["T1"]'


def test_method_receives_converted_arguments() -> None:
    assert render('{{.P.Add 1 (len "abc")}}') == "5"


def test_interface_dot_is_the_value_inside() -> None:
    assert render('{{.}}|{{printf "%T" .}}', interface(Value(STRING, "x"))) == "x|string"
    assert render("{{.}}", interface(None)) == "<no value>"


def test_decoded_json_holds_lone_surrogates_as_go_does() -> None:
    # encoding/json decodes "\ud800" as U+FFFD; json.loads keeps the lone surrogate.
    document = json.loads('{"k\\ud800": "a\\udc80b"}')
    assert render("{{range $k, $v := .}}{{$k}}={{$v}}{{end}}", from_json(document)) == (
        "k\ufffd=a\ufffdb"
    )


def test_go_strings_are_bytes() -> None:
    assert go_bytes("é\udcff") == b"\xc3\xa9\xff"
    assert render('{{len .}}|{{printf "%x" .}}', Value(STRING, "é\udcff")) == "3|c3a9ff"


# A count of every integer kind reflect knows, and values range refuses or treats as empty.
_COUNT_FIELDS: tuple[tuple[str, GoType, object], ...] = (
    ("Int", INT, 2),
    ("Int8", INT8, 2),
    ("Int16", INT16, 2),
    ("Int32", INT32, 2),
    ("Int64", INT64, 2),
    ("Uint", UINT, 2),
    ("Uint8", UINT8, 2),
    ("Uint16", UINT16, 2),
    ("Uint32", UINT32, 2),
    ("Uint64", UINT64, 2),
    ("Uintptr", UINTPTR, 2),
    ("Stamp", STAMP, 3),
    ("Negative", INT8, -3),
    ("Huge", UINT64, 2**64 - 1),
    ("PInt", pointer_to(INT), Value(INT, 2)),
    ("NilInt", pointer_to(INT), None),
    ("Any", ANY, Value(INT64, 2)),
    ("NilAny", ANY, None),
    ("Float", FLOAT64, 2.0),
    ("Float32", FLOAT32, 2.5),
    ("Flag", BOOL, True),
    ("Num", JSON_NUMBER, "2"),
)
COUNTS = GoType(
    "main.Counts",
    Kind.STRUCT,
    fields=tuple(Field(name, type_, name) for name, type_, _ in _COUNT_FIELDS),
)
COUNTS_VALUE = Value(COUNTS, tuple(Value(type_, data) for _, type_, data in _COUNT_FIELDS))


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ('{{range $i := .Int}}{{printf "%T=%v " $i $i}}{{end}}', "int=0 int=1 "),
        ('{{range $i := .Int8}}{{printf "%T=%v " $i $i}}{{end}}', "int8=0 int8=1 "),
        ('{{range $i := .Int16}}{{printf "%T=%v " $i $i}}{{end}}', "int16=0 int16=1 "),
        ('{{range $i := .Int32}}{{printf "%T=%v " $i $i}}{{end}}', "int32=0 int32=1 "),
        ('{{range $i := .Int64}}{{printf "%T=%v " $i $i}}{{end}}', "int64=0 int64=1 "),
        ('{{range $i := .Uint}}{{printf "%T=%v " $i $i}}{{end}}', "uint=0 uint=1 "),
        ('{{range $i := .Uint8}}{{printf "%T=%v " $i $i}}{{end}}', "uint8=0 uint8=1 "),
        ('{{range $i := .Uint16}}{{printf "%T=%v " $i $i}}{{end}}', "uint16=0 uint16=1 "),
        ('{{range $i := .Uint32}}{{printf "%T=%v " $i $i}}{{end}}', "uint32=0 uint32=1 "),
        ('{{range $i := .Uint64}}{{printf "%T=%v " $i $i}}{{end}}', "uint64=0 uint64=1 "),
        ('{{range $i := .Uintptr}}{{printf "%T=%v " $i $i}}{{end}}', "uintptr=0 uintptr=1 "),
        # A named type counts in its own type, so its String method prints each value.
        ('{{range .Stamp}}{{printf "%T=%v " . .}}{{end}}',
         "main.Stamp=@0 main.Stamp=@1 main.Stamp=@2 "),
        ("{{range .Negative}}x{{else}}none{{end}}|{{range $i := .Negative}}x{{else}}{{$i}}{{end}}",
         "none|-3"),
        ("{{range .Huge}}{{.}}{{if eq . 2}}{{break}}{{end}}{{end}}", "012"),
        ('{{range .PInt}}{{printf "%T=%v " . .}}{{end}}', "int=0 int=1 "),
        ('{{range .Any}}{{printf "%T=%v " . .}}{{end}}', "int64=0 int64=1 "),
        ("{{range .NilAny}}x{{else}}none{{end}}", "none"),
        ("{{range $i := .Int8}}{{range $j := $i}}{{$i}}{{$j}} {{end}}{{end}}", "10 "),
        ("{{range .Uint8}}{{continue}}x{{end}}|{{range .Uint16}}{{.}}{{break}}{{end}}", "|0"),
    ],
)  # fmt: skip
def test_range_over_an_integer_counts_from_zero_in_its_type(template: str, expected: str) -> None:
    assert render(template, COUNTS_VALUE) == expected


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{range $i, $e := .Uint64}}{{end}}", 'template: :1:18: executing "" at <.Uint64>: '
         "can't use 2 to iterate over more than one variable"),
        ("{{range $i, $e := .Stamp}}{{end}}", 'template: :1:18: executing "" at <.Stamp>: '
         "can't use @3 to iterate over more than one variable"),
        ("{{range $i, $e := .Negative}}{{end}}", 'template: :1:18: executing "" at <.Negative>: '
         "can't use -3 to iterate over more than one variable"),
        ("{{range .NilInt}}x{{else}}none{{end}}", 'template: :1:8: executing "" at <.NilInt>: '
         "range can't iterate over <nil>"),
        ("{{range $i, $e := .NilInt}}{{end}}", 'template: :1:18: executing "" at <.NilInt>: '
         "range can't iterate over <nil>"),
        ("{{range .Float}}{{end}}", 'template: :1:8: executing "" at <.Float>: '
         "range can't iterate over 2"),
        ("{{range .Float32}}{{end}}", 'template: :1:8: executing "" at <.Float32>: '
         "range can't iterate over 2.5"),
        ("{{range .Flag}}{{end}}", 'template: :1:8: executing "" at <.Flag>: '
         "range can't iterate over true"),
        ("{{range .Num}}{{end}}", 'template: :1:8: executing "" at <.Num>: '
         "range can't iterate over 2"),
    ],
)  # fmt: skip
def test_range_refuses_what_go_refuses(template: str, message: str) -> None:
    assert error(template, COUNTS_VALUE) == message
