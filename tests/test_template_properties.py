"""Properties of the template engine over generated input: it answers or refuses, never crashes.

The normal run tries a fixed number of examples; IMGINSPECT_FUZZ=1 tries many more.
"""

import contextlib
import json
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inspector.errors import TemplateExecError, TemplateSyntaxError
from inspector.template import compile_template
from inspector.template.values import JsonNumber, from_json

FUZZ = os.environ.get("IMGINSPECT_FUZZ") == "1"
EXAMPLES = 20_000 if FUZZ else 200
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

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
