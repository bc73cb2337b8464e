"""A range over an integer whose body is constant runs the body once and repeats its output:
the same output and the same error as running it every time round, in a fraction of the time.
"""

from collections.abc import Callable

import pytest

from inspector.errors import TemplateExecError
from inspector.template import compile_template, constant, evaluate
from inspector.template.constant import PURE_FUNCTIONS, is_constant_list
from inspector.template.functions import BUILTINS, DOCKER_FUNCTIONS
from inspector.template.parser import Node, RangeNode
from inspector.template.values import ANY_MAP, INT, Value, from_json, interface

DOT = Value(ANY_MAP, {"Size": interface(Value(INT, 3)), "Tags": from_json(["a", "b"])})

# Bodies that print and fail the same every time round, in ranges over small counts.
CONSTANT = [
    "{{range 3}}x{{end}}",
    "{{range 3}}{{end}}|{{range 1}}once{{end}}",
    "{{range .Size}}{{/* a comment */}}-{{end}}",
    "{{range 4}}{{\"a\"}}{{1}}{{1.5}}{{0x1F}}{{'c'}}{{true}}{{1i}}{{print nil}}{{end}}",
    '{{range 3}}{{printf "%d-%s|%v" 7 "x"}}{{println 1 2}}{{print "a" 1 2}}{{end}}',
    '{{range 2}}{{len "abc"}}{{index "abc" 1}}{{slice "abcd" 1 3}}{{end}}',
    "{{range 3}}{{if eq 1 1}}y{{else}}n{{end}}{{if false}}a{{else if true}}b{{end}}{{end}}",
    '{{range 2}}{{with "w"}}W{{end}}{{with ""}}no{{else with 0}}{{else}}empty{{end}}{{end}}',
    "{{range 3}}{{range 2}}i{{end}}{{range 0}}z{{else}}e{{end}}{{range 2}}{{end}}|{{end}}",
    "{{range 3}}{{range 2}}{{range 2}}abc{{end}}{{end}}{{end}}",
    '{{range 2}}{{html "<a>"}}{{js "\'"}}{{urlquery "a b"}}{{end}}',
    '{{range 2}}{{json "x"}}{{upper "a"}}{{lower "B"}}{{title "c d"}}{{end}}',
    '{{range 2}}{{join (split "a,b" ",") "+"}}{{pad "p" 1 1}}{{truncate "long" 2}}{{end}}',
    "{{range 2}}{{and 1 0}}{{or 0 1}}{{not true}}{{ne 1 2}}{{lt 1 2}}{{le 1 1}}{{gt 2 1}}"
    "{{ge 1 2}}{{end}}",
    '{{range 2}}{{"a" | printf "%s%s" "b"}}{{(print 1)}}{{print (len (print "xy"))}}{{end}}',
    '{{range 3}}{{- " a " -}}  {{end}}',
    "{{range $i := 3}}x{{end}}",
    "{{range $i := .Size}}{{range $i := 2}}{{end}}y{{end}}",
    "{{range len .Tags}}t{{end}}|{{range index (print 0) 0}}u{{end}}",
    "{{range 0}}x{{else}}none{{end}}|{{range -2}}x{{end}}",
    # the first time round fails: Go stops there
    '{{range 3}}a{{index "" 1}}{{end}}',
    "{{range 3}}{{nil}}{{end}}",
    "{{range 2}}{{18446744073709551615}}{{end}}",
    "{{range 2}}{{len 3}}{{end}}",
    "{{range 2}}{{printf 1}}{{end}}",
    '{{range 2}}x{{if 1}}{{slice "ab" 2 1}}{{end}}{{end}}',
    "{{range 2}}{{range 1.5}}{{end}}{{end}}",
]

# Bodies that may differ between iterations, or that change what comes after: run every time.
VARYING = [
    ("{{range 3}}{{.}}{{end}}", "012"),
    ("{{range 3}}{{print .}}{{end}}", "012"),
    ("{{range 3}}{{if .}}y{{else}}n{{end}}{{end}}", "nyy"),
    ("{{range 2}}{{with 1}}{{.}}{{end}}{{end}}", "11"),
    ("{{range $i := 3}}{{$i}}{{end}}", "012"),
    ("{{range 2}}{{$}}{{end}}", "map[Size:3 Tags:[a b]]map[Size:3 Tags:[a b]]"),
    ("{{range 2}}{{$.Size}}{{end}}", "33"),
    ("{{$x := 0}}{{range 3}}{{$x = 5}}{{end}}{{$x}}", "5"),
    ("{{$x := 0}}{{range $x = 3}}{{end}}{{$x}}", "2"),
    ("{{range 3}}{{$y := 1}}{{end}}", ""),
    ("{{range 3}}{{if 1}}{{break}}{{end}}x{{end}}", ""),
    ("{{range 3}}{{continue}}x{{end}}", ""),
    ('{{define "t"}}t{{end}}{{range 3}}{{template "t"}}{{end}}', "ttt"),
    ("{{range 2}}{{range 2}}{{.}}{{end}}{{end}}", "0101"),
    ("{{range 2}}{{range 2}}{{break}}{{end}}x{{end}}", "xx"),
]


def _result(template: str) -> str | tuple[str, str]:
    try:
        return compile_template(template).execute(DOT)
    except TemplateExecError as exc:
        return type(exc).__name__, str(exc)


def _count_calls(monkeypatch: pytest.MonkeyPatch, name: str) -> list[int]:
    """How often State.<name> runs, from now on: calls[0]."""
    calls = [0]
    original: Callable[..., object] = getattr(evaluate.State, name)

    def counting(self: evaluate.State, *args: object) -> object:
        calls[0] += 1
        return original(self, *args)

    monkeypatch.setattr(evaluate.State, name, counting)
    return calls


@pytest.mark.parametrize("template", CONSTANT)
def test_a_constant_body_prints_and_fails_as_running_it_every_time_does(
    monkeypatch: pytest.MonkeyPatch, template: str
) -> None:
    repeated = _result(template)
    monkeypatch.setattr(evaluate, "is_constant_list", lambda node, known: False)
    assert repeated == _result(template)


@pytest.mark.parametrize(
    "template",
    ["{{range 3}}x{{end}}", "{{range 2}}{{range 2}}{{range 2}}abc{{end}}{{end}}{{end}}"],
)
def test_a_constant_body_runs_once(monkeypatch: pytest.MonkeyPatch, template: str) -> None:
    writes = _count_calls(monkeypatch, "write")
    compile_template(template).execute(DOT)
    assert writes[0] == 1


@pytest.mark.parametrize(("template", "expected"), VARYING)
def test_a_body_that_may_vary_runs_every_time(
    monkeypatch: pytest.MonkeyPatch, template: str, expected: str
) -> None:
    repeats = _count_calls(monkeypatch, "repeat")
    assert compile_template(template).execute(DOT) == expected
    assert repeats[0] == 0


def test_each_body_is_looked_at_once_however_often_its_range_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    looked_at: list[str] = []
    original = constant._is_constant

    def spy(node: Node, known: dict[int, bool]) -> bool:
        looked_at.append(str(node))
        return original(node, known)

    monkeypatch.setattr(constant, "_is_constant", spy)
    template = "{{range 1000}}{{.}}{{range 1}}{{if 1}}x{{end}}{{end}}{{end}}"
    assert compile_template(template).execute(DOT) == "".join(f"{i}x" for i in range(1000))
    assert looked_at == ["{{.}}", "{{if 1}}x{{end}}", "x"]


def _body(template: str) -> bool:
    root = compile_template(template).trees[""].root
    (range_node,) = [node for node in root.nodes if isinstance(node, RangeNode)]
    return is_constant_list(range_node.list, {})


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        *[(template, True) for template in CONSTANT if template.startswith("{{range 2}}{{")],
        # (`range $x = 3` has an empty body: the evaluator, not the body, refuses the `=`)
        *[(template, False) for template, _ in VARYING if "{{$x := 0}}{{range $x" not in template],
        ("{{range 1}}{{call nil}}{{end}}", False),
        ("{{range 1}}{{if .}}{{end}}{{end}}", False),
        ("{{range 1}}{{if 1}}{{else}}{{.}}{{end}}{{end}}", False),
        ("{{range 1}}{{if $v := 1}}{{end}}{{end}}", False),
        ("{{range 1}}{{print ($v := 1)}}{{end}}", False),
        ("{{range 1}}{{len .Tags}}{{end}}", False),
        ("{{range 1}}{{(print 1).Nope}}{{end}}", False),
    ],
)
def test_only_bodies_made_of_constants_and_pure_functions_are_constant(
    template: str, expected: bool
) -> None:
    assert _body(template) is expected


def test_every_function_but_call_is_pure() -> None:
    # A function added to the engine is not repeated until someone says it is pure here.
    assert {*BUILTINS, *DOCKER_FUNCTIONS} - {"call"} == PURE_FUNCTIONS
