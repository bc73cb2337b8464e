"""Properties of the template engine over generated input: it answers or refuses, never crashes,
never overflows Python's stack and never takes more than linear time.

The normal run tries a fixed number of examples from a fixed seed; IMGINSPECT_FUZZ=1 tries
many more (tests/fuzzing.py).
"""

import contextlib
import json
import sys
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inspector.errors import TemplateExecError, TemplateSyntaxError
from inspector.template import compile_template
from inspector.template.parser import MAX_NESTING
from inspector.template.values import JsonNumber, Value, from_json
from tests.fuzzing import budget

SETTINGS = budget(200, 20_000)

# -- generated JSON documents, as the raw run sees them ------------------------------------

_keys = st.sampled_from(["Id", "Config", "Labels", "a", "b", "Env", "", "x y", "é"]) | st.text(
    max_size=4
)
_numbers = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(lambda f: json.dumps(f)),
).map(JsonNumber)
_scalars = st.one_of(st.none(), st.booleans(), _numbers, st.text(max_size=8))
documents = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_keys, inner, max_size=4),
    max_leaves=20,
)

# -- generated templates: pieces of the language put together -------------------------------

_fields = st.lists(_keys.filter(lambda k: k.isidentifier()), min_size=1, max_size=3).map(
    lambda names: "." + ".".join(names)
)
_literals = st.sampled_from(
    ['"s"', "`r`", "1", "-2", "1.5", "0x1F", "'a'", "true", "false", "nil", "1e3", "2i", "."]
)
_variables = st.sampled_from(["$", "$x", "$.a", "$x.b"])
_functions = st.sampled_from(
    [
        "and", "or", "not", "len", "index", "slice", "print", "printf", "println", "html",
        "js", "urlquery", "eq", "ne", "lt", "le", "gt", "ge", "json", "split", "join",
        "title", "lower", "upper", "pad", "truncate", "call",
    ]
)  # fmt: skip
_formats = st.sampled_from(['"%v"', '"%d|%s"', '"%q %x %5.2f"', '"%[2]*d"', '"%"', '"%T %+v"'])


def _operands(depth: int) -> st.SearchStrategy[str]:
    simple = st.one_of(_fields, _literals, _variables, _formats)
    if depth <= 0:
        return simple
    return st.one_of(simple, _commands(depth - 1).map(lambda c: f"({c})"))


def _commands(depth: int) -> st.SearchStrategy[str]:
    call = st.tuples(_functions, st.lists(_operands(depth), max_size=3)).map(
        lambda fa: " ".join([fa[0], *fa[1]])
    )
    pipe = st.lists(st.one_of(call, _operands(depth)), min_size=1, max_size=3).map(" | ".join)
    return st.one_of(call, pipe, _operands(depth))


_pipelines = _commands(2)
_texts = st.sampled_from(["", "x", " ", "\n", "a b", "é"])


def _bodies(depth: int) -> st.SearchStrategy[str]:
    action = _pipelines.map(lambda p: "{{" + p + "}}")
    declare = _pipelines.map(lambda p: "{{$x := " + p + "}}")
    pieces = [action, declare, _texts, st.just("{{- . -}}"), st.just("{{/* c */}}")]
    if depth > 0:
        inner = _bodies(depth - 1)
        pieces += [
            st.tuples(st.sampled_from(["if", "with", "range", "range $i, $e :="]), _pipelines,
                      inner, st.booleans(), inner).map(
                lambda t: "{{" + f"{t[0]} {t[1]}" + "}}" + t[2]
                + ("{{else}}" + t[4] if t[3] else "") + "{{end}}"
            ),
            inner.map(lambda b: '{{define "T"}}' + b + '{{end}}{{template "T" .}}'),
            st.just("{{range .}}{{if .}}{{break}}{{end}}{{continue}}{{end}}"),
        ]  # fmt: skip
    return st.lists(st.one_of(*pieces), max_size=4).map("".join)


templates = _bodies(2)


# -- the properties -----------------------------------------------------------------------


@SETTINGS
@given(st.text(max_size=60))
def test_any_text_compiles_or_is_a_syntax_error(text: str) -> None:
    with contextlib.suppress(TemplateSyntaxError):
        compile_template(text)


@SETTINGS
@given(st.text(alphabet="{}()|.$:=,\"'`-/* \nabx1e+ifrangewithend", max_size=60))
def test_template_shaped_text_compiles_or_is_a_syntax_error(text: str) -> None:
    with contextlib.suppress(TemplateSyntaxError):
        compile_template(text)


@SETTINGS
@given(templates, documents, st.booleans())
def test_generated_templates_render_or_fail_as_go_does(
    text: str, document: object, missingkey_error: bool
) -> None:
    try:
        template = compile_template(text)
    except TemplateSyntaxError:
        return
    try:
        output = template.execute(from_json(document), missingkey_error=missingkey_error)
    except TemplateExecError as exc:
        assert str(exc).startswith("template: ")
    else:
        assert isinstance(output, str)


# -- pathological nesting and repetition ----------------------------------------------------

_BLOCKS = st.sampled_from(
    [
        ("{{if .}}", "{{end}}"),
        ("{{if 1}}{{else if .}}", "{{end}}"),
        ("{{range .}}", "{{else}}{{end}}"),
        ("{{range $i, $e := .}}", "{{break}}{{end}}"),
        ("{{with .}}", "{{end}}"),
        ('{{block "b" .}}', "{{end}}"),
        ("{{(", ")}}"),
        ("{{print (", ")}}"),
        ("{{index (", ") 0}}"),
        ("{{len (", ")}}"),
        ("{{json (", ")}}"),
    ]
)
_INNERMOST = st.sampled_from(["{{.}}", ".", "1", "{{json .}}", "{{printf `%v` .}}", "", "{{"])


# The frames the engine may use. The command runs templates some 15 frames deep, leaving ~985
# of Python's 1000; the deepest nesting of blocks over the deepest value printed takes ~710
# (found by fuzzing: more than the 600 test_template_limits allows single limits).
ENGINE_FRAMES = 850


def _nested_document(depth: int) -> Value:
    document: object = "leaf"
    for _ in range(depth):
        document = [document]
    return from_json(document)


@budget(100, 5_000)
@given(
    st.lists(_BLOCKS, min_size=1, max_size=4),
    st.integers(1, 3 * MAX_NESTING),
    _INNERMOST,
    st.booleans(),
    st.integers(0, 160),
)
def test_nesting_beyond_every_limit_is_refused_or_run_never_a_recursion_error(
    pattern: list[tuple[str, str]], levels: int, innermost: str, closed: bool, depth: int
) -> None:
    """Blocks and parentheses nested up to three times the limit, closed or not, on a
    document nested up to beyond the value limit, run from deep in the stack."""
    blocks = (pattern * levels)[:levels]
    text = "".join(o for o, _ in blocks) + innermost
    if closed:
        text += "".join(c for _, c in reversed(blocks))
    dot = _nested_document(depth)

    def run() -> None:
        try:
            template = compile_template(text)
        except TemplateSyntaxError:
            return
        with contextlib.suppress(TemplateExecError):
            template.execute(dot)

    _at_depth(sys.getrecursionlimit() - ENGINE_FRAMES, run)


def _at_depth(frames: int, call: object) -> None:
    assert callable(call)
    if frames > 0:
        _at_depth(frames - 1, call)
    else:
        call()


# Pieces whose work grows with their count: each, repeated 4 times as often, must cost about
# 4 times as much (quadratic would be 16).
REPEATED = [
    "{{.}}",
    "{{/* c */}}",
    "{{if .}}a{{else}}b{{end}}",
    "{{$x := .}}{{$x}}",
    "{{$x := 1}}{{$x = 2}}",
    '{{define "a"}}x{{end}}{{template "a"}}',
    "{{range .}}{{.}}{{end}}",
    "{{with .}}{{.}}{{end}}",
    "{{- . -}}",
    '{{printf "%v" .}}',
    '{{"\\u00e9"}}',
    "{{.a.b.c}}",
    "{{(.)}}",
    '{{block "b" .}}y{{end}}',
]


@pytest.mark.parametrize("piece", REPEATED)
def test_repetition_costs_linear_time(piece: str) -> None:
    dot = from_json({"a": {"b": {"c": "d"}}})

    def cost(count: int) -> float:
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            with contextlib.suppress(TemplateExecError, TemplateSyntaxError):
                compile_template(piece * count).execute(dot)
            best = min(best, time.perf_counter() - started)
        return best

    count = 4000 // len(piece) + 1
    assert cost(4 * count) < 10 * cost(count) + 0.005
